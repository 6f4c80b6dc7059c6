"""Rooms: created by the chat app, seeded for the walkie-talkie app, deleted by admins."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from chatserver.auth.identity import ADMIN_GROUP
from chatserver.errors import NotFound, ValidationFailed
from chatserver.persistence.rooms import RoomRecord
from chatserver.schema.common import ModelSortDirection, identity, read_page, services
from chatserver.schema.directives import AwsOidc, AwsSubscribe, every_mode, signed_in
from chatserver.schema.messages import MessageConnection, list_room_messages
from chatserver.schema.permissions import group_mutation
from chatserver.schema.scalars import AWSDateTime
from chatserver.schema.subscription_filters import RoomFilter

MAX_ROOM_NAME_CHARS = 256
ALL_ROOMS_CAP = 1000


@strawberry.type(directives=every_mode())
class Room:
    id: strawberry.ID
    name: str
    owner: str | None
    created_at: AWSDateTime | None
    updated_at: AWSDateTime | None

    @strawberry.field
    async def messages(
        self,
        info: Info,
        sort_direction: ModelSortDirection | None = strawberry.UNSET,
        limit: int | None = strawberry.UNSET,
        next_token: str | None = strawberry.UNSET,
    ) -> MessageConnection | None:
        return await list_room_messages(info, self.id, sort_direction, limit, next_token)

    @classmethod
    def from_record(cls, record: RoomRecord) -> Room:
        return cls(
            id=strawberry.ID(record.id),
            name=record.name,
            owner=record.owner,
            created_at=AWSDateTime(record.created_at),
            updated_at=AWSDateTime(record.updated_at),
        )


@strawberry.type(directives=every_mode())
class RoomConnection:
    items: list[Room] | None
    next_token: str | None


@strawberry.input
class RoomInput:
    name: str


@strawberry.type
class RoomQueries:
    @strawberry.field(directives=every_mode())
    async def list_rooms(
        self,
        info: Info,
        limit: int | None = strawberry.UNSET,
        next_token: str | None = strawberry.UNSET,
    ) -> RoomConnection | None:
        records, token = await read_page(info, "rooms", limit, next_token, services(info).rooms.list)
        return RoomConnection(items=[Room.from_record(r) for r in records], next_token=token)

    @strawberry.field(description="Every room (the walkie-talkie app's room list).", directives=every_mode())
    async def rooms(self, info: Info) -> list[Room | None] | None:
        records = await services(info).rooms.all(ALL_ROOMS_CAP)
        info.context.budget.charge(len(records))
        return [Room.from_record(r) for r in records]

    @strawberry.field(directives=every_mode())
    async def get_room(self, info: Info, id: strawberry.ID) -> Room | None:
        record = await services(info).rooms.get(id)
        return Room.from_record(record) if record else None


@strawberry.type
class RoomMutations:
    @strawberry.mutation(directives=signed_in())
    async def create_room(self, info: Info, input: RoomInput) -> Room | None:
        name = input.name.strip()
        if not name:
            raise ValidationFailed("A room needs a name.")
        if len(name) > MAX_ROOM_NAME_CHARS:
            raise ValidationFailed(f"A room name is at most {MAX_ROOM_NAME_CHARS} characters.")
        record = await services(info).rooms.create(
            room_id=str(uuid.uuid4()), name=name, owner=identity(info).username
        )
        return Room.from_record(record)

    @group_mutation([ADMIN_GROUP], also=[AwsOidc()])
    async def delete_room(self, info: Info, id: strawberry.ID) -> Room | None:
        record = await services(info).rooms.delete(id)
        if record is None:
            raise NotFound(f"Room {id} was not found.")
        realtime = services(info).realtime
        if realtime is not None:  # the room's subscribers, on every replica, get `complete`
            await realtime.end_subscriptions_bound_to("roomId", record.id)
        return Room.from_record(record)


async def _no_local_stream() -> AsyncGenerator[Room | None, None]:
    raise NotImplementedError("subscriptions are served over WebSocket")
    yield None


@strawberry.type
class RoomSubscriptions:
    @strawberry.subscription(directives=[AwsSubscribe(mutations=["createRoom"]), *every_mode()])
    async def on_create_room(
        self, filter_: RoomFilter = strawberry.UNSET
    ) -> AsyncGenerator[Room | None, None]:
        return _no_local_stream()

    @strawberry.subscription(directives=[AwsSubscribe(mutations=["deleteRoom"]), *every_mode()])
    async def on_delete_room(
        self, filter_: RoomFilter = strawberry.UNSET
    ) -> AsyncGenerator[Room | None, None]:
        return _no_local_stream()
