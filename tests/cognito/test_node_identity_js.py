"""amazon-cognito-identity-js 6.x (npm, Node) against chatserver's Cognito API, configured only with
`new CognitoUserPool({UserPoolId, ClientId, endpoint})`: sign-up with the pool's attributes, confirmation with the
code from the server log, SRP sign-in, refresh, attributes, password change and reset, global sign-out.
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
)
from tests.helpers import PASSWORD, UUID
from tests.node_clients import node_package

NEW_PASSWORD = "Battery-Staple-7?"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CognitoWorld]:
    with cognito_world(tmp_path_factory.mktemp("identity-js") / "data") as running:
        yield running


@pytest.fixture(scope="module")
def package() -> Path:
    return node_package("node_cognito")


@pytest.fixture
def js(world: CognitoWorld, package: Path) -> Iterator[Driver]:
    with driver(package, "identity_js_driver.mjs", world) as started:
        yield started


def sign_up(js: Driver, username: str, password: str = PASSWORD) -> dict:
    return js.call(
        "signUp", username=username, password=password, attributes={"email": email_of(username), **ATTRIBUTES}
    )


def register(js: Driver, world: CognitoWorld, username: str, password: str = PASSWORD) -> str:
    """Sign up and confirm with the code the server logged; returns the user's sub."""
    sub = sign_up(js, username, password)["userSub"]
    assert js.call("confirmRegistration", username=username, code=world.codes.latest(username)) == "SUCCESS"
    return sub


