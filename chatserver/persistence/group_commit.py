"""Group commit for new messages: one writer task puts every insert waiting at that moment into one transaction.

Under concurrent load this turns N transactions (each a commit plus several thread hops through aiosqlite) into one,
and writers queue in asyncio instead of sleeping in SQLite's busy handler. The room check is part of the
statement (`INSERT ... SELECT ... WHERE EXISTS room`), so a message for a missing room is simply not inserted and
cannot abort the others in its batch. Callers are answered only after the commit, in submission order, which is
also commit order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import String, cast, exists, insert, literal_column, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.expression import bindparam

from chatserver.persistence.sqlite_direct import SqliteDirect, WriteTransaction
from chatserver.persistence.tables import messages, rooms

log = logging.getLogger("chatserver.persistence")

MAX_BATCH = 256
QUEUE_BOUND = 4096

_COLUMNS = ("id", "room_id", "owner", "text", "image_id", "created_at", "updated_at")

# INSERT INTO messages (...) SELECT :id, :room_id, ... WHERE EXISTS (SELECT 1 FROM rooms WHERE rooms.id = :room_id)
_INSERT_IF_ROOM_EXISTS = insert(messages).from_select(
    list(_COLUMNS),
    select(*[cast(bindparam(name, type_=String), String) for name in _COLUMNS]).where(
        exists(select(literal_column("1")).where(rooms.c.id == bindparam("room_id")))
    ),
)


class MessageGroupCommitter:
    """`await insert(row)` returns True once committed, False when the room does not exist."""

    def __init__(self, engine: AsyncEngine, direct: SqliteDirect | None = None) -> None:
        self._engine = engine
        self._direct = direct  # SQLite: the batch is one function on the writer thread
        self._queue: asyncio.Queue[tuple[dict[str, Any], asyncio.Future[bool]]] = asyncio.Queue(QUEUE_BOUND)
        self._task: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[MessageGroupCommitter]:
        self._task = asyncio.create_task(self._write_forever(), name="message-group-commit")
        try:
            yield self
        finally:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._fail_waiting(RuntimeError("the server is shutting down"))

    async def insert(self, row: dict[str, Any]) -> bool:
        if self._task is None or self._task.done():
            raise RuntimeError("the message writer is not running")
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        await self._queue.put((row, future))
        return await future

    async def _write_forever(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            live = [(row, future) for row, future in batch if not future.cancelled()]
            if not live:
                continue
            try:
                inserted = await self._commit([row for row, _ in live])
            except asyncio.CancelledError:
                for _, future in live:
                    if not future.done():
                        future.set_exception(RuntimeError("the server is shutting down"))
                raise
            except Exception as error:  # the whole batch failed: every caller hears it
                log.exception("message batch of %d failed", len(live))
                for _, future in live:
                    if not future.done():
                        future.set_exception(error)
                continue
            for row, future in live:
                if not future.done():
                    future.set_result(row["id"] in inserted)

    async def _commit(self, rows: list[dict[str, Any]]) -> set[str]:
        if self._direct is not None:
            return await self._direct.write(lambda transaction: _insert_each(transaction, rows))
        async with self._engine.begin() as conn:
            result = await conn.execute(_INSERT_IF_ROOM_EXISTS, rows)
            if result.rowcount == len(rows):
                return {row["id"] for row in rows}
            ids = [row["id"] for row in rows]
            found = await conn.execute(select(messages.c.id).where(messages.c.id.in_(ids)))
            return {row[0] for row in found}

    def _fail_waiting(self, error: Exception) -> None:
        while not self._queue.empty():
            _, future = self._queue.get_nowait()
            if not future.done():
                future.set_exception(error)


def _insert_each(transaction: WriteTransaction, rows: list[dict[str, Any]]) -> set[str]:
    """The ids of the rows inserted (one statement each: a missing room's message changes no row)."""
    return {row["id"] for row in rows if transaction.execute(_INSERT_IF_ROOM_EXISTS, row) == 1}
