"""The engine's server-side ends and its expiry sweep, on two engines sharing a broker (two replicas in one
process): memory (one engine) and Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from chatserver.realtime.broker import create_broker
from chatserver.realtime.engine import RealtimeEngine
from chatserver.realtime.hub import Subscriber
from tests.realtime.brokers import BROKER_KINDS, redis_url, unique_prefix
from tests.realtime.schema_fixture import LINKS, Client, make_schema

TIMEOUT = 10.0
ROOM_SUB = "subscription S($roomId: ID) { onCreateMessageByRoomId(roomId: $roomId) { id } }"


class Ending(Client):
    """A fake connection that records which subscriptions the engine ended."""

    def __init__(self, engine: RealtimeEngine) -> None:
        super().__init__(engine)
        self.ended: list[str] = []
        self._changed = asyncio.Event()

    def subscribe_as(
        self,
        sub_id: str,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        user: str | None = None,
        groups: frozenset[str] = frozenset(),
        needs: frozenset[str] | None = None,
    ) -> Subscriber:
        from graphql import parse

        compiled = self.engine.compile(parse(query), variables)

        def end(subscriber: Subscriber) -> None:
            self.engine.unsubscribe(subscriber)
            self.ended.append(sub_id)
            self._changed.set()

        return self.engine.subscribe(
            compiled, self.outbox, "{", end=end, user_sub=user, groups=groups, needs_groups=needs
        )

    async def until_ended(self, count: int) -> list[str]:
        async with asyncio.timeout(TIMEOUT):
            while len(self.ended) < count:
                self._changed.clear()
                await self._changed.wait()
        return sorted(self.ended)


@pytest.fixture(params=BROKER_KINDS)
async def engines(request: pytest.FixtureRequest) -> AsyncIterator[Callable[[], RealtimeEngine]]:
    """Engines of one deployment; with memory, every call returns the same engine (one process)."""
    prefix, made = unique_prefix(), []

    async def make() -> RealtimeEngine:
        if request.param == "memory" and made:
            return made[0]
        broker = create_broker("memory://" if request.param == "memory" else redis_url(), prefix)
        engine = RealtimeEngine(schema=make_schema(), links=LINKS, broker=broker)
        await engine.start()
        made.append(engine)
        return engine

    yield make  # type: ignore[misc]
    for engine in made:
        await engine.stop(grace=1)


async def test_engine_end_bound_reaches_the_other_engine(engines: Any) -> None:
    here, there = await engines(), await engines()
    local, remote = Ending(here), Ending(there)
    local.subscribe_as("a", ROOM_SUB, {"roomId": "r1"})
    remote.subscribe_as("b", ROOM_SUB, {"roomId": "r1"})
    remote.subscribe_as("c", ROOM_SUB, {"roomId": "r2"})
    remote.subscribe_as("d", ROOM_SUB, {})
    await here.end_subscriptions_bound_to("roomId", "r1")
    assert await local.until_ended(1) == ["a"]
    assert await remote.until_ended(1) == ["b"]
    await here.publish("createMessage", {"id": "m1", "roomId": "r2"})  # c and d carry on
    for _ in range(1000):  # bounded: Redis hands the publication over asynchronously
        if there.metrics.deliveries >= 2:
            break
        await asyncio.sleep(0.01)
    assert there.metrics.deliveries == 2
    assert sorted(remote.ended) == ["b"]


async def test_engine_group_removal_ends_only_what_needed_the_group(engines: Any) -> None:
    here, there = await engines(), await engines()
    client = Ending(there)
    staff, both = frozenset({"staff"}), frozenset({"staff", "admin"})
    client.subscribe_as("needs-staff", ROOM_SUB, user="u1", groups=staff, needs=staff)
    client.subscribe_as("staff-or-admin", ROOM_SUB, user="u1", groups=both, needs=both)  # still admin
    client.subscribe_as("no-rule", ROOM_SUB, user="u1", groups=staff)
    client.subscribe_as("someone-else", ROOM_SUB, user="u2", groups=staff, needs=staff)
    await here.end_group_subscriptions("u1", "staff")
    assert await client.until_ended(1) == ["needs-staff"]
    # tokens issued before the removal no longer count the group; later ones do
    assert there.effective_groups("u1", staff, issued_at=0) == frozenset()
    assert there.effective_groups("u1", both, issued_at=0) == frozenset({"admin"})
    assert there.effective_groups("u1", staff, issued_at=2**40) == staff
    assert there.effective_groups("u2", staff, issued_at=0) == staff


async def test_engine_unknown_or_malformed_control_messages_are_skipped(engines: Any) -> None:
    engine = await engines()
    client = Ending(engine)
    client.subscribe_as("kept", ROOM_SUB, {"roomId": "r1"})
    for control in ({"op": "nonsense"}, {"op": "end-bound"}, {"no": "op"}, None, ["list"]):
        engine._apply_control(control)  # type: ignore[arg-type]
    await engine.publish("createMessage", {"id": "m1", "roomId": "r1"})
    assert client.ended == []
    assert engine.metrics.subscriptions == 1


class FakeConnection:
    def __init__(self) -> None:
        self.expired = 0

    @property
    def user_sub(self) -> str | None:
        return None

    def disconnect(self, code: int, reason: str) -> None: ...

    async def wait_closed(self) -> None: ...

    def on_expiry(self) -> None:
        self.expired += 1


async def test_engine_expiry_sweep_keeps_the_earliest_deadline_and_forgets_closed_connections() -> None:
    engine = RealtimeEngine(schema=make_schema(), links=LINKS, broker=create_broker("memory://"))
    early, late, gone = FakeConnection(), FakeConnection(), FakeConnection()
    for connection in (early, late, gone):
        engine.add_connection(connection)  # type: ignore[arg-type]
    engine.watch_expiry(early, 100, early.on_expiry)  # type: ignore[arg-type]
    engine.watch_expiry(early, 500, early.on_expiry)  # a later token does not push the deadline back
    engine.watch_expiry(late, 300, late.on_expiry)  # type: ignore[arg-type]
    engine.watch_expiry(late, 200, late.on_expiry)  # an earlier one brings it forward
    engine.watch_expiry(gone, 100, gone.on_expiry)  # type: ignore[arg-type]
    engine.remove_connection(gone)  # type: ignore[arg-type]
    assert engine.sweep_expired(now=99) == 0
    assert engine.sweep_expired(now=150) == 1 and early.expired == 1
    assert engine.sweep_expired(now=250) == 1 and late.expired == 1
    assert engine.sweep_expired(now=10_000) == 0  # each fires once; the stale heap entries are skipped
    assert (early.expired, late.expired, gone.expired) == (1, 1, 0)


def test_expiry_sweep_stays_proportional_to_the_open_connections() -> None:
    from chatserver.realtime.expiry import ExpirySweep

    sweep = ExpirySweep()
    fired: list[int] = []
    for n in range(5000):  # connections that come and go long before their tokens expire
        sweep.watch(n, 1_000_000 + n, lambda n=n: fired.append(n))
        sweep.forget(n)
    sweep.watch("open", 2_000_000, lambda: fired.append(-1))
    assert len(sweep._heap) <= 2 * 1 + 1024 + 1
    assert sweep.sweep(now=3_000_000) == 1 and fired == [-1]
