"""Rooms table access."""

from __future__ import annotations

from dataclasses import dataclass, fields

from sqlalchemy import bindparam, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from chatserver.clock import iso_now
from chatserver.persistence.pagination import Page, PageRequest, keyset_page
from chatserver.persistence.sqlite_direct import SqliteDirect
from chatserver.persistence.tables import rooms


@dataclass(frozen=True, slots=True)
class RoomRecord:
    id: str
    name: str
    owner: str | None
    created_at: str
    updated_at: str


if tuple(c.name for c in rooms.c) != tuple(f.name for f in fields(RoomRecord)):
    raise RuntimeError("RoomRecord's fields must follow the rooms table's columns")

# One room by id, built once: every createAudioSegment (4 a second per talker) and createRoom's reply read it.
_BY_ID = select(rooms).where(rooms.c.id == bindparam("room_id", type_=rooms.c.id.type))


class RoomExists(Exception):
    pass


class RoomsRepository:
    def __init__(self, engine: AsyncEngine, direct: SqliteDirect | None = None) -> None:
        self._engine = engine
        self._direct = direct  # SQLite: `get` in one thread hop

    async def create(self, *, room_id: str, name: str, owner: str | None) -> RoomRecord:
        now = iso_now()
        record = RoomRecord(id=room_id, name=name, owner=owner, created_at=now, updated_at=now)
        try:
            async with self._engine.begin() as conn:
                await conn.execute(rooms.insert().values(**_columns(record)))
        except IntegrityError:
            raise RoomExists(room_id) from None
        return record

    async def get(self, room_id: str) -> RoomRecord | None:
        if self._direct is not None:
            found = await self._direct.fetch_all(_BY_ID, {"room_id": room_id})
            return RoomRecord(*found[0]) if found else None
        async with self._engine.connect() as conn:
            row = (await conn.execute(_BY_ID, {"room_id": room_id})).first()
        return RoomRecord(*row) if row else None

    async def delete(self, room_id: str) -> RoomRecord | None:
        """Delete the room and (by cascade) its messages; returns what was deleted, once."""
        async with self._engine.begin() as conn:
            row = (await conn.execute(delete(rooms).where(rooms.c.id == room_id).returning(*rooms.c))).first()
        return RoomRecord(**row._mapping) if row else None

    async def list(self, page: PageRequest) -> Page[RoomRecord]:
        """Rooms in creation order (ties by id)."""
        async with self._engine.connect() as conn:
            return await keyset_page(
                conn,
                select(rooms),
                page,
                sort_columns=(rooms.c.created_at, rooms.c.id),
                to_record=lambda row: RoomRecord(**row._mapping),
            )

    async def all(self, cap: int) -> list[RoomRecord]:
        """Every room, oldest first, at most `cap` (the walkie-talkie's `rooms` query)."""
        async with self._engine.connect() as conn:
            result = await conn.execute(select(rooms).order_by(rooms.c.created_at, rooms.c.id).limit(cap))
            return [RoomRecord(**row._mapping) for row in result]


def _columns(record: RoomRecord) -> dict[str, str | None]:
    return {
        "id": record.id,
        "name": record.name,
        "owner": record.owner,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }
