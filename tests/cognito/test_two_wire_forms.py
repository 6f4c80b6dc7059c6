"""One account service, two wire forms: accounts, codes, groups, the users row, sign-out and its closed sockets are
the same whether a client speaks /auth/* or Cognito's own API; and an account made before SRP existed (migration
0002) gets its verifier at its next password sign-in, through either form."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from alembic import command
from argon2 import PasswordHasher
from botocore.exceptions import ClientError
from jose import jwt
from pycognito.aws_srp import AWSSRP
from sqlalchemy import text

from chatserver.config import Settings
from chatserver.persistence.database import alembic_config, create_engine
from tests.auth.flows import CodeLog, db_rows
from tests.cognito.clients import PASSWORD, client_id, cognito_client, password_auth, pool_id, sign_up
from tests.databases import fresh_database_url
from tests.helpers import on_server_loop
from tests.realtime import live
from tests.server import RunningServer, run_server

ME = "{ me { username email givenName familyName } }"


def _me(server: RunningServer, token: str) -> dict[str, Any]:
    response = httpx.post(
        f"{server.url}/graphql", json={"query": ME}, headers={"Authorization": token}, timeout=30
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]["me"]


def _srp(cognito: Any, server: RunningServer, username: str, password: str = PASSWORD) -> dict[str, Any]:
    return AWSSRP(username, password, pool_id(server), client_id(server), client=cognito).authenticate_user()[
        "AuthenticationResult"
    ]


def _auth(server: RunningServer, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{server.url}/auth/{path}", json=body, timeout=30)


def test_signed_up_through_auth_confirmed_and_signed_in_through_cognito(
    pool_server: RunningServer, cognito: Any, codes: CodeLog
) -> None:
    body = {
        "username": "viaauth",
        "password": PASSWORD,
        "email": "viaauth@example.com",
        "givenName": "Via",
        "familyName": "Auth",
    }
    assert _auth(pool_server, "signup", body).status_code == 200
    cognito.confirm_sign_up(
        ClientId=client_id(pool_server), Username="viaauth", ConfirmationCode=codes.latest("viaauth")
    )
    result = _srp(cognito, pool_server, "viaauth")
    assert _me(pool_server, result["AccessToken"]) == {  # the post-confirmation users row
        "username": "viaauth",
        "email": "viaauth@example.com",
        "givenName": "Via",
        "familyName": "Auth",
    }
    # the same refresh token works through the other form
    refreshed = _auth(pool_server, "refresh", {"refreshToken": result["RefreshToken"]})
    assert refreshed.status_code == 200, refreshed.text


def test_signed_up_through_cognito_confirmed_and_signed_in_through_auth(
    pool_server: RunningServer, cognito: Any, codes: CodeLog
) -> None:
    sign_up(cognito, pool_server, "viacognito")
    confirmed = _auth(
        pool_server, "confirm-signup", {"username": "viacognito", "code": codes.latest("viacognito")}
    )
    assert confirmed.status_code == 200, confirmed.text
    tokens = _auth(pool_server, "signin", {"username": "viacognito", "password": PASSWORD}).json()
    assert _me(pool_server, tokens["accessToken"])["givenName"] == "Grace"
    assert cognito.get_user(AccessToken=tokens["accessToken"])["Username"] == "viacognito"
    assert _srp(cognito, pool_server, "viacognito")["AccessToken"]


def test_the_auth_form_requires_the_pools_attributes_too(pool_server: RunningServer) -> None:
    body = {"username": "nameless", "password": PASSWORD, "email": "nameless@example.com", "givenName": "N"}
    response = _auth(pool_server, "signup", body)
    assert (response.status_code, response.json()["__type"]) == (400, "InvalidParameterException")
    assert "family_name" in response.json()["message"]


def test_groups_added_by_the_administrator_are_in_srp_tokens(
    pool_server: RunningServer, cognito: Any, codes: CodeLog
) -> None:
    sign_up(cognito, pool_server, "moderator")
    cognito.confirm_sign_up(
        ClientId=client_id(pool_server), Username="moderator", ConfirmationCode=codes.latest("moderator")
    )
    on_server_loop(pool_server, pool_server.app.state.services.accounts.add_to_group("moderator", "admin"))
    result = _srp(cognito, pool_server, "moderator")
    for token in (result["IdToken"], result["AccessToken"]):
        assert jwt.get_unverified_claims(token)["cognito:groups"] == ["admin"]


def test_a_failure_through_one_form_counts_for_the_other(
    pool_server: RunningServer, cognito: Any, codes: CodeLog
) -> None:
    sign_up(cognito, pool_server, "counted")
    cognito.confirm_sign_up(
        ClientId=client_id(pool_server), Username="counted", ConfirmationCode=codes.latest("counted")
    )
    for _ in range(pool_server.settings.signin_max_failures):
        response = _auth(pool_server, "signin", {"username": "counted", "password": "Wr0ng-Password!"})
        assert response.json()["__type"] == "NotAuthorizedException"
    with pytest.raises(ClientError) as info:
        _srp(cognito, pool_server, "counted")
    assert info.value.response["Error"]["Code"] == "TooManyRequestsException"


async def test_cognito_global_sign_out_closes_the_users_sockets(
    pool_server: RunningServer, cognito: Any, codes: CodeLog
) -> None:
    await asyncio.to_thread(sign_up, cognito, pool_server, "socketeer")
    code = codes.latest("socketeer")
    await asyncio.to_thread(
        cognito.confirm_sign_up, ClientId=client_id(pool_server), Username="socketeer", ConfirmationCode=code
    )
    result = await asyncio.to_thread(_srp, cognito, pool_server, "socketeer")
    ws = await live.appsync_connect(pool_server, result["AccessToken"])
    try:
        await asyncio.to_thread(cognito.global_sign_out, AccessToken=result["AccessToken"])
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                await live.recv_json(ws, wait=15)
        assert ws.close_code == 4401
    finally:
        await ws.close()


# --- accounts made before SRP ---


def _account_made_before_srp(settings: Settings, username: str) -> None:
    """A database at revision 0002 (no verifier columns) with one confirmed account, as an older release left it."""
    url = settings.resolved_database_url

    async def prepare() -> None:
        engine = create_engine(url)
        cfg = alembic_config(url)

        def upgrade(connection: Any) -> None:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "0002")

        try:
            async with engine.begin() as connection:
                await connection.run_sync(upgrade)
                await connection.execute(
                    text(
                        "INSERT INTO accounts (sub, username, password_hash, email, given_name, family_name, status,"
                        " created_at, tokens_valid_after) VALUES (:sub, :username, :hash, :email, 'Old', 'Timer',"
                        " 'CONFIRMED', '2026-11-20T00:00:00.000Z', 0)"
                    ),
                    {
                        "sub": f"00000000-0000-4000-8000-{len(username):012d}",
                        "username": username,
                        "hash": PasswordHasher().hash(PASSWORD),
                        "email": f"{username}@example.com",
                    },
                )
        finally:
            await engine.dispose()

    asyncio.run(prepare())


@pytest.fixture
def old_server(tmp_path: Path) -> Iterator[RunningServer]:
    with fresh_database_url() as database_url:
        settings = Settings(data_dir=tmp_path / "data", database_url=database_url)
        _account_made_before_srp(settings, "oldtimer")
        with run_server(tmp_path / "data", database_url=database_url) as server:
            yield server


@pytest.mark.parametrize("first_sign_in", ["auth form", "USER_PASSWORD_AUTH"])
def test_an_account_made_before_srp_gets_its_verifier_at_the_next_password_sign_in(
    old_server: RunningServer, first_sign_in: str
) -> None:
    cognito = cognito_client(old_server)
    verifier = "SELECT srp_salt, srp_verifier FROM accounts WHERE username = 'oldtimer'"
    assert db_rows(old_server.settings, verifier) == [(None, None)]
    with pytest.raises(ClientError) as before:
        _srp(cognito, old_server, "oldtimer")
    assert before.value.response["Error"]["Code"] == "NotAuthorizedException"

    if first_sign_in == "auth form":
        response = _auth(old_server, "signin", {"username": "oldtimer", "password": PASSWORD})
        assert response.status_code == 200, response.text
    else:
        assert password_auth(cognito, old_server, "oldtimer")["AuthenticationResult"]
    ((salt, stored),) = db_rows(old_server.settings, verifier)
    assert salt and stored and PASSWORD not in stored

    result = _srp(cognito, old_server, "oldtimer")
    assert cognito.get_user(AccessToken=result["AccessToken"])["Username"] == "oldtimer"
    with pytest.raises(ClientError) as wrong:
        _srp(cognito, old_server, "oldtimer", "Wr0ng-Password!")
    assert wrong.value.response["Error"]["Code"] == "NotAuthorizedException"
