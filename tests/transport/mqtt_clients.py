"""Clients of the legacy MQTT subscriptions: the HTTP handshake, paho-mqtt over WebSocket, and a raw MQTT-over-
WebSocket client (websockets + the project's codec) for the bytes paho would never send."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import websockets
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from chatserver.transport.mqtt.codec import PacketReader, encode
from chatserver.transport.mqtt.packets import Connect, Packet, Subscribe
from tests.helpers import ON_CREATE_AUDIO_SEGMENT, GraphQL

WAIT_SECONDS = 15.0  # liveness bound on every awaited event


@dataclass(frozen=True, slots=True)
class MqttConnection:
    """One `mqttConnections` entry of a handshake answer."""

    client: str
    url: str
    topics: tuple[str, ...]

    @property
    def path(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.path}?{parts.query}"

    def ws_url_on(self, base_ws_url: str) -> str:
        """The URL's path and token on another host (a replica behind the public address)."""
        return f"{base_ws_url}{self.path}"


def handshake_body(caller: GraphQL, room_id: str, query: str = ON_CREATE_AUDIO_SEGMENT) -> dict[str, Any]:
    return caller.execute(query, {"roomId": room_id})


def handshake(caller: GraphQL, room_id: str, query: str = ON_CREATE_AUDIO_SEGMENT) -> MqttConnection:
    """POST the subscription, as aws-appsync 1.x does; the one MQTT connection it hands out."""
    body = handshake_body(caller, room_id, query)
    assert "errors" not in body, body
    (connection,) = body["extensions"]["subscription"]["mqttConnections"]
    return MqttConnection(connection["client"], connection["url"], tuple(connection["topics"]))


class Paho:
    """paho-mqtt over WebSocket, its network loop on a thread of its own; callbacks become queued events:
    ("connack", reason name), ("suback", [reason names]), ("message", topic, payload), ("gone", rc)."""

    def __init__(
        self,
        connection: MqttConnection,
        *,
        client_id: str | None = None,
        protocol: int = mqtt.MQTTv311,
        keepalive: int = 60,
        host_port: tuple[str, int] | None = None,
    ) -> None:
        self.events: queue.Queue[tuple[Any, ...]] = queue.Queue()
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=connection.client if client_id is None else client_id,
            transport="websockets",
            protocol=protocol,
        )
        client.ws_set_options(path=connection.path)
        client.on_connect = lambda _c, _u, _f, reason, _p: self.events.put(("connack", reason.getName()))
        client.on_subscribe = lambda _c, _u, _m, reasons, _p: self.events.put(
            ("suback", [r.getName() for r in reasons])
        )
        client.on_message = lambda _c, _u, message: self.events.put(
            ("message", message.topic, message.payload)
        )
        self.client = client
        parts = urlsplit(connection.url)
        host, port = host_port or (parts.hostname or "127.0.0.1", parts.port or 80)
        client.connect(host, port, keepalive)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            rc = self.client.loop(timeout=0.05)
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                self.events.put(("gone", rc))
                return

    def expect(self, kind: str) -> tuple[Any, ...]:
        """The next event, which must be of `kind`."""
        try:
            event = self.events.get(timeout=WAIT_SECONDS)
        except queue.Empty:
            raise AssertionError(f"no {kind!r} event from paho") from None
        assert event[0] == kind, event
        return event

    def subscribe(self, *topics: str) -> list[str]:
        self.client.subscribe([(topic, 0) for topic in topics])
        return self.expect("suback")[1]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.disconnect()
        self._stop.set()
        self._thread.join(timeout=WAIT_SECONDS)


class RawMqtt:
    """MQTT packets over a `websockets` client: sends anything, reads packets, sees the close code."""

    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws = ws
        self.reader = PacketReader(max_packet_bytes=1 << 24)
        self.pending: list[Packet] = []

    @classmethod
    async def open(cls, url: str, subprotocol: str = "mqtt", **options: Any) -> RawMqtt:
        ws = await websockets.connect(url, subprotocols=[subprotocol], open_timeout=WAIT_SECONDS, **options)
        return cls(ws)

    async def send(self, packet: Packet | bytes) -> None:
        await self.ws.send(packet if isinstance(packet, bytes) else encode(packet))

    async def receive(self) -> Packet:
        while not self.pending:
            frame = await asyncio.wait_for(self.ws.recv(), WAIT_SECONDS)
            assert isinstance(frame, bytes), frame
            self.pending.extend(self.reader.feed(frame))
        return self.pending.pop(0)

    async def connect(self, client_id: str, keep_alive: int = 60, level: int = 4) -> Packet:
        name = "MQTT" if level == 4 else "MQIsdp"
        await self.send(Connect(client_id, protocol_name=name, protocol_level=level, keep_alive=keep_alive))
        return await self.receive()

    async def subscribe(self, *topics: str, packet_id: int = 1) -> Packet:
        await self.send(Subscribe(packet_id, tuple((t, 0) for t in topics)))
        return await self.receive()

    async def closed(self) -> int | None:
        """Wait until the server closes; its close code."""
        with contextlib.suppress(websockets.ConnectionClosed):
            async with asyncio.timeout(WAIT_SECONDS):
                while True:
                    await self.ws.recv()
        return self.ws.close_code

    async def close(self) -> None:
        await self.ws.close()
