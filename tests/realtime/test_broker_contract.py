"""One contract, every broker: what chatserver.realtime.broker.Broker promises, run over memory and Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from chatserver.realtime.broker import Broker, Publication, create_broker
from tests.realtime.brokers import BROKER_KINDS, redis_url, unique_prefix

TIMEOUT = 10.0


def _make(kind: str, prefix: str) -> Broker:
    return create_broker("memory://" if kind == "memory" else redis_url(), prefix)


class Received:
    def __init__(self) -> None:
        self.items: list[Publication] = []
        self._changed = asyncio.Event()

    def __call__(self, publication: Publication) -> None:
        self.items.append(publication)
        self._changed.set()

    async def until(self, count: int) -> list[Publication]:
        async with asyncio.timeout(TIMEOUT):
            while len(self.items) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.items


@pytest.fixture(params=BROKER_KINDS)
async def make_broker(request: pytest.FixtureRequest) -> AsyncIterator[Callable[[], Broker]]:
    """Brokers of one deployment (one prefix), stopped after the test."""
    prefix = unique_prefix()
    made: list[Broker] = []

    def make() -> Broker:
        broker = _make(request.param, prefix)
        made.append(broker)
        return broker

    yield make
    for broker in made:
        await broker.stop()


async def test_broker_delivers_own_publications_in_order(make_broker: Callable[[], Broker]) -> None:
    broker, received = make_broker(), Received()
    await broker.start(received)
    for i in range(50):
        await broker.publish(Publication("createMessage", {"id": str(i), "roomId": "r"}))
    items = await received.until(50)
    assert [p.payload["id"] for p in items] == [str(i) for i in range(50)]
    assert {p.mutation_field for p in items} == {"createMessage"}


async def test_broker_payload_round_trips_json_values(make_broker: Callable[[], Broker]) -> None:
    broker, received = make_broker(), Received()
    await broker.start(received)
    payload: dict[str, Any] = {
        "id": "m",
        "content": {"text": 'hé ✓ "q"', "imageId": None},
        "n": 3,
        "ok": True,
    }
    await broker.publish(Publication("updateMessage", payload))
    await broker.publish(Publication("deleteMessage", None))
    items = await received.until(2)
    assert items[0] == Publication("updateMessage", payload)
    assert items[1] == Publication("deleteMessage", None)


async def test_broker_stop_ends_delivery(make_broker: Callable[[], Broker]) -> None:
    broker, received = make_broker(), Received()
    await broker.start(received)
    await broker.publish(Publication("createRoom", {"id": "1"}))
    await received.until(1)
    await broker.stop()
    await broker.publish(Publication("createRoom", {"id": "2"}))
    await asyncio.sleep(0.2)  # nothing may arrive after stop; give a stray delivery the chance to show
    assert [p.payload["id"] for p in received.items] == ["1"]


@pytest.mark.parametrize(
    "kind", [pytest.param(k.values[0], id=k.id, marks=k.marks) for k in BROKER_KINDS[1:]]
)
async def test_broker_every_process_receives_each_publication_once_in_publish_order(kind: str) -> None:
    prefix = unique_prefix()
    brokers = [_make(kind, prefix) for _ in range(3)]
    inboxes = [Received() for _ in brokers]
    try:
        for broker, inbox in zip(brokers, inboxes, strict=True):
            await broker.start(inbox)
        for i in range(30):
            await brokers[i % 3].publish(Publication("createMessage", {"id": f"{i % 3}-{i}"}))
        for inbox in inboxes:
            items = await inbox.until(30)
            assert len(items) == 30
            for origin in "012":
                ids = [p.payload["id"] for p in items if p.payload["id"].startswith(origin)]
                assert ids == sorted(ids, key=lambda s: int(s.split("-")[1]))
    finally:
        for broker in brokers:
            await broker.stop()


@pytest.mark.parametrize(
    "kind", [pytest.param(k.values[0], id=k.id, marks=k.marks) for k in BROKER_KINDS[1:]]
)
async def test_broker_deployments_with_other_prefixes_do_not_mix(kind: str) -> None:
    ours, theirs = _make(kind, unique_prefix()), _make(kind, unique_prefix())
    received, other = Received(), Received()
    try:
        await ours.start(received)
        await theirs.start(other)
        await theirs.publish(Publication("createRoom", {"id": "theirs"}))
        await ours.publish(Publication("createRoom", {"id": "ours"}))
        assert [p.payload["id"] for p in await received.until(1)] == ["ours"]
        assert [p.payload["id"] for p in await other.until(1)] == ["theirs"]
    finally:
        await ours.stop()
        await theirs.stop()
