"""Removing a user from a group (Cognito's AdminRemoveUserFromGroup), announced to what depends on it.

Tokens are self-contained: one issued before the removal still lists the group in `cognito:groups` until it
expires. So a removal is also announced to listeners; the real-time engine is one, and ends (on every replica)
the user's subscriptions that needed the group, and refuses the group to that user's older tokens at `start`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from chatserver.auth.errors import UserNotFoundException
from chatserver.persistence.accounts import AccountsRepository

log = logging.getLogger("chatserver.auth")

LISTENER_TIMEOUT_SECONDS = 10.0

GroupRemovalListener = Callable[[str, str], Awaitable[None]]  # (user sub, group)


class GroupAdmin:
    """`remove(username, group)`: the membership row goes, then every listener hears (sub, group)."""

    def __init__(self, store: AccountsRepository) -> None:
        self._store = store
        self.removal_listeners: list[GroupRemovalListener] = []

    async def remove(self, username: str, group: str) -> bool:
        """Take `username` out of `group`; False when they were not in it (listeners are told anyway, so a
        retry after a lost notice still ends what it should). Raises UserNotFoundException."""
        record = await self._store.by_username(username)
        if record is None:
            raise UserNotFoundException("User does not exist.")
        removed = await self._store.remove_from_group(record.sub, group)
        for listener in list(self.removal_listeners):
            try:
                async with asyncio.timeout(LISTENER_TIMEOUT_SECONDS):
                    await listener(record.sub, group)
            except Exception:
                log.exception("a group-removal listener failed for %s in %s", username, group)
        return removed
