"""A lean aws-appsync 1.x subscriber: the HTTP handshake, then MQTT over the hand-rolled WebSocket of rawws.

Each binary frame the server sends holds one MQTT packet. PUBLISH frames are read like rawws reads data frames:
only their first bytes, with one `bytes.find` for the publisher's marker (no MQTT or JSON decoding of the
payload); control packets (CONNACK, SUBACK) are decoded with the project's codec.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from urllib.parse import urlsplit

from bench.rawhttp import HttpConnection
from bench.rawws import HEAD_BYTES, MARKER, Stats, Subscriber, expect
from chatserver.transport.mqtt.codec import decode, encode
from chatserver.transport.mqtt.packets import Connect, Subscribe

PUBLISH = 0x30  # QoS 0, no DUP, no RETAIN: all the server sends


class MqttSubscriber(Subscriber):
    """One MQTT-over-WebSocket connection with one subscription."""

    def _binary(
        self, buffer: bytes | bytearray, body: int, head: int, length: int, now: int, stats: Stats
    ) -> None:
        if buffer[body] == PUBLISH:
            at = buffer.find(MARKER, body, body + head)
            if at < 0:
                self.control.put_nowait({"type": "data_without_marker"})
                return
            self._delivered(buffer, at + len(MARKER), now, stats)
            return
        if length > HEAD_BYTES:
            self.control.put_nowait({"type": "oversize_control_frame"})
            return
        packet = decode(
            buffer[body], bytes(buffer[body + 2 : body + length])
        )  # control packets: 1-byte length
        self.control.put_nowait({"type": type(packet).__name__, "packet": packet})


def upgrade_request(host: str, port: int, path: str) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: mqtt\r\n\r\n"
    ).encode()


async def subscribe(
    stats: Stats, host: str, port: int, token: str, query: str, room_id: str, handshakes: HttpConnection
) -> MqttSubscriber:
    """Handshake over HTTP, connect to the URL it hands out, CONNECT, SUBSCRIBE, wait for the SUBACK."""
    body = json.dumps({"query": query, "variables": {"roomId": room_id}}).encode()
    try:
        status, answer = await handshakes.post_json("/graphql", body, {"Authorization": token})
    except (ConnectionError, asyncio.IncompleteReadError):  # the server closed it while idle: reopen, once
        await handshakes.close()
        fresh = await HttpConnection.open(host, port)
        handshakes.reader, handshakes.writer = fresh.reader, fresh.writer
        status, answer = await handshakes.post_json("/graphql", body, {"Authorization": token})
    if status != 200 or "errors" in answer:
        raise RuntimeError(f"handshake refused: {status} {answer}")
    (connection,) = answer["extensions"]["subscription"]["mqttConnections"]
    url = urlsplit(connection["url"])
    loop = asyncio.get_running_loop()
    _, subscriber = await loop.create_connection(
        lambda: MqttSubscriber(stats, upgrade_request(host, port, f"{url.path}?{url.query}")), host, port
    )
    await asyncio.wait_for(asyncio.shield(subscriber.opened), 30)
    subscriber.send_binary(encode(Connect(connection["client"])))
    await expect(subscriber, "ConnAck")
    subscriber.send_binary(encode(Subscribe(1, ((connection["topics"][0], 0),))))
    await expect(subscriber, "SubAck")
    return subscriber
