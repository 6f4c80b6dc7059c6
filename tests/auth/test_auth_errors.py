"""Every error of the /auth table, as Cognito writes it: HTTP 400 and {"__type", "message"}."""

from __future__ import annotations

import httpx
import pytest

from tests.auth.flows import CodeLog, error_of, post, signin, signup
from tests.server import RunningServer


def test_signup_of_a_taken_username_is_username_exists(client: httpx.Client) -> None:
    signup(client, "alice")
    response = signup(client, "alice")
    assert error_of(response) == (400, "UsernameExistsException", "User already exists")
    assert response.headers["x-amzn-ErrorType"] == "UsernameExistsException"


@pytest.mark.parametrize(
    ("password", "missing"),
    [
        ("Sh0rt!", "Password not long enough"),
        ("UPPERCASE-0NLY", "Password must have lowercase characters"),
        ("lowercase-0nly", "Password must have uppercase characters"),
        ("No-Digits-Here", "Password must have numeric characters"),
        ("NoSymbols123", "Password must have symbol characters"),
    ],
)
def test_signup_with_a_weak_password_says_what_is_missing(
    shared_client: httpx.Client, password: str, missing: str
) -> None:
    status, kind, message = error_of(signup(shared_client, "weak", password=password))
    assert (status, kind) == (400, "InvalidPasswordException")
    assert message.startswith("Password did not conform with policy: ")
    assert missing in message


@pytest.mark.parametrize(
    ("changes", "mentions"),
    [
        ({"username": "has space"}, "Username"),
        ({"username": ""}, "Username"),
        ({"username": "x" * 129}, "Username"),
        ({"username": "tab\tname"}, "Username"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"givenName": "n" * 300}, "givenName"),
    ],
)
def test_signup_with_bad_attributes_is_invalid_parameter(
    shared_client: httpx.Client, changes: dict[str, str], mentions: str
) -> None:
    body = {
        "username": "valid",
        "password": "Corr3ct-Horse",
        "email": "v@example.com",
        "givenName": "Val",
        "familyName": "Id",
        **changes,
    }
    status, kind, message = error_of(post(shared_client, "/auth/signup", body))
    assert (status, kind) == (400, "InvalidParameterException")
    assert mentions.lower() in message.lower()


def test_signin_says_the_same_for_a_wrong_password_and_an_unknown_user(client: httpx.Client) -> None:
    signup(client, "alice")
    wrong_password = error_of(signin(client, "alice", "Wr0ng-Password"))
    unknown_user = error_of(signin(client, "nobody", "Wr0ng-Password"))
    assert (
        wrong_password
        == unknown_user
        == (
            400,
            "NotAuthorizedException",
            "Incorrect username or password.",
        )
    )


def test_signin_before_confirmation_is_user_not_confirmed(manual_client: httpx.Client) -> None:
    signup(manual_client, "alice")
    assert error_of(signin(manual_client, "alice")) == (
        400,
        "UserNotConfirmedException",
        "User is not confirmed.",
    )
    # The wrong password still reads as a wrong password, not as "unconfirmed".
    assert error_of(signin(manual_client, "alice", "Wr0ng-Password"))[1] == "NotAuthorizedException"


def test_confirm_with_a_wrong_code_is_code_mismatch_and_five_misses_void_the_code(
    manual_client: httpx.Client, codes: CodeLog
) -> None:
    signup(manual_client, "alice")
    right = codes.latest("alice")
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert error_of(
            post(manual_client, "/auth/confirm-signup", {"username": "alice", "code": wrong})
        ) == (400, "CodeMismatchException", "Invalid verification code provided, please try again.")

    refused = post(manual_client, "/auth/confirm-signup", {"username": "alice", "code": right})
    assert error_of(refused)[:2] == (400, "LimitExceededException")

    # A new code works again.
    post(manual_client, "/auth/resend-code", {"username": "alice"})
    fresh = codes.latest("alice")
    assert (
        post(manual_client, "/auth/confirm-signup", {"username": "alice", "code": fresh}).status_code == 200
    )


