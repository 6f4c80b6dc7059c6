"""OPENID_CONNECT end to end: tokens of an external issuer (a second chatserver process with its own keys, serving
discovery and JWKS as a Cognito pool does) over HTTP, AppSync real-time and graphql-transport-ws."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets
from jose import jws

from tests import helpers as seed
from tests.auth.oidc_issuer import CLIENT_ID, ExternalIssuer
from tests.helpers import HTTP, GraphQL, create_account
from tests.realtime import live
from tests.server import RunningServer, run_server

ME = "query Me { me { id username } }"


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExternalIssuer]:
    external = ExternalIssuer(Path(tmp_path_factory.mktemp("issuer")) / "data")
    external.start()
    try:
        yield external
    finally:
        external.stop()


def _oidc_server(data_dir: Path, issuer: ExternalIssuer, **overrides: object):
    settings: dict[str, object] = {"additional_auth_modes": ("OPENID_CONNECT",), **overrides}
    return run_server(
        data_dir, auto_confirm=True, oidc_issuer=issuer.url, oidc_client_id=CLIENT_ID, **settings
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, issuer: ExternalIssuer) -> Iterator[RunningServer]:
    with _oidc_server(Path(tmp_path_factory.mktemp("oidc")) / "data", issuer) as running:
        yield running


@pytest.fixture(scope="module")
def external_user(issuer: ExternalIssuer) -> dict[str, str]:
    return issuer.user_tokens("erin")


def _post(server: RunningServer, token: str, query: str, variables: dict | None = None) -> httpx.Response:
    return httpx.post(
        f"{server.url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": token},
        **HTTP,
    )


# --- HTTP


def test_oidc_access_and_id_tokens_of_the_external_pool_read_and_write(
    server: RunningServer, external_user: dict[str, str]
) -> None:
    chat = GraphQL(server.url, external_user["accessToken"])
    room = chat.create_room("external pool")
    assert room["name"] == "external pool"
    message = chat.create_message(room["id"], "hello from the other pool")
    assert message["owner"] == "erin"  # cognito:username / username of the external token
    walkie = GraphQL(server.url, "Bearer " + external_user["idToken"])
    assert [m["id"] for m in walkie.messages(room["id"])] == [message["id"]]


def test_oidc_caller_is_refused_a_field_that_admits_the_default_mode_only(
    server: RunningServer, external_user: dict[str, str]
) -> None:
    error = GraphQL(server.url, external_user["accessToken"]).error(ME)
    assert error["errorType"] == "Unauthorized"
    assert error["message"] == "Not Authorized to access me on type Query"


def test_oidc_built_in_pool_keeps_working_beside_it(server: RunningServer) -> None:
    account = create_account(server, "builtin")
    chat = GraphQL.chat_app(server, account)
    assert chat.data(ME)["me"]["username"] == "builtin"
    assert chat.create_room("mine")["name"] == "mine"


def test_oidc_groups_of_the_external_token_feed_the_group_rules(
    server: RunningServer, issuer: ExternalIssuer, external_user: dict[str, str]
) -> None:
    room = GraphQL(server.url, external_user["accessToken"]).create_room("to delete")
    delete = "mutation D($id: ID!) { deleteRoom(id: $id) { id } }"
    plain = issuer.sign(username="plain")
    assert GraphQL(server.url, plain).error(delete, {"id": room["id"]})["errorType"] == "Unauthorized"
    admin = issuer.sign({"cognito:groups": ["admin"]}, username="boss")
    assert GraphQL(server.url, admin).data(delete, {"id": room["id"]}) == {"deleteRoom": {"id": room["id"]}}


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("other audience", "Valid authorization header not provided."),
        ("expired", "Token has expired."),
        ("wrong issuer", "Valid authorization header not provided."),
        ("not yet valid", "Valid authorization header not provided."),
        ("kid pointing nowhere", "Valid authorization header not provided."),
        ("HS256", "Valid authorization header not provided."),
        ("alg none", "Valid authorization header not provided."),
        ("garbage", "Unable to parse JWT token."),
        ("no sub", "Valid authorization header not provided."),
    ],
)
def test_oidc_bad_tokens_are_refused_with_401_and_change_nothing(
    server: RunningServer, issuer: ExternalIssuer, case: str, message: str
) -> None:
    now = int(time.time())
    kid = issuer.kids()[0]
    tokens = {
        "other audience": lambda: issuer.sign(client_id="someone-elses-app"),
        "expired": lambda: issuer.sign(iat=now - 7200, exp=now - 3600),
        "wrong issuer": lambda: issuer.sign(
            iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"
        ),
        "not yet valid": lambda: issuer.sign(nbf=now + 3600),
        "kid pointing nowhere": lambda: issuer.sign(kid="no-such-key"),
        # HS256 keyed with the issuer's public JWK text: the classic algorithm-confusion attack.
        "HS256": lambda: jws.sign(
            {"sub": "x", "client_id": CLIENT_ID, "iss": issuer.url, "exp": now + 600},
            json.dumps(httpx.get(f"{issuer.base}/.well-known/jwks.json").json()["keys"][0]),
            headers={"kid": kid},
            algorithm="HS256",
        ),
        "alg none": lambda: ".".join(
            [
                _b64(json.dumps({"alg": "none", "kid": kid})),
                _b64(json.dumps({"sub": "x", "client_id": CLIENT_ID, "iss": issuer.url, "exp": now + 600})),
                "",
            ]
        ),
        "garbage": lambda: "eyJ.not-a-jwt.at-all",
        "no sub": lambda: issuer.sign(sub=None),
    }
    before = GraphQL(server.url, issuer.sign()).data(seed.LIST_ROOMS)
    response = _post(server, tokens[case](), seed.CREATE_ROOM, {"input": {"name": "must not exist"}})
    assert response.status_code == 401, response.text
    assert response.headers["x-amzn-ErrorType"] == "UnauthorizedException"
    assert response.json()["errors"][0] == {"errorType": "UnauthorizedException", "message": message}
    assert GraphQL(server.url, issuer.sign()).data(seed.LIST_ROOMS) == before


def _b64(text: str) -> str:
    import base64

    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


# --- WebSockets


async def test_oidc_appsync_realtime_subscription_receives_messages(
    server: RunningServer, external_user: dict[str, str]
) -> None:
    token = external_user["accessToken"]
    room = await live.create_room(server, token, "realtime oidc")
    async with await live.appsync_connect(server, token) as ws:
        auth = {"Authorization": token, "host": live.host_of(server)}
        ack = await live.appsync_start(ws, "s1", seed.ON_CREATE_MESSAGE_BY_ROOM_ID, {"roomId": room}, auth)
        assert ack == {"type": "start_ack", "id": "s1"}
        variables = {"input": {"roomId": room, "content": {"text": "over realtime"}}}
        created = await live.graphql(server, token, seed.CREATE_MESSAGE, variables)
        frame = await live.recv_json(ws)
        assert frame["payload"]["data"]["onCreateMessageByRoomId"] == created["data"]["createMessage"]


async def test_oidc_appsync_realtime_refuses_a_foreign_audience_token(
    server: RunningServer, issuer: ExternalIssuer
) -> None:
    token = issuer.sign(client_id="someone-elses-app")
    url = (
        f"{server.ws_url}/graphql/realtime?header={live.header_b64(token, live.host_of(server))}&payload=e30="
    )
    async with websockets.connect(url, subprotocols=["graphql-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init"}))
        frame = await live.recv_json(ws)
        assert frame["type"] == "connection_error"
        assert frame["payload"]["errors"][0]["errorType"] == "UnauthorizedException"
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await live.recv_json(ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_oidc_graphql_transport_ws_subscribes_and_is_refused_me(
    server: RunningServer, external_user: dict[str, str]
) -> None:
    token = external_user["accessToken"]
    room = await live.create_room(server, token, "gtws oidc")
    async with websockets.connect(f"{server.ws_url}/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": token}}))
        assert await live.recv_json(ws) == {"type": "connection_ack"}
        await ws.send(json.dumps({"id": "q", "type": "subscribe", "payload": {"query": ME}}))
        result = await live.recv_json(ws)
        assert result["type"] == "next"
        assert result["payload"]["errors"][0]["errorType"] == "Unauthorized"
        assert result["payload"]["data"] == {"me": None}
        assert await live.recv_json(ws) == {"id": "q", "type": "complete"}
        payload = {"query": seed.ON_CREATE_MESSAGE_BY_ROOM_ID, "variables": {"roomId": room}}
        await ws.send(json.dumps({"id": "s", "type": "subscribe", "payload": payload}))
        await live.wait_for_subscriptions(server, 1)
        variables = {"input": {"roomId": room, "content": {"text": "over gtws"}}}
        created = await live.graphql(server, token, seed.CREATE_MESSAGE, variables)
        frame = await live.recv_json(ws)
        assert frame["payload"]["data"]["onCreateMessageByRoomId"] == created["data"]["createMessage"]


async def test_oidc_graphql_transport_ws_refuses_an_expired_token(
    server: RunningServer, issuer: ExternalIssuer
) -> None:
    now = int(time.time())
    token = issuer.sign(iat=now - 7200, exp=now - 3600)
    async with websockets.connect(f"{server.ws_url}/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": token}}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await live.recv_json(ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
        assert "Token has expired." in closed.value.rcvd.reason


# --- the issuer's keys over time


def test_oidc_key_rotation_and_issuer_outage(tmp_path: Path) -> None:
    issuer = ExternalIssuer(tmp_path / "issuer")
    issuer.start()
    try:
        with _oidc_server(tmp_path / "data", issuer) as server:
            before = issuer.user_tokens("rota")["accessToken"]
            assert GraphQL(server.url, before).data(seed.LIST_ROOMS)
            old_kid = issuer.kids()[0]

            issuer.rotate()  # a new kid signs; the old one is still published as the previous key
            assert issuer.kids()[0] != old_kid and old_kid in issuer.kids()
            rotated = issuer.sign(username="after-rotation")
            assert GraphQL(server.url, rotated).create_room("after rotation")["name"] == "after rotation"
            assert GraphQL(server.url, before).data(seed.LIST_ROOMS)

            current = issuer.kids()[0]
            issuer.stop()  # the issuer goes away: keys already fetched keep verifying new tokens
            fresh = issuer.sign(kid=current, username="while-down")
            assert GraphQL(server.url, fresh).data(seed.LIST_ROOMS)["listRooms"]["items"]
            unknown = issuer.sign(kid="rotated-while-down")
            assert _post(server, unknown, seed.LIST_ROOMS).status_code == 401
            account = create_account(server, "local")  # other modes never wait for the issuer
            assert GraphQL.chat_app(server, account).create_room("local")["name"] == "local"
    finally:
        issuer.stop()


async def test_oidc_as_default_mode_refuses_default_only_fields_to_the_built_in_pool(
    tmp_path: Path, issuer: ExternalIssuer, external_user: dict[str, str]
) -> None:
    with _oidc_server(
        tmp_path / "data", issuer, default_auth_mode="OPENID_CONNECT", additional_auth_modes=("USER_POOL",)
    ) as server:
        local = await asyncio.to_thread(create_account, server, "localuser")
        external = GraphQL(server.url, external_user["accessToken"])
        body = await asyncio.to_thread(external.execute, ME)
        assert body == {"data": {"me": None}}  # admitted; the external user has no profile row here
        mine = GraphQL.chat_app(server, local)
        error = await asyncio.to_thread(mine.error, ME)
        assert error["errorType"] == "Unauthorized"
        room = await asyncio.to_thread(mine.create_room, "both pools write")
        assert room["name"] == "both pools write"
        token = local.tokens.access_token
        async with websockets.connect(
            f"{server.ws_url}/graphql", subprotocols=["graphql-transport-ws"]
        ) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": token}}))
            assert await live.recv_json(ws) == {"type": "connection_ack"}
            await ws.send(json.dumps({"id": "q", "type": "subscribe", "payload": {"query": ME}}))
            result = await live.recv_json(ws)
            assert result["payload"]["errors"][0]["message"] == "Not Authorized to access me on type Query"


def _issuer_fetches(issuer: ExternalIssuer) -> float:
    """GETs the issuer served under its pool path (discovery and JWKS), from its own /metrics."""
    text = httpx.get(f"{issuer.base}/metrics", timeout=10).text
    total = 0.0
    for line in text.splitlines():
        if (
            line.startswith("chatserver_requests_total{")
            and 'method="GET"' in line
            and 'route="other"' in line
        ):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_oidc_unknown_kids_refetch_the_keys_at_most_once_a_minute(
    tmp_path: Path, issuer: ExternalIssuer
) -> None:
    with _oidc_server(tmp_path / "data", issuer) as server:
        assert GraphQL(server.url, issuer.sign()).data(seed.LIST_ROOMS)  # keys loaded at start
        before = _issuer_fetches(issuer)
        for n in range(3):
            response = _post(server, issuer.sign(kid=f"unknown-{n}"), seed.LIST_ROOMS)
            assert response.status_code == 401
        assert _issuer_fetches(issuer) - before == 2  # one discovery document and one JWKS, then none
        assert GraphQL(server.url, issuer.sign()).data(seed.LIST_ROOMS)