def test_identity_js_signs_up_confirms_with_the_logged_code_and_signs_in_with_srp(
    world: CognitoWorld, js: Driver
) -> None:
    signed_up = sign_up(js, "ada")
    assert signed_up["userConfirmed"] is False
    assert UUID.match(signed_up["userSub"])
    assert signed_up["codeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    assert signed_up["codeDeliveryDetails"]["AttributeName"] == "email"
    not_yet = js.refused("authenticateUser", username="ada", password=PASSWORD)
    assert not_yet.name == "UserNotConfirmedException"

    assert js.call("confirmRegistration", username="ada", code=world.codes.latest("ada")) == "SUCCESS"
    session = js.call("authenticateUser", username="ada", password=PASSWORD)

    assert js.operations() == ["InitiateAuth:USER_SRP_AUTH", "RespondToAuthChallenge"]
    assert session["valid"] is True
    claims = session["idTokenPayload"]
    assert claims["sub"] == signed_up["userSub"]
    assert claims["cognito:username"] == "ada"
    assert claims["email"] == "ada@example.com"
    assert (claims["given_name"], claims["family_name"]) == ("Ada", "Lovelace")
    assert claims["email_verified"] is True
    assert claims["aud"] == world.server.settings.client_id
    assert claims["iss"] == world.server.settings.issuer
    world.assert_accepted(session["accessToken"], session["idToken"])

    attributes = {a["Name"]: a["Value"] for a in js.call("getUserAttributes")}
    assert js.operations() == ["GetUser"]
    assert attributes["sub"] == signed_up["userSub"]
    assert attributes["email"] == "ada@example.com"
    assert (attributes["given_name"], attributes["family_name"]) == ("Ada", "Lovelace")
    assert attributes["email_verified"] == "true"


def test_identity_js_sign_up_without_a_required_attribute_is_refused(js: Driver) -> None:
    refused = js.refused(
        "signUp", username="nameless", password=PASSWORD, attributes={"email": email_of("nameless")}
    )
    assert refused.name == "InvalidParameterException"
    nobody = js.refused("authenticateUser", username="nameless", password=PASSWORD)
    assert nobody.name == "NotAuthorizedException"  # no account was made


def test_identity_js_wrong_password_is_refused_with_cognitos_error(world: CognitoWorld, js: Driver) -> None:
    register(js, world, "guesser")

    wrong = js.refused("authenticateUser", username="guesser", password=WRONG_PASSWORD)
    assert (wrong.name, wrong.message) == ("NotAuthorizedException", INCORRECT)
    assert js.operations() == ["InitiateAuth:USER_SRP_AUTH", "RespondToAuthChallenge"]  # refused on the proof
    unknown = js.refused("authenticateUser", username="nobody", password=PASSWORD)
    assert (unknown.name, unknown.message) == ("NotAuthorizedException", INCORRECT)

    session = js.call("authenticateUser", username="guesser", password=PASSWORD)
    world.assert_accepted(session["accessToken"])


def test_identity_js_user_password_auth_flow_signs_in(world: CognitoWorld, js: Driver) -> None:
    register(js, world, "plainflow")
    session = js.call(
        "authenticateUser", username="plainflow", password=PASSWORD, authFlow="USER_PASSWORD_AUTH"
    )
    assert js.operations() == ["InitiateAuth:USER_PASSWORD_AUTH"]
    world.assert_accepted(session["accessToken"], session["idToken"])
    wrong = js.refused(
        "authenticateUser", username="plainflow", password=WRONG_PASSWORD, authFlow="USER_PASSWORD_AUTH"
    )
    assert (wrong.name, wrong.message) == ("NotAuthorizedException", INCORRECT)


def test_identity_js_refresh_session_gives_new_working_tokens(world: CognitoWorld, js: Driver) -> None:
    register(js, world, "refresher")
    first = js.call("authenticateUser", username="refresher", password=PASSWORD)

    refreshed = js.call("refreshSession")

    assert js.operations() == ["InitiateAuth:REFRESH_TOKEN_AUTH"]
    assert refreshed["accessToken"] != first["accessToken"]
    assert refreshed["idTokenPayload"]["sub"] == first["idTokenPayload"]["sub"]
    world.assert_accepted(refreshed["accessToken"], refreshed["idToken"])


def test_identity_js_change_password(world: CognitoWorld, js: Driver) -> None:
    register(js, world, "changer")
    js.call("authenticateUser", username="changer", password=PASSWORD)

    wrong_old = js.refused("changePassword", oldPassword=WRONG_PASSWORD, newPassword=NEW_PASSWORD)
    assert wrong_old.name == "NotAuthorizedException"
    weak = js.refused("changePassword", oldPassword=PASSWORD, newPassword="alllowercase")
    assert weak.name == "InvalidPasswordException"
    assert world.signin_form("changer", PASSWORD).status_code == 200  # neither refusal changed anything

    assert js.call("changePassword", oldPassword=PASSWORD, newPassword=NEW_PASSWORD) == "SUCCESS"
    assert js.operations() == ["ChangePassword"]

    old = js.refused("authenticateUser", username="changer", password=PASSWORD)
    assert (old.name, old.message) == ("NotAuthorizedException", INCORRECT)
    # SRP now proves the new password (the verifier changed with it).
    session = js.call("authenticateUser", username="changer", password=NEW_PASSWORD)
    world.assert_accepted(session["accessToken"])
    assert world.signin_form("changer", NEW_PASSWORD).status_code == 200  # one account, both wire forms


def test_identity_js_forgot_and_confirm_password(world: CognitoWorld, js: Driver) -> None:
    register(js, world, "forgetful")

    delivery = js.call("forgotPassword", username="forgetful")
    assert delivery["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    code = world.codes.latest("forgetful", "password reset code")
    other_code = f"{(int(code) + 1) % 1_000_000:06d}"
    mismatch = js.refused("confirmPassword", username="forgetful", code=other_code, newPassword=NEW_PASSWORD)
    assert mismatch.name == "CodeMismatchException"
    assert world.signin_form("forgetful", PASSWORD).status_code == 200  # the wrong code changed nothing

    assert js.call("confirmPassword", username="forgetful", code=code, newPassword=NEW_PASSWORD) == "SUCCESS"
    assert js.operations() == ["ConfirmForgotPassword"]

    session = js.call("authenticateUser", username="forgetful", password=NEW_PASSWORD)
    world.assert_accepted(session["accessToken"])
    old = js.refused("authenticateUser", username="forgetful", password=PASSWORD)
    assert (old.name, old.message) == ("NotAuthorizedException", INCORRECT)
    reused = js.refused("confirmPassword", username="forgetful", code=code, newPassword=PASSWORD)
    assert reused.name in {"CodeMismatchException", "ExpiredCodeException"}  # a code works once


def test_identity_js_global_sign_out_revokes_every_token(world: CognitoWorld, js: Driver) -> None:
    register(js, world, "leaver")
    session = js.call("authenticateUser", username="leaver", password=PASSWORD)
    world.assert_accepted(session["accessToken"], session["idToken"])

    assert js.call("globalSignOut") == "SUCCESS"

    assert js.operations() == ["GlobalSignOut"]
    world.assert_refused(session["accessToken"])
    world.assert_refused(session["idToken"])
    refreshed = world.refresh_form(session["refreshToken"])
    assert refreshed.status_code == 400
    assert refreshed.json()["__type"] == "NotAuthorizedException"
    again = js.call("authenticateUser", username="leaver", password=PASSWORD)  # signing in again works
    world.assert_accepted(again["accessToken"])


def test_identity_js_with_another_client_id_is_refused_and_changes_nothing(
    world: CognitoWorld, package: Path, js: Driver
) -> None:
    register(js, world, "configured")
    with driver(package, "identity_js_driver.mjs", world, clientId="not-this-pools-client") as misconfigured:
        signed_up = misconfigured.refused(
            "signUp",
            username="stranger",
            password=PASSWORD,
            attributes={"email": email_of("stranger"), **ATTRIBUTES},
        )
        assert signed_up.name == "ResourceNotFoundException"
        signed_in = misconfigured.refused("authenticateUser", username="configured", password=PASSWORD)
        assert signed_in.name == "ResourceNotFoundException"

    assert (
        js.refused("authenticateUser", username="stranger", password=PASSWORD).name
        == "NotAuthorizedException"
    )
    session = js.call(
        "authenticateUser", username="configured", password=PASSWORD
    )  # the right client still works
    world.assert_accepted(session["accessToken"])
