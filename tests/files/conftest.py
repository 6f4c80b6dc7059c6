from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.server import RunningServer


@pytest.fixture
def client(server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http
