"""The real-time engine: joins the broker (publications in) and the hub (local subscribers out).

It is the server's MutationPublisher: `publish` hands the mutation result to the broker, and the broker feeds
every process's engine (this one included) through `_deliver`, the one fan-out path.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from graphql import GraphQLSchema
from graphql.language import DocumentNode

from chatserver.realtime.broker import Broker, Publication
from chatserver.realtime.compiler import CompiledSubscription, compile_subscription
from chatserver.realtime.hub import Hub, Subscriber
from chatserver.realtime.metrics import RealtimeMetrics
from chatserver.realtime.outbox import Outbox
from chatserver.realtime.projection import RootPlan

log = logging.getLogger("chatserver.realtime")

_NOT_ENCODED: Any = object()

CLOSE_GOING_AWAY = 1001
CLOSE_UNAUTHORIZED = 4401


class Connection(Protocol):
    """A client connection as the engine sees it (implemented by transport.session.Session).

    Contract: `disconnect` only requests the close (it never blocks) and may be called more than once; the
    connection sends what is already queued, closes the socket with `code`, removes its subscriptions and
    calls `RealtimeEngine.remove_connection`; `wait_closed` returns once that is done.
    """

    @property
    def user_sub(self) -> str | None: ...

    def disconnect(self, code: int, reason: str) -> None: ...

    async def wait_closed(self) -> None: ...


class RealtimeEngine:
    """Subscriptions in, publications out. Every method runs on the event loop that called `start`."""

    def __init__(
        self,
        *,
        schema: GraphQLSchema,
        links: Mapping[str, Iterable[str]],
        broker: Broker,
        max_payload_bytes: int = 240 * 1024,
        metrics: RealtimeMetrics | None = None,
    ) -> None:
        self.schema = schema
        self.links: dict[str, tuple[str, ...]] = {m: tuple(s) for m, s in links.items()}
        self.broker = broker
        self.max_payload_bytes = max_payload_bytes
        self.metrics = metrics or RealtimeMetrics()
        self.hub = Hub()
        self._connections: dict[Connection, None] = {}
        self._by_user: dict[str, dict[Connection, None]] = {}
        self._users_of: dict[Connection, set[str]] = {}
        self._running = False
        self.loop: asyncio.AbstractEventLoop | None = None

    # --- lifecycle

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        await self.broker.start(self._deliver)
        self._running = True

    async def stop(self, grace: float = 10.0) -> None:
        """Stop taking publications, then close every connection with 1001 after it drains its queue."""
        self._running = False
        await self.broker.stop()
        await self.close_all(CLOSE_GOING_AWAY, "Server shutting down", grace)

    async def close_all(self, code: int, reason: str, grace: float = 10.0) -> None:
        connections = list(self._connections)
        for connection in connections:
            connection.disconnect(code, reason)
        if connections:
            waits = [asyncio.ensure_future(c.wait_closed()) for c in connections]
            _, pending = await asyncio.wait(waits, timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    # --- publishing (MutationPublisher)

    async def publish(self, mutation_field: str, payload: dict[str, Any] | None) -> None:
        """Hand a committed mutation result to the broker. Never raises: failures are logged and counted."""
        if mutation_field not in self.links:
            return
        try:
            await self.broker.publish(Publication(mutation_field, payload))
        except Exception:
            self.metrics.publish_errors += 1
            log.exception("publishing %s failed", mutation_field)

    def _deliver(self, publication: Publication) -> None:
        """The fan-out: project once per distinct selection set, queue the same bytes to each subscriber."""
        metrics = self.metrics
        metrics.publishes += 1
        payload = publication.payload
        if payload is None:
            return  # a mutation that returned null publishes nothing
        try:
            encoded: dict[RootPlan, str | None] = {}
            limit = self.max_payload_bytes
            deliveries = 0
            for field_name in self.links.get(publication.mutation_field, ()):
                for plans in self.hub.matching(field_name, payload):
                    for plan, subscribers in plans.items():
                        body = encoded.get(plan, _NOT_ENCODED)  # one hash of the (deep) plan, not three
                        if body is _NOT_ENCODED:
                            body = plan.encode(payload)
                            metrics.encodings += 1
                            if len(body) > limit or (len(body) * 4 > limit and len(body.encode()) > limit):
                                body = None
                            encoded[plan] = body
                        if body is None:
                            metrics.oversize_drops += len(subscribers)
                            continue
                        for subscriber in subscribers:
                            prefix = subscriber.prefix  # a binary protocol's (MQTT) builds its own frame
                            frame = prefix + body + "}" if type(prefix) is str else prefix.frame(body)
                            if subscriber.outbox.push(frame):
                                deliveries += 1
            metrics.deliveries += deliveries
        except Exception:
            metrics.publish_errors += 1
            log.exception("delivering %s failed", publication.mutation_field)

    # --- subscriptions

    def compile(
        self,
        document: DocumentNode,
        variables: Mapping[str, Any] | None,
        operation_name: str | None = None,
    ) -> CompiledSubscription:
        """Compile a validated document (raises SubscriptionRejected)."""
        return compile_subscription(self.schema, document, variables, operation_name)

    def subscribe(self, compiled: CompiledSubscription, outbox: Outbox, prefix: str) -> Subscriber:
        """Start delivering matching publications to `outbox`, each frame `prefix + payload + "}"`."""
        subscriber = Subscriber(compiled, outbox, prefix)
        self.hub.add(subscriber)
        self.metrics.subscriptions += 1
        self.metrics.subscriptions_total += 1
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        before = self.hub.size
        self.hub.remove(subscriber)
        if self.hub.size < before:
            self.metrics.subscriptions -= 1

    # --- connections

    def add_connection(self, connection: Connection) -> None:
        self._connections[connection] = None
        self.metrics.connections += 1
        self.metrics.connections_total += 1

    def set_user(self, connection: Connection, user_sub: str | None) -> None:
        """Index a connection by its user, for `disconnect_user`."""
        if user_sub is not None and connection in self._connections:
            self._by_user.setdefault(user_sub, {})[connection] = None
            self._users_of.setdefault(connection, set()).add(user_sub)

    def remove_connection(self, connection: Connection) -> None:
        if self._connections.pop(connection, False) is None:
            self.metrics.connections -= 1
        for sub in self._users_of.pop(connection, ()):
            connections = self._by_user.get(sub)
            if connections is not None:
                connections.pop(connection, None)
                if not connections:
                    del self._by_user[sub]

    def note_slow_consumer(self) -> None:
        self.metrics.slow_consumer_disconnects += 1

    async def disconnect_user(
        self, user_sub: str, code: int = CLOSE_UNAUTHORIZED, reason: str = "Unauthorized"
    ) -> None:
        """Close every connection of this user (global sign-out). Usable as an accounts signout listener."""
        for connection in list(self._by_user.get(user_sub, ())):
            connection.disconnect(code, reason)

    @property
    def connection_count(self) -> int:
        return len(self._connections)
