"""The bench's reference lines: a bare Strawberry + Starlette + uvicorn app with one mutation doing one SQLite insert
and one query selecting a page of messages (the same 50 rows of 500 that chatserver's listMessagesForRoom reads).

Strawberry's ParserCache and ValidationCache extensions are on, SQLite is in WAL mode with synchronous=NORMAL (as the
chatserver runs it). No auth, no limits, no pagination tokens, no publishing: what a minimal GraphQL write and a
minimal GraphQL read of 50 objects cost on this machine.

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


READ_ROOM = "bench-read"
READ_ROWS = 500


@strawberry.type
class MessageContent:
    text: str | None
    image_id: str | None


@strawberry.type
class ListedMessage:
    id: strawberry.ID
    content: MessageContent
    owner: str
    created_at: str
    updated_at: str
    room_id: strawberry.ID


@strawberry.type
class MessageConnection:
    items: list[ListedMessage]
    next_token: str | None


@strawberry.type
class Query:
    @strawberry.field
    def ping(self) -> str:
        return "pong"

    @strawberry.field
    async def list_messages_for_room(
        self, info: Info, room_id: strawberry.ID, limit: int = 50
    ) -> MessageConnection:
        db: aiosqlite.Connection = info.context["request"].app.state.db
        cursor = await db.execute(
            "SELECT id, room_id, owner, text, image_id, created_at, updated_at FROM read_messages"
            " WHERE room_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
            (room_id, limit),
        )
        rows = await cursor.fetchall()
        items = [
            ListedMessage(
                id=strawberry.ID(row[0]),
                room_id=strawberry.ID(row[1]),
                owner=row[2],
                content=MessageContent(text=row[3], image_id=row[4]),
                created_at=row[5],
                updated_at=row[6],
            )
            for row in rows
        ]
        return MessageConnection(items=items, next_token=None)


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


async def _seed_reads(db: aiosqlite.Connection) -> None:
    """The read line's room: READ_ROWS messages, indexed as chatserver's messages-by-room-id."""
    await db.execute(
        "CREATE TABLE IF NOT EXISTS read_messages (id TEXT PRIMARY KEY, room_id TEXT NOT NULL, owner TEXT NOT NULL,"
        " text TEXT, image_id TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)"
    )
    await db.execute("CREATE INDEX IF NOT EXISTS read_by_room ON read_messages (room_id, created_at, id)")
    cursor = await db.execute("SELECT count(*) FROM read_messages")
    (count,) = await cursor.fetchone()  # type: ignore[misc]
    if count:
        return
    rows = []
    for n in range(READ_ROWS):
        stamp = f"2026-01-01T00:{n // 60:02d}:{n % 60:02d}.000Z"
        rows.append((str(uuid.uuid4()), READ_ROOM, "bench", f"seed {n}", None, stamp, stamp))
    await db.executemany("INSERT INTO read_messages VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


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
            await _seed_reads(db)
            await db.commit()
            app.state.db = db
            yield

    schema = strawberry.Schema(
        query=Query, mutation=Mutation, extensions=[ParserCache(maxsize=100), ValidationCache(maxsize=100)]
    )
    return Starlette(routes=[Route("/graphql", GraphQL(schema), methods=["GET", "POST"])], lifespan=lifespan)
