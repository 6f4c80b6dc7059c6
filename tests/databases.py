"""The database switch of the test suite: SQLite files by default, a fresh PostgreSQL database per test on demand.

Set CHATSERVER_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test (any database the user may connect
to; it is only used to CREATE and DROP the per-test databases) to run every test that builds a server on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

TEST_DATABASE_ENV = "CHATSERVER_TEST_DATABASE_URL"


def admin_url() -> str:
    """The PostgreSQL URL tests create their databases through, or "" to stay on SQLite."""
    return os.environ.get(TEST_DATABASE_ENV, "").strip()


def on_postgresql() -> bool:
    return bool(admin_url())


@contextmanager
def fresh_database_url() -> Iterator[str]:
    """A CHATSERVER_DATABASE_URL for one test: "" (SQLite in the data dir) or a new, empty PostgreSQL database."""
    admin = admin_url()
    if not admin:
        yield ""
        return
    run_id = "".join(c for c in os.environ.get("CHATSERVER_TEST_RUN_ID", "") if c.isalnum() or c == "_")[:24]
    name = f"chatserver_test_{run_id or os.getpid()}_{uuid.uuid4().hex[:12]}"
    _run(_execute(admin, f'CREATE DATABASE "{name}"'))
    try:
        yield with_database(admin, name)
    finally:
        _run(_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


async def _execute(url: str, statement: str) -> None:
    import asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _run(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run on a private loop in a thread: callers may be sync code inside a running event loop."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coroutine)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, name="test-database-admin")
    thread.start()
    thread.join(timeout=30)
    if errors:
        raise errors[0]


def db_rows(settings: Any, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Read a running server's database (SQLite file or PostgreSQL) from a test, whatever loop is running."""
    from sqlalchemy import text

    from chatserver.persistence.database import create_engine

    rows: list[tuple[Any, ...]] = []

    async def query() -> None:
        engine = create_engine(settings.resolved_database_url)
        try:
            async with engine.connect() as conn:
                rows.extend(tuple(row) for row in await conn.execute(text(sql), params))
        finally:
            await engine.dispose()

    _run(query())
    return rows
