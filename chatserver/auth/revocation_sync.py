"""Reconciles global sign-outs and revoked sessions (RevokeToken) from the database, the source of truth.

Sign-out notices between replicas travel through the broker, which delivers at most once: one lost while Redis
was down would leave a revoked token usable on another replica until it expired. So every replica also reads,
every few seconds, the sign-outs recent enough to matter (younger than the longest token life) and applies
any it missed: the tokens are refused and the user's WebSockets closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from chatserver.auth.revocations import Revocations
from chatserver.persistence.accounts import AccountsRepository

log = logging.getLogger("chatserver.auth")

DISCONNECT_TIMEOUT_SECONDS = 10


class RevocationSync:
    def __init__(
        self,
        store: AccountsRepository,
        revocations: Revocations,
        disconnect_user: Callable[[str], Awaitable[None]],
        *,
        interval: float,
        token_lifetime: int,
    ) -> None:
        self._store = store
        self._revocations = revocations
        self._disconnect_user = disconnect_user
        self._interval = interval
        self._token_lifetime = token_lifetime

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[RevocationSync]:
        await self.sync_once()  # sessions revoked before this replica started
        task = asyncio.create_task(self._sync_forever(), name="revocation-sync")
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def sync_once(self) -> list[str]:
        """Apply the sign-outs (and RevokeToken sessions) this replica has not seen; returns the signed-out subs."""
        now = int(time.time())
        self._revocations.prune_sessions(now)
        for origin_jti, revoked_at in (
            await self._store.revoked_sessions_since(now - self._token_lifetime)
        ).items():
            if not self._revocations.knows_session(origin_jti):
                self._revocations.note_session_revoked(origin_jti, revoked_at + self._token_lifetime)
        recent = await self._store.revocations_since(now - self._token_lifetime)
        missed = [sub for sub, at in recent.items() if at > self._revocations.valid_after(sub)]
        for sub in missed:
            self._revocations.note_revoked(sub, recent[sub])
            log.info("global sign-out of %s picked up from the database", sub)
            try:
                async with asyncio.timeout(DISCONNECT_TIMEOUT_SECONDS):
                    await self._disconnect_user(sub)
            except Exception:
                log.exception("closing the sockets of signed-out user %s failed", sub)
        return missed

    async def _sync_forever(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.sync_once()
            except Exception as error:  # the database may be briefly away; the next round retries
                log.warning("revocation sync failed, retrying in %ss: %s", self._interval, error)
