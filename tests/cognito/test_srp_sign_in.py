"""SRP sign-in (USER_SRP_AUTH, then PASSWORD_VERIFIER) with pycognito's AWSSRP, the client-side SRP that Python
users have, over a boto3 client pointed at chatserver."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from jose import jwt
from pycognito.aws_srp import AWSSRP

from tests.auth.flows import CodeLog
from tests.cognito.clients import PASSWORD, client_id, password_auth, pool_id, sign_up
from tests.server import RunningServer


def srp_sign_in(
    cognito: Any, server: RunningServer, username: str, password: str = PASSWORD
) -> dict[str, Any]:
    srp = AWSSRP(username, password, pool_id(server), client_id(server), client=cognito)
    return srp.authenticate_user()


def _confirmed(cognito: Any, server: RunningServer, codes: CodeLog, username: str) -> None:
    sign_up(cognito, server, username)
    cognito.confirm_sign_up(
        ClientId=client_id(server), Username=username, ConfirmationCode=codes.latest(username)
    )


def test_pycognito_srp_sign_in_gives_tokens_for_the_user(
    pool_server: RunningServer, cognito: Any, codes: CodeLog
) -> None:
    _confirmed(cognito, pool_server, codes, "srpuser")
    result = srp_sign_in(cognito, pool_server, "srpuser")["AuthenticationResult"]
    claims = jwt.get_unverified_claims(result["AccessToken"])
    assert claims["username"] == "srpuser"
    assert claims["token_use"] == "access"
    assert cognito.get_user(AccessToken=result["AccessToken"])["Username"] == "srpuser"
    refreshed = cognito.initiate_auth(
        ClientId=client_id(pool_server),
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": result["RefreshToken"]},
    )
    assert refreshed["AuthenticationResult"]["AccessToken"]


def test_srp_challenge_names_the_user_and_sends_cognitos_parameters(
    pool_server: RunningServer, cognito: Any, codes: CodeLog
) -> None:
    _confirmed(cognito, pool_server, codes, "challenged")
    srp = AWSSRP("challenged", PASSWORD, pool_id(pool_server), client_id(pool_server), client=cognito)
    answer = cognito.initiate_auth(
        ClientId=client_id(pool_server), AuthFlow="USER_SRP_AUTH", AuthParameters=srp.get_auth_params()
    )
    assert answer["ChallengeName"] == "PASSWORD_VERIFIER"
    parameters = answer["ChallengeParameters"]
    assert set(parameters) == {"SALT", "SRP_B", "SECRET_BLOCK", "USERNAME", "USER_ID_FOR_SRP"}
    assert parameters["USERNAME"] == parameters["USER_ID_FOR_SRP"] == "challenged"
    int(parameters["SALT"], 16), int(parameters["SRP_B"], 16)  # hex
    again = cognito.initiate_auth(
        ClientId=client_id(pool_server), AuthFlow="USER_SRP_AUTH", AuthParameters=srp.get_auth_params()
    )["ChallengeParameters"]
    assert again["SALT"] == parameters["SALT"]  # the stored salt
    assert again["SRP_B"] != parameters["SRP_B"]  # a fresh b each time


def test_srp_wrong_password_is_not_authorized_and_counted_by_the_throttle(
    pool_server: RunningServer, cognito: Any, codes: CodeLog
) -> None:
    _confirmed(cognito, pool_server, codes, "srpguard")
    limit = pool_server.settings.signin_max_failures
    for _ in range(limit):
        with pytest.raises(ClientError) as info:
            srp_sign_in(cognito, pool_server, "srpguard", "Wr0ng-Password!")
        error = info.value.response["Error"]
        assert (error["Code"], error["Message"]) == (
            "NotAuthorizedException",
            "Incorrect username or password.",
        )
    # the same throttle refuses the next attempt, by SRP and by password alike, even with the right password
    with pytest.raises(ClientError) as locked:
        srp_sign_in(cognito, pool_server, "srpguard")
    assert locked.value.response["Error"]["Code"] == "TooManyRequestsException"
    with pytest.raises(ClientError) as locked_password:
        password_auth(cognito, pool_server, "srpguard")
    assert locked_password.value.response["Error"]["Code"] == "TooManyRequestsException"


def test_srp_unknown_user_gets_a_challenge_and_then_the_same_refusal(
    pool_server: RunningServer, cognito: Any
) -> None:
    srp = AWSSRP("ghost", PASSWORD, pool_id(pool_server), client_id(pool_server), client=cognito)
    answer = cognito.initiate_auth(
        ClientId=client_id(pool_server), AuthFlow="USER_SRP_AUTH", AuthParameters=srp.get_auth_params()
    )
    assert answer["ChallengeName"] == "PASSWORD_VERIFIER"  # no "user does not exist"
    with pytest.raises(ClientError) as info:
        srp_sign_in(cognito, pool_server, "ghost")
    error = info.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("NotAuthorizedException", "Incorrect username or password.")


def test_srp_after_a_password_change_uses_the_new_password(
    pool_server: RunningServer, cognito: Any, codes: CodeLog
) -> None:
    _confirmed(cognito, pool_server, codes, "rotator")
    token = srp_sign_in(cognito, pool_server, "rotator")["AuthenticationResult"]["AccessToken"]
    cognito.change_password(AccessToken=token, PreviousPassword=PASSWORD, ProposedPassword="R0tated-Pass!")
    with pytest.raises(ClientError):
        srp_sign_in(cognito, pool_server, "rotator")
    assert srp_sign_in(cognito, pool_server, "rotator", "R0tated-Pass!")["AuthenticationResult"]
