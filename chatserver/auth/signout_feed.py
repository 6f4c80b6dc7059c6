"""Global sign-out across replicas: each replica announces its sign-outs through the broker, and the others
void the user's tokens (`Revocations.note_revoked`) and close the user's WebSockets as if it happened there."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from chatserver.auth.revocations import Revocations

log = logging.getLogger("chatserver.auth")


class SignoutFeed:
    """Joins a broker that can carry sign-out notices (the Redis one) to this replica's revocations."""

    def __init__(
        self, broker: Any, revocations: Revocations, disconnect_user: Callable[[str], Awaitable[None]]
    ) -> None:
        self._broker = broker
        self._revocations = revocations
        self._disconnect_user = disconnect_user
        self._tasks: set[asyncio.Task[None]] = set()

    @staticmethod
    def supported(broker: Any) -> bool:
        return callable(getattr(broker, "announce_signout", None))

    def start(self) -> None:
        self._broker.set_signout_handler(self._on_remote_signout)

    async def announce(self, sub: str) -> None:
        """A sign-out listener (AccountService.signout_listeners): tell the other replicas."""
        await self._broker.announce_signout(sub, self._revocations.valid_after(sub))

    def _on_remote_signout(self, sub: str, valid_after: int) -> None:
        self._revocations.note_revoked(sub, valid_after)
        log.info("global sign-out of %s announced by another replica", sub)
        task = asyncio.create_task(self._disconnect_user(sub), name=f"signout-{sub}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        self._broker.set_signout_handler(None)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
