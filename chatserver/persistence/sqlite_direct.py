"""The hottest SQLite statements in one thread hop each, beside SQLAlchemy's engine (which serves all the rest).

Through SQLAlchemy and aiosqlite, one statement costs about five round trips between the event loop and
aiosqlite's thread (cursor, execute, fetch, cursor close, the pool's rollback on check-in): about 650 µs of CPU
for even `SELECT 1`, more than the rest of a room listing. Here a read is one function run on a reader thread
and a batch of inserts one transaction run on the writer thread. Statements are SQLAlchemy Core objects compiled
once for SQLite; the connections get the engine's settings (busy timeout, `synchronous=NORMAL`, foreign keys).
"""

from __future__ import annotations

import asyncio
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
BUSY_TIMEOUT_S = 10.0  # as the engine's busy_timeout (persistence/database.py)
_DIALECT = sqlite.dialect(paramstyle="qmark")


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
    """Reader threads and one writer thread, each with its own connection to the database file."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._readers = ThreadPoolExecutor(READER_THREADS, thread_name_prefix="sqlite-read")
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-write")

    async def fetch_all(self, statement: ClauseElement, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The rows of a SELECT, as plain tuples in the statement's column order."""
        target = compiled(statement)
        parameters = target.parameters(values)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._fetch, target.sql, parameters)

    async def write(self, work: Callable[[WriteTransaction], T]) -> T:
        """Run `work` in one transaction on the writer thread: committed when it returns, rolled back if it raises."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, self._transact, work)

    def close(self) -> None:
        """Wait for running statements, then close every connection."""
        self._readers.shutdown(wait=True)
        self._writer.shutdown(wait=True)
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()

    # --- on the worker threads ---

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

    def _fetch(self, sql: str, parameters: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return self._connection(reader=True).execute(sql, parameters).fetchall()

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


class WriteTransaction:
    """What a `SqliteDirect.write` function may do inside its transaction (on the writer thread)."""

    __slots__ = ("_connection",)

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def execute(self, statement: ClauseElement, values: Mapping[str, Any]) -> int:
        """Run `statement` with these values; the number of rows it changed."""
        target = compiled(statement)
        return self._connection.execute(target.sql, target.parameters(values)).rowcount
