from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest

from tests.auth.flows import CODES_LOGGER, CodeLog
from tests.server import RunningServer


@pytest.fixture
def codes() -> Iterator[CodeLog]:
    handler = CodeLog()
    logger = logging.getLogger(CODES_LOGGER)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


@pytest.fixture
def client(server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


@pytest.fixture
def manual_client(manual_confirm_server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=manual_confirm_server.url, timeout=30) as http:
        yield http
