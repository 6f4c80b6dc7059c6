"""The payload a subscriber receives: the mutation's selection, projected onto the subscription's."""

from __future__ import annotations

from tests.realtime.schema_fixture import Client, make_engine

MESSAGE = {
    "id": "m1",
    "content": {"text": "hi", "imageId": None},
    "owner": "alice",
    "roomId": "r1",
    "createdAt": "2022-08-11T17:32:11.123Z",
}


async def test_projection_delivers_exactly_the_subscribed_fields() -> None:
    engine = await make_engine()
    client = Client(engine)
    client.subscribe('subscription { onCreateMessageByRoomId(roomId: "r1") { id owner content { text } } }')
    await engine.publish("createMessage", MESSAGE)
    assert await client.payloads() == [
        {"data": {"onCreateMessageByRoomId": {"id": "m1", "owner": "alice", "content": {"text": "hi"}}}}
    ]


async def test_projection_fields_the_mutation_did_not_select_are_null() -> None:
    engine = await make_engine()
    client = Client(engine)
    client.subscribe("subscription { onCreateRoom { id owner createdAt } }")
    await engine.publish("createRoom", {"id": "r1", "name": "lobby"})
    assert await client.payloads() == [
        {"data": {"onCreateRoom": {"id": "r1", "owner": None, "createdAt": None}}}
    ]


async def test_projection_missing_non_null_field_errors_and_bubbles_to_nullable_parent() -> None:
    engine = await make_engine()
    client = Client(engine)
    client.subscribe("subscription { onUpdateMessage { id owner } }")
    await engine.publish("updateMessage", {"id": "m1", "roomId": "r1"})
    assert await client.payloads() == [
        {
            "data": {"onUpdateMessage": None},
            "errors": [
                {
                    "message": "Cannot return null for non-nullable type: 'String' within parent "
                    "'Message' (/onUpdateMessage/owner)",
                    "path": ["onUpdateMessage", "owner"],
                }
            ],
        }
    ]


async def test_projection_null_bubbles_through_nested_non_null_object_and_list_items() -> None:
    engine = await make_engine()
    client = Client(engine)
    client.subscribe(
        "subscription { onCreateRoom { id messages { items { id content { text } } nextToken } } }"
    )
    payload = {
        "id": "r1",
        "messages": {"items": [{"id": "m1", "content": {"text": "a"}}, {"id": "m2"}], "nextToken": None},
    }
    await engine.publish("createRoom", payload)
    (result,) = await client.payloads()
    # m2 has no content (non-null) -> m2 (Message!) cannot be null -> the nullable list `items` is null.
    assert result["data"] == {"onCreateRoom": {"id": "r1", "messages": {"items": None, "nextToken": None}}}
    assert result["errors"] == [
        {
            "message": "Cannot return null for non-nullable type: 'MessageContent' within parent "
            "'Message' (/onCreateRoom/messages/items[1]/content)",
            "path": ["onCreateRoom", "messages", "items", 1, "content"],
        }
    ]


async def test_projection_aliases_typename_and_fragments() -> None:
    engine = await make_engine()
    client = Client(engine)
    client.subscribe(
        """
        subscription S($room: ID) {
          live: onCreateMessageByRoomId(roomId: $room) {
            __typename
            messageId: id
            ...Body
            content { __typename imageId }
          }
        }
        fragment Body on Message { content { body: text } owner @skip(if: true) }
        """,
        {"room": "r1"},
    )
    await engine.publish("createMessage", MESSAGE)
    assert await client.payloads() == [
        {
            "data": {
                "live": {
                    "__typename": "Message",
                    "messageId": "m1",
                    "content": {"body": "hi", "__typename": "MessageContent", "imageId": None},
                }
            }
        }
    ]


async def test_projection_lists_of_leaves_pass_through() -> None:
    engine = await make_engine()
    client = Client(engine)
    client.subscribe("subscription { onTagged { id tags } }")
    await engine.publish("createMessage", {"id": "m1", "tags": ["a", "b"]})
    assert await client.payloads() == [{"data": {"onTagged": {"id": "m1", "tags": ["a", "b"]}}}]


async def test_projection_encoded_once_per_distinct_selection_set() -> None:
    engine = await make_engine()
    clients = [Client(engine) for _ in range(5)]
    for client in clients[:3]:
        client.subscribe("subscription { onCreateRoom { id name } }")
    for client in clients[3:]:
        client.subscribe("subscription { onCreateRoom { id } }")
    await engine.publish("createRoom", {"id": "r1", "name": "lobby"})
    assert engine.metrics.encodings == 2
    assert engine.metrics.deliveries == 5
    assert [len(await c.payloads()) for c in clients] == [1, 1, 1, 1, 1]
