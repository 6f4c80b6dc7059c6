"""The in-process broker: a publication is handed straight back to the handler, the same path Redis feeds."""

from __future__ import annotations

from chatserver.realtime.broker import Publication, PublicationHandler


class MemoryBroker:
    """Single-process broker. `publish` calls the handler before returning, so order is publish order."""

    def __init__(self) -> None:
        self._handler: PublicationHandler | None = None

    async def start(self, handler: PublicationHandler) -> None:
        self._handler = handler

    async def publish(self, publication: Publication) -> None:
        handler = self._handler
        if handler is not None:
            handler(publication)

    async def stop(self) -> None:
        self._handler = None
