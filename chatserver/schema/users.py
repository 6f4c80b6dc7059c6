"""User profiles: `me`, `getUser`, `listUsers`. Email is visible to its owner and to admins only."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from chatserver.persistence.users import UserRecord
from chatserver.schema.common import identity, read_page, services
from chatserver.schema.scalars import AWSDateTime, AWSEmail


@strawberry.type
class User:
    id: strawberry.ID
    username: str
    given_name: str | None
    family_name: str | None
    created_at: AWSDateTime
    _email: strawberry.Private[str | None]

    @strawberry.field
    def email(self, info: Info) -> AWSEmail | None:
        caller = identity(info)
        if caller.sub == self.id or caller.is_admin:
            return AWSEmail(self._email) if self._email else None
        return None

    @classmethod
    def from_record(cls, record: UserRecord) -> User:
        return cls(
            id=strawberry.ID(record.id),
            username=record.username,
            given_name=record.given_name,
            family_name=record.family_name,
            created_at=AWSDateTime(record.created_at),
            _email=record.email,
        )


@strawberry.type
class UserConnection:
    items: list[User] | None
    next_token: str | None


@strawberry.type
class UserQueries:
    @strawberry.field
    async def me(self, info: Info) -> User | None:
        record = await services(info).users.get(identity(info).sub)
        return User.from_record(record) if record else None

    @strawberry.field
    async def get_user(self, info: Info, id: strawberry.ID) -> User | None:
        record = await services(info).users.get(id)
        return User.from_record(record) if record else None

    @strawberry.field
    async def list_users(
        self,
        info: Info,
        limit: int | None = strawberry.UNSET,
        next_token: str | None = strawberry.UNSET,
    ) -> UserConnection | None:
        records, token = await read_page(info, "users", limit, next_token, services(info).users.list)
        return UserConnection(items=[User.from_record(r) for r in records], next_token=token)
