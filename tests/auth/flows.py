"""Helpers for the auth tests: the /auth calls a client makes, and codes read from the server log."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

PASSWORD = "Corr3ct-Horse"
CODES_LOGGER = "chatserver.auth.codes"


class CodeLog(logging.Handler):
    """Collects the codes the default sender writes to the log (the server runs in another thread)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self._lock_messages = threading.Lock()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock_messages:
            self.messages.append(record.getMessage())

    def latest(self, username: str, kind: str = "confirmation code") -> str:
        pattern = re.compile(rf"^{kind} for {re.escape(username)}: (\d{{6}})$")
        with self._lock_messages:
            found = [m.group(1) for m in map(pattern.match, self.messages) if m]
        assert found, f"no {kind} for {username} in the log: {self.messages}"
        return found[-1]


@contextmanager
def watching_codes() -> Iterator[CodeLog]:
    """The codes the server writes to its log while the block runs."""
    handler = CodeLog()
    logger = logging.getLogger(CODES_LOGGER)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def post(client: httpx.Client, path: str, body: Any, **kwargs: Any) -> httpx.Response:
    return client.post(path, json=body, **kwargs)


def signup(client: httpx.Client, username: str, password: str = PASSWORD, **extra: Any) -> httpx.Response:
    body = {
        "username": username,
        "password": password,
        "email": f"{username}@example.com",
        "givenName": "Ada",
        "familyName": "Lovelace",
        **extra,
    }
    return post(client, "/auth/signup", body)


def signin(client: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    return post(client, "/auth/signin", {"username": username, "password": password})


def signed_in(client: httpx.Client, username: str, codes: CodeLog | None = None) -> dict[str, Any]:
    """Sign up (confirming with the logged code when needed) and sign in; returns the sign-in body."""
    created = signup(client, username)
    assert created.status_code == 200, created.text
    if not created.json()["userConfirmed"]:
        assert codes is not None
        confirmed = post(
            client, "/auth/confirm-signup", {"username": username, "code": codes.latest(username)}
        )
        assert confirmed.status_code == 200, confirmed.text
    response = signin(client, username)
    assert response.status_code == 200, response.text
    return response.json()


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, body["__type"], body["message"]


def db_rows(settings: Any, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Read the server's database (SQLite file or PostgreSQL) beside the running server."""
    import asyncio

    from sqlalchemy import text

    from chatserver.persistence.database import create_engine

    async def query() -> list[tuple[Any, ...]]:
        engine = create_engine(settings.resolved_database_url)
        try:
            async with engine.connect() as conn:
                return [tuple(row) for row in await conn.execute(text(sql), params)]
        finally:
            await engine.dispose()

    return asyncio.run(query())
