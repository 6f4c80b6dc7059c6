"""Engine behaviour: links, ordering, size limit, slow consumers, unsubscribe, users."""

from __future__ import annotations

import asyncio

import pytest
from graphql import parse

from chatserver.realtime.compiler import SubscriptionRejected
from tests.realtime.schema_fixture import Client, make_engine


async def test_engine_several_mutations_linked_to_one_subscription() -> None:
    engine = await make_engine()
    client = Client(engine)
    client.subscribe("subscription { onCreateMessageByRoomId { id } }")
    await engine.publish("createMessage", {"id": "m1"})
    await engine.publish("importMessage", {"id": "m2"})
    await engine.publish("updateMessage", {"id": "m3"})  # not linked to this subscription
    ids = [p["data"]["onCreateMessageByRoomId"]["id"] for p in await client.payloads()]
    assert ids == ["m1", "m2"]


async def test_engine_one_mutation_reaches_every_linked_subscription() -> None:
    engine = await make_engine()
    client = Client(engine)
    client.subscribe("subscription { onCreateMessageByRoomId { id } }", sub_id="a")
    client.subscribe("subscription { onAnyMessage { id } }", sub_id="b")
    await engine.publish("createMessage", {"id": "m1"})
    assert sorted(frame["id"] for frame in await client.frames()) == ["a", "b"]


async def test_engine_frames_carry_the_subscription_id_and_keep_publish_order() -> None:
    engine = await make_engine()
    client = Client(engine)
    client.subscribe('subscription { onCreateAudioSegment(roomId: "r1") { data } }', sub_id="x-1")
    for n in range(20):
        await engine.publish("createAudioSegment", {"roomId": "r1", "data": str(n)})
    frames = await client.frames()
    assert {frame["id"] for frame in frames} == {"x-1"}
    assert [f["payload"]["data"]["onCreateAudioSegment"]["data"] for f in frames] == [
        str(n) for n in range(20)
    ]


async def test_engine_payload_over_limit_is_never_sent() -> None:
    engine = await make_engine(max_payload_bytes=1000)
    client = Client(engine)
    client.subscribe('subscription { onCreateAudioSegment(roomId: "r1") { data } }')
    await engine.publish("createAudioSegment", {"roomId": "r1", "data": "x" * 2000})
    await engine.publish("createAudioSegment", {"roomId": "r1", "data": "small"})
    payloads = await client.payloads()
    assert [p["data"]["onCreateAudioSegment"]["data"] for p in payloads] == ["small"]
    assert engine.metrics.oversize_drops == 1


async def test_engine_slow_consumer_overflows_alone() -> None:
    engine = await make_engine()
    slow, fast = Client(engine, limit=5000), Client(engine)
    query = 'subscription { onCreateAudioSegment(roomId: "r1") { data } }'
    slow.subscribe(query)
    fast.subscribe(query)
    for _ in range(10):
        await engine.publish("createAudioSegment", {"roomId": "r1", "data": "x" * 1000})
    assert slow.overflowed and not fast.overflowed
    assert len(await fast.payloads()) == 10
    assert await slow.payloads() == []


async def test_engine_unsubscribe_stops_delivery() -> None:
    engine = await make_engine()
    client = Client(engine)
    client.subscribe("subscription { onCreateRoom { id } }")
    engine.unsubscribe(client.subscribers[0])
    await engine.publish("createRoom", {"id": "r1"})
    assert await client.payloads() == []
    assert engine.metrics.subscriptions == 0
    assert engine.hub.size == 0


async def test_engine_unlinked_or_null_publication_delivers_nothing() -> None:
    engine = await make_engine()
    client = Client(engine)
    client.subscribe("subscription { onCreateRoom { id } }")
    await engine.publish("createRoom", None)
    await engine.publish("somethingElse", {"id": "r1"})
    assert await client.payloads() == []


async def test_engine_compile_rejects_queries_and_bad_variables() -> None:
    engine = await make_engine()
    with pytest.raises(SubscriptionRejected) as rejected:
        engine.compile(parse("query { rooms { id } }"), None)
    assert rejected.value.kind == "UnsupportedOperation"
    assert rejected.value.message == "query not supported through the realtime channel"
    with pytest.raises(SubscriptionRejected) as rejected:
        engine.compile(parse("subscription S($r: ID!) { onCreateAudioSegment(roomId: $r) { data } }"), {})
    assert "$r" in rejected.value.message


class FakeConnection:
    def __init__(self, user_sub: str) -> None:
        self.user_sub = user_sub
        self.closed_with: tuple[int, str] | None = None
        self.closed = asyncio.Event()

    def disconnect(self, code: int, reason: str) -> None:
        self.closed_with = (code, reason)
        self.closed.set()

    async def wait_closed(self) -> None:
        await self.closed.wait()


async def test_engine_disconnect_user_closes_only_that_users_connections() -> None:
    engine = await make_engine()
    alice, bob = FakeConnection("alice"), FakeConnection("bob")
    for connection in (alice, bob):
        engine.add_connection(connection)
        engine.set_user(connection, connection.user_sub)
    await engine.disconnect_user("alice")
    assert alice.closed_with == (4401, "Unauthorized")
    assert bob.closed_with is None
    await engine.stop()
    assert bob.closed_with == (1001, "Server shutting down")
