"""The bench's reference line: a bare Strawberry + Starlette + uvicorn app whose one mutation does one SQLite insert.

Strawberry's ParserCache and ValidationCache extensions are on, SQLite is in WAL mode with synchronous=NORMAL (as the
chatserver runs it). No auth, no limits, no publishing: what a minimal GraphQL write costs on this machine.

    REFERENCE_DB=/tmp/ref.db python -m uvicorn --factory bench.reference_app:create_app --port 8100
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiosqlite
import strawberry
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.types import Info


@strawberry.type
class Message:
    id: strawberry.ID
    room_id: strawberry.ID
    text: str
    created_at: str


@strawberry.type
class Query:
    @strawberry.field
    def ping(self) -> str:
        return "pong"


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_message(self, info: Info, room_id: strawberry.ID, text: str) -> Message:
        db: aiosqlite.Connection = info.context["request"].app.state.db
        message = Message(
            id=strawberry.ID(str(uuid.uuid4())),
            room_id=room_id,
            text=text,
            created_at=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        )
        await db.execute(
            "INSERT INTO messages (id, room_id, text, created_at) VALUES (?, ?, ?, ?)",
            (message.id, message.room_id, message.text, message.created_at),
        )
        await db.commit()
        return message


def create_app() -> Starlette:
    path = os.environ.get("REFERENCE_DB", "reference.db")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with aiosqlite.connect(path) as db:
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA synchronous=NORMAL")
            await db.execute(
                "CREATE TABLE IF NOT EXISTS messages (id TEXT PRIMARY KEY, room_id TEXT, text TEXT, created_at TEXT)"
            )
            await db.commit()
            app.state.db = db
            yield

    schema = strawberry.Schema(
        query=Query, mutation=Mutation, extensions=[ParserCache(maxsize=100), ValidationCache(maxsize=100)]
    )
    return Starlette(routes=[Route("/graphql", GraphQL(schema), methods=["GET", "POST"])], lifespan=lifespan)
