"""Shapes shared by several domains: sort direction and the resolver's view of the request."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

import strawberry
from strawberry.types import Info

if TYPE_CHECKING:
    from chatserver.app import Services
    from chatserver.auth.identity import Identity


@strawberry.enum
class ModelSortDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


def services(info: Info) -> Services:
    return info.context.services


def identity(info: Info) -> Identity:
    return info.context.identity


def optional(value: object) -> object:
    """Strawberry's UNSET (argument omitted) and None both mean 'not given' for plain arguments."""
    return None if value is strawberry.UNSET else value
