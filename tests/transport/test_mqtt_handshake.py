"""The subscription handshake over HTTP (aws-appsync 1.x): a subscription POSTed to /graphql answers
`extensions.subscription` with a fresh MQTT client id, a signed URL and the topic; refusals are GraphQL errors."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import httpx
import pytest

from tests.helpers import (
    HTTP,
    ON_CREATE_AUDIO_SEGMENT,
    ON_CREATE_AUDIO_SEGMENT_APOLLO,
    Account,
    GraphQL,
    create_room_on_server,
    server_with_accounts,
)
from tests.server import RunningServer
from tests.transport.mqtt_clients import handshake, handshake_body

Walkie = tuple[RunningServer, list[Account], str]


@pytest.fixture(scope="module")
def walkie(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walkie]:
    with server_with_accounts(tmp_path_factory.mktemp("mqtt-handshake") / "data", "alice", "bob") as (
        server,
        accounts,
    ):
        yield server, accounts, create_room_on_server(server, "handshake")


def test_mqtt_handshake_answers_the_extensions_aws_appsync_reads(walkie: Walkie) -> None:
    server, (alice, _), room = walkie
    body = handshake_body(GraphQL.walkie_talkie(server, alice), room, ON_CREATE_AUDIO_SEGMENT_APOLLO)
    assert "errors" not in body
    assert body["data"] == {"onCreateAudioSegment": None}
    subscription = body["extensions"]["subscription"]
    (connection,) = subscription["mqttConnections"]
    assert set(connection) == {"client", "url", "topics"}
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", connection["client"])  # fits MQTT 3.1's 23 characters
    assert connection["url"].startswith(f"{server.ws_url}/mqtt?token=")
    (topic,) = connection["topics"]
    assert subscription["newSubscriptions"] == {"onCreateAudioSegment": {"topic": topic, "expireTime": None}}


def test_mqtt_handshake_keys_the_answer_by_the_field_alias(walkie: Walkie) -> None:
    server, (alice, _), room = walkie
    query = "subscription S($roomId: ID!) { clips: onCreateAudioSegment(roomId: $roomId) { data } }"
    body = handshake_body(GraphQL.walkie_talkie(server, alice), room, query)
    assert body["data"] == {"clips": None}
    assert list(body["extensions"]["subscription"]["newSubscriptions"]) == ["clips"]


def test_mqtt_handshake_hands_out_a_fresh_client_each_time_and_one_topic_per_subscription(
    walkie: Walkie,
) -> None:
    server, (alice, bob), room = walkie
    other_room = create_room_on_server(server, "other")
    as_alice = GraphQL.walkie_talkie(server, alice)
    first, second = handshake(as_alice, room), handshake(as_alice, room)
    assert first.client != second.client and first.url != second.url
    # The same subscription of the same session: the same topic, so aws-appsync shares the connection it has.
    assert first.topics == second.topics
    assert handshake(as_alice, other_room).topics != first.topics
    assert handshake(GraphQL.walkie_talkie(server, bob), room).topics != first.topics


def test_mqtt_handshake_refuses_an_invalid_document_with_graphql_errors(walkie: Walkie) -> None:
    server, (alice, _), _ = walkie
    caller = GraphQL.walkie_talkie(server, alice)
    body = caller.execute("subscription { onCreateAudioSegment(roomId: 1) { nope } }")
    assert body["data"] is None and "extensions" not in body
    assert "nope" in body["errors"][0]["message"]
    body = caller.execute(ON_CREATE_AUDIO_SEGMENT)  # the required $roomId is missing
    assert body["data"] is None and "extensions" not in body
    assert "roomId" in body["errors"][0]["message"]
    two = "subscription { a: onCreateAudioSegment(roomId: 1) { data } b: onCreateRoom { id } }"
    body = caller.execute(two)
    assert body["data"] is None and "extensions" not in body
    assert body["errors"][0]["message"].startswith("Validation error")


def test_mqtt_handshake_needs_credentials_like_any_request(walkie: Walkie) -> None:
    server, _, room = walkie
    for headers in ({}, {"Authorization": "not-a-token"}):
        response = httpx.post(
            f"{server.url}/graphql",
            json={"query": ON_CREATE_AUDIO_SEGMENT, "variables": {"roomId": room}},
            headers=headers,
            **HTTP,
        )
        assert response.status_code == 401, response.text
        assert response.json()["errors"][0]["errorType"] == "UnauthorizedException"


def test_mqtt_handshake_refuses_a_request_too_large_for_a_url(walkie: Walkie) -> None:
    server, (alice, _), room = walkie
    noise = secrets.token_hex(8000)  # incompressible: the URL would be tens of kilobytes
    query = f"# {noise}\n{ON_CREATE_AUDIO_SEGMENT}"
    body = GraphQL.walkie_talkie(server, alice).execute(query, {"roomId": room})
    assert body["data"] is None and "extensions" not in body
    (error,) = body["errors"]
    assert error["errorType"] == "UnsupportedOperation"
    assert "too large for an MQTT URL" in error["message"]
