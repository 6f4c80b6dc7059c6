"""The broker moves publications between server processes; it knows nothing about subscribers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Publication:
    """One committed mutation result: the mutation field and its response as the mutating client selected it."""

    mutation_field: str
    payload: dict[str, Any] | None


PublicationHandler = Callable[[Publication], None]


class Broker(Protocol):
    """Moves publications to every process of the deployment, this one included.

    Contract:
    - `start(handler)` begins delivery: every publication made by any process (this one too) is passed to
      `handler` exactly once per process, on this process's event loop. The handler is synchronous and does not
      raise; it must not be called re-entrantly.
    - Publications made by one process reach every process in the order that process published them
      (per-room commit order follows, because one room's mutations are published in commit order).
    - Delivery is at most once: a broker that loses its connection drops what it could not deliver and logs it.
    - `publish` returns once the publication is handed to the transport (memory: once it has been handled);
      it encodes the payload at most once.
    - `stop()` stops delivery; no handler call happens after it returns.
    """

    async def start(self, handler: PublicationHandler) -> None: ...

    async def publish(self, publication: Publication) -> None: ...

    async def stop(self) -> None: ...


# Broker implementations by URL scheme, imported only when chosen (uvicorn's habit).
BROKERS: dict[str, str] = {
    "memory": "chatserver.realtime.broker_memory:MemoryBroker",
    "redis": "chatserver.realtime.broker_redis:RedisBroker",
    "rediss": "chatserver.realtime.broker_redis:RedisBroker",
}


def create_broker(url: str, prefix: str = "chatserver") -> Broker:
    """The broker for CHATSERVER_BROKER_URL (`memory://`; `redis://...` once its module exists)."""
    import importlib

    scheme = url.split("://", 1)[0].split("+", 1)[0]
    target = BROKERS.get(scheme)
    if target is None:
        raise ValueError(f"no broker for {url!r} (known: {', '.join(sorted(BROKERS))})")
    module_name, _, class_name = target.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls() if scheme == "memory" else cls(url, prefix=prefix)
