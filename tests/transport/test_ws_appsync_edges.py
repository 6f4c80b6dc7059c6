"""Three AppSync real-time edges (APPSYNC.md section 1.4): a start is never acknowledged without its own
`extensions.authorization`, with a query that does not parse, or with a `payload.data` that is not a string."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from tests import helpers as seed
from tests.realtime import live
from tests.server import RunningServer, run_server

UNSUPPORTED_UNKNOWN = {
    "type": "error",
    "payload": {
        "errors": [
            {
                "errorType": "UnsupportedOperation",
                "message": "unknown not supported through the realtime channel",
            }
        ]
    },
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with run_server(Path(tmp_path_factory.mktemp("edges")) / "data", auto_confirm=True) as running:
        yield running


@pytest.fixture(scope="module")
def token(server: RunningServer) -> str:
    return live.sign_up(server, "edgar")["accessToken"]


def _auth(server: RunningServer, token: str) -> dict[str, str]:
    return {"Authorization": token, "host": live.host_of(server)}


async def _send_start(
    ws: websockets.ClientConnection, sub_id: str, payload: dict[str, Any]
) -> dict[str, Any]:
    await ws.send(json.dumps({"id": sub_id, "type": "start", "payload": payload}))
    return await live.recv_json(ws)


async def _still_serving(server: RunningServer, ws: websockets.ClientConnection, token: str) -> None:
    """A proper start on the same socket is acknowledged and delivers: nothing before it was registered."""
    ack = await live.appsync_start(ws, "good", seed.ON_CREATE_ROOM, None, _auth(server, token))
    assert ack == {"type": "start_ack", "id": "good"}
    room = await live.create_room(server, token, "edge check")
    frame = await live.recv_json(ws)
    assert (frame["type"], frame["id"], frame["payload"]["data"]["onCreateRoom"]["id"]) == (
        "data",
        "good",
        room,
    )


async def test_ws_appsync_start_without_extensions_authorization_is_refused(
    server: RunningServer, token: str
) -> None:
    ws = await live.appsync_connect(server, token)  # the connection itself is authorised
    try:
        data = json.dumps({"query": seed.ON_CREATE_ROOM, "variables": {}})
        for sub_id, payload in (
            ("none", {"data": data}),
            ("empty", {"data": data, "extensions": {}}),
            ("not-an-object", {"data": data, "extensions": {"authorization": token}}),
        ):
            frame = await _send_start(ws, sub_id, payload)
            assert frame == {
                "type": "error",
                "id": sub_id,
                "payload": {
                    "errors": [
                        {"errorType": "UnauthorizedException", "message": "Missing authorization header"}
                    ]
                },
            }
        await _still_serving(server, ws, token)
    finally:
        await ws.close()


async def test_ws_appsync_start_with_unparsable_query_is_unsupported_operation(
    server: RunningServer, token: str
) -> None:
    ws = await live.appsync_connect(server, token)
    try:
        for query in ("subscription {", "not graphql at all", "{ onCreateRoom { id }"):
            frame = await live.appsync_start(ws, "bad", query, None, _auth(server, token))
            assert frame == UNSUPPORTED_UNKNOWN
        # a query that parses but is not valid keeps its validation error, tied to the id
        frame = await live.appsync_start(
            ws, "v", "subscription { onCreateRoom { nope } }", None, _auth(server, token)
        )
        assert frame["type"] == "error" and frame["id"] == "v"
        await _still_serving(server, ws, token)
    finally:
        await ws.close()


async def test_ws_appsync_start_whose_data_is_not_a_string_is_refused(
    server: RunningServer, token: str
) -> None:
    ws = await live.appsync_connect(server, token)
    try:
        extensions = {"authorization": _auth(server, token)}
        for sub_id, data in (
            ("object", {"query": seed.ON_CREATE_ROOM, "variables": {}}),
            ("number", 42),
            ("missing", None),
            ("list", [seed.ON_CREATE_ROOM]),
        ):
            payload: dict[str, Any] = {"extensions": extensions}
            if data is not None:
                payload["data"] = data
            frame = await _send_start(ws, sub_id, payload)
            assert frame["type"] == "error" and frame["id"] == sub_id, frame
            (error,) = frame["payload"]["errors"]
            assert error["errorType"] == "UnsupportedOperation"
            assert "payload.data must be a JSON string" in error["message"]
        # a string that is JSON but not an object is not a request either
        frame = await _send_start(
            ws, "scalar", {"data": json.dumps("subscription"), "extensions": extensions}
        )
        assert frame == UNSUPPORTED_UNKNOWN
        await _still_serving(server, ws, token)
    finally:
        await ws.close()
