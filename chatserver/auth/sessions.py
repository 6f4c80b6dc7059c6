"""Sessions: the tokens of a signed-in user and their refresh token; refresh, RevokeToken, global sign-out, and
the access-token check behind GetUser and the other self-service operations."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from chatserver.auth.errors import (
    InvalidParameterException,
    NotAuthorizedException,
    UnsupportedTokenTypeException,
)
from chatserver.auth.identity import Identity
from chatserver.auth.revocations import Revocations
from chatserver.auth.tokens import IssuedTokens, TokenIssuer, TokenSubject, TokenVerifier
from chatserver.config import Settings
from chatserver.errors import UnauthorizedException
from chatserver.persistence.accounts import AccountRecord, AccountsRepository, RefreshRecord

log = logging.getLogger("chatserver.auth")

LISTENER_TIMEOUT_SECONDS = 10

SignOutListener = Callable[[str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class SignInResult:
    tokens: IssuedTokens
    refresh_token: str


class Sessions:
    """Issues tokens and keeps refresh tokens (stored as SHA-256 hashes)."""

    def __init__(
        self,
        *,
        settings: Settings,
        store: AccountsRepository,
        issuer: TokenIssuer,
        verifier: TokenVerifier,
        revocations: Revocations,
    ) -> None:
        self._settings = settings
        self._store = store
        self._issuer = issuer
        self._verifier = verifier
        self._revocations = revocations
        self.signout_listeners: list[SignOutListener] = []

    async def start(self, record: AccountRecord) -> SignInResult:
        """A new session: ID and access tokens and a refresh token."""
        now = int(time.time())
        tokens = await self.issue(record, auth_time=self.auth_time(record, now), origin_jti=None)
        refresh_token = secrets.token_urlsafe(48)
        await self._store.add_refresh_token(
            RefreshRecord(
                token_hash=_sha256(refresh_token),
                sub=record.sub,
                origin_jti=tokens.origin_jti,
                auth_time=tokens.auth_time,
                expires_at=now + self._settings.refresh_token_ttl,
                revoked=False,
            ),
            now,
        )
        return SignInResult(tokens, refresh_token)

    async def refresh(self, refresh_token: str) -> IssuedTokens:
        stored = await self._store.get_refresh_token(_sha256(refresh_token))
        if stored is None:
            raise NotAuthorizedException("Invalid Refresh Token")
        if (
            stored.revoked
            or self._revocations.is_revoked(stored.sub, stored.auth_time)
            or self._revocations.is_session_revoked(stored.origin_jti)
        ):
            raise NotAuthorizedException("Refresh Token has been revoked")
        if time.time() >= stored.expires_at:
            raise NotAuthorizedException("Refresh Token has expired")
        record = await self._store.by_sub(stored.sub)
        if record is None or not record.confirmed:
            raise NotAuthorizedException("Invalid Refresh Token")
        return await self.issue(record, auth_time=stored.auth_time, origin_jti=stored.origin_jti)

    async def revoke(self, refresh_token: str) -> None:
        """RevokeToken: the refresh token, and every ID and access token issued from it, stop working."""
        if refresh_token.count(".") == 2:  # a JWT: an ID or access token, not a refresh token
            raise UnsupportedTokenTypeException("Unsupported token type")
        now = int(time.time())
        stored = await self._store.revoke_refresh_token(_sha256(refresh_token), now)
        if stored is not None:  # an unknown token is already unusable: nothing to do (RFC 7009)
            self._revocations.note_session_revoked(stored.origin_jti, now + self.token_lifetime)

    @property
    def verifier(self) -> TokenVerifier:
        return self._verifier

    @property
    def token_lifetime(self) -> int:
        return max(self._settings.id_token_ttl, self._settings.access_token_ttl)

    def access_identity(self, access_token: str) -> Identity:
        """The caller of GetUser, ChangePassword, ...: a valid, unrevoked access token, else NotAuthorized."""
        return self.caller(access_token, access_only=True, missing="Missing required parameter AccessToken")

    def caller(self, authorization: str | None, *, access_only: bool, missing: str) -> Identity:
        """The verified token's identity; failures in Cognito's words (NotAuthorizedException)."""
        try:
            identity = self._verifier.verify(authorization)
        except UnauthorizedException as exc:
            if exc.message == UnauthorizedException.MISSING:
                raise InvalidParameterException(missing) from None
            if exc.message == UnauthorizedException.EXPIRED:
                raise NotAuthorizedException("Access Token has expired") from None
            raise NotAuthorizedException("Invalid Access Token") from None
        if access_only and identity.token_use != "access":
            raise NotAuthorizedException("Invalid Access Token")
        return identity

    async def sign_out(self, sub: str) -> None:
        """Global sign-out: refresh tokens deleted, every token issued so far void, sockets closed."""
        stored = await self._store.sign_out(sub, int(time.time()))
        self._revocations.note_revoked(sub, stored)
        for listener in list(self.signout_listeners):
            try:
                await asyncio.wait_for(listener(sub), LISTENER_TIMEOUT_SECONDS)
            except Exception:
                log.exception("a sign-out listener failed for %s", sub)

    async def issue(self, record: AccountRecord, *, auth_time: int, origin_jti: str | None) -> IssuedTokens:
        subject = TokenSubject(
            sub=record.sub,
            username=record.username,
            email=record.email,
            email_verified=True,
            given_name=record.given_name,
            family_name=record.family_name,
            groups=await self._store.groups_of(record.sub),
        )
        # two RSA signatures (a few ms of CPU): off the event loop, like password hashing
        return await asyncio.to_thread(
            self._issuer.issue, subject, auth_time=auth_time, origin_jti=origin_jti or str(uuid.uuid4())
        )

    def auth_time(self, record: AccountRecord, now: int) -> int:
        """Now, but always after the last global sign-out (which voids tokens up to that very second)."""
        floor = max(record.tokens_valid_after, self._revocations.valid_after(record.sub))
        return max(now, floor + 1)


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
