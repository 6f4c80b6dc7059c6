from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

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
