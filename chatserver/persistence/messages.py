"""Messages table access: the `messages-by-room-id` access pattern and owner-conditioned writes."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import and_, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from chatserver.clock import iso_now
from chatserver.persistence.group_commit import MessageGroupCommitter
from chatserver.persistence.pagination import Page, PageRequest, RowFetcher, keyset_page
from chatserver.persistence.sqlite_direct import SqliteDirect
from chatserver.persistence.tables import messages

R = TypeVar("R")


class MessageRecord(NamedTuple):
    """A messages row. A named tuple: a room listing makes up to 1000 a request, each one `tuple.__new__`."""

    id: str
    room_id: str
    owner: str
    text: str | None
    image_id: str | None
    created_at: str
    updated_at: str


if tuple(c.name for c in messages.c) != MessageRecord._fields:
    raise RuntimeError("MessageRecord's fields must follow the messages table's columns")


def row_maker(cls: type[R]) -> Callable[[Sequence[Any]], R]:
    """Makes a `cls` (MessageRecord or a subclass) from a row of `select(messages)`, whose columns come in
    MessageRecord's field order (checked above): `tuple.__new__` itself, in C, where `_make` is a Python call per
    row (and checks a length the statement fixes)."""
    return functools.partial(tuple.__new__, cls)  # type: ignore[arg-type]


_record = row_maker(MessageRecord)


# The `messages-by-room-id` access pattern, built once (keyset_page reuses its ordered, limited forms).
_BY_ROOM = select(messages).where(messages.c.room_id == bindparam("room_id", type_=messages.c.room_id.type))
_BY_ROOM_ORDER = (messages.c.created_at, messages.c.id)


class RoomMissing(Exception):
    """The message's room does not exist."""


class MessagesRepository:
    """Messages; new ones go through a group committer, so `running()` must wrap the repository's use."""

    def __init__(self, engine: AsyncEngine, direct: SqliteDirect | None = None) -> None:
        self._engine = engine
        self._direct = direct  # SQLite: room listings and new messages in one thread hop each
        self._writer = MessageGroupCommitter(engine, direct)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[MessagesRepository]:
        async with self._writer.running():
            yield self

    async def create(
        self, *, message_id: str, room_id: str, owner: str, text: str | None, image_id: str | None
    ) -> MessageRecord:
        now = iso_now()
        record = MessageRecord(
            id=message_id,
            room_id=room_id,
            owner=owner,
            text=text,
            image_id=image_id,
            created_at=now,
            updated_at=now,
        )
        inserted = await self._writer.insert(
            {
                "id": record.id,
                "room_id": record.room_id,
                "owner": record.owner,
                "text": record.text,
                "image_id": record.image_id,
                "created_at": record.created_at,
                "updated_at": record.updated_at,
            }
        )
        if not inserted:
            raise RoomMissing(room_id)
        return record

    async def get(self, message_id: str) -> MessageRecord | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(messages).where(messages.c.id == message_id))).first()
        return MessageRecord(**row._mapping) if row else None

    async def update_content(
        self,
        *,
        message_id: str,
        room_id: str,
        owner: str,
        text: str | None,
        image_id: str | None,
    ) -> MessageRecord | None:
        """Change content and updatedAt on condition that `owner` owns it in that room; None when it fails."""
        async with self._engine.begin() as conn:
            condition = and_(
                messages.c.id == message_id,
                messages.c.room_id == room_id,
                messages.c.owner == owner,
            )
            result = await conn.execute(
                update(messages).where(condition).values(text=text, image_id=image_id, updated_at=iso_now())
            )
            if result.rowcount != 1:
                return None
            row = (await conn.execute(select(messages).where(messages.c.id == message_id))).one()
        return MessageRecord(**row._mapping)

    async def delete(self, *, message_id: str, owner: str | None) -> MessageRecord | None:
        """Delete on condition that `owner` owns it (None: any owner, for admins); None when it fails.

        One statement with RETURNING: of two concurrent deletes, only one gets the row back.
        """
        condition = messages.c.id == message_id
        if owner is not None:
            condition = and_(condition, messages.c.owner == owner)
        async with self._engine.begin() as conn:
            row = (await conn.execute(delete(messages).where(condition).returning(*messages.c))).first()
        return MessageRecord(**row._mapping) if row else None

    async def list_for_room(
        self, room_id: str, page: PageRequest, make: Callable[[Sequence[Any]], R] = _record
    ) -> Page[R]:
        """One page of a room's messages, each row made by `make` (a MessageRecord, or `row_maker`'s)."""
        if self._direct is not None:
            return await _room_page(self._direct.fetch_all, room_id, page, make)
        async with self._engine.connect() as conn:
            return await _room_page(conn, room_id, page, make)

    async def image_ids_in_use(self, image_ids: list[str]) -> set[str]:
        if not image_ids:
            return set()
        async with self._engine.connect() as conn:
            result = await conn.execute(
                select(messages.c.image_id).where(messages.c.image_id.in_(image_ids)).distinct()
            )
            return {row[0] for row in result}


async def _room_page(
    source: AsyncConnection | RowFetcher, room_id: str, page: PageRequest, make: Callable[[Sequence[Any]], R]
) -> Page[R]:
    return await keyset_page(
        source, _BY_ROOM, page, sort_columns=_BY_ROOM_ORDER, to_record=make, parameters={"room_id": room_id}
    )
