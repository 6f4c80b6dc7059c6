"""The GraphQL schema (code first). `build_schema()` is the wire contract; `schema.graphql` is its print."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from chatserver.schema.audio import AudioMutations, AudioSubscriptions
from chatserver.schema.files import FileMutations
from chatserver.schema.messages import MessageMutations, MessageQueries, MessageSubscriptions
from chatserver.schema.naming import CachedNameConverter
from chatserver.schema.rooms import RoomMutations, RoomQueries, RoomSubscriptions
from chatserver.schema.scalars import SCALAR_MAP
from chatserver.schema.subscription_filters import SCALAR_FILTER_INPUTS
from chatserver.schema.users import UserQueries

Query = merge_types("Query", (RoomQueries, MessageQueries, UserQueries))
Mutation = merge_types("Mutation", (RoomMutations, MessageMutations, AudioMutations, FileMutations))
Subscription = merge_types("Subscription", (RoomSubscriptions, MessageSubscriptions, AudioSubscriptions))


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(scalar_map=SCALAR_MAP, name_converter=CachedNameConverter()),
        types=SCALAR_FILTER_INPUTS,  # Amplify's whole set of filter inputs, used or not
    )


def export_sdl(schema: strawberry.Schema | None = None) -> str:
    """The SDL as `chatserver schema export` prints it (and as schema.graphql holds it)."""
    return (schema or build_schema()).as_str().rstrip("\n") + "\n"
