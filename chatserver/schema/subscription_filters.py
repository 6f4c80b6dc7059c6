"""Amplify's subscription filter inputs (`filter: ModelSubscription<Type>FilterInput` on every subscription field).

Names, fields and field order as amplify-category-api's model transformer prints them: per scalar
`ModelSubscriptionStringInput` / `IDInput` / `IntInput` / `FloatInput` / `BooleanInput`, per type a filter input
with one entry per field plus `and` / `or`. Nested objects (a message's `content`) get a nested filter input,
so `{content: {text: {contains: "hi"}}}` filters on `content.text` as AppSync's dotted field names do.
The real-time engine reads these arguments (chatserver.realtime.filter_groups); no resolver does.
"""

from __future__ import annotations

from typing import Annotated

import strawberry

UNSET = strawberry.UNSET


@strawberry.input
class ModelSubscriptionStringInput:
    ne: str | None = UNSET
    eq: str | None = UNSET
    le: str | None = UNSET
    lt: str | None = UNSET
    ge: str | None = UNSET
    gt: str | None = UNSET
    contains: str | None = UNSET
    not_contains: str | None = UNSET
    between: list[str | None] | None = UNSET
    begins_with: str | None = UNSET
    in_: list[str | None] | None = strawberry.field(name="in", default=UNSET)
    not_in: list[str | None] | None = UNSET


@strawberry.input
class ModelSubscriptionIDInput:
    ne: strawberry.ID | None = UNSET
    eq: strawberry.ID | None = UNSET
    le: strawberry.ID | None = UNSET
    lt: strawberry.ID | None = UNSET
    ge: strawberry.ID | None = UNSET
    gt: strawberry.ID | None = UNSET
    contains: strawberry.ID | None = UNSET
    not_contains: strawberry.ID | None = UNSET
    between: list[strawberry.ID | None] | None = UNSET
    begins_with: strawberry.ID | None = UNSET
    in_: list[strawberry.ID | None] | None = strawberry.field(name="in", default=UNSET)
    not_in: list[strawberry.ID | None] | None = UNSET


@strawberry.input
class ModelSubscriptionIntInput:
    ne: int | None = UNSET
    eq: int | None = UNSET
    le: int | None = UNSET
    lt: int | None = UNSET
    ge: int | None = UNSET
    gt: int | None = UNSET
    between: list[int | None] | None = UNSET
    in_: list[int | None] | None = strawberry.field(name="in", default=UNSET)
    not_in: list[int | None] | None = UNSET


@strawberry.input
class ModelSubscriptionFloatInput:
    ne: float | None = UNSET
    eq: float | None = UNSET
    le: float | None = UNSET
    lt: float | None = UNSET
    ge: float | None = UNSET
    gt: float | None = UNSET
    between: list[float | None] | None = UNSET
    in_: list[float | None] | None = strawberry.field(name="in", default=UNSET)
    not_in: list[float | None] | None = UNSET


@strawberry.input
class ModelSubscriptionBooleanInput:
    ne: bool | None = UNSET
    eq: bool | None = UNSET


# Every scalar input, so the schema offers the whole Amplify set even where no field uses one yet.
SCALAR_FILTER_INPUTS = (
    ModelSubscriptionStringInput,
    ModelSubscriptionIDInput,
    ModelSubscriptionIntInput,
    ModelSubscriptionFloatInput,
    ModelSubscriptionBooleanInput,
)


@strawberry.input
class ModelSubscriptionMessageContentFilterInput:
    text: ModelSubscriptionStringInput | None = UNSET
    image_id: ModelSubscriptionStringInput | None = UNSET


@strawberry.input
class ModelSubscriptionMessageFilterInput:
    id: ModelSubscriptionIDInput | None = UNSET
    content: ModelSubscriptionMessageContentFilterInput | None = UNSET
    owner: ModelSubscriptionStringInput | None = UNSET
    created_at: ModelSubscriptionStringInput | None = UNSET
    updated_at: ModelSubscriptionStringInput | None = UNSET
    room_id: ModelSubscriptionIDInput | None = UNSET
    and_: list[ModelSubscriptionMessageFilterInput | None] | None = strawberry.field(
        name="and", default=UNSET
    )
    or_: list[ModelSubscriptionMessageFilterInput | None] | None = strawberry.field(name="or", default=UNSET)


@strawberry.input
class ModelSubscriptionRoomFilterInput:
    id: ModelSubscriptionIDInput | None = UNSET
    name: ModelSubscriptionStringInput | None = UNSET
    owner: ModelSubscriptionStringInput | None = UNSET
    created_at: ModelSubscriptionStringInput | None = UNSET
    updated_at: ModelSubscriptionStringInput | None = UNSET
    and_: list[ModelSubscriptionRoomFilterInput | None] | None = strawberry.field(name="and", default=UNSET)
    or_: list[ModelSubscriptionRoomFilterInput | None] | None = strawberry.field(name="or", default=UNSET)


@strawberry.input
class ModelSubscriptionAudioSegmentFilterInput:
    room_id: ModelSubscriptionIDInput | None = UNSET
    data: ModelSubscriptionStringInput | None = UNSET
    timestamp: ModelSubscriptionStringInput | None = UNSET
    user_id: ModelSubscriptionStringInput | None = UNSET
    and_: list[ModelSubscriptionAudioSegmentFilterInput | None] | None = strawberry.field(
        name="and", default=UNSET
    )
    or_: list[ModelSubscriptionAudioSegmentFilterInput | None] | None = strawberry.field(
        name="or", default=UNSET
    )


FILTER = strawberry.argument(name="filter")

MessageFilter = Annotated[ModelSubscriptionMessageFilterInput | None, FILTER]
RoomFilter = Annotated[ModelSubscriptionRoomFilterInput | None, FILTER]
AudioSegmentFilter = Annotated[ModelSubscriptionAudioSegmentFilterInput | None, FILTER]
