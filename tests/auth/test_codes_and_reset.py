from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chatserver.auth.codes import LogCodeSender, SmtpCodeSender, build_code_sender, mask_email
from tests.auth.flows import PASSWORD, CodeLog, db_rows, error_of, post, signed_in, signin, signup
from tests.server import RunningServer, run_server

NEW_PASSWORD = "N3w-Password!"


@pytest.fixture
def expiring_server(tmp_path: Path) -> Iterator[RunningServer]:
    """Codes expire at once (code_ttl=0)."""
    with run_server(tmp_path / "data", auto_confirm=False, code_ttl=0) as running:
        yield running


def test_an_expired_code_is_refused(expiring_server: RunningServer, codes: CodeLog) -> None:
    with httpx.Client(base_url=expiring_server.url) as client:
        signup(client, "alice")
        response = post(client, "/auth/confirm-signup", {"username": "alice", "code": codes.latest("alice")})
        assert error_of(response) == (
            400,
            "ExpiredCodeException",
            "Invalid code provided, please request a code again.",
        )
        assert error_of(signin(client, "alice"))[1] == "UserNotConfirmedException"


def test_codes_are_stored_hashed(
    manual_confirm_server: RunningServer, manual_client: httpx.Client, codes: CodeLog
) -> None:
    signup(manual_client, "alice")
    [(stored,)] = db_rows(manual_confirm_server.settings, "SELECT code_hash FROM auth_codes")
    assert codes.latest("alice") not in stored
    assert len(stored) == 64


def test_resending_replaces_the_code(manual_client: httpx.Client, codes: CodeLog) -> None:
    signup(manual_client, "alice")
    first = codes.latest("alice")
    delivery = post(manual_client, "/auth/resend-code", {"username": "alice"}).json()
    assert delivery["codeDeliveryDetails"]["Destination"] == "a***@e***.com"
    second = codes.latest("alice")
    if first != second:
        response = post(manual_client, "/auth/confirm-signup", {"username": "alice", "code": first})
        assert error_of(response)[1] == "CodeMismatchException"
    response = post(manual_client, "/auth/confirm-signup", {"username": "alice", "code": second})
    assert response.status_code == 200


def test_password_reset_by_code(manual_client: httpx.Client, codes: CodeLog) -> None:
    tokens = signed_in(manual_client, "alice", codes)
    sent = post(manual_client, "/auth/forgot-password", {"username": "alice"})
    assert sent.json()["codeDeliveryDetails"]["AttributeName"] == "email"
    code = codes.latest("alice", "password reset code")

    weak = post(
        manual_client,
        "/auth/confirm-forgot-password",
        {"username": "alice", "code": code, "password": "weak"},
    )
    assert error_of(weak)[1] == "InvalidPasswordException"
    reset = post(
        manual_client,
        "/auth/confirm-forgot-password",
        {"username": "alice", "code": code, "password": NEW_PASSWORD},
    )
    assert reset.status_code == 200

    assert error_of(signin(manual_client, "alice", PASSWORD))[1] == "NotAuthorizedException"
    assert signin(manual_client, "alice", NEW_PASSWORD).status_code == 200
    # The reset signs out every earlier session.
    refreshed = post(manual_client, "/auth/refresh", {"refreshToken": tokens["refreshToken"]})
    assert error_of(refreshed)[1] == "NotAuthorizedException"
    # Codes are single use.
    reused = post(
        manual_client,
        "/auth/confirm-forgot-password",
        {"username": "alice", "code": code, "password": "An0ther-Password"},
    )
    assert error_of(reused)[1] == "CodeMismatchException"


def test_password_reset_of_an_unconfirmed_user_is_refused(manual_client: httpx.Client) -> None:
    signup(manual_client, "alice")
    response = post(manual_client, "/auth/forgot-password", {"username": "alice"})
    assert error_of(response)[:2] == (400, "InvalidParameterException")


def test_reset_code_with_a_wrong_code_is_code_mismatch(manual_client: httpx.Client, codes: CodeLog) -> None:
    signed_in(manual_client, "alice", codes)
    post(manual_client, "/auth/forgot-password", {"username": "alice"})
    right = codes.latest("alice", "password reset code")
    wrong = f"{(int(right) + 7) % 1_000_000:06d}"
    response = post(
        manual_client,
        "/auth/confirm-forgot-password",
        {"username": "alice", "code": wrong, "password": NEW_PASSWORD},
    )
    assert error_of(response)[:2] == (400, "CodeMismatchException")


def test_too_many_code_requests_are_limited(manual_client: httpx.Client, codes: CodeLog) -> None:
    signup(manual_client, "alice")
    statuses = [
        post(manual_client, "/auth/resend-code", {"username": "alice"}).status_code for _ in range(10)
    ]
    assert statuses == [200] * 10
    response = post(manual_client, "/auth/resend-code", {"username": "alice"})
    assert error_of(response)[:2] == (400, "LimitExceededException")


def test_code_sender_is_the_log_by_default_and_smtp_when_configured() -> None:
    assert isinstance(build_code_sender(""), LogCodeSender)
    sender = build_code_sender("smtp://mailer:s%40cret@mail.example.com:2525?from=chat@example.com")
    assert isinstance(sender, SmtpCodeSender)
    config = sender.config
    assert (config.host, config.port, config.username, config.password, config.sender) == (
        "mail.example.com",
        2525,
        "mailer",
        "s@cret",
        "chat@example.com",
    )
    with pytest.raises(ValueError):
        build_code_sender("http://mail.example.com")


def test_masked_destination_hides_the_address() -> None:
    assert mask_email("alice@example.com") == "a***@e***.com"
