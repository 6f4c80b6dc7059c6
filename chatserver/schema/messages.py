"""Messages: the chat app's text and image messages, listed per room."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from chatserver.errors import ConditionalCheckFailed, NotFound, ValidationFailed
from chatserver.persistence.messages import MessageRecord, RoomMissing, row_maker
from chatserver.schema.common import ModelSortDirection, identity, optional, read_page, services
from chatserver.schema.directives import AwsSubscribe, every_mode, signed_in
from chatserver.schema.scalars import AWSURL, AWSDateTime
from chatserver.schema.subscription_filters import MessageFilter


@strawberry.type(directives=every_mode())
class MessageContent:
    text: str | None
    image_id: str | None

    @strawberry.field(description="A signed download URL for the image, valid for a short time.")
    async def image_url(self, info: Info) -> AWSURL | None:
        files = services(info).files
        if self.image_id is None or files is None:
            return None
        return await files.download_url(self.image_id)


@strawberry.type(directives=every_mode())
class Message:
    id: strawberry.ID
    content: MessageContent
    owner: str
    created_at: AWSDateTime
    updated_at: AWSDateTime
    room_id: strawberry.ID

    @classmethod
    def from_record(cls, record: MessageRecord) -> Message:
        # ID and AWSDateTime are NewTypes of str: no calls at run time (room listings build up to 1000 of these).
        return cls(
            id=record.id,  # type: ignore[arg-type]
            content=MessageContent(text=record.text, image_id=record.image_id),
            owner=record.owner,
            created_at=record.created_at,  # type: ignore[arg-type]
            updated_at=record.updated_at,  # type: ignore[arg-type]
            room_id=record.room_id,  # type: ignore[arg-type]
        )


class MessageRow(MessageRecord):
    """A listed messages row, read by `Message`'s fields straight from the row (its attributes are the type's
    fields), and by `MessageContent`'s too (`text`, `image_id`): a room listing makes up to 1000 of these, each
    one `tuple.__new__` instead of two dataclasses."""

    __slots__ = ()

    @property
    def content(self) -> MessageRow:
        return self


_message_row = row_maker(MessageRow)


@strawberry.type(directives=every_mode())
class MessageConnection:
    items: list[Message] | None
    next_token: str | None


@strawberry.input
class MessageContentInput:
    text: str | None = strawberry.UNSET
    image_id: str | None = strawberry.UNSET


@strawberry.input
class MessageInput:
    content: MessageContentInput
    room_id: strawberry.ID
    id: strawberry.ID | None = strawberry.UNSET


async def list_room_messages(
    info: Info,
    room_id: str,
    sort_direction: ModelSortDirection | None,
    limit: int | None,
    next_token: str | None,
) -> MessageConnection:
    """The `messages-by-room-id` access pattern: ASC unless DESC is asked for."""
    descending = sort_direction == ModelSortDirection.DESC
    binding = f"messages|{room_id}|{'DESC' if descending else 'ASC'}"
    records, token = await read_page(
        info,
        binding,
        limit,
        next_token,
        lambda request: services(info).messages.list_for_room(room_id, request, _message_row),
        descending=descending,
    )
    return MessageConnection(items=records, next_token=token)  # type: ignore[arg-type]


async def _checked_content(info: Info, content: MessageContentInput) -> tuple[str | None, str | None]:
    text = optional(content.text)
    image_id = optional(content.image_id)
    if not text and not image_id:
        raise ValidationFailed("A message needs content: text, an imageId, or both.")
    limit = services(info).settings.max_text_bytes
    if text is not None and len(text.encode()) > limit:
        raise ValidationFailed(f"Message text is over the limit of {limit} bytes.")
    if image_id:
        files = services(info).files
        if files is None:
            raise NotFound(f"Image {image_id} was not found.")
        await files.require_uploaded(image_id, identity(info).username)
    return text, image_id or None


@strawberry.type
class MessageQueries:
    @strawberry.field(directives=every_mode())
    async def list_messages_for_room(
        self,
        info: Info,
        room_id: strawberry.ID,
        sort_direction: ModelSortDirection | None = strawberry.UNSET,
        limit: int | None = strawberry.UNSET,
        next_token: str | None = strawberry.UNSET,
    ) -> MessageConnection | None:
        return await list_room_messages(info, room_id, sort_direction, limit, next_token)

    @strawberry.field(directives=every_mode())
    async def get_message(self, info: Info, id: strawberry.ID) -> Message | None:
        record = await services(info).messages.get(id)
        return Message.from_record(record) if record else None


@strawberry.type
class MessageMutations:
    @strawberry.mutation(directives=signed_in())
    async def create_message(self, info: Info, input: MessageInput) -> Message | None:
        text, image_id = await _checked_content(info, input.content)
        try:
            record = await services(info).messages.create(
                message_id=str(
                    uuid.uuid4()
                ),  # a client-sent input.id is ignored, as the seed's resolver does
                room_id=input.room_id,
                owner=identity(info).username,
                text=text,
                image_id=image_id,
            )
        except RoomMissing:
            raise NotFound(f"Room {input.room_id} was not found.") from None
        return Message.from_record(record)

    @strawberry.mutation(directives=signed_in())
    async def update_message(self, info: Info, input: MessageInput) -> Message | None:
        message_id = optional(input.id)
        if not message_id:
            raise ValidationFailed("updateMessage needs input.id: the id of the message to change.")
        text, image_id = await _checked_content(info, input.content)
        record = await services(info).messages.update_content(
            message_id=message_id,
            room_id=input.room_id,
            owner=identity(info).username,
            text=text,
            image_id=image_id,
        )
        if record is None:
            raise ConditionalCheckFailed(
                f"The conditional request failed: message {message_id} in room {input.room_id} "
                "does not exist or is not yours."
            )
        return Message.from_record(record)

    @strawberry.mutation(directives=signed_in())
    async def delete_message(self, info: Info, id: strawberry.ID) -> Message | None:
        caller = identity(info)
        record = await services(info).messages.delete(
            message_id=id, owner=None if caller.is_admin else caller.username
        )
        if record is None:
            raise ConditionalCheckFailed(
                f"The conditional request failed: message {id} does not exist or is not yours."
            )
        return Message.from_record(record)


async def _no_local_stream() -> AsyncGenerator[Message | None, None]:
    # Subscriptions are served by the real-time engine over WebSockets; this resolver never runs.
    raise NotImplementedError("subscriptions are served over WebSocket")
    yield None


@strawberry.type
class MessageSubscriptions:
    @strawberry.subscription(directives=[AwsSubscribe(mutations=["createMessage"]), *every_mode()])
    async def on_create_message_by_room_id(
        self, room_id: strawberry.ID | None = strawberry.UNSET, filter_: MessageFilter = strawberry.UNSET
    ) -> AsyncGenerator[Message | None, None]:
        return _no_local_stream()

    @strawberry.subscription(directives=[AwsSubscribe(mutations=["updateMessage"]), *every_mode()])
    async def on_update_message(
        self, room_id: strawberry.ID | None = strawberry.UNSET, filter_: MessageFilter = strawberry.UNSET
    ) -> AsyncGenerator[Message | None, None]:
        return _no_local_stream()

    @strawberry.subscription(directives=[AwsSubscribe(mutations=["deleteMessage"]), *every_mode()])
    async def on_delete_message(
        self, room_id: strawberry.ID | None = strawberry.UNSET, filter_: MessageFilter = strawberry.UNSET
    ) -> AsyncGenerator[Message | None, None]:
        return _no_local_stream()
