"""boto3's `cognito-idp` client with only `endpoint_url` pointed at chatserver: the whole account life, and the
tokens it gets working on the GraphQL API."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError
from jose import jwt

from tests.auth.flows import CodeLog
from tests.cognito.clients import PASSWORD, attributes, client_id, password_auth, sign_up
from tests.server import RunningServer

ME = "{ me { username } }"


def _graphql(server: RunningServer, token: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/graphql", json={"query": ME}, headers={"Authorization": token}, timeout=30
    )


def _error(info: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = info.value.response["Error"]
    return error["Code"], error["Message"]


def _confirmed(cognito: Any, server: RunningServer, codes: CodeLog, username: str) -> str:
    created = sign_up(cognito, server, username)
    assert created["UserConfirmed"] is False
    assert created["CodeDeliveryDetails"] == {
        "Destination": f"{username[0]}***@e***.com",
        "DeliveryMedium": "EMAIL",
        "AttributeName": "email",
    }
    cognito.confirm_sign_up(
        ClientId=client_id(server), Username=username, ConfirmationCode=codes.latest(username)
    )
    return created["UserSub"]


def test_boto3_sign_up_confirm_sign_in_get_user_and_call_the_api(
    pool_server: RunningServer, cognito: Any, codes: CodeLog
) -> None:
    sub = _confirmed(cognito, pool_server, codes, "ada")
    result = password_auth(cognito, pool_server, "ada")["AuthenticationResult"]
    assert result["TokenType"] == "Bearer"
    assert result["ExpiresIn"] == pool_server.settings.access_token_ttl
    claims = jwt.get_unverified_claims(result["AccessToken"])
    assert claims["scope"] == "aws.cognito.signin.user.admin"
    assert claims["iss"] == f"{pool_server.url}/{pool_server.settings.user_pool_id}"
    assert (claims["sub"], claims["username"], claims["client_id"]) == (sub, "ada", client_id(pool_server))
    id_claims = jwt.get_unverified_claims(result["IdToken"])
    assert id_claims["cognito:username"] == "ada"
    assert id_claims["event_id"] == claims["event_id"]

    user = cognito.get_user(AccessToken=result["AccessToken"])
    assert user["Username"] == "ada"
    assert {a["Name"]: a["Value"] for a in user["UserAttributes"]} == {
        "sub": sub,
        "email": "ada@example.com",
        "email_verified": "true",
        "given_name": "Grace",
        "family_name": "Hopper",
    }
    assert _graphql(pool_server, result["AccessToken"]).json()["data"]["me"]["username"] == "ada"


def test_boto3_refresh_token_auth_gives_new_working_tokens(
    pool_server: RunningServer, cognito: Any, codes: CodeLog
) -> None:
    _confirmed(cognito, pool_server, codes, "refresher")
    first = password_auth(cognito, pool_server, "refresher")["AuthenticationResult"]
    for flow in ("REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"):
        refreshed = cognito.initiate_auth(
            ClientId=client_id(pool_server),
            AuthFlow=flow,
            AuthParameters={"REFRESH_TOKEN": first["RefreshToken"]},
        )["AuthenticationResult"]
        assert "RefreshToken" not in refreshed  # the client keeps its refresh token
        assert refreshed["AccessToken"] != first["AccessToken"]
        assert cognito.get_user(AccessToken=refreshed["AccessToken"])["Username"] == "refresher"
    again = cognito.get_tokens_from_refresh_token(
        ClientId=client_id(pool_server), RefreshToken=first["RefreshToken"]
    )
    assert _graphql(pool_server, again["AuthenticationResult"]["AccessToken"]).status_code == 200


def test_boto3_wrong_password_and_unknown_user_are_refused_alike(
    pool_server: RunningServer, cognito: Any, codes: CodeLog
) -> None:
    _confirmed(cognito, pool_server, codes, "guarded")
    with pytest.raises(ClientError) as wrong:
        password_auth(cognito, pool_server, "guarded", "Wr0ng-Password!")
    with pytest.raises(ClientError) as unknown:
        password_auth(cognito, pool_server, "nobody-here", "Wr0ng-Password!")
    assert _error(wrong) == _error(unknown) == ("NotAuthorizedException", "Incorrect username or password.")
    assert wrong.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert password_auth(cognito, pool_server, "guarded")["AuthenticationResult"]["AccessToken"]


def test_boto3_unconfirmed_user_cannot_sign_in(pool_server: RunningServer, cognito: Any) -> None:
    sign_up(cognito, pool_server, "pending")
    with pytest.raises(ClientError) as info:
        password_auth(cognito, pool_server, "pending")
    assert _error(info)[0] == "UserNotConfirmedException"


def test_boto3_global_sign_out_voids_every_token(
    pool_server: RunningServer, cognito: Any, codes: CodeLog
) -> None:
    _confirmed(cognito, pool_server, codes, "leaver")
    result = password_auth(cognito, pool_server, "leaver")["AuthenticationResult"]
    cognito.global_sign_out(AccessToken=result["AccessToken"])
    with pytest.raises(ClientError) as info:
        cognito.get_user(AccessToken=result["AccessToken"])
    assert _error(info)[0] == "NotAuthorizedException"
    with pytest.raises(ClientError) as refresh:
        cognito.initiate_auth(
            ClientId=client_id(pool_server),
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": result["RefreshToken"]},
        )
    assert _error(refresh)[0] == "NotAuthorizedException"
    assert _graphql(pool_server, result["IdToken"]).status_code == 401
    assert password_auth(cognito, pool_server, "leaver")["AuthenticationResult"]  # signing in again works


def test_boto3_revoke_token_ends_that_session_only(
    pool_server: RunningServer, cognito: Any, codes: CodeLog
) -> None:
    _confirmed(cognito, pool_server, codes, "phone")
    revoked = password_auth(cognito, pool_server, "phone")["AuthenticationResult"]
    other = password_auth(cognito, pool_server, "phone")["AuthenticationResult"]
    cognito.revoke_token(ClientId=client_id(pool_server), Token=revoked["RefreshToken"])

    for token in (revoked["AccessToken"], revoked["IdToken"]):
        assert _graphql(pool_server, token).status_code == 401
    with pytest.raises(ClientError) as info:
        cognito.get_user(AccessToken=revoked["AccessToken"])
    assert _error(info)[0] == "NotAuthorizedException"
    with pytest.raises(ClientError) as refresh:
        cognito.get_tokens_from_refresh_token(
            ClientId=client_id(pool_server), RefreshToken=revoked["RefreshToken"]
        )
    assert _error(refresh) == ("NotAuthorizedException", "Refresh Token has been revoked")
    # the user's other session is untouched
    assert cognito.get_user(AccessToken=other["AccessToken"])["Username"] == "phone"
    assert cognito.initiate_auth(
        ClientId=client_id(pool_server),
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": other["RefreshToken"]},
    )["AuthenticationResult"]
    with pytest.raises(ClientError) as access:
        cognito.revoke_token(ClientId=client_id(pool_server), Token=other["AccessToken"])
    assert _error(access)[0] == "UnsupportedTokenTypeException"


def test_boto3_change_password_update_attributes_and_delete_user(
    pool_server: RunningServer, cognito: Any, codes: CodeLog
) -> None:
    _confirmed(cognito, pool_server, codes, "changer")
    token = password_auth(cognito, pool_server, "changer")["AuthenticationResult"]["AccessToken"]
    with pytest.raises(ClientError) as wrong:
        cognito.change_password(
            AccessToken=token, PreviousPassword="Wr0ng-Password!", ProposedPassword="N3w-Password!"
        )
    assert _error(wrong) == ("NotAuthorizedException", "Incorrect username or password.")
    cognito.change_password(AccessToken=token, PreviousPassword=PASSWORD, ProposedPassword="N3w-Password!")
    with pytest.raises(ClientError):
        password_auth(cognito, pool_server, "changer")
    token = password_auth(cognito, pool_server, "changer", "N3w-Password!")["AuthenticationResult"][
        "AccessToken"
    ]

    cognito.update_user_attributes(
        AccessToken=token, UserAttributes=[{"Name": "given_name", "Value": "Amazing"}]
    )
    names = {a["Name"]: a["Value"] for a in cognito.get_user(AccessToken=token)["UserAttributes"]}
    assert names["given_name"] == "Amazing"
    with pytest.raises(ClientError) as bad:
        cognito.update_user_attributes(AccessToken=token, UserAttributes=[{"Name": "sub", "Value": "mine"}])
    assert _error(bad)[0] == "InvalidParameterException"

    cognito.delete_user(AccessToken=token)
    with pytest.raises(ClientError) as gone:
        password_auth(cognito, pool_server, "changer", "N3w-Password!")
    assert _error(gone)[0] == "NotAuthorizedException"
    assert sign_up(cognito, pool_server, "changer")["UserSub"]  # the name is free again


def test_boto3_forgot_and_confirm_forgot_password(
    pool_server: RunningServer, cognito: Any, codes: CodeLog
) -> None:
    _confirmed(cognito, pool_server, codes, "forgetful")
    old = password_auth(cognito, pool_server, "forgetful")["AuthenticationResult"]
    sent = cognito.forgot_password(ClientId=client_id(pool_server), Username="forgetful")
    assert sent["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    cognito.confirm_forgot_password(
        ClientId=client_id(pool_server),
        Username="forgetful",
        ConfirmationCode=codes.latest("forgetful", "password reset code"),
        Password="Res3t-Password!",
    )
    assert password_auth(cognito, pool_server, "forgetful", "Res3t-Password!")["AuthenticationResult"]
    with pytest.raises(ClientError):
        cognito.get_user(AccessToken=old["AccessToken"])  # a reset signs the old sessions out


def test_boto3_resend_confirmation_code(pool_server: RunningServer, cognito: Any, codes: CodeLog) -> None:
    sign_up(cognito, pool_server, "resender")
    first = codes.latest("resender")
    cognito.resend_confirmation_code(ClientId=client_id(pool_server), Username="resender")
    second = codes.latest("resender")
    with pytest.raises(ClientError) as stale:
        if first != second:
            cognito.confirm_sign_up(
                ClientId=client_id(pool_server), Username="resender", ConfirmationCode=first
            )
        else:  # the same six digits by chance: any other code is wrong
            wrong = f"{(int(first) + 1) % 1_000_000:06d}"
            cognito.confirm_sign_up(
                ClientId=client_id(pool_server), Username="resender", ConfirmationCode=wrong
            )
    assert _error(stale)[0] == "CodeMismatchException"
    cognito.confirm_sign_up(ClientId=client_id(pool_server), Username="resender", ConfirmationCode=second)
    assert password_auth(cognito, pool_server, "resender")["AuthenticationResult"]


@pytest.mark.parametrize("missing", ["given_name", "family_name", "email"])
def test_boto3_sign_up_requires_the_pools_attributes(
    pool_server: RunningServer, cognito: Any, missing: str
) -> None:
    partial = [a for a in attributes("incomplete") if a["Name"] != missing]
    with pytest.raises(ClientError) as info:
        cognito.sign_up(
            ClientId=client_id(pool_server), Username="incomplete", Password=PASSWORD, UserAttributes=partial
        )
    code, message = _error(info)
    assert code == "InvalidParameterException"
    assert missing in message
    with pytest.raises(ClientError) as nobody:
        password_auth(cognito, pool_server, "incomplete")
    assert _error(nobody)[0] == "NotAuthorizedException"  # nothing was created
