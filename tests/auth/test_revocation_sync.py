"""A global sign-out reaches a replica that missed the broker's notice, through the database."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import websockets

from tests.realtime import live
from tests.server import run_server


def test_signout_on_one_server_reaches_another_through_the_database(
    tmp_path: Path, database_url: str
) -> None:
    # Two servers on one data directory and one database, each with its own in-memory broker: no sign-out
    # notice can travel between them, only the accounts table.
    data = tmp_path / "data"
    shared = {
        "auto_confirm": True,
        "revocation_sync_interval": 1,
        "public_url": "http://chat.test",
        "database_url": database_url,  # "" = the SQLite file in the shared data directory
    }
    with run_server(data, **shared) as first, run_server(data, **shared) as second:
        # both name the same issuer (public_url), so each is reached by its loopback port
        first_url, second_url = (f"http://127.0.0.1:{srv.settings.port}" for srv in (first, second))
        signup = {
            "username": "roamer",
            "password": live.PASSWORD,
            "email": "r@example.com",
            "givenName": "Rover",
            "familyName": "Roamer",
        }
        assert httpx.post(first_url + "/auth/signup", json=signup).status_code == 200
        signin = {"username": "roamer", "password": live.PASSWORD}
        token = httpx.post(first_url + "/auth/signin", json=signin).json()["accessToken"]
        query = {"query": "{ me { username } }"}
        assert (
            httpx.post(second_url + "/graphql", json=query, headers={"Authorization": token}).status_code
            == 200
        )

        async def watch_socket_on_second() -> int | None:
            url = second_url.replace("http", "ws", 1) + "/graphql"
            async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
                await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": token}}))
                assert json.loads(await ws.recv())["type"] == "connection_ack"
                async with httpx.AsyncClient() as client:
                    signed_out = await client.post(
                        first_url + "/auth/signout", headers={"Authorization": token}
                    )
                assert signed_out.status_code == 200
                try:
                    await asyncio.wait_for(ws.recv(), 15)
                except websockets.ConnectionClosed as closed:
                    return closed.rcvd.code if closed.rcvd else None
                return None

        assert asyncio.run(watch_socket_on_second()) == 4401
        deadline = time.monotonic() + 15
        while True:
            refused = httpx.post(second_url + "/graphql", json=query, headers={"Authorization": token})
            if refused.status_code == 401 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert refused.status_code == 401
        assert refused.json()["errors"][0]["errorType"] == "UnauthorizedException"


def test_revoke_token_on_one_server_reaches_another_through_the_database(
    tmp_path: Path, database_url: str
) -> None:
    """RevokeToken (Cognito API) ends that session's tokens on a replica that heard nothing, within the sync
    interval; the user's other session keeps working there."""
    from tests.cognito.clients import Endpoint, attributes, raw_call

    data = tmp_path / "data"
    shared = {
        "auto_confirm": True,
        "revocation_sync_interval": 1,
        "public_url": "http://chat.test",  # one issuer for both; each is reached by its loopback port
        "database_url": database_url,
    }
    with run_server(data, **shared) as first_server, run_server(data, **shared) as second_server:
        first, on_second = (
            Endpoint(f"http://127.0.0.1:{srv.settings.port}", srv.settings)
            for srv in (first_server, second_server)
        )
        signup = {
            "ClientId": "chatserver",
            "Username": "revoker",
            "Password": live.PASSWORD,
            "UserAttributes": attributes("revoker"),
        }
        assert raw_call(first, "SignUp", signup).status_code == 200
        login = {
            "ClientId": "chatserver",
            "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": "revoker", "PASSWORD": live.PASSWORD},
        }
        revoked, kept = (raw_call(first, "InitiateAuth", login).json()["AuthenticationResult"] for _ in "12")
        for session in (revoked, kept):
            assert raw_call(on_second, "GetUser", {"AccessToken": session["AccessToken"]}).status_code == 200
        revoke = {"ClientId": "chatserver", "Token": revoked["RefreshToken"]}
        assert raw_call(first, "RevokeToken", revoke).status_code == 200
        deadline = time.monotonic() + 15
        while True:
            answer = raw_call(on_second, "GetUser", {"AccessToken": revoked["AccessToken"]})
            if answer.status_code == 400 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert (answer.status_code, answer.json()["__type"]) == (400, "NotAuthorizedException")
        assert raw_call(on_second, "GetUser", {"AccessToken": kept["AccessToken"]}).status_code == 200
