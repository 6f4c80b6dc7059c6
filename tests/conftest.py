from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.auth.flows import CodeLog, watching_codes
from tests.databases import fresh_database_url
from tests.server import RunningServer, run_server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    """A fresh server with its own data directory; sign-ups are auto-confirmed."""
    with run_server(tmp_path / "data", auto_confirm=True) as running:
        yield running


@pytest.fixture
def manual_confirm_server(tmp_path: Path) -> Iterator[RunningServer]:
    """A fresh server that requires confirmation codes (written to the log)."""
    with run_server(tmp_path / "data", auto_confirm=False) as running:
        yield running


@pytest.fixture
def codes() -> Iterator[CodeLog]:
    """Confirmation and reset codes as the default sender writes them to the server log."""
    with watching_codes() as handler:
        yield handler


@pytest.fixture
def database_url() -> Iterator[str]:
    """A fresh database for tests that build Settings themselves: "" (SQLite in the data dir) or a new
    PostgreSQL database when CHATSERVER_TEST_DATABASE_URL is set. Pass it as Settings(database_url=...)."""
    with fresh_database_url() as url:
        yield url
