"""API keys table access: records carry the key's HMAC, never the key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from chatserver.persistence.tables import api_keys


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    id: str
    key_hash: str
    description: str | None
    created_at: int
    expires_at: int
    last_used_at: int | None


class ApiKeysRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(self, record: ApiKeyRecord) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                api_keys.insert().values(
                    id=record.id,
                    key_hash=record.key_hash,
                    description=record.description,
                    created_at=record.created_at,
                    expires_at=record.expires_at,
                    last_used_at=record.last_used_at,
                )
            )

    async def all(self) -> list[ApiKeyRecord]:
        """Every key, oldest first (expired ones too: `api-key list` shows them until deleted)."""
        async with self._engine.connect() as conn:
            result = await conn.execute(select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id))
            return [ApiKeyRecord(**row._mapping) for row in result]

    async def delete(self, key_id: str) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(api_keys).where(api_keys.c.id == key_id))
        return result.rowcount > 0

    async def note_used(self, used: Mapping[str, int]) -> None:
        """Record when keys were last used (a later time never replaced by an earlier one)."""
        if not used:
            return
        async with self._engine.begin() as conn:
            for key_id, at in used.items():
                await conn.execute(
                    update(api_keys)
                    .where(api_keys.c.id == key_id)
                    .where((api_keys.c.last_used_at.is_(None)) | (api_keys.c.last_used_at < at))
                    .values(last_used_at=at)
                )
