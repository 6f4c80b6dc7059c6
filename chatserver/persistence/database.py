"""The async engine: SQLite (WAL, foreign keys, busy timeout) by default, PostgreSQL for scale-out."""

from __future__ import annotations

import asyncio
import logging
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from chatserver.secrets import create_private_file

log = logging.getLogger("chatserver.database")

SQLITE_BUSY_TIMEOUT_MS = 10_000
MIGRATION_LOCK_KEY = 0x63686174  # "chat": a PostgreSQL advisory lock held while migrating


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(url: str) -> AsyncEngine:
    """Create the engine; on SQLite every new connection gets WAL, synchronous=NORMAL and foreign keys.

    WAL with synchronous=NORMAL keeps every committed transaction across a process crash (kill -9);
    only an OS crash or power loss can lose the last commits.
    """
    if is_sqlite(url):
        path = sqlite_path(url)
        if path is not None:
            # An offline password guess needs only the hashes and SRP verifiers: owner-only from the start.
            create_private_file(Path(path))
        engine = create_async_engine(url, pool_size=8, max_overflow=8, pool_timeout=30)
        event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
        return engine
    engine = create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)
    event.listen(engine.sync_engine, "before_cursor_execute", _replace_nul, retval=True)
    return engine


def _replace_nul(
    _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, executemany: bool
) -> tuple[str, Any]:
    """PostgreSQL text cannot hold NUL (SQLite can): store and look up U+FFFD instead of failing the request."""
    if executemany:
        return statement, [_without_nul(p) for p in parameters]
    return statement, _without_nul(parameters)


def _without_nul(parameters: Any) -> Any:
    if isinstance(parameters, tuple | list):
        if not any(isinstance(v, str) and "\x00" in v for v in parameters):
            return parameters
        return type(parameters)(v.replace("\x00", "\ufffd") if isinstance(v, str) else v for v in parameters)
    if isinstance(parameters, dict):
        return {k: v.replace("\x00", "\ufffd") if isinstance(v, str) else v for k, v in parameters.items()}
    return parameters


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # aiosqlite's adapter opens an implicit transaction; pragmas must run outside one.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def sqlite_path(url: str) -> str | None:
    """The database file of a SQLite URL (None for another engine, or an in-memory database)."""
    if not is_sqlite(url):
        return None
    path = url.split(":///", 1)[1]
    return path if path and path != ":memory:" else None


def alembic_config(url: str) -> Config:
    """Alembic configuration pointing at the packaged migrations (the repository's migrations/)."""
    script_location = str(resources.files("chatserver.migrations"))
    cfg = Config()
    cfg.set_main_option("script_location", script_location)
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


async def migrate(engine: AsyncEngine) -> str | None:
    """Bring the database to the newest migration; returns the revision it is at."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))

    def upgrade(connection: Connection) -> None:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")

    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Replicas starting together migrate one at a time; the lock ends with the transaction.
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        await connection.run_sync(upgrade)
    return await current_revision(engine)


async def current_revision(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    async with engine.connect() as connection:
        return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())


def migrate_blocking(url: str) -> str | None:
    """`chatserver migrate`: run migrations from synchronous code."""

    async def run() -> str | None:
        engine = create_engine(url)
        try:
            return await migrate(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())


async def ping(engine: AsyncEngine) -> None:
    """Raise unless the database answers a trivial query (callers bound the wait)."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
