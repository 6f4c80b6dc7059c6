"""aws-amplify 6 (tests/node, 6.15.5) in Node with `Auth.Cognito.userPoolEndpoint` pointed at chatserver: signUp,
confirmSignUp, signIn with SRP (the default) and with USER_PASSWORD_AUTH, fetchAuthSession with a forced refresh
(GetTokensFromRefreshToken in this version), signOut({global: true}).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cognito.node_drivers import (
    ATTRIBUTES,
    INCORRECT,
    WRONG_PASSWORD,
    CognitoWorld,
    Driver,
    cognito_world,
    driver,
    email_of,
    wait_until_expired,
)
from tests.helpers import PASSWORD, UUID
from tests.node_clients import node_package


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CognitoWorld]:
    with cognito_world(tmp_path_factory.mktemp("amplify6") / "data") as running:
        yield running


@pytest.fixture(scope="module")
def package() -> Path:
    return node_package("node")


@pytest.fixture
def amplify(world: CognitoWorld, package: Path) -> Iterator[Driver]:
    with driver(package, "amplify_auth_driver.mjs", world) as started:
        yield started


def register(amplify: Driver, world: CognitoWorld, username: str) -> str:
    """signUp with the pool's attributes, then confirmSignUp with the logged code; returns the user id (sub)."""
    signed_up = amplify.call(
        "signUp",
        username=username,
        password=PASSWORD,
        attributes={"email": email_of(username), **ATTRIBUTES},
    )
    assert signed_up["isSignUpComplete"] is False
    assert signed_up["nextStep"]["signUpStep"] == "CONFIRM_SIGN_UP"
    assert signed_up["nextStep"]["codeDeliveryDetails"]["deliveryMedium"] == "EMAIL"
    assert UUID.match(signed_up["userId"])
    confirmed = amplify.call("confirmSignUp", username=username, code=world.codes.latest(username))
    assert confirmed["isSignUpComplete"] is True
    return signed_up["userId"]


def test_amplify6_srp_sign_in_refresh_and_global_sign_out(world: CognitoWorld, amplify: Driver) -> None:
    sub = register(amplify, world, "six")

    signed_in = amplify.call("signIn", username="six", password=PASSWORD)
    assert signed_in == {"isSignedIn": True, "nextStep": {"signInStep": "DONE"}}
    assert amplify.operations() == ["InitiateAuth:USER_SRP_AUTH", "RespondToAuthChallenge"]
    assert amplify.call("getCurrentUser")["userId"] == sub
    attributes = amplify.call("fetchUserAttributes")
    assert (attributes["email"], attributes["given_name"], attributes["family_name"]) == (
        "six@example.com",
        "Ada",
        "Lovelace",
    )
    session = amplify.call("fetchAuthSession")
    assert session["accessTokenPayload"]["username"] == "six"
    world.assert_accepted(session["accessToken"], session["idToken"])

    refreshed = amplify.call("fetchAuthSession", forceRefresh=True)
    assert amplify.operations() == ["GetTokensFromRefreshToken"]
    assert refreshed["accessToken"] != session["accessToken"]
    world.assert_accepted(refreshed["accessToken"], refreshed["idToken"])

    amplify.call("signOut", options={"global": True})
    assert amplify.operations() == ["GlobalSignOut"]
    for token in (session["accessToken"], refreshed["accessToken"], refreshed["idToken"]):
        world.assert_refused(token)
    assert amplify.call("fetchAuthSession") == {"signedIn": False}


def test_amplify6_user_password_auth_sign_in(world: CognitoWorld, amplify: Driver) -> None:
    register(amplify, world, "plainsix")

    signed_in = amplify.call(
        "signIn", username="plainsix", password=PASSWORD, authFlowType="USER_PASSWORD_AUTH"
    )

    assert signed_in["isSignedIn"] is True
    assert amplify.operations() == ["InitiateAuth:USER_PASSWORD_AUTH"]
    session = amplify.call("fetchAuthSession")
    world.assert_accepted(session["accessToken"], session["idToken"])


@pytest.mark.parametrize("flow", [None, "USER_PASSWORD_AUTH"])
def test_amplify6_wrong_password_is_refused_with_cognitos_error(
    world: CognitoWorld, amplify: Driver, flow: str | None
) -> None:
    username = f"wrong{(flow or 'srp').lower().replace('_', '')}"
    register(amplify, world, username)
    options = {"authFlowType": flow} if flow else {}

    wrong = amplify.refused("signIn", username=username, password=WRONG_PASSWORD, **options)

    assert (wrong.name, wrong.message) == ("NotAuthorizedException", INCORRECT)
    assert amplify.call("fetchAuthSession") == {"signedIn": False}
    assert amplify.call("signIn", username=username, password=PASSWORD, **options)["isSignedIn"] is True


@pytest.fixture(scope="module")
def short_lived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CognitoWorld]:
    """ID and access tokens that expire within seconds (an hour on the defaults)."""
    with cognito_world(
        tmp_path_factory.mktemp("amplify6-short") / "data", id_token_ttl=3, access_token_ttl=3
    ) as running:
        yield running


def test_amplify6_fetch_auth_session_refreshes_an_expired_session(
    short_lived: CognitoWorld, package: Path
) -> None:
    with driver(package, "amplify_auth_driver.mjs", short_lived) as amplify:
        register(amplify, short_lived, "sleeper")
        amplify.call("signIn", username="sleeper", password=PASSWORD)
        first = amplify.call("fetchAuthSession")
        wait_until_expired(first["accessToken"])
        short_lived.assert_refused(first["accessToken"])

        again = amplify.call("fetchAuthSession")  # no forceRefresh: Amplify sees the expiry itself

        assert amplify.operations() == ["GetTokensFromRefreshToken"]
        assert again["accessToken"] != first["accessToken"]
        short_lived.assert_accepted(again["accessToken"], again["idToken"])
