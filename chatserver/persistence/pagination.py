"""Keyset pagination with opaque `nextToken`s that are bound to their query and tamper-evident.

A token is `base64url(json([binding, last_sort_key])) + "." + base64url(hmac)`: a token minted for one query
(room A, DESC) is refused for another (room B, or ASC), and any edit breaks the HMAC.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Integer, Select, bindparam, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from chatserver.errors import InvalidNextToken, ValidationFailed

T = TypeVar("T")

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_TOKEN_CHARS = 2048


@dataclass(frozen=True, slots=True)
class PageRequest:
    """One page of one query. `binding` names the query (e.g. `messages|room-1|DESC`)."""

    binding: str
    limit: int
    after: tuple[Any, ...] | None
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_key: tuple[Any, ...] | None
    binding: str


class PageTokens:
    """Mints and checks `nextToken`s with a server secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def request(
        self, binding: str, limit: int | None, token: str | None, *, descending: bool = False
    ) -> PageRequest:
        """Validate `limit` and `nextToken` for the query named by `binding`."""
        if limit is None:
            limit = DEFAULT_LIMIT
        if limit < 1 or limit > MAX_LIMIT:
            raise ValidationFailed(f"limit must be between 1 and {MAX_LIMIT}, not {limit}.")
        after = self._decode(binding, token) if token is not None else None
        return PageRequest(binding=binding, limit=limit, after=after, descending=descending)

    def token(self, page: Page[Any]) -> str | None:
        if page.next_key is None:
            return None
        body = _b64(json.dumps([page.binding, list(page.next_key)], separators=(",", ":")).encode())
        return body + "." + _b64(self._sign(body))

    def _sign(self, body: str) -> bytes:
        return hmac.new(self._secret, body.encode(), hashlib.sha256).digest()[:16]

    def _decode(self, binding: str, token: str) -> tuple[Any, ...]:
        invalid = InvalidNextToken("Invalid pagination token given.")
        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
            raise invalid
        body, signature = token.split(".")
        try:
            given = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
            decoded = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except (ValueError, UnicodeDecodeError):
            raise invalid from None
        if not hmac.compare_digest(given, self._sign(body)):
            raise invalid
        if not (isinstance(decoded, list) and len(decoded) == 2 and isinstance(decoded[1], list)):
            raise invalid
        if decoded[0] != binding:
            raise InvalidNextToken("The nextToken was issued for a different query.")
        return tuple(decoded[1])


# Runs a statement with bind values and returns its rows (SQLAlchemy `Row`s or plain tuples, same column order).
RowFetcher = Callable[[Select[Any], dict[str, Any]], Awaitable[Sequence[Sequence[Any]]]]


async def keyset_page(
    conn: AsyncConnection | RowFetcher,
    query: Select[Any],
    page: PageRequest,
    *,
    sort_columns: Sequence[ColumnElement[Any]],
    to_record: Callable[[Any], T],
    parameters: dict[str, Any] | None = None,
) -> Page[T]:
    """Run `query` ordered by `sort_columns` from after the page's key; one extra row says whether more follow.

    `conn` is a connection, or a `RowFetcher` (persistence/sqlite_direct.py's one-hop reads). With `parameters`,
    `query` is a statement built once (its values as `bindparam`s named in `parameters`): the ordered, limited
    statement is then built once too and reused, which saves SQLAlchemy rebuilding and re-keying it on every read
    of a hot list (and lets the direct reader compile it once)."""
    if page.after is not None and len(page.after) != len(sort_columns):
        raise InvalidNextToken("Invalid pagination token given.")
    fetch = _fetcher(conn) if isinstance(conn, AsyncConnection) else conn
    if parameters is not None:
        statement = _reusable_statement(query, tuple(sort_columns), page.descending, page.after is not None)
        values = {**parameters, LIMIT_PARAMETER: page.limit + 1}
        for index, value in enumerate(page.after or ()):
            values[f"{AFTER_PARAMETER}{index}"] = value
        rows = await fetch(statement, values)
    else:
        rows = await fetch(_statement(query, sort_columns, page), {})
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    next_key = tuple(rows[-1][i] for i in _positions(query, tuple(sort_columns))) if more and rows else None
    return Page(items=list(map(to_record, rows)), next_key=next_key, binding=page.binding)


def _fetcher(conn: AsyncConnection) -> RowFetcher:
    async def fetch(statement: Select[Any], values: dict[str, Any]) -> Sequence[Sequence[Any]]:
        return (await conn.execute(statement, values)).all()

    return fetch


@functools.lru_cache(maxsize=64)  # hot lists pass the same module-level statements on every read
def _positions(query: Select[Any], sort_columns: tuple[ColumnElement[Any], ...]) -> list[int]:
    """Where each sort column is among the query's selected columns."""
    selected = list(query.selected_columns)
    return [next(i for i, column in enumerate(selected) if column is sort) for sort in sort_columns]


LIMIT_PARAMETER = "page_limit"
AFTER_PARAMETER = "page_after_"
_REUSABLE: dict[tuple[Any, ...], Select[Any]] = {}  # keyed by the callers' module-level statements: bounded


def _statement(
    query: Select[Any], sort_columns: Sequence[ColumnElement[Any]], page: PageRequest
) -> Select[Any]:
    key = tuple_(*sort_columns)
    if page.after is not None:
        bound = tuple_(*page.after)
        query = query.where(key < bound if page.descending else key > bound)
    order = [c.desc() if page.descending else c.asc() for c in sort_columns]
    return query.order_by(*order).limit(page.limit + 1)


def _reusable_statement(
    query: Select[Any], sort_columns: tuple[ColumnElement[Any], ...], descending: bool, after: bool
) -> Select[Any]:
    cache_key = (query, sort_columns, descending, after)
    statement = _REUSABLE.get(cache_key)
    if statement is None:
        statement = query
        if after:
            key = tuple_(*sort_columns)
            bound = tuple_(
                *(bindparam(f"{AFTER_PARAMETER}{i}", type_=c.type) for i, c in enumerate(sort_columns))
            )
            statement = statement.where(key < bound if descending else key > bound)
        order = [c.desc() if descending else c.asc() for c in sort_columns]
        statement = statement.order_by(*order).limit(bindparam(LIMIT_PARAMETER, type_=Integer))
        _REUSABLE[cache_key] = statement
    return statement


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
