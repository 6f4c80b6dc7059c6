"""Argument filtering: supplied arguments must equal the response's top-level fields."""

from __future__ import annotations

from tests.realtime.schema_fixture import Client, make_engine

SUB = "subscription S($roomId: ID) { onCreateMessageByRoomId(roomId: $roomId) { id roomId } }"


async def test_filters_supplied_argument_matches_only_equal_field() -> None:
    engine = await make_engine()
    room1, room2 = Client(engine), Client(engine)
    room1.subscribe(SUB, {"roomId": "r1"})
    room2.subscribe(SUB, {"roomId": "r2"})
    await engine.publish("createMessage", {"id": "m1", "roomId": "r1"})
    assert [p["data"]["onCreateMessageByRoomId"]["id"] for p in await room1.payloads()] == ["m1"]
    assert await room2.payloads() == []


async def test_filters_omitted_variable_is_a_wildcard() -> None:
    engine = await make_engine()
    client = Client(engine)
    client.subscribe(SUB, {})
    await engine.publish("createMessage", {"id": "m1", "roomId": "r1"})
    await engine.publish("createMessage", {"id": "m2", "roomId": None})
    assert len(await client.payloads()) == 2


async def test_filters_explicit_null_matches_only_null() -> None:
    engine = await make_engine()
    client = Client(engine)
    client.subscribe(
        "subscription S($roomId: ID) { onCreateMessageByRoomId(roomId: $roomId) { id } }",
        {"roomId": None},
    )
    await engine.publish("createMessage", {"id": "m1", "roomId": "r1"})
    await engine.publish("createMessage", {"id": "m2", "roomId": None})
    payloads = await client.payloads()
    assert [p["data"]["onCreateMessageByRoomId"]["id"] for p in payloads] == ["m2"]


async def test_filters_literal_null_argument_matches_only_null() -> None:
    engine = await make_engine()
    client = Client(engine)
    client.subscribe("subscription { onCreateMessageByRoomId(roomId: null) { id } }")
    await engine.publish("createMessage", {"id": "m1", "roomId": "r1"})
    await engine.publish("createMessage", {"id": "m2", "roomId": None})
    assert len(await client.payloads()) == 1


async def test_filters_field_not_selected_by_mutation_means_no_delivery() -> None:
    engine = await make_engine()
    filtered, unfiltered = Client(engine), Client(engine)
    filtered.subscribe(SUB, {"roomId": "r1"})
    unfiltered.subscribe(SUB)
    await engine.publish("createMessage", {"id": "m1"})  # the mutation did not select roomId
    assert await filtered.payloads() == []
    assert len(await unfiltered.payloads()) == 1


async def test_filters_several_arguments_all_must_match() -> None:
    engine = await make_engine()
    client = Client(engine)
    client.subscribe('subscription { onAnyMessage(roomId: "r1", owner: "bob") { id } }')
    await engine.publish("createMessage", {"id": "m1", "roomId": "r1", "owner": "alice"})
    await engine.publish("createMessage", {"id": "m2", "roomId": "r1", "owner": "bob"})
    await engine.publish("createMessage", {"id": "m3", "roomId": "r2", "owner": "bob"})
    payloads = await client.payloads()
    assert [p["data"]["onAnyMessage"]["id"] for p in payloads] == ["m2"]


async def test_filters_aliased_subscription_argument_matches_by_argument_name() -> None:
    engine = await make_engine()
    client = Client(engine)
    client.subscribe('subscription { mine: onCreateMessageByRoomId(roomId: "r1") { key: id } }')
    await engine.publish("createMessage", {"id": "m1", "roomId": "r1"})
    assert await client.payloads() == [{"data": {"mine": {"key": "m1"}}}]


async def test_filters_list_argument_compares_whole_list() -> None:
    engine = await make_engine()
    client = Client(engine)
    client.subscribe('subscription { onTagged(tags: ["a", "b"]) { id } }')
    await engine.publish("createMessage", {"id": "m1", "tags": ["a"]})
    await engine.publish("createMessage", {"id": "m2", "tags": ["a", "b"]})
    assert [p["data"]["onTagged"]["id"] for p in await client.payloads()] == ["m2"]


async def test_filters_id_argument_given_as_int_matches_string_id() -> None:
    engine = await make_engine()
    client = Client(engine)
    client.subscribe("subscription S($r: ID) { onCreateMessageByRoomId(roomId: $r) { id } }", {"r": 7})
    await engine.publish("createMessage", {"id": "m1", "roomId": "7"})
    assert len(await client.payloads()) == 1
