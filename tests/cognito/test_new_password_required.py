"""Users an administrator made (`chatserver user create --temporary-password`) must choose a password at their
first sign-in: Cognito's NEW_PASSWORD_REQUIRED challenge, after SRP or USER_PASSWORD_AUTH, or `newPassword` in
/auth/signin."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError
from pycognito.aws_srp import AWSSRP
from pycognito.exceptions import ForceChangePasswordException

from tests.cognito.clients import (
    client_id,
    cognito_client,
    error_of,
    password_auth,
    pool_id,
    raw_call,
)
from tests.databases import fresh_database_url
from tests.helpers import on_server_loop
from tests.server import RunningServer, run_server

TEMPORARY = "Temp0rary-Pass!"
CHOSEN = "Ch0sen-Password!"


def chatserver_cli(data_dir: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CHATSERVER_")}
    environment |= {"CHATSERVER_DATA_DIR": str(data_dir), "CHATSERVER_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "chatserver", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with run_server(Path(tmp_path_factory.mktemp("admin")) / "data") as running:
        yield running


def _admin_created(server: RunningServer, username: str, **names: str) -> None:
    accounts = server.app.state.services.accounts
    on_server_loop(
        server, accounts.create_user(username, TEMPORARY, f"{username}@example.com", temporary=True, **names)
    )


def _new_password(
    cognito: Any, server: RunningServer, session: str, username: str, **extra: str
) -> dict[str, Any]:
    return cognito.respond_to_auth_challenge(
        ClientId=client_id(server),
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=session,
        ChallengeResponses={"USERNAME": username, "NEW_PASSWORD": CHOSEN, **extra},
    )


def _me(server: RunningServer, token: str) -> dict[str, Any]:
    query = {"query": "{ me { username givenName familyName } }"}
    return httpx.post(
        f"{server.url}/graphql", json=query, headers={"Authorization": token}, timeout=30
    ).json()


def test_cli_temporary_password_then_srp_sign_in_asks_for_a_new_one(tmp_path: Path) -> None:
    with fresh_database_url() as database_url:
        data = tmp_path / "data"
        created = chatserver_cli(
            data,
            database_url,
            "user",
            "create",
            "newbie",
            "--email",
            "newbie@example.com",
            "--temporary-password",
        )
        assert created.returncode == 0, created.stderr
        assert "must choose a new password" in created.stdout
        match = re.search(r"^temporary password: (\S+)$", created.stdout, re.M)
        assert match, created.stdout
        temporary = match.group(1)
        with run_server(data, database_url=database_url) as server:
            cognito = cognito_client(server)
            srp = AWSSRP("newbie", temporary, pool_id(server), client_id(server), client=cognito)
            with pytest.raises(ForceChangePasswordException):
                srp.authenticate_user()
            challenge = cognito.initiate_auth(
                ClientId=client_id(server), AuthFlow="USER_SRP_AUTH", AuthParameters=srp.get_auth_params()
            )
            answer = cognito.respond_to_auth_challenge(
                ClientId=client_id(server),
                ChallengeName="PASSWORD_VERIFIER",
                ChallengeResponses=srp.process_challenge(
                    challenge["ChallengeParameters"], srp.get_auth_params()
                ),
            )
            assert answer["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
            parameters = answer["ChallengeParameters"]
            assert json.loads(parameters["requiredAttributes"]) == [
                "userAttributes.given_name",
                "userAttributes.family_name",
            ]
            assert json.loads(parameters["userAttributes"])["email"] == "newbie@example.com"
            result = _new_password(
                cognito,
                server,
                answer["Session"],
                "newbie",
                **{"userAttributes.given_name": "New", "userAttributes.family_name": "Bie"},
            )["AuthenticationResult"]
            assert _me(server, result["AccessToken"])["data"]["me"] == {  # confirmed, with its users row
                "username": "newbie",
                "givenName": "New",
                "familyName": "Bie",
            }
            again = AWSSRP(
                "newbie", CHOSEN, pool_id(server), client_id(server), client=cognito
            ).authenticate_user()
            assert again["AuthenticationResult"]["AccessToken"]
            with pytest.raises(ClientError) as old:
                password_auth(cognito, server, "newbie", temporary)
            assert old.value.response["Error"]["Code"] == "NotAuthorizedException"


def test_user_password_auth_gets_the_challenge_and_the_session_is_single_use(server: RunningServer) -> None:
    _admin_created(server, "bob", given_name="Bob", family_name="Builder")
    cognito = cognito_client(server)
    answer = password_auth(cognito, server, "bob", TEMPORARY)
    assert answer["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert json.loads(answer["ChallengeParameters"]["requiredAttributes"]) == []
    # a weak password is refused and the session stays usable
    with pytest.raises(ClientError) as weak:
        cognito.respond_to_auth_challenge(
            ClientId=client_id(server),
            ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=answer["Session"],
            ChallengeResponses={"USERNAME": "bob", "NEW_PASSWORD": "weak"},
        )
    assert weak.value.response["Error"]["Code"] == "InvalidPasswordException"
    assert _new_password(cognito, server, answer["Session"], "bob")["AuthenticationResult"]["AccessToken"]
    with pytest.raises(ClientError) as replayed:
        _new_password(cognito, server, answer["Session"], "bob")
    assert replayed.value.response["Error"] == {
        "Code": "NotAuthorizedException",
        "Message": "Invalid session for the user, session is expired.",
    }
    assert password_auth(cognito, server, "bob", CHOSEN)["AuthenticationResult"]


def test_new_password_challenge_refuses_forged_sessions_and_other_users(server: RunningServer) -> None:
    _admin_created(server, "carla", given_name="Carla", family_name="C")
    _admin_created(server, "dave", given_name="Dave", family_name="D")
    cognito = cognito_client(server)
    session = password_auth(cognito, server, "carla", TEMPORARY)["Session"]
    for forged, username in (
        ("bm90IGEgc2Vzc2lvbg==", "carla"),
        (session[:-8] + "AAAAAAA=", "carla"),
        (session, "dave"),
    ):
        body = {
            "ClientId": client_id(server),
            "ChallengeName": "NEW_PASSWORD_REQUIRED",
            "Session": forged,
            "ChallengeResponses": {"USERNAME": username, "NEW_PASSWORD": CHOSEN},
        }
        status, kind, _ = error_of(raw_call(server, "RespondToAuthChallenge", body))
        assert (status, kind) == (400, "NotAuthorizedException")
    with pytest.raises(ClientError) as unknown:
        _new_password(cognito, server, session, "carla", **{"userAttributes.email": "evil@example.com"})
    assert unknown.value.response["Error"]["Code"] == "InvalidParameterException"
    echoed = {"userAttributes.email": "carla@example.com", "userAttributes.email_verified": "true"}
    # nothing changed: dave still has his temporary password, carla's session still works
    assert password_auth(cognito, server, "dave", TEMPORARY)["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert _new_password(cognito, server, session, "carla", **echoed)[
        "AuthenticationResult"
    ]  # as shown: fine


def test_auth_form_asks_for_new_password_and_takes_it(server: RunningServer) -> None:
    _admin_created(server, "erin", given_name="Erin", family_name="E")
    signin = f"{server.url}/auth/signin"
    asked = httpx.post(signin, json={"username": "erin", "password": TEMPORARY}, timeout=30)
    assert (asked.status_code, asked.json()["__type"]) == (400, "PasswordResetRequiredException")
    assert "newPassword" in asked.json()["message"]
    done = httpx.post(
        signin, json={"username": "erin", "password": TEMPORARY, "newPassword": CHOSEN}, timeout=30
    )
    assert done.status_code == 200, done.text
    assert _me(server, done.json()["accessToken"])["data"]["me"]["username"] == "erin"
    wrong = httpx.post(signin, json={"username": "erin", "password": TEMPORARY}, timeout=30)
    assert wrong.json()["__type"] == "NotAuthorizedException"
    assert httpx.post(signin, json={"username": "erin", "password": CHOSEN}, timeout=30).status_code == 200
