from __future__ import annotations

import httpx
import pytest
from jose import jwt

from chatserver.errors import UnauthorizedException
from tests.auth.flows import PASSWORD, CodeLog, db_rows, error_of, post, signin, signup
from tests.server import RunningServer


def test_account_lifecycle_from_signup_to_signout(
    manual_confirm_server: RunningServer, manual_client: httpx.Client, codes: CodeLog
) -> None:
    client = manual_client
    verifier = manual_confirm_server.app.state.services.verifier

    created = signup(client, "alice")
    assert created.status_code == 200
    body = created.json()
    assert body["userConfirmed"] is False
    assert body["codeDeliveryDetails"] == {
        "Destination": "a***@e***.com",
        "DeliveryMedium": "EMAIL",
        "AttributeName": "email",
    }
    assert error_of(signin(client, "alice"))[1] == "UserNotConfirmedException"

    confirmed = post(client, "/auth/confirm-signup", {"username": "alice", "code": codes.latest("alice")})
    assert confirmed.status_code == 200

    tokens = signin(client, "alice").json()
    assert tokens["tokenType"] == "Bearer"
    assert tokens["expiresIn"] == 3600
    assert tokens["AuthenticationResult"]["AccessToken"] == tokens["accessToken"]
    identity = verifier.verify(tokens["accessToken"])
    assert (identity.sub, identity.username) == (body["userSub"], "alice")
    assert verifier.verify(tokens["idToken"]).token_use == "id"

    refreshed = post(client, "/auth/refresh", {"refreshToken": tokens["refreshToken"]})
    assert refreshed.status_code == 200
    fresh = refreshed.json()
    assert "refreshToken" not in fresh
    old_claims = jwt.get_unverified_claims(tokens["idToken"])
    new_claims = jwt.get_unverified_claims(fresh["idToken"])
    assert new_claims["origin_jti"] == old_claims["origin_jti"]
    assert new_claims["auth_time"] == old_claims["auth_time"]
    assert new_claims["jti"] != old_claims["jti"]
    assert verifier.verify(fresh["accessToken"]).username == "alice"

    signed_out = post(client, "/auth/signout", None, headers={"Authorization": tokens["accessToken"]})
    assert signed_out.status_code == 200

    assert error_of(post(client, "/auth/refresh", {"refreshToken": tokens["refreshToken"]})) == (
        400,
        "NotAuthorizedException",
        "Invalid Refresh Token",
    )
    for token in (tokens["accessToken"], tokens["idToken"], fresh["accessToken"]):
        with pytest.raises(UnauthorizedException) as refused:
            verifier.verify(token)
        assert refused.value.message == "Valid authorization header not provided."

    # Signing in again, even within the same second, gives tokens that work.
    again = signin(client, "alice").json()
    assert verifier.verify(again["accessToken"]).username == "alice"


def test_confirmation_creates_the_users_profile_row(
    manual_confirm_server: RunningServer, manual_client: httpx.Client, codes: CodeLog
) -> None:
    sub = signup(manual_client, "bob").json()["userSub"]
    settings = manual_confirm_server.settings
    assert db_rows(settings, "SELECT id FROM users WHERE id = :sub", sub=sub) == []

    post(manual_client, "/auth/confirm-signup", {"username": "bob", "code": codes.latest("bob")})

    assert db_rows(
        settings, "SELECT username, email, given_name, family_name FROM users WHERE id = :sub", sub=sub
    ) == [("bob", "bob@example.com", "Ada", "Lovelace")]


def test_auto_confirm_signup_is_confirmed_and_creates_the_profile(
    server: RunningServer, client: httpx.Client, codes: CodeLog
) -> None:
    body = signup(client, "carol").json()
    assert body["userConfirmed"] is True
    assert body["codeDeliveryDetails"] is None
    assert codes.messages == []
    assert db_rows(server.settings, "SELECT username FROM users WHERE id = :sub", sub=body["userSub"]) == [
        ("carol",)
    ]
    assert signin(client, "carol").status_code == 200


def test_passwords_are_stored_as_argon2id(server: RunningServer, client: httpx.Client) -> None:
    signup(client, "dave")
    [(stored,)] = db_rows(server.settings, "SELECT password_hash FROM accounts WHERE username = 'dave'")
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_signout_calls_the_signout_listeners_with_the_sub(
    server: RunningServer, client: httpx.Client
) -> None:
    notified: list[str] = []

    async def listener(sub: str) -> None:
        notified.append(sub)

    server.app.state.services.accounts.signout_listeners.append(listener)
    sub = signup(client, "erin").json()["userSub"]
    tokens = signin(client, "erin").json()

    post(client, "/auth/signout", None, headers={"Authorization": f"Bearer {tokens['accessToken']}"})

    assert notified == [sub]


def test_signout_with_an_id_token_signs_out_too(server: RunningServer, client: httpx.Client) -> None:
    signup(client, "fay")
    tokens = signin(client, "fay").json()
    assert (
        post(client, "/auth/signout", None, headers={"Authorization": tokens["idToken"]}).status_code == 200
    )
    assert error_of(post(client, "/auth/refresh", {"refreshToken": tokens["refreshToken"]}))[1] == (
        "NotAuthorizedException"
    )