def test_confirm_of_an_unknown_user_or_a_confirmed_user_is_refused(
    manual_client: httpx.Client, codes: CodeLog
) -> None:
    unknown = post(manual_client, "/auth/confirm-signup", {"username": "ghost", "code": "123456"})
    assert error_of(unknown)[:2] == (400, "CodeMismatchException")

    signup(manual_client, "alice")
    code = codes.latest("alice")
    post(manual_client, "/auth/confirm-signup", {"username": "alice", "code": code})
    again = post(manual_client, "/auth/confirm-signup", {"username": "alice", "code": code})
    assert error_of(again)[:2] == (400, "NotAuthorizedException")
    resend = post(manual_client, "/auth/resend-code", {"username": "alice"})
    assert error_of(resend) == (400, "InvalidParameterException", "User is already confirmed.")


def test_refresh_with_an_unknown_token_is_not_authorized(shared_client: httpx.Client) -> None:
    response = post(shared_client, "/auth/refresh", {"refreshToken": "not-a-refresh-token"})
    assert error_of(response) == (400, "NotAuthorizedException", "Invalid Refresh Token")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, ("InvalidParameterException", "Missing authorization header")),
        ({"Authorization": "garbage"}, ("NotAuthorizedException", "Invalid Access Token")),
    ],
)
def test_signout_without_a_valid_token_is_refused(
    shared_client: httpx.Client, headers: dict[str, str], expected: tuple[str, str]
) -> None:
    assert error_of(shared_client.post("/auth/signout", headers=headers)) == (400, *expected)


@pytest.mark.parametrize(
    ("content", "mentions"),
    [
        (b"", "JSON object"),
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\x00", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'"a string"', "JSON object"),
        (b"[" * 60_000, "not valid JSON"),
        (b'{"username": "alice"}', "Missing required field: password"),
        (b'{"username": 5, "password": "x"}', "Field username must be a string"),
        (b'{"username": "a", "password": ["x"]}', "Field password must be a string"),
        (b'{"username": "a", "password": "x", "admin": true}', "Unknown field(s): admin"),
        (b'{"username": "' + b"a" * 70_000 + b'", "password": "x"}', "larger than 65536"),
    ],
)
def test_malformed_bodies_are_invalid_parameter_never_500(
    shared_client: httpx.Client, content: bytes, mentions: str
) -> None:
    response = shared_client.post(
        "/auth/signin", content=content, headers={"content-type": "application/json"}
    )
    status, kind, message = error_of(response)
    assert (status, kind) == (400, "InvalidParameterException")
    assert mentions in message


def test_oversize_body_without_content_length_is_refused(shared_client: httpx.Client) -> None:
    def chunks():
        for _ in range(20):
            yield b" " * 8192

    response = shared_client.post("/auth/signup", content=chunks())
    assert error_of(response)[:2] == (400, "InvalidParameterException")


def test_every_endpoint_refuses_a_malformed_body(shared_client: httpx.Client) -> None:
    for path in (
        "/auth/signup",
        "/auth/confirm-signup",
        "/auth/resend-code",
        "/auth/signin",
        "/auth/refresh",
        "/auth/forgot-password",
        "/auth/confirm-forgot-password",
    ):
        response = shared_client.post(path, content=b"{oops")
        assert error_of(response)[:2] == (400, "InvalidParameterException"), path


def test_wrong_method_is_not_a_server_error(shared_client: httpx.Client) -> None:
    assert shared_client.get("/auth/signin").status_code == 405


def test_unknown_user_gets_a_simulated_code_delivery(
    manual_confirm_server: RunningServer, manual_client: httpx.Client, codes: CodeLog
) -> None:
    for path in ("/auth/resend-code", "/auth/forgot-password"):
        response = post(manual_client, path, {"username": "ghost"})
        assert response.status_code == 200
        assert response.json()["codeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    assert codes.messages == []
