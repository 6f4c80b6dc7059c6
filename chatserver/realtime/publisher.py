"""The one interface through which mutation results reach the real-time side."""

from __future__ import annotations

from typing import Any, Protocol


class MutationPublisher(Protocol):
    """Receives every committed result of a mutation linked by `@aws_subscribe`.

    Contract: `payload` is the mutation field's response as the calling client selected it, keyed by field
    names (never aliases), nested objects likewise; fields the client did not select are absent. Calls for one
    room are made in commit order. Publishing must not fail the mutation: implementations log and count their
    own failures.
    """

    async def publish(self, mutation_field: str, payload: dict[str, Any] | None) -> None: ...


class RecordingPublisher:
    """Keeps what was published, in order; the default until a real-time engine is plugged in."""

    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any] | None]] = []

    async def publish(self, mutation_field: str, payload: dict[str, Any] | None) -> None:
        self.published.append((mutation_field, payload))
