"""User profile rows (the `users` table the seed's post-confirmation Lambda filled)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from chatserver.clock import iso_now
from chatserver.persistence.pagination import Page, PageRequest, keyset_page
from chatserver.persistence.tables import users


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: str
    username: str
    email: str | None
    given_name: str | None
    family_name: str | None
    created_at: str


class UsersRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create_profile(
        self,
        *,
        sub: str,
        username: str,
        email: str | None,
        given_name: str | None,
        family_name: str | None,
    ) -> None:
        """The post-confirmation hook: add the profile row; a second call for the same user is a no-op."""
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    users.insert().values(
                        id=sub,
                        username=username,
                        email=email,
                        given_name=given_name,
                        family_name=family_name,
                        created_at=iso_now(),
                    )
                )
        except IntegrityError:
            return

    async def get(self, user_id: str) -> UserRecord | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(users).where(users.c.id == user_id))).first()
        return UserRecord(**row._mapping) if row else None

    async def list(self, page: PageRequest) -> Page[UserRecord]:
        """Users ordered by username."""
        async with self._engine.connect() as conn:
            return await keyset_page(
                conn,
                select(users),
                page,
                sort_columns=(users.c.username, users.c.id),
                to_record=lambda row: UserRecord(**row._mapping),
            )
