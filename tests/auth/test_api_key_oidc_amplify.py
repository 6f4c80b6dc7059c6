"""aws-amplify v6 under Node with `authMode: 'apiKey'` and `authMode: 'oidc'` (a custom token provider) against a
TLS chatserver that enables both modes beside its own pool: a query, a subscription over wss:// and a mutation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import helpers as seed
from tests.auth.oidc_issuer import CLIENT_ID, ExternalIssuer
from tests.helpers import GraphQL, create_account, on_server_loop
from tests.node_clients import NodeScript, node_package
from tests.server import RunningServer, run_server
from tests.transport.test_ws_node_clients import _self_signed_certificate


@dataclass(frozen=True, slots=True)
class World:
    server: RunningServer
    issuer: ExternalIssuer
    certificate: Path
    owner: GraphQL


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    directory = Path(tmp_path_factory.mktemp("amplify-modes"))
    cert, key = _self_signed_certificate(directory)
    issuer = ExternalIssuer(directory / "issuer")
    issuer.start()
    try:
        with run_server(
            directory / "data",
            auto_confirm=True,
            tls_certfile=str(cert),
            tls_keyfile=str(key),
            additional_auth_modes=("API_KEY", "OPENID_CONNECT"),
            oidc_issuer=issuer.url,
            oidc_client_id=CLIENT_ID,
        ) as server:
            owner = GraphQL.chat_app(server, create_account(server, "roomowner"))
            yield World(server, issuer, cert, owner)
    finally:
        issuer.stop()


def _run(world: World, config: dict[str, Any], token: str = "") -> NodeScript:
    directory = node_package("node")
    env = {"CHATSERVER_TOKEN": token, "NODE_EXTRA_CA_CERTS": str(world.certificate)}
    return NodeScript(directory, "amplify_auth_modes.mjs", config, env)


def _config(world: World, mode: str, room_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "endpoint": f"{world.server.url}/graphql",
        "mode": mode,
        "roomId": room_id,
        "listQuery": seed.LIST_ROOMS,
        "subscription": seed.ON_CREATE_MESSAGE_BY_ROOM_ID,
        "mutation": seed.CREATE_MESSAGE,
        "mutationVariables": {"input": {"content": {"text": f"from {mode}"}, "roomId": room_id}},
        **extra,
    }


def test_api_key_amplify_v6_api_key_mode_reads_and_subscribes_but_cannot_post(world: World) -> None:
    room_id = world.owner.create_room("kiosk")["id"]
    key = on_server_loop(world.server, world.server.app.state.services.api_keys.create()).key
    client = _run(world, _config(world, "apiKey", room_id, apiKey=key))
    try:
        listed = client.expect("query")
        assert listed["errors"] is None
        assert room_id in [room["id"] for room in listed["data"]["listRooms"]["items"]]
        client.expect("ready")
        posted = world.owner.create_message(room_id, "seen by the kiosk")
        assert client.expect("data")["payload"]["data"] == {"onCreateMessageByRoomId": posted}
        refused = client.expect("mutation")
        assert refused["data"] == {"createMessage": None}
        assert refused["errors"][0]["errorType"] == "Unauthorized"
        assert refused["errors"][0]["message"] == "Not Authorized to access createMessage on type Mutation"
        client.expect("done")
        assert client.wait() == 0
    finally:
        client.stop()
    assert [m["id"] for m in world.owner.messages(room_id)] == [posted["id"]]


def test_api_key_amplify_v6_oidc_mode_with_a_custom_token_provider(world: World) -> None:
    room_id = world.owner.create_room("external users")["id"]
    token = world.issuer.user_tokens("oliver")["accessToken"]
    client = _run(world, _config(world, "oidc", room_id), token)
    try:
        listed = client.expect("query")
        assert listed["errors"] is None
        client.expect("ready")
        posted = world.owner.create_message(room_id, "to the OIDC user")
        assert client.expect("data")["payload"]["data"] == {"onCreateMessageByRoomId": posted}
        sent = client.expect("mutation")
        assert sent["errors"] is None
        assert sent["data"]["createMessage"]["owner"] == "oliver"
        client.expect("done")
        assert client.wait() == 0
    finally:
        client.stop()
