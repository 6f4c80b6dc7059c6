"""Files table access: pending and completed uploads, and the orphan queries the sweep runs."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import and_, delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from chatserver.persistence.tables import files, messages

PENDING = "pending"
COMPLETE = "complete"


@dataclass(frozen=True, slots=True)
class FileRecord:
    key: str
    image_id: str
    owner: str
    content_type: str
    size: int
    status: str
    created_at: str
    expires_at: int  # epoch seconds: the upload URL's expiry
    etag: str | None

    @property
    def complete(self) -> bool:
        return self.status == COMPLETE


def _unreferenced() -> ColumnElement[bool]:
    return ~exists().where(messages.c.image_id == files.c.image_id)


class FilesRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add_pending(self, record: FileRecord) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                files.insert().values(
                    key=record.key,
                    image_id=record.image_id,
                    owner=record.owner,
                    content_type=record.content_type,
                    size=record.size,
                    status=PENDING,
                    created_at=record.created_at,
                    expires_at=record.expires_at,
                    etag=None,
                )
            )

    async def by_key(self, key: str) -> FileRecord | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(files).where(files.c.key == key))).first()
        return FileRecord(**row._mapping) if row else None

    async def by_image_id(self, image_id: str) -> FileRecord | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(files).where(files.c.image_id == image_id))).first()
        return FileRecord(**row._mapping) if row else None

    async def mark_complete(self, key: str, etag: str) -> bool:
        """pending -> complete, once: False when the record is gone or already complete."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(files)
                .where(and_(files.c.key == key, files.c.status == PENDING))
                .values(status=COMPLETE, etag=etag)
            )
        return result.rowcount == 1

    async def delete_expired_pending(self, now: int, keep: Collection[str]) -> list[str]:
        """Delete pending uploads whose URL expired (except `keep`, uploads in flight); returns their keys."""
        condition = and_(files.c.status == PENDING, files.c.expires_at < now)
        if keep:
            condition = and_(condition, files.c.key.not_in(list(keep)))
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(files).where(condition).returning(files.c.key))
            return [row[0] for row in result]

    async def delete_orphans(self, uploaded_before: int, limit: int) -> list[tuple[str, str]]:
        """Delete completed files that no message references and whose upload URL expired before
        `uploaded_before` (the grace a client has between upload and createMessage); returns (key, image_id).

        The reference check and the delete are one statement, so a message that names the image meanwhile
        keeps it."""
        async with self._engine.begin() as conn:
            candidates = (
                select(files.c.key)
                .where(
                    and_(
                        files.c.status == COMPLETE,
                        files.c.expires_at < uploaded_before,
                        _unreferenced(),
                    )
                )
                .limit(limit)
                .scalar_subquery()
            )
            result = await conn.execute(
                delete(files)
                .where(and_(files.c.key.in_(candidates), _unreferenced()))
                .returning(files.c.key, files.c.image_id)
            )
            return [(row[0], row[1]) for row in result]
