"""API_KEY mode: keys made with `chatserver api-key create`, stored as an HMAC, checked from memory.

A key is `da2-` and 26 random lowercase letters and digits (130 bits, AppSync's form). High-entropy keys need no slow
password hash: an HMAC-SHA256 under a key derived from the data directory's secret is enough, and costs a
microsecond, so every request can check it. Each replica holds the table in memory and reads it again every
`api_key_refresh_interval` seconds (and at most once a second when an unknown key is presented, so a key made by
the CLI works at once); a key deleted or expired anywhere is refused everywhere within that interval, and the
WebSockets opened with it are closed. "Last used" is written to the table at most once a minute per key.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from chatserver.auth.identity import Identity
from chatserver.auth.modes import AuthMode
from chatserver.errors import UnauthorizedException
from chatserver.persistence.api_keys import ApiKeyRecord, ApiKeysRepository

log = logging.getLogger("chatserver.auth.api_keys")

KEY_PREFIX = "da2-"
KEY_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
KEY_BODY_CHARS = 26
KEY_PATTERN = re.compile(r"da2-[a-z0-9]{26}")
DEFAULT_EXPIRY_DAYS = 7  # AppSync's default
MAX_EXPIRY_DAYS = 365  # AppSync's maximum
DAY_SECONDS = 86_400
LAST_USED_RESOLUTION_SECONDS = 60
MISS_REFRESH_SECONDS = 1.0  # an unknown key reads the table again at most this often
DISCONNECT_TIMEOUT_SECONDS = 10
MAX_DESCRIPTION_CHARS = 256

Disconnect = Callable[[str], Awaitable[None]]  # (connection key) -> closes that credential's WebSockets


class ApiKeyError(ValueError):
    """A create/delete request that cannot be done (bad expiry, unknown id): a one-line message for the CLI."""


@dataclass(frozen=True, slots=True)
class CreatedKey:
    record: ApiKeyRecord
    key: str  # shown once, never stored


def new_key() -> str:
    return KEY_PREFIX + "".join(secrets.choice(KEY_ALPHABET) for _ in range(KEY_BODY_CHARS))


def hash_key(secret: bytes, key: str) -> str:
    return hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()


def connection_key_of(key_id: str) -> str:
    """What `modes.connection_key` gives an API-key identity: how its WebSockets are found again."""
    return f"{AuthMode.API_KEY.value}:{key_id}"


def expiry_seconds(days: int | None) -> int:
    """Validity of a new key: 7 days unless asked; 1 to 365 days."""
    days = DEFAULT_EXPIRY_DAYS if days is None else days
    if not 1 <= days <= MAX_EXPIRY_DAYS:
        raise ApiKeyError(
            f"--expires-in must be between 1 and {MAX_EXPIRY_DAYS} days (AppSync's limit), not {days}"
        )
    return days * DAY_SECONDS


class ApiKeyService:
    """Creates, lists and deletes keys, and verifies them per request from an in-memory copy of the table."""

    def __init__(
        self,
        repository: ApiKeysRepository,
        secret: bytes,
        *,
        refresh_interval: float = 5.0,
        disconnect: Disconnect | None = None,
    ) -> None:
        self._repository = repository
        self._secret = secret
        self._refresh_interval = refresh_interval
        self._disconnect = disconnect
        self._by_hash: dict[str, ApiKeyRecord] = {}
        self._live_ids: set[str] = set()  # valid at the last refresh: the ones whose sockets may be open
        self._used: dict[str, int] = {}  # key id -> last use seen here, not yet written
        self._written: dict[str, int] = {}  # key id -> last use written
        self._miss_refreshed_at = float("-inf")
        self._lock = asyncio.Lock()

    # --- management (CLI, tests)

    async def create(
        self,
        *,
        expires_in_days: int | None = None,
        description: str | None = None,
        now: int | None = None,
    ) -> CreatedKey:
        """A new key valid for `expires_in_days` from `now` (default: this second)."""
        lifetime = expiry_seconds(expires_in_days)
        if description is not None and len(description) > MAX_DESCRIPTION_CHARS:
            raise ApiKeyError(f"--description is at most {MAX_DESCRIPTION_CHARS} characters")
        key = new_key()
        now = int(time.time()) if now is None else now
        record = ApiKeyRecord(
            id=secrets.token_hex(8),
            key_hash=hash_key(self._secret, key),
            description=description or None,
            created_at=now,
            expires_at=now + lifetime,
            last_used_at=None,
        )
        await self._repository.create(record)
        self._by_hash[record.key_hash] = record
        self._live_ids.add(record.id)
        return CreatedKey(record, key)

    async def list(self) -> list[ApiKeyRecord]:
        await self._flush_used()
        return await self._repository.all()

    async def delete(self, key_id: str) -> None:
        if not await self._repository.delete(key_id):
            raise ApiKeyError(f"no API key with id {key_id!r} (see `chatserver api-key list`)")
        await self.refresh()

    # --- per request

    async def verify(self, key: str) -> Identity:
        """The identity of a valid key (mode API_KEY, `sub` = the key's id); UnauthorizedException otherwise."""
        key = key.strip()
        if not KEY_PATTERN.fullmatch(key):
            raise UnauthorizedException(UnauthorizedException.API_KEY_INVALID)
        digest = hash_key(self._secret, key)
        record = self._by_hash.get(digest)
        if record is None and time.monotonic() - self._miss_refreshed_at >= MISS_REFRESH_SECONDS:
            self._miss_refreshed_at = time.monotonic()  # garbage keys cost at most one read a second
            try:
                await self.refresh()
            except Exception as error:  # the database is away: the keys known so far still answer
                log.warning("reading the API keys table failed: %s", error)
            record = self._by_hash.get(digest)
        if record is None:
            raise UnauthorizedException(UnauthorizedException.API_KEY_INVALID)
        now = int(time.time())
        if now >= record.expires_at:
            raise UnauthorizedException(UnauthorizedException.API_KEY_EXPIRED)
        self._used[record.id] = now
        return Identity(sub=record.id, username="", expires_at=record.expires_at, mode=AuthMode.API_KEY.value)

    # --- keeping the copy current

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[ApiKeyService]:
        await self.refresh()
        task = asyncio.create_task(self._refresh_forever(), name="api-key-refresh")
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            with contextlib.suppress(Exception):
                await self._flush_used()

    async def refresh(self) -> None:
        """Read the table again; close the sockets of keys deleted or expired since the last read."""
        async with self._lock:
            records = await self._repository.all()
            now = int(time.time())
            self._by_hash = {r.key_hash: r for r in records}
            live = {r.id for r in records if now < r.expires_at}
            gone, self._live_ids = self._live_ids - live, live
        for key_id in sorted(gone):
            log.info("API key %s was deleted or expired: closing its connections", key_id)
            if self._disconnect is None:
                continue
            try:
                async with asyncio.timeout(DISCONNECT_TIMEOUT_SECONDS):
                    await self._disconnect(connection_key_of(key_id))
            except Exception:
                log.exception("closing the connections of API key %s failed", key_id)

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_interval)
            try:
                await self.refresh()
                await self._flush_used()
            except Exception as error:  # the database may be briefly away; the next round retries
                log.warning("API key refresh failed, retrying in %ss: %s", self._refresh_interval, error)

    async def _flush_used(self) -> None:
        due = {
            key_id: at
            for key_id, at in self._used.items()
            if at - self._written.get(key_id, 0) >= LAST_USED_RESOLUTION_SECONDS
        }
        if not due:
            return
        await self._repository.note_used(due)
        self._written.update(due)
