"""The hottest SQLite statements in one thread hop each, beside SQLAlchemy's engine (which serves all the rest).

Through SQLAlchemy and aiosqlite, one statement costs about five round trips between the event loop and
aiosqlite's thread (cursor, execute, fetch, cursor close, the pool's rollback on check-in): about 650 µs of CPU
for even `SELECT 1`, more than the rest of a room listing. Here a batch of inserts is one transaction run on the
writer thread, and reads are batched too: the reads asked for in one turn of the event loop go to a reader
thread as one job, whose results come back in one wake-up of the loop. Even one hop (executor futures, thread
wake, the loop's self-pipe, GIL handoffs) costs about 70 µs of CPU, as much as a room listing's query; under
load a job carries about ten reads. Each statement is still its own implicit read transaction, and fails alone.
Statements are SQLAlchemy Core objects compiled once for SQLite; the connections get the engine's settings
(busy timeout, `synchronous=NORMAL`, foreign keys).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.dialects import sqlite
from sqlalchemy.sql import ClauseElement

T = TypeVar("T")

READER_THREADS = 4
# Read jobs in flight at once, each on its own reader: a slow statement holds up only the reads in its job.
MAX_BATCHES = READER_THREADS
MAX_BATCH = 64  # statements per job: a longer queue is shared among the readers
BUSY_TIMEOUT_S = 10.0  # as the engine's busy_timeout (persistence/database.py)
_DIALECT = sqlite.dialect(paramstyle="qmark")

# A read waiting for a reader thread: SQL, its parameters, and the future its caller awaits.
_Read = tuple[str, tuple[Any, ...], "asyncio.Future[list[tuple[Any, ...]]]"]


@dataclass(frozen=True, slots=True)
class CompiledStatement:
    """SQL text with `?` placeholders and the bind names they take, in order (with defaults for fixed binds)."""

    sql: str
    names: tuple[str, ...]
    defaults: Mapping[str, Any]

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        defaults = self.defaults
        return tuple(values[name] if name in values else defaults[name] for name in self.names)


_COMPILED: dict[int, tuple[ClauseElement, CompiledStatement]] = {}  # module-level statements: bounded


def compiled(statement: ClauseElement) -> CompiledStatement:
    """`statement` compiled for SQLite once (keyed by the statement object, which callers build once)."""
    entry = _COMPILED.get(id(statement))
    if entry is not None and entry[0] is statement:
        return entry[1]
    result = statement.compile(dialect=_DIALECT)
    defaults = {name: bind.effective_value for name, bind in result.binds.items() if not bind.required}
    compiled_statement = CompiledStatement(str(result), tuple(result.positiontup or ()), defaults)
    _COMPILED[id(statement)] = (statement, compiled_statement)  # the statement is kept: its id stays its own
    return compiled_statement


class SqliteDirect:
    """Reader threads and one writer thread, each with its own connection to the database file.

    Reads are batched for the event loop the instance is used on (one at a time)."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._readers = ThreadPoolExecutor(READER_THREADS, thread_name_prefix="sqlite-read")
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-write")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: list[_Read] = []
        self._flush_scheduled = False
        self._in_flight = 0
        self._closed = False

    async def fetch_all(self, statement: ClauseElement, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The rows of a SELECT, as plain tuples in the statement's column order."""
        target = compiled(statement)
        parameters = target.parameters(values)
        loop = asyncio.get_running_loop()
        if loop is not self._loop or self._closed:
            self._bind(loop)
        future: asyncio.Future[list[tuple[Any, ...]]] = loop.create_future()
        self._pending.append((target.sql, parameters, future))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            loop.call_soon(self._flush)
        return await future

    async def write(self, work: Callable[[WriteTransaction], T]) -> T:
        """Run `work` in one transaction on the writer thread: committed when it returns, rolled back if it raises."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, self._transact, work)

    def close(self) -> None:
        """Run the reads already asked for, wait for running statements, then close every connection."""
        self._closed = True
        while self._pending:  # the loop is blocked from here on: no job finishes to make room, so all go now
            self._submit(self._take())
        self._readers.shutdown(wait=True)
        self._writer.shutdown(wait=True)
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()

    # --- read batches, on the event loop ---

    def _bind(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._closed:
            raise RuntimeError("the SQLite reader is closed")
        if self._loop is not None and not self._loop.is_closed() and (self._pending or self._in_flight):
            raise RuntimeError("SqliteDirect is in use on another event loop")
        self._loop, self._pending, self._flush_scheduled, self._in_flight = loop, [], False, 0

    def _flush(self) -> None:
        """Share the waiting reads among the idle readers: a slow statement holds up only the reads in its job."""
        self._flush_scheduled = False
        while self._pending and self._in_flight < MAX_BATCHES:
            idle = MAX_BATCHES - self._in_flight
            self._submit(self._take(min(MAX_BATCH, -(-len(self._pending) // idle))))

    def _take(self, size: int = MAX_BATCH) -> list[_Read]:
        """The oldest waiting reads, at most `size`, without those whose callers have gone."""
        pending = self._pending
        if len(pending) <= size:
            self._pending = []
        else:
            self._pending = pending[size:]
            pending = pending[:size]
        return [read for read in pending if not read[2].done()]

    def _submit(self, batch: list[_Read]) -> None:
        if batch:
            self._in_flight += 1
            self._readers.submit(self._fetch_batch, self._loop, batch)

    def _deliver(self, batch: list[_Read], results: list[list[tuple[Any, ...]] | BaseException]) -> None:
        self._in_flight -= 1
        for (_, _, future), result in zip(batch, results, strict=True):
            if future.done():  # its caller was cancelled
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
        if self._pending:
            self._flush()

    # --- on the worker threads ---

    def _fetch_batch(self, loop: asyncio.AbstractEventLoop, batch: list[_Read]) -> None:
        """Each statement on its own (its own implicit read transaction), then every result to the loop at once."""
        results: list[list[tuple[Any, ...]] | BaseException] = []
        try:
            connection = self._connection(reader=True)
        except BaseException as error:  # each caller its own exception: raising one adds to its traceback
            results = [_own_copy(error) for _ in batch]
        else:
            for sql, parameters, _ in batch:
                try:
                    results.append(connection.execute(sql, parameters).fetchall())
                except BaseException as error:  # its own caller's, as run_in_executor would
                    results.append(error)
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting any more
            loop.call_soon_threadsafe(self._deliver, batch, results)

    def _connection(self, *, reader: bool) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(
                self._path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA foreign_keys=ON")
            if reader:
                connection.execute("PRAGMA query_only=ON")
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    def _transact(self, work: Callable[[WriteTransaction], T]) -> T:
        connection = self._connection(reader=False)
        connection.execute("BEGIN IMMEDIATE")
        try:
            result = work(WriteTransaction(connection))
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        return result


def _own_copy(error: BaseException) -> BaseException:
    """An exception like `error` (caused by it) for one caller of a batch."""
    try:
        copy = type(error)(*error.args)
    except Exception:
        copy = RuntimeError(str(error))
    copy.__cause__ = error
    return copy


class WriteTransaction:
    """What a `SqliteDirect.write` function may do inside its transaction (on the writer thread)."""

    __slots__ = ("_connection",)

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def execute(self, statement: ClauseElement, values: Mapping[str, Any]) -> int:
        """Run `statement` with these values; the number of rows it changed."""
        target = compiled(statement)
        return self._connection.execute(target.sql, target.parameters(values)).rowcount
