"""The auth store: accounts, groups, codes and refresh tokens (all SQL of the Cognito part)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Insert, Row, Table, and_, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from chatserver.persistence.tables import (
    account_groups,
    accounts,
    auth_codes,
    groups,
    refresh_tokens,
    srp_handshakes_used,
    users,
)

UNCONFIRMED = "UNCONFIRMED"
CONFIRMED = "CONFIRMED"
FORCE_CHANGE_PASSWORD = "FORCE_CHANGE_PASSWORD"  # made by an administrator: a new password at first sign-in


class UsernameTaken(Exception):
    """An account with this username already exists."""


class UnknownAccount(Exception):
    """No account has this username or sub."""


@dataclass(frozen=True, slots=True)
class AccountRecord:
    sub: str
    username: str
    password_hash: str
    email: str
    given_name: str | None
    family_name: str | None
    status: str
    created_at: str
    tokens_valid_after: int
    srp_salt: str | None = None  # hex; None for an account made before SRP (until its next sign-in)
    srp_verifier: str | None = None

    @property
    def confirmed(self) -> bool:
        return self.status == CONFIRMED

    @property
    def must_change_password(self) -> bool:
        return self.status == FORCE_CHANGE_PASSWORD


@dataclass(frozen=True, slots=True)
class CodeRecord:
    sub: str
    purpose: str
    code_hash: str
    expires_at: int
    attempts: int


@dataclass(frozen=True, slots=True)
class RefreshRecord:
    token_hash: str
    sub: str
    origin_jti: str
    auth_time: int
    expires_at: int
    revoked: bool


class AccountsRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    # --- accounts ---

    async def create(self, record: AccountRecord) -> None:
        try:
            async with self._engine.begin() as conn:
                await conn.execute(insert(accounts).values(**_account_values(record)))
        except IntegrityError:
            raise UsernameTaken(record.username) from None

    async def by_username(self, username: str) -> AccountRecord | None:
        return await self._one(accounts.c.username == username)

    async def by_sub(self, sub: str) -> AccountRecord | None:
        return await self._one(accounts.c.sub == sub)

    async def set_status(self, sub: str, status: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(update(accounts).where(accounts.c.sub == sub).values(status=status))

    async def set_password_hash(self, sub: str, password_hash: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                update(accounts).where(accounts.c.sub == sub).values(password_hash=password_hash)
            )

    async def set_password(
        self, sub: str, password_hash: str, srp_salt: str, srp_verifier: str, status: str | None = None
    ) -> None:
        """A new password: its argon2 hash and SRP verifier together (and optionally a new status)."""
        values: dict[str, object] = {
            "password_hash": password_hash,
            "srp_salt": srp_salt,
            "srp_verifier": srp_verifier,
        }
        if status is not None:
            values["status"] = status
        async with self._engine.begin() as conn:
            await conn.execute(update(accounts).where(accounts.c.sub == sub).values(**values))

    async def set_verifier(self, sub: str, srp_salt: str, srp_verifier: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                update(accounts)
                .where(accounts.c.sub == sub)
                .values(srp_salt=srp_salt, srp_verifier=srp_verifier)
            )

    async def set_attributes(self, sub: str, values: dict[str, str]) -> None:
        """Update profile attributes (email, given_name, family_name) on the account and its users row."""
        async with self._engine.begin() as conn:
            await conn.execute(update(accounts).where(accounts.c.sub == sub).values(**values))
            await conn.execute(update(users).where(users.c.id == sub).values(**values))

    async def delete(self, sub: str) -> None:
        """DeleteUser: the account, its groups, codes and refresh tokens, and its users row."""
        async with self._engine.begin() as conn:
            for table in (account_groups, auth_codes, refresh_tokens):
                await conn.execute(delete(table).where(table.c.sub == sub))
            await conn.execute(delete(users).where(users.c.id == sub))
            await conn.execute(delete(accounts).where(accounts.c.sub == sub))

    async def revocations(self) -> dict[str, int]:
        """sub -> tokens_valid_after for every account that was ever signed out globally."""
        query = select(accounts.c.sub, accounts.c.tokens_valid_after).where(accounts.c.tokens_valid_after > 0)
        async with self._engine.connect() as conn:
            return {row.sub: int(row.tokens_valid_after) for row in await conn.execute(query)}

    async def revocations_since(self, since: int) -> dict[str, int]:
        """sub -> tokens_valid_after for the global sign-outs at or after `since` (epoch seconds)."""
        query = select(accounts.c.sub, accounts.c.tokens_valid_after).where(
            accounts.c.tokens_valid_after >= since
        )
        async with self._engine.connect() as conn:
            return {row.sub: int(row.tokens_valid_after) for row in await conn.execute(query)}

    async def sign_out(self, sub: str, now: int) -> int:
        """Global sign-out: delete every refresh token and void every token issued so far.

        Tokens are void up to the returned epoch second: `now`, or one past the previous value when that was
        already `now` or later (a token issued after the previous sign-out carries that later second).
        """
        async with self._engine.begin() as conn:
            await conn.execute(delete(refresh_tokens).where(refresh_tokens.c.sub == sub))
            current = await conn.scalar(select(accounts.c.tokens_valid_after).where(accounts.c.sub == sub))
            valid_after = max(now, int(current or 0) + 1)
            await conn.execute(
                update(accounts).where(accounts.c.sub == sub).values(tokens_valid_after=valid_after)
            )
        return valid_after

    # --- groups ---

    async def groups_of(self, sub: str) -> tuple[str, ...]:
        query = (
            select(account_groups.c.group_name)
            .where(account_groups.c.sub == sub)
            .order_by(account_groups.c.group_name)
        )
        async with self._engine.connect() as conn:
            return tuple(await conn.scalars(query))

    async def add_to_group(self, sub: str, group: str) -> None:
        """Add the account to the group, creating the group if it does not exist yet. Idempotent."""
        # INSERT ... ON CONFLICT DO NOTHING, not check-then-insert: two first members of one new group at once
        # would otherwise both try to create it.
        async with self._engine.begin() as conn:
            await conn.execute(
                _insert_ignoring_duplicates(conn, groups, {"name": group, "description": None})
            )
            await conn.execute(
                _insert_ignoring_duplicates(conn, account_groups, {"sub": sub, "group_name": group})
            )

    async def remove_from_group(self, sub: str, group: str) -> bool:
        """Take the account out of the group; False when it was not a member."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                delete(account_groups).where(
                    and_(account_groups.c.sub == sub, account_groups.c.group_name == group)
                )
            )
            return bool(result.rowcount)

    # --- codes ---

    async def put_code(self, sub: str, purpose: str, code_hash: str, expires_at: int) -> None:
        """Store the user's one live code for `purpose`, replacing any earlier one."""
        async with self._engine.begin() as conn:
            await _delete_code(conn, sub, purpose)
            await conn.execute(
                insert(auth_codes).values(
                    sub=sub, purpose=purpose, code_hash=code_hash, expires_at=expires_at, attempts=0
                )
            )

    async def get_code(self, sub: str, purpose: str) -> CodeRecord | None:
        query = select(auth_codes).where(and_(auth_codes.c.sub == sub, auth_codes.c.purpose == purpose))
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return CodeRecord(**row._mapping) if row else None

    async def take_attempt(self, sub: str, purpose: str, max_attempts: int) -> bool:
        """Spend one of the code's attempts; False when none is left (concurrent guesses included)."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(auth_codes)
                .where(
                    and_(
                        auth_codes.c.sub == sub,
                        auth_codes.c.purpose == purpose,
                        auth_codes.c.attempts < max_attempts,
                    )
                )
                .values(attempts=auth_codes.c.attempts + 1)
            )
        return result.rowcount == 1

    async def use_code(self, sub: str, purpose: str, code_hash: str) -> bool:
        """Consume the code: True for exactly one caller, however many race with the same code."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                delete(auth_codes).where(
                    and_(
                        auth_codes.c.sub == sub,
                        auth_codes.c.purpose == purpose,
                        auth_codes.c.code_hash == code_hash,
                    )
                )
            )
        return result.rowcount == 1

    # --- refresh tokens ---

    async def add_refresh_token(self, record: RefreshRecord, now: int) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                delete(refresh_tokens).where(
                    and_(refresh_tokens.c.sub == record.sub, refresh_tokens.c.expires_at <= now)
                )
            )
            await conn.execute(insert(refresh_tokens).values(**_refresh_values(record)))

    async def get_refresh_token(self, token_hash: str) -> RefreshRecord | None:
        query = select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return _refresh_record(row) if row else None

    async def revoke_refresh_token(self, token_hash: str, now: int) -> RefreshRecord | None:
        """RevokeToken: mark it revoked (kept, so other replicas can read which session ended)."""
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash))
            ).first()
            if row is None:
                return None
            await conn.execute(
                update(refresh_tokens)
                .where(refresh_tokens.c.token_hash == token_hash)
                .values(revoked=True, revoked_at=now)
            )
        return _refresh_record(row)

    async def revoked_sessions_since(self, since: int) -> dict[str, int]:
        """origin_jti -> revoked_at for refresh tokens revoked (RevokeToken) at or after `since`."""
        query = select(refresh_tokens.c.origin_jti, refresh_tokens.c.revoked_at).where(
            refresh_tokens.c.revoked_at >= since
        )
        async with self._engine.connect() as conn:
            return {row.origin_jti: int(row.revoked_at) for row in await conn.execute(query)}

    # --- SRP handshakes (single use) ---

    async def use_handshake(self, handshake_id: str, expires_at: int, now: int) -> bool:
        """Record a SECRET_BLOCK's id as used: True for exactly one caller on any replica."""
        try:
            async with self._engine.begin() as conn:
                await conn.execute(delete(srp_handshakes_used).where(srp_handshakes_used.c.expires_at < now))
                await conn.execute(insert(srp_handshakes_used).values(id=handshake_id, expires_at=expires_at))
        except IntegrityError:
            return False
        return True

    async def _one(self, condition: object) -> AccountRecord | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(accounts).where(condition))).first()
        return AccountRecord(**row._mapping) if row else None


