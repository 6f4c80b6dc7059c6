"""A lean AppSync real-time subscriber: a hand-rolled WebSocket client on an asyncio BufferedProtocol.

The `websockets` client library saturates near 100k frames/s, below what the servers under test deliver, so the
bench parses frames itself: no per-frame task switch, no JSON parse of data frames (only their first bytes are
read, for the sender's timestamp and sequence number embedded in the clip), large payloads skipped without copying.
Every connection reads into one shared buffer, parsed in place in one method with one `find` per data frame
(~4 us of Python and uvloop per small delivery; about as much again is the kernel's recv, epoll and the ACK each
read sends, which loopback charges to the reader). A 30 KB frame is not copied out of the buffer.

Data frames carry, right after `base64,` in `data`, the marker `T<19-digit monotonic ns>S<8-digit seq>` written by
the publisher (bench/fanout.py); CLOCK_MONOTONIC is shared by every process of the machine.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
from array import array
from time import monotonic_ns
from typing import Any

DATA_PREFIX = b'{"type":"data"'
MARKER = b"base64,T"
MARKER_LENGTH = len(MARKER)
HEAD_BYTES = 512  # a data frame's marker lies within its first bytes (roomId comes first in the selection)
CONTROL_TIMEOUT = 30.0  # seconds for connection_ack / start_ack


def marker(send_ns: int, seq: int) -> str:
    return f"T{send_ns:019d}S{seq:08d}"


class Stats:
    """What one worker process measured since the last reset (shared by all its connections)."""

    __slots__ = ("deliveries", "disorder", "first_ns", "last_ns", "latencies")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.deliveries = 0
        self.disorder = 0
        self.first_ns = 0
        self.last_ns = 0
        self.latencies = array("q")


# Every connection of the process reads into this one buffer (uvloop's BufferedProtocol: no bytes object per
# read, no copy of a large frame's body); each read is parsed before the next, and an incomplete tail is copied out.
_READ = bytearray(256 * 1024)
_READ_VIEW = memoryview(_READ)


class Subscriber(asyncio.BufferedProtocol):
    """One WebSocket connection with one AppSync subscription."""

    def __init__(self, stats: Stats, request: bytes) -> None:
        self.stats = stats
        self.request = request
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.skip = 0  # bytes of the current (large, already read) frame still to discard
        self.upgraded = False
        self.control: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.closed = asyncio.get_running_loop().create_future()
        self.opened = asyncio.get_running_loop().create_future()
        self.close_code: int | None = None
        self.received = 0
        self.last_seq = b""  # the last sequence number's 8 digits

    # --- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.write(self.request)  # type: ignore[union-attr]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(self.close_code)

    def get_buffer(self, sizehint: int) -> memoryview:
        return _READ_VIEW

    def buffer_updated(self, nbytes: int) -> None:
        if self.skip or self.buffer or not self.upgraded:
            self.data_received(bytes(_READ_VIEW[:nbytes]))
        else:
            self._parse(_READ, nbytes, monotonic_ns())

    def data_received(self, data: bytes) -> None:
        now = monotonic_ns()
        if self.skip or self.buffer or not self.upgraded:
            data = self._pending(data)
            if not data:
                return
        self._parse(data, len(data), now)

    def _parse(self, data: bytes | bytearray, size: int, now: int) -> None:
        """Read the frames in `data[:size]`; only an incomplete tail is kept. A data frame costs one `find` for
        the marker; its sequence number is compared as 8 zero-padded digits."""
        pos = 0
        while size - pos >= 2:
            length = data[pos + 1] & 0x7F
            body = pos + 2
            if length == 126:
                if size - pos < 4:
                    break
                length = (data[pos + 2] << 8) | data[pos + 3]
                body = pos + 4
            elif length == 127:
                if size - pos < 10:
                    break
                (length,) = struct.unpack_from(">Q", data, pos + 2)
                body = pos + 10
            end = body + length
            if end > size and (
                length <= HEAD_BYTES or size - body < HEAD_BYTES or data[pos] & 0x0F not in (1, 2)
            ):
                break  # wait for the rest (or for the head of a large data frame)
            at = data.find(MARKER, body, body + HEAD_BYTES if length > HEAD_BYTES else end)
            if at >= 0 and data[pos] == 0x81:
                at += MARKER_LENGTH
                seq = data[at + 20 : at + 28]
                if seq <= self.last_seq:
                    self.stats.disorder += 1
                self.last_seq = seq
                self.received += 1
                stats = self.stats
                stats.deliveries += 1
                stats.latencies.append(now - int(data[at : at + 19]))
                if not stats.first_ns:
                    stats.first_ns = now
                stats.last_ns = now
            else:
                self._other(data, data[pos] & 0x0F, body, length, now)
            if end > size:  # a large frame only partly here: discard the rest as it streams in
                self.skip = end - size
                return
            pos = end
        if pos < size:
            self.buffer += memoryview(data)[pos:size]

    def _pending(self, data: bytes) -> bytes:
        """`data` after the rest of a skipped frame, behind a kept incomplete tail, past the HTTP answer."""
        if self.skip:
            if self.skip >= len(data):
                self.skip -= len(data)
                return b""
            data = data[self.skip :]
            self.skip = 0
        buffer = self.buffer
        if buffer or not self.upgraded:
            buffer += data
            if not self.upgraded and not self._upgrade(buffer):
                return b""
            data = bytes(buffer)
            buffer.clear()
        return data

    def _upgrade(self, buffer: bytearray) -> bool:
        """Consume the HTTP 101 answer from `buffer`; False while it is incomplete or refused."""
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        status = bytes(buffer[: buffer.find(b"\r\n")])
        if b" 101 " not in status:
            self.control.put_nowait({"type": "http_error", "status": status.decode("latin-1")})
            self.opened.set_exception(ConnectionError(status.decode("latin-1")))
            self.transport.close()  # type: ignore[union-attr]
            buffer.clear()
            return False
        self.upgraded = True
        del buffer[: end + 4]
        self.opened.set_result(None)
        return True

    # --- frames

    def _other(self, data: bytes | bytearray, opcode: int, body: int, length: int, now: int) -> None:
        """Any frame but an AppSync data frame (only these can be incomplete, when larger than HEAD_BYTES)."""
        if opcode == 1:
            if data.startswith(DATA_PREFIX, body):
                self.control.put_nowait({"type": "data_without_marker"})
                return
            if length > HEAD_BYTES:
                self.control.put_nowait({"type": "oversize_control_frame"})
                return
            message = json.loads(data[body : body + length])
            if message.get("type") != "ka":
                self.control.put_nowait(message)
        elif opcode == 2:
            self._binary(data, body, min(length, HEAD_BYTES), length, now, self.stats)
        elif opcode == 9:  # ping: uvicorn closes connections that do not answer (ws_ping_timeout)
            self._send_frame(0x8A, bytes(data[body : body + length]))
        elif opcode == 8:
            self.close_code = (data[body] << 8) | data[body + 1] if length >= 2 else 1005
            self.transport.close()  # type: ignore[union-attr]

    def _delivered(self, buffer: bytes | bytearray, at: int, now: int, stats: Stats) -> None:
        """Record one delivery whose marker digits start at `at` (the MQTT subscriber's PUBLISH frames)."""
        seq = buffer[at + 20 : at + 28]
        if seq <= self.last_seq:
            stats.disorder += 1
        self.last_seq = seq
        self.received += 1
        stats.deliveries += 1
        stats.latencies.append(now - int(buffer[at : at + 19]))
        if not stats.first_ns:
            stats.first_ns = now
        stats.last_ns = now

    def _binary(
        self, buffer: bytes | bytearray, body: int, head: int, length: int, now: int, stats: Stats
    ) -> None:
        """A binary frame: none in the AppSync protocol (the MQTT subscriber reads its packets here)."""

    def send_binary(self, data: bytes) -> None:
        self._send_frame(0x82, data)

    def send_text(self, text: str) -> None:
        self._send_frame(0x81, text.encode())

    def _send_frame(self, first: int, payload: bytes) -> None:
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack(">BB", first, 0x80 | length)
        elif length < 65536:
            header = struct.pack(">BBH", first, 0x80 | 126, length)
        else:
            header = struct.pack(">BBQ", first, 0x80 | 127, length)
        masked = (
            int.from_bytes(payload, "little") ^ int.from_bytes(mask * (length // 4 + 1), "little")
        ).to_bytes(length + 4, "little")[:length]
        self.transport.write(header + mask + masked)  # type: ignore[union-attr]

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"\x88\x82" + b"\x00\x00\x00\x00" + struct.pack(">H", 1000))
            self.transport.close()


def upgrade_request(host: str, port: int, path: str, token: str) -> bytes:
    """The Amplify v4 handshake: header object in the query string, subprotocol graphql-ws, no deflate."""
    header = base64.b64encode(
        json.dumps({"Authorization": token, "host": f"{host}:{port}"}).encode()
    ).decode()
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET {path}?header={header}&payload=e30= HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: graphql-ws\r\n\r\n"
    ).encode()


async def expect(subscriber: Subscriber, kind: str) -> dict[str, Any]:
    message = await asyncio.wait_for(subscriber.control.get(), CONTROL_TIMEOUT)
    if message.get("type") != kind:
        raise RuntimeError(f"expected {kind}, got {message}")
    return message


async def subscribe(
    stats: Stats,
    host: str,
    port: int,
    path: str,
    token: str,
    query: str,
    room_id: str,
    op_id: str,
    variables: dict[str, Any] | None = None,
) -> Subscriber:
    """Connect, connection_init, start one subscription and wait for its start_ack."""
    loop = asyncio.get_running_loop()
    _, subscriber = await loop.create_connection(
        lambda: Subscriber(stats, upgrade_request(host, port, path, token)), host, port
    )
    await asyncio.wait_for(asyncio.shield(subscriber.opened), 30)  # as browsers do: nothing before the 101
    subscriber.send_text('{"type":"connection_init"}')
    await expect(subscriber, "connection_ack")
    authorization = {"Authorization": token, "host": f"{host}:{port}"}
    start = {
        "id": op_id,
        "type": "start",
        "payload": {
            "data": json.dumps(
                {"query": query, "variables": {"roomId": room_id} if variables is None else variables}
            ),
            "extensions": {"authorization": authorization},
        },
    }
    subscriber.send_text(json.dumps(start))
    await expect(subscriber, "start_ack")
    return subscriber
