"""The real-time engine: joins the broker (publications in) and the hub (local subscribers out).

It is the server's MutationPublisher: `publish` hands the mutation result to the broker, and the broker feeds
every process's engine (this one included) through `_deliver`, the one fan-out path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from graphql import GraphQLSchema
from graphql.language import DocumentNode

from chatserver.realtime.broker import Broker, Publication
from chatserver.realtime.compiler import CompiledSubscription, compile_subscription
from chatserver.realtime.expiry import SWEEP_SECONDS, ExpirySweep
from chatserver.realtime.hub import Hub, Subscriber
from chatserver.realtime.metrics import RealtimeMetrics
from chatserver.realtime.outbox import Outbox

log = logging.getLogger("chatserver.realtime")

_NOT_ENCODED: Any = object()

CLOSE_GOING_AWAY = 1001
CLOSE_UNAUTHORIZED = 4401

# Control messages travel through the broker as publications of this field (not a GraphQL name, so no
# mutation can clash with it): every replica, this one included, applies them on its one delivery path,
# in order with the publications made before them.
CONTROL_FIELD = "!control"


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
        # connection -> when it reaches its maximum age (monotonic seconds, 0: never), in the order they opened:
        # every connection has the same maximum age, so the oldest come first and one sweep finds them.
        self._connections: dict[Connection, float] = {}
        self._by_user: dict[str, dict[Connection, None]] = {}
        self._users_of: dict[Connection, tuple[str, ...]] = {}  # mostly one user: a tuple, not a set
        self._subscribers_of: dict[str, dict[Subscriber, None]] = {}  # user sub -> its subscriptions
        self._removed_groups: dict[str, dict[str, int]] = {}  # user sub -> group -> removed at (epoch s)
        self.expiry = ExpirySweep()  # credentials expiry: one sweep for every connection
        self._running = False
        self._max_age_task: asyncio.Task[None] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    # --- lifecycle

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        await self.broker.start(self._deliver)
        self._running = True
        self.expiry.start()
        self._max_age_task = asyncio.create_task(self._sweep_max_age_forever(), name="realtime-max-age-sweep")

    async def stop(self, grace: float = 10.0) -> None:
        """Stop taking publications, then close every connection with 1001 after it drains its queue."""
        self._running = False
        await self.expiry.stop()
        if self._max_age_task is not None:
            self._max_age_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._max_age_task
            self._max_age_task = None
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
        payload = publication.payload
        if publication.mutation_field == CONTROL_FIELD:
            self._apply_control(payload)
            return
        metrics.publishes += 1
        if payload is None:
            return  # a mutation that returned null publishes nothing
        try:
            # The hub keeps one plan object per distinct selection set, so its id keys the encodings: no deep
            # hash of the plan per group (a filtered subscriber may be a group of its own).
            encoded: dict[int, str | None] = {}
            limit = self.max_payload_bytes
            deliveries = 0
            for field_name in self.links.get(publication.mutation_field, ()):
                for plans in self.hub.matching(field_name, payload):
                    for (plan, rules), subscribers in plans.items():
                        if rules is not None and not rules.matches(payload):
                            continue
                        body = encoded.get(id(plan), _NOT_ENCODED)
                        if body is _NOT_ENCODED:
                            body = plan.encode(payload)
                            metrics.encodings += 1
                            if len(body) > limit or (len(body) * 4 > limit and len(body.encode()) > limit):
                                body = None
                            encoded[id(plan)] = body
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

    def subscribe(
        self,
        compiled: CompiledSubscription,
        outbox: Outbox,
        prefix: str,
        *,
        end: Callable[[Subscriber], None] | None = None,
        user_sub: str | None = None,
        groups: frozenset[str] = frozenset(),
        needs_groups: frozenset[str] | None = None,
    ) -> Subscriber:
        """Start delivering matching publications to `outbox`, each frame `prefix + payload + "}"`.

        `end` is how the server ends it (room deleted, group removed); see hub.Subscriber.
        """
        subscriber = Subscriber(
            compiled, outbox, prefix, end=end, user_sub=user_sub, groups=groups, needs_groups=needs_groups
        )
        self.hub.add(subscriber)
        if user_sub is not None:
            self._subscribers_of.setdefault(user_sub, {})[subscriber] = None
        self.metrics.subscriptions += 1
        self.metrics.subscriptions_total += 1
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        before = self.hub.size
        self.hub.remove(subscriber)
        if self.hub.size < before:
            self.metrics.subscriptions -= 1
        if subscriber.user_sub is not None:
            mine = self._subscribers_of.get(subscriber.user_sub)
            if mine is not None:
                mine.pop(subscriber, None)
                if not mine:
                    del self._subscribers_of[subscriber.user_sub]

    # --- invalidation: the server ends subscriptions (on every replica, through the broker)

    async def end_subscriptions_bound_to(self, argument: str, value: Any) -> None:
        """End, on every replica, each subscription whose equality argument `argument` is `value`
        (deleteRoom: `roomId`). Each client gets its protocol's `complete`; connections stay open."""
        await self._broadcast({"op": "end-bound", "argument": argument, "value": value})

    async def end_group_subscriptions(self, user_sub: str, group: str) -> None:
        """`user_sub` left `group`: on every replica, end the user's subscriptions that needed it, and
        refuse it to the user's tokens issued before now."""
        await self._broadcast(
            {"op": "group-removed", "sub": user_sub, "group": group, "at": int(time.time())}
        )

    def effective_groups(self, user_sub: str, groups: frozenset[str], issued_at: int) -> frozenset[str]:
        """A token's groups less those the user was removed from after the token was issued."""
        removed = self._removed_groups.get(user_sub)
        if not removed:
            return groups
        return frozenset(g for g in groups if removed.get(g, -1) < issued_at)

    async def _broadcast(self, control: dict[str, Any]) -> None:
        try:
            await self.broker.publish(Publication(CONTROL_FIELD, control))
        except Exception:
            self.metrics.publish_errors += 1
            log.exception("broadcasting %s failed", control.get("op"))

    def _apply_control(self, control: dict[str, Any] | None) -> None:
        try:
            op = control.get("op") if isinstance(control, dict) else None
            if op == "end-bound":
                ended = self.hub.bound_to(str(control["argument"]), control["value"])
            elif op == "group-removed":
                ended = self._group_removed(str(control["sub"]), str(control["group"]), int(control["at"]))
            else:
                log.warning("unknown control message %r skipped", op)
                return
            for subscriber in ended:
                self._end(subscriber)
            if ended:
                log.info("%s ended %d subscriptions", op, len(ended))
        except Exception:
            log.exception("a control message failed")

    def _group_removed(self, user_sub: str, group: str, at: int) -> list[Subscriber]:
        removed = self._removed_groups.setdefault(user_sub, {})
        removed[group] = max(at, removed.get(group, at))
        ended = []
        for subscriber in list(self._subscribers_of.get(user_sub, ())):
            needs = subscriber.needs_groups
            if needs is None or group not in needs:
                continue
            if (subscriber.groups - {group}).isdisjoint(needs):
                ended.append(subscriber)
        return ended

    def _end(self, subscriber: Subscriber) -> None:
        end = subscriber.end
        if end is not None:
            end(subscriber)  # the owner unsubscribes and sends its protocol's complete
        else:
            self.unsubscribe(subscriber)

    # --- credentials expiry: one periodic sweep for every connection, whatever its protocol

    def watch_expiry(self, connection: Connection, expires_at: float, on_expiry: Callable[[], None]) -> None:
        """Call `on_expiry()` within a second after `expires_at` (epoch seconds), unless the connection is
        removed first. A later call for the same connection keeps the earlier deadline."""
        self.expiry.watch(connection, expires_at, on_expiry)

    def sweep_max_age(self, now: float | None = None) -> int:
        """Close (1001) the connections past their maximum age; returns how many were asked to close."""
        now = time.monotonic() if now is None else now
        due = []
        for connection, closes_at in self._connections.items():
            if closes_at > now:
                break  # the rest opened later
            if closes_at:
                due.append(connection)
        for connection in due:  # a closing connection stays listed until it is gone: disconnect is idempotent
            connection.disconnect(CLOSE_GOING_AWAY, "Connection max age reached")
        return len(due)

    async def _sweep_max_age_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                self.sweep_max_age()
            except Exception:
                log.exception("closing connections past their maximum age failed")

    def sweep_expired(self, now: float | None = None) -> int:
        """Close the connections whose deadline passed; returns how many."""
        return self.expiry.sweep(now)

    # --- connections

    def add_connection(self, connection: Connection, max_age: float = 0.0) -> None:
        """Track a connection; with `max_age` (seconds), close it (1001) within a second after that age."""
        self._connections[connection] = time.monotonic() + max_age if max_age > 0 else 0.0
        self.metrics.connections += 1
        self.metrics.connections_total += 1

    def set_user(self, connection: Connection, user_sub: str | None) -> None:
        """Index a connection by its user, for `disconnect_user`."""
        if user_sub is not None and connection in self._connections:
            self._by_user.setdefault(user_sub, {})[connection] = None
            users = self._users_of.get(connection, ())
            if user_sub not in users:
                self._users_of[connection] = (*users, user_sub)

    def remove_connection(self, connection: Connection) -> None:
        if self._connections.pop(connection, None) is not None:
            self.metrics.connections -= 1
        self.expiry.forget(connection)
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
