from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cognito.clients import cognito_client
from tests.server import RunningServer, run_server


@pytest.fixture(scope="module")
def pool_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One server (codes required, as a real pool) for a module's tests; each test uses its own users."""
    with run_server(Path(tmp_path_factory.mktemp("pool")) / "data") as running:
        yield running


@pytest.fixture(scope="module")
def cognito(pool_server: RunningServer) -> Any:
    return cognito_client(pool_server)
