"""Shapes shared by several domains: sort direction and the resolver's view of the request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum
from typing import TYPE_CHECKING, TypeVar

import strawberry
from strawberry.types import Info

from chatserver.errors import FieldUnauthorized
from chatserver.persistence.pagination import Page, PageRequest

R = TypeVar("R")
API_KEY_MODE = "API_KEY"

if TYPE_CHECKING:
    from chatserver.auth.identity import Identity
    from chatserver.services import Services


@strawberry.enum
class ModelSortDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


def services(info: Info) -> Services:
    return info.context.services


def identity(info: Info) -> Identity:
    """The signed-in caller. An API-key caller has none (AppSync's `$ctx.identity` is null): a resolver that needs
    one, to record who did something or whose data it is, answers `Unauthorized`."""
    caller = info.context.identity
    if caller.mode == API_KEY_MODE:
        raise FieldUnauthorized.for_field(info.field_name, info._raw_info.parent_type.name)
    return caller


def optional(value: object) -> object:
    """Strawberry's UNSET (argument omitted) and None both mean 'not given' for plain arguments."""
    return None if value is strawberry.UNSET else value


async def read_page(
    info: Info,
    binding: str,
    limit: int | None,
    next_token: str | None,
    fetch: Callable[[PageRequest], Awaitable[Page[R]]],
    *,
    descending: bool = False,
) -> tuple[list[R], str | None]:
    """One page of a list for a connection field: checks `limit` and `nextToken` (bound to `binding`),
    charges the request's read budget before querying, and mints the next token."""
    tokens = services(info).page_tokens
    request = tokens.request(binding, optional(limit), optional(next_token), descending=descending)
    info.context.budget.charge(request.limit)
    page = await fetch(request)
    return page.items, tokens.token(page)
