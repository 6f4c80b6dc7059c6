"""A graphql-core schema shaped like SPEC section 2, for engine tests that need no server."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from graphql import GraphQLSchema, build_schema, parse, validate

from chatserver.realtime.broker_memory import MemoryBroker
from chatserver.realtime.engine import RealtimeEngine
from chatserver.realtime.outbox import Outbox

SDL = """
type Query { rooms: [Room] }
type Mutation {
  createRoom(name: String!): Room
  deleteRoom(id: ID!): Room
  createMessage(roomId: ID!, text: String): Message
  updateMessage(roomId: ID!, text: String): Message
  importMessage(roomId: ID!, text: String): Message
  createAudioSegment(roomId: ID!, data: String!): AudioSegment
}
type Subscription {
  onCreateRoom: Room
  onDeleteRoom: Room
  onCreateMessageByRoomId(roomId: ID): Message
  onUpdateMessage(roomId: ID): Message
  onAnyMessage(roomId: ID, owner: String): Message
  onCreateAudioSegment(roomId: ID!): AudioSegment
  onTagged(tags: [String]): Message
  onFiltered(roomId: ID, filter: ModelSubscriptionMessageFilterInput): Message
}
input ModelSubscriptionStringInput {
  ne: String eq: String le: String lt: String ge: String gt: String contains: String notContains: String
  between: [String] beginsWith: String in: [String] notIn: [String]
}
input ModelSubscriptionIDInput {
  ne: ID eq: ID le: ID lt: ID ge: ID gt: ID contains: ID notContains: ID
  between: [ID] beginsWith: ID in: [ID] notIn: [ID]
}
input ModelSubscriptionIntInput { ne: Int eq: Int le: Int lt: Int ge: Int gt: Int between: [Int] in: [Int] notIn: [Int] }
input ModelSubscriptionFloatInput {
  ne: Float eq: Float le: Float lt: Float ge: Float gt: Float between: [Float] in: [Float] notIn: [Float]
}
input ModelSubscriptionBooleanInput { ne: Boolean eq: Boolean }
input ModelSubscriptionMessageContentFilterInput { text: ModelSubscriptionStringInput imageId: ModelSubscriptionStringInput }
input ModelSubscriptionMessageFilterInput {
  id: ModelSubscriptionIDInput
  content: ModelSubscriptionMessageContentFilterInput
  owner: ModelSubscriptionStringInput
  roomId: ModelSubscriptionIDInput
  tags: ModelSubscriptionStringInput
  score: ModelSubscriptionIntInput
  weight: ModelSubscriptionFloatInput
  pinned: ModelSubscriptionBooleanInput
  and: [ModelSubscriptionMessageFilterInput]
  or: [ModelSubscriptionMessageFilterInput]
}
type Room { id: ID!  name: String!  owner: String  messages: MessageConnection  createdAt: String }
type Message {
  id: ID!  content: MessageContent!  owner: String!  roomId: ID!  tags: [String!]  createdAt: String!
  score: Int  weight: Float  pinned: Boolean
}
type MessageContent { text: String  imageId: String }
type MessageConnection { items: [Message!]  nextToken: String }
type AudioSegment { roomId: ID!  data: String!  timestamp: String!  userId: String! }
"""

LINKS = {
    "createRoom": ("onCreateRoom",),
    "deleteRoom": ("onDeleteRoom",),
    "createMessage": ("onCreateMessageByRoomId", "onAnyMessage", "onTagged", "onFiltered"),
    "importMessage": ("onCreateMessageByRoomId",),
    "updateMessage": ("onUpdateMessage", "onAnyMessage"),
    "createAudioSegment": ("onCreateAudioSegment",),
}


def make_schema() -> GraphQLSchema:
    return build_schema(SDL)


class Client:
    """One fake connection: an outbox whose frames the test reads back as JSON."""

    def __init__(self, engine: RealtimeEngine, limit: int = 1 << 20) -> None:
        self.engine = engine
        self.overflowed = False
        self.outbox = Outbox(limit, self._overflow)
        self.subscribers: list[Any] = []

    def _overflow(self) -> None:
        self.overflowed = True

    def subscribe(self, query: str, variables: dict[str, Any] | None = None, sub_id: str = "1") -> None:
        document = parse(query)
        errors = validate(self.engine.schema, document)
        assert not errors, errors
        compiled = self.engine.compile(document, variables)
        prefix = '{"type":"data","id":' + json.dumps(sub_id) + ',"payload":'
        self.subscribers.append(self.engine.subscribe(compiled, self.outbox, prefix))

    async def frames(self) -> list[dict[str, Any]]:
        """Everything queued so far (the outbox is closed afterwards)."""
        sent: list[str] = []

        async def send(frame: str) -> None:
            sent.append(frame)

        self.outbox.close()
        await asyncio.wait_for(self.outbox.drain(send), 5)
        return [json.loads(frame) for frame in sent]

    async def payloads(self) -> list[dict[str, Any]]:
        return [frame["payload"] for frame in await self.frames()]


async def make_engine(max_payload_bytes: int = 240 * 1024) -> RealtimeEngine:
    engine = RealtimeEngine(
        schema=make_schema(),
        links=LINKS,
        broker=MemoryBroker(),
        max_payload_bytes=max_payload_bytes,
    )
    await engine.start()
    return engine
