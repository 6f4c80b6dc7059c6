from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.server import RunningServer, run_server


@pytest.fixture
def client(server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


@pytest.fixture
def manual_client(manual_confirm_server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=manual_confirm_server.url, timeout=30) as http:
        yield http


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One server for a module's tests that only read (refused requests, forged tokens)."""
    with run_server(tmp_path_factory.mktemp("shared") / "data", auto_confirm=True) as running:
        yield running


@pytest.fixture(scope="module")
def shared_client(shared_server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shared_server.url, timeout=30) as http:
        yield http
