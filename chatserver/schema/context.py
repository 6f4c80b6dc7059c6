"""What every resolver receives as `info.context`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chatserver.auth.identity import Identity
from chatserver.errors import ResolverExecutionLimitReached

if TYPE_CHECKING:
    from chatserver.services import Services


class ReadBudget:
    """List items a request may still read. Lists charge their `limit` before they query, so a query like
    `rooms { messages(limit: 1000) }` over many rooms is refused early instead of reading millions of rows."""

    __slots__ = ("limit", "remaining")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.remaining = limit

    def charge(self, items: int) -> None:
        self.remaining -= items
        if self.remaining < 0:
            raise ResolverExecutionLimitReached(
                f"The query reads more than {self.limit} list items; ask for smaller pages (limit) "
                "or fewer nested lists, and page with nextToken."
            )


@dataclass(frozen=True, slots=True)
class RequestContext:
    identity: Identity
    services: Services
    request_id: str
    budget: ReadBudget
