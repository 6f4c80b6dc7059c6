"""aws-amplify 4.3.27, the chat seed's exact version, in Node: Auth configured with `endpoint` signs up, confirms,
signs in with SRP and signs out globally against chatserver; the session's access token runs the seed's ListRooms
through Amplify's own API category and its onCreateMessageByRoomId over the AppSync real-time protocol.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets

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
from tests.helpers import (
    AMZ_USER_AGENT,
    CREATE_ROOM,
    LIST_ROOMS,
    ON_CREATE_MESSAGE_BY_ROOM_ID,
    PASSWORD,
    GraphQL,
)
from tests.node_clients import node_package
from tests.realtime import live


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CognitoWorld]:
    with cognito_world(tmp_path_factory.mktemp("amplify4") / "data") as running:
        yield running


@pytest.fixture(scope="module")
def package() -> Path:
    return node_package("node_cognito")


@pytest.fixture
def amplify(world: CognitoWorld, package: Path) -> Iterator[Driver]:
    with driver(package, "amplify4_driver.mjs", world) as started:
        yield started


def register(amplify: Driver, world: CognitoWorld, username: str) -> dict:
    signed_up = amplify.call(
        "signUp", username=username, password=PASSWORD, attributes={"email": email_of(username), **ATTRIBUTES}
    )
    assert amplify.call("confirmSignUp", username=username, code=world.codes.latest(username)) == "SUCCESS"
    return signed_up


async def realtime_handshake(world: CognitoWorld, token: str) -> dict:
    """The first frame answering an AppSync real-time connection_init made with `token`."""
    header = live.header_b64(token, live.host_of(world.server))
    url = f"{world.server.ws_url}/graphql/realtime?header={header}&payload=e30="
    async with websockets.connect(url, subprotocols=["graphql-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init"}))
        return await live.recv_json(ws)


def test_amplify4_signs_up_signs_in_with_srp_and_runs_the_chat_seed(
    world: CognitoWorld, amplify: Driver
) -> None:
    signed_up = register(amplify, world, "seeduser")
    assert signed_up["userConfirmed"] is False

    user = amplify.call("signIn", username="seeduser", password=PASSWORD)
    # SRP, then GetUser (Amplify reads the attributes because the access token's scope allows it).
    assert amplify.operations() == ["InitiateAuth:USER_SRP_AUTH", "RespondToAuthChallenge", "GetUser"]
    assert user["username"] == "seeduser" and user["challengeName"] is None
    assert user["attributes"] == {
        "sub": signed_up["userSub"],
        "email": "seeduser@example.com",
        "email_verified": True,
        "given_name": "Ada",
        "family_name": "Lovelace",
    }
    # With bypassCache the SDK (5.2.10 inside Amplify 4) re-reads the user and refreshes the tokens.
    current = amplify.call("currentAuthenticatedUser")
    assert amplify.operations() == ["GetUser", "InitiateAuth:REFRESH_TOKEN_AUTH"]
    assert current["attributes"]["sub"] == signed_up["userSub"]
    session = amplify.call("currentSession")
    assert session["idTokenPayload"]["cognito:username"] == "seeduser"

    # The seed's calls through Amplify's API category (it reads the access token from Auth by itself).
    created_room = amplify.call("graphql", query=CREATE_ROOM, variables={"input": {"name": "amplify 4 room"}})
    room = created_room["data"]["createRoom"]
    listed = amplify.call("graphql", query=LIST_ROOMS, variables={})
    assert room["id"] in [r["id"] for r in listed["data"]["listRooms"]["items"]]
    assert amplify.call(
        "subscribe", query=ON_CREATE_MESSAGE_BY_ROOM_ID, variables={"roomId": room["id"]}
    ) == {"acknowledged": True}

    # The same access token, as the page's other code would send it over HTTP.
    chat = GraphQL(world.server.url, session["accessToken"], {"x-amz-user-agent": AMZ_USER_AGENT})
    created = chat.create_message(room["id"], "hello from Amplify 4")

    frame = amplify.event("data")
    assert frame["payload"]["data"] == {"onCreateMessageByRoomId": created}
    assert created["owner"] == "seeduser"


def test_amplify4_global_sign_out_refuses_the_token_and_closes_the_socket(
    world: CognitoWorld, amplify: Driver
) -> None:
    register(amplify, world, "leaving")
    amplify.call("signIn", username="leaving", password=PASSWORD)
    session = amplify.call("currentSession")
    room = amplify.call("graphql", query=CREATE_ROOM, variables={"input": {"name": "leaving"}})["data"]
    amplify.call(
        "subscribe", query=ON_CREATE_MESSAGE_BY_ROOM_ID, variables={"roomId": room["createRoom"]["id"]}
    )

    amplify.call("signOut", options={"global": True})

    assert amplify.operations() == ["GlobalSignOut"]
    closed = amplify.event("subscription-error")  # the server closed the live subscription's socket
    assert closed["errors"] == [{"message": "Connection closed"}]
    world.assert_refused(session["accessToken"])
    world.assert_refused(session["idToken"])
    frame = asyncio.run(realtime_handshake(world, session["accessToken"]))
    assert frame["type"] == "connection_error"
    assert frame["payload"]["errors"][0]["errorType"] == "UnauthorizedException"
    assert amplify.refused("currentSession").message == "No current user"

    again = amplify.call("signIn", username="leaving", password=PASSWORD)  # signing in again works
    assert again["username"] == "leaving"
    world.assert_accepted(amplify.call("currentSession")["accessToken"])


def test_amplify4_wrong_password_is_refused_with_cognitos_error(world: CognitoWorld, amplify: Driver) -> None:
    register(amplify, world, "mistyped")

    wrong = amplify.refused("signIn", username="mistyped", password=WRONG_PASSWORD)

    assert (wrong.name, wrong.message) == ("NotAuthorizedException", INCORRECT)
    assert amplify.refused("currentSession").message == "No current user"
    assert amplify.call("signIn", username="mistyped", password=PASSWORD)["username"] == "mistyped"


@pytest.fixture(scope="module")
def short_lived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CognitoWorld]:
    """ID and access tokens that expire within seconds (an hour on the defaults)."""
    with cognito_world(
        tmp_path_factory.mktemp("amplify4-short") / "data", id_token_ttl=3, access_token_ttl=3
    ) as running:
        yield running


def test_amplify4_current_session_refreshes_an_expired_session(
    short_lived: CognitoWorld, package: Path
) -> None:
    with driver(package, "amplify4_driver.mjs", short_lived) as amplify:
        register(amplify, short_lived, "sleeper")
        amplify.call("signIn", username="sleeper", password=PASSWORD)
        first = amplify.call("currentSession")
        wait_until_expired(first["accessToken"])
        short_lived.assert_refused(first["accessToken"])  # what the app would get without a refresh

        again = amplify.call("currentSession")

        assert amplify.operations() == ["InitiateAuth:REFRESH_TOKEN_AUTH"]
        assert again["accessToken"] != first["accessToken"]
        short_lived.assert_accepted(again["accessToken"])
        rooms = amplify.call("graphql", query=LIST_ROOMS, variables={})  # Amplify's API uses the fresh token
        assert rooms["data"]["listRooms"]["items"] == []
