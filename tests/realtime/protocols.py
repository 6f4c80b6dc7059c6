"""One client per WebSocket protocol (AppSync real-time, graphql-transport-ws, legacy graphql-ws) behind one shape,
for tests that must hold on all three: connect, start (knowing it was accepted), read data / complete / error."""

from __future__ import annotations

import json
from typing import Any

import websockets

from tests.realtime import live

PROTOCOLS = ["appsync", "graphql-transport-ws", "graphql-ws"]
PROBE_ID = "probe"


class LiveSocket:
    """A signed-in connection speaking `kind`. Frames are normalised: `data` (graphql-transport-ws `next`)."""

    def __init__(self, kind: str, ws: websockets.ClientConnection, server: Any, token: str) -> None:
        self.kind = kind
        self.ws = ws
        self.server = server
        self.token = token

    @classmethod
    async def connect(cls, kind: str, server: Any, token: str) -> LiveSocket:
        if kind == "appsync":
            return cls(kind, await live.appsync_connect(server, token), server, token)
        ws = await websockets.connect(f"{server.ws_url}/graphql", subprotocols=[kind])
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": token}}))
        ack = await live.recv_json(ws)
        assert ack["type"] == "connection_ack", ack
        return cls(kind, ws, server, token)

    async def start(
        self, sub_id: str, query: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """Start a subscription: None once the server has registered it, else the refusal frame."""
        request = {"query": query, "variables": variables or {}}
        if self.kind == "appsync":
            auth = {"Authorization": self.token, "host": live.host_of(self.server)}
            frame = await live.appsync_start(self.ws, sub_id, query, variables, auth)
            return None if frame == {"type": "start_ack", "id": sub_id} else frame
        # No ack in these protocols: a probe answered after the start proves the start was handled first.
        if self.kind == "graphql-transport-ws":
            start = {"type": "subscribe", "id": sub_id, "payload": request}
            probe, answer = {"type": "ping"}, {"type": "pong"}
        else:
            start = {"type": "start", "id": sub_id, "payload": request}
            probe, answer = {"type": "stop", "id": PROBE_ID}, {"type": "complete", "id": PROBE_ID}
        await self.ws.send(json.dumps(start))
        await self.ws.send(json.dumps(probe))
        frame = await live.recv_json(self.ws)
        if frame == answer:
            return None
        assert await live.recv_json(self.ws) == answer  # the refusal came first; the probe's answer follows
        return frame

    async def next(self, wait: float = 15) -> dict[str, Any]:
        """The next frame that is not a keep-alive, `next` renamed `data`."""
        frame = await live.recv_json(self.ws, wait)
        if frame.get("type") == "next":
            frame = {**frame, "type": "data"}
        return frame

    async def next_data(self, field: str, wait: float = 15) -> dict[str, Any]:
        frame = await self.next(wait)
        assert frame["type"] == "data", frame
        return frame["payload"]["data"][field]

    def error_messages(self, frame: dict[str, Any]) -> list[str]:
        """The messages of a refusal frame, whatever the protocol puts them in."""
        assert frame["type"] == "error", frame
        payload = frame["payload"]
        errors = payload if isinstance(payload, list) else payload["errors"]
        return [error["message"] for error in errors]

    async def close(self) -> None:
        await self.ws.close()