async def _delete_code(conn: AsyncConnection, sub: str, purpose: str) -> None:
    await conn.execute(
        delete(auth_codes).where(and_(auth_codes.c.sub == sub, auth_codes.c.purpose == purpose))
    )


def _insert_ignoring_duplicates(conn: AsyncConnection, table: Table, values: dict[str, object]) -> Insert:
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    return dialect_insert(table).values(**values).on_conflict_do_nothing()


def _account_values(record: AccountRecord) -> dict[str, object]:
    return {
        "sub": record.sub,
        "username": record.username,
        "password_hash": record.password_hash,
        "email": record.email,
        "given_name": record.given_name,
        "family_name": record.family_name,
        "status": record.status,
        "created_at": record.created_at,
        "tokens_valid_after": record.tokens_valid_after,
        "srp_salt": record.srp_salt,
        "srp_verifier": record.srp_verifier,
    }


def _refresh_record(row: Row[Any]) -> RefreshRecord:
    values = dict(row._mapping)
    values.pop("revoked_at", None)
    return RefreshRecord(**values)


def _refresh_values(record: RefreshRecord) -> dict[str, object]:
    return {
        "token_hash": record.token_hash,
        "sub": record.sub,
        "origin_jti": record.origin_jti,
        "auth_time": record.auth_time,
        "expires_at": record.expires_at,
        "revoked": record.revoked,
    }
