"""Real JavaScript clients against the real server: the `graphql-ws` npm client (graphql-transport-ws on /graphql)
and aws-amplify v6 (AppSync real-time over wss:// on /graphql/realtime, `header-` subprotocol).

The Node scripts live in tests/node/ (one scenario each, JSON lines on stdout); their packages are pinned by
tests/node/package-lock.json and installed with `npm ci` on first use.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import math
import ssl
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.helpers import (
    CREATE_AUDIO_SEGMENT,
    CREATE_MESSAGE,
    CREATE_ROOM,
    ON_CREATE_AUDIO_SEGMENT,
    ON_CREATE_MESSAGE_BY_ROOM_ID,
    PASSWORD,
    Account,
    GraphQL,
    create_room_on_server,
    server_with_accounts,
)
from tests.node_clients import NodeScript, StartNode, node_package
from tests.server import RunningServer, run_server

NODE_DIR = Path(__file__).resolve().parent.parent / "node"
WAIT_SECONDS = 40.0  # liveness bound on one awaited line; the scripts stop themselves after 30 s


# --- the Node toolchain ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def node_clients() -> Path:
    return node_package("node")


@pytest.fixture
def run_node(node_clients: Path) -> Iterator[StartNode]:
    started: list[NodeScript] = []

    def start(script: str, config: dict[str, Any], token: str, **env: str) -> NodeScript:
        process = NodeScript(node_clients, script, config, {"CHATSERVER_TOKEN": token, **env})
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


# --- graphql-ws over graphql-transport-ws on /graphql ---------------------------------------------------------


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, Account]]:
    with server_with_accounts(tmp_path_factory.mktemp("node-plain") / "data", "gwsuser") as (
        server,
        accounts,
    ):
        yield server, accounts[0]


def test_ws_node_graphql_ws_client_receives_created_message(
    plain: tuple[RunningServer, Account], run_node: StartNode
) -> None:
    server, account = plain
    chat = GraphQL.chat_app(server, account)
    room_id = chat.create_room("graphql-ws")["id"]
    config = {
        "url": f"{server.ws_url}/graphql",
        "query": ON_CREATE_MESSAGE_BY_ROOM_ID,
        "variables": {"roomId": room_id},
        "count": 1,
    }
    client = run_node("graphql_ws_subscribe.mjs", config, account.tokens.access_token)
    client.expect("ready")

    created = chat.create_message(room_id, "hello from HTTP")

    frame = client.expect("data")
    assert frame["payload"] == {"data": {"onCreateMessageByRoomId": created}}
    assert frame["payload"]["data"]["onCreateMessageByRoomId"]["owner"] == "gwsuser"
    client.expect("done")
    assert client.wait() == 0


def test_ws_node_graphql_ws_client_with_bad_token_is_closed_forbidden(
    plain: tuple[RunningServer, Account], run_node: StartNode
) -> None:
    server, _ = plain
    config = {
        "url": f"{server.ws_url}/graphql",
        "query": ON_CREATE_MESSAGE_BY_ROOM_ID,
        "variables": {"roomId": "any"},
    }
    client = run_node("graphql_ws_subscribe.mjs", config, "not-a-token")
    error = client.expect("error")
    assert error["code"] == 4403
    assert "Forbidden" in error["reason"]
    assert not any(line["event"] in {"connected", "ready", "data"} for line in client.seen)


# --- aws-amplify v6 over wss:// on /graphql/realtime ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TlsWorld:
    server: RunningServer
    certificate: Path
    https: httpx.Client
    access_token: str
    id_token: str


def _self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost that is its own CA (so clients can trust it directly)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "chatserver test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsWorld]:
    directory = tmp_path_factory.mktemp("node-tls")
    cert, key = _self_signed_certificate(directory)
    with (
        run_server(
            directory / "data", auto_confirm=True, tls_certfile=str(cert), tls_keyfile=str(key)
        ) as server,
        httpx.Client(
            base_url=server.url, verify=ssl.create_default_context(cafile=str(cert)), timeout=30
        ) as https,
    ):
        assert server.url.startswith("https://127.0.0.1:")
        body = {
            "username": "amplify",
            "password": PASSWORD,
            "email": "amplify@example.com",
            "givenName": "Amp",
            "familyName": "Lify",
        }
        assert https.post("/auth/signup", json=body).status_code == 200
        signed_in = https.post("/auth/signin", json={"username": "amplify", "password": PASSWORD})
        assert signed_in.status_code == 200, signed_in.text
        tokens = signed_in.json()
        yield TlsWorld(server, cert, https, tokens["accessToken"], tokens["idToken"])


def _graphql(world: TlsWorld, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = world.https.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"Authorization": token}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def _start_amplify(world: TlsWorld, run_node: StartNode, query: str, variables: dict[str, Any]) -> NodeScript:
    config = {"endpoint": f"{world.server.url}/graphql", "query": query, "variables": variables, "count": 1}
    client = run_node(
        "amplify_subscribe.mjs", config, world.access_token, NODE_EXTRA_CA_CERTS=str(world.certificate)
    )
    client.expect("ready")  # start_ack
    return client


def _wav_clip(milliseconds: int = 250, rate: int = 44_100) -> str:
    """A standalone 16-bit mono WAV chunk as the walkie-talkie app sends it (about 30 KB as a data URL)."""
    frames = rate * milliseconds // 1000
    samples = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate))) for i in range(frames)
    )
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF", 36 + len(samples), b"WAVE", b"fmt ", 16, 1, 1, rate, rate * 2, 2, 16, b"data", len(samples),
    )  # fmt: skip
    return "data:audio/wav;base64," + base64.b64encode(header + samples).decode()


def test_ws_node_amplify_v6_chat_subscription_receives_message(tls: TlsWorld, run_node: StartNode) -> None:
    room_id = _graphql(tls, tls.access_token, CREATE_ROOM, {"input": {"name": "amplify chat"}})["createRoom"][
        "id"
    ]
    client = _start_amplify(tls, run_node, ON_CREATE_MESSAGE_BY_ROOM_ID, {"roomId": room_id})

    variables = {"input": {"content": {"text": "hi Amplify v6"}, "roomId": room_id}}
    created = _graphql(tls, tls.access_token, CREATE_MESSAGE, variables)["createMessage"]

    frame = client.expect("data")
    assert frame["payload"]["data"] == {"onCreateMessageByRoomId": created}
    assert frame["payload"].get("errors") is None
    client.expect("done")
    assert client.wait() == 0


def test_ws_node_amplify_v6_walkie_talkie_subscription_receives_clip(
    tls: TlsWorld, run_node: StartNode
) -> None:
    room_id = create_room_on_server(tls.server, "channel amplify")
    client = _start_amplify(tls, run_node, ON_CREATE_AUDIO_SEGMENT, {"roomId": room_id})

    clip = _wav_clip()
    assert 28_000 < len(clip) < 33_000
    segment = _graphql(tls, tls.id_token, CREATE_AUDIO_SEGMENT, {"roomId": room_id, "data": clip})[
        "createAudioSegment"
    ]

    frame = client.expect("data")
    assert frame["payload"]["data"] == {"onCreateAudioSegment": segment}
    assert frame["payload"]["data"]["onCreateAudioSegment"]["data"] == clip
    client.expect("done")
    assert client.wait() == 0
