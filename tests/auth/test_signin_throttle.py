from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chatserver.auth.throttle import FailureWindow
from tests.auth.flows import error_of, signin, signup
from tests.server import run_server

WRONG = "Wr0ng-Password"


@pytest.fixture
def strict_client(tmp_path: Path) -> Iterator[httpx.Client]:
    """Three failures within a minute lock a username (an address may fail twelve times)."""
    with (
        run_server(
            tmp_path / "data", auto_confirm=True, signin_max_failures=3, signin_lockout_seconds=60
        ) as running,
        httpx.Client(base_url=running.url, timeout=30) as client,
    ):
        yield client


def test_repeated_failures_lock_the_username(strict_client: httpx.Client) -> None:
    signup(strict_client, "alice")
    for _ in range(3):
        assert error_of(signin(strict_client, "alice", WRONG))[1] == "NotAuthorizedException"

    locked = signin(strict_client, "alice")  # even the right password
    assert error_of(locked)[:2] == (400, "TooManyRequestsException")
    # Another user from the same address is not affected.
    signup(strict_client, "bob")
    assert signin(strict_client, "bob").status_code == 200


def test_a_successful_signin_resets_the_users_failures(strict_client: httpx.Client) -> None:
    signup(strict_client, "alice")
    for _ in range(2):
        signin(strict_client, "alice", WRONG)
    assert signin(strict_client, "alice").status_code == 200
    for _ in range(2):
        signin(strict_client, "alice", WRONG)
    assert signin(strict_client, "alice").status_code == 200


def test_unknown_usernames_count_against_the_address(strict_client: httpx.Client) -> None:
    signup(strict_client, "alice")
    for index in range(12):
        assert error_of(signin(strict_client, f"guess{index}", WRONG))[1] == "NotAuthorizedException"
    refused = signin(strict_client, "alice")
    assert error_of(refused)[:2] == (400, "TooManyRequestsException")


def test_failure_window_forgets_old_failures_and_stays_bounded() -> None:
    now = [0.0]
    window = FailureWindow(2, 10, max_keys=3, clock=lambda: now[0])
    window.begin("a")
    window.begin("a")
    assert window.is_locked("a")
    now[0] = 11
    assert not window.is_locked("a")
    for key in "bcdef":
        window.begin(key)
    assert len(window) == 3
