"""MQTT 3.1 and 3.1.1 on the wire: pure encode/decode functions over the packets of packets.py, and a reader that
splits a byte stream into packets.

Only what a subscribe-only server and its clients exchange: CONNECT/CONNACK, PUBLISH (and its QoS 1/2
acknowledgements, so that a client's attempt can be recognised), SUBSCRIBE/SUBACK, UNSUBSCRIBE/UNSUBACK,
PINGREQ/PINGRESP, DISCONNECT. Anything that breaks the wire rules of MQTT 3.1.1 sections 2 and 3 (fixed-header
flags, remaining length, UTF-8 strings, connect flags, trailing bytes) raises `MalformedPacket`.
"""

from __future__ import annotations

import struct

from chatserver.transport.mqtt.packets import (
    SUBACK_FAILURE,
    Acknowledgement,
    ConnAck,
    Connect,
    Disconnect,
    Packet,
    PacketType,
    PingReq,
    PingResp,
    Publish,
    SubAck,
    Subscribe,
    UnsubAck,
    Unsubscribe,
    Will,
)

MAX_REMAINING_LENGTH = 268_435_455  # four bytes of variable-length integer


class MalformedPacket(ValueError):
    """The bytes are not a valid MQTT packet: the connection must be closed."""


class PacketTooLarge(MalformedPacket):
    """The declared remaining length is over the reader's limit."""


# --- primitives


def encode_remaining_length(length: int) -> bytes:
    if not 0 <= length <= MAX_REMAINING_LENGTH:
        raise ValueError(f"remaining length {length} out of range")
    out = bytearray()
    while True:
        byte, length = length & 0x7F, length >> 7
        out.append(byte | 0x80 if length else byte)
        if not length:
            return bytes(out)


def encode_string(text: str) -> bytes:
    data = text.encode("utf-8")
    return _encode_binary(data)


def _encode_binary(data: bytes) -> bytes:
    if len(data) > 0xFFFF:
        raise ValueError("MQTT strings are at most 65535 bytes")
    return struct.pack(">H", len(data)) + data


def _packet(kind: PacketType, flags: int, body: bytes) -> bytes:
    return bytes((kind << 4 | flags,)) + encode_remaining_length(len(body)) + body


def topic_block(topic: str) -> bytes:
    """A PUBLISH packet's variable header for `topic` at QoS 0 (its length-prefixed name)."""
    return encode_string(topic)


def publish_head(remaining_length: int) -> bytes:
    """The fixed header of a QoS 0 PUBLISH whose topic block and payload are `remaining_length` bytes."""
    return b"\x30" + encode_remaining_length(remaining_length)


def publish_frame(block: bytes, payload: bytes) -> bytes:
    """A QoS 0 PUBLISH of `payload` to the topic whose `topic_block` is `block` (the fan-out's fast path)."""
    return b"".join((publish_head(len(block) + len(payload)), block, payload))


# --- encoding


def encode(packet: Packet) -> bytes:
    """The wire bytes of one packet."""
    if isinstance(packet, Publish):
        return _encode_publish(packet)
    if isinstance(packet, ConnAck):
        return _packet(PacketType.CONNACK, 0, bytes((int(packet.session_present), packet.return_code)))
    if isinstance(packet, SubAck):
        return _packet(PacketType.SUBACK, 0, struct.pack(">H", packet.packet_id) + bytes(packet.return_codes))
    if isinstance(packet, UnsubAck):
        return _packet(PacketType.UNSUBACK, 0, struct.pack(">H", packet.packet_id))
    if isinstance(packet, PingReq):
        return _packet(PacketType.PINGREQ, 0, b"")
    if isinstance(packet, PingResp):
        return _packet(PacketType.PINGRESP, 0, b"")
    if isinstance(packet, Disconnect):
        return _packet(PacketType.DISCONNECT, 0, b"")
    if isinstance(packet, Connect):
        return _encode_connect(packet)
    if isinstance(packet, Subscribe):
        body = struct.pack(">H", packet.packet_id) + b"".join(
            encode_string(topic) + bytes((qos,)) for topic, qos in packet.filters
        )
        return _packet(PacketType.SUBSCRIBE, 0b0010, body)
    if isinstance(packet, Unsubscribe):
        body = struct.pack(">H", packet.packet_id) + b"".join(encode_string(t) for t in packet.topics)
        return _packet(PacketType.UNSUBSCRIBE, 0b0010, body)
    if isinstance(packet, Acknowledgement):
        flags = 0b0010 if packet.kind == PacketType.PUBREL else 0
        return _packet(packet.kind, flags, struct.pack(">H", packet.packet_id))
    raise TypeError(f"not an MQTT packet: {packet!r}")


def _encode_publish(packet: Publish) -> bytes:
    flags = (packet.dup << 3) | (packet.qos << 1) | int(packet.retain)
    body = encode_string(packet.topic)
    if packet.qos:
        body += struct.pack(">H", packet.packet_id or 0)
    return _packet(PacketType.PUBLISH, flags, body + packet.payload)


def _encode_connect(packet: Connect) -> bytes:
    flags = int(packet.clean_session) << 1
    payload = encode_string(packet.client_id)
    if packet.will is not None:
        flags |= 0b100 | (packet.will.qos << 3) | (int(packet.will.retain) << 5)
        payload += encode_string(packet.will.topic) + _encode_binary(packet.will.message)
    if packet.username is not None:
        flags |= 0x80
        payload += encode_string(packet.username)
    if packet.password is not None:
        flags |= 0x40
        payload += _encode_binary(packet.password)
    header = encode_string(packet.protocol_name) + struct.pack(
        ">BBH", packet.protocol_level, flags, packet.keep_alive
    )
    return _packet(PacketType.CONNECT, 0, header + payload)


# --- decoding


class _Cursor:
    """Reads a packet body front to back; every short read is a MalformedPacket."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, count: int) -> bytes:
        end = self.pos + count
        if end > len(self.data):
            raise MalformedPacket("packet ends early")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int.from_bytes(self.take(2), "big")

    def binary(self) -> bytes:
        return self.take(self.u16())

    def string(self) -> str:
        try:
            text = self.binary().decode("utf-8")  # strict: lone surrogates are refused too
        except UnicodeDecodeError:
            raise MalformedPacket("string is not UTF-8") from None
        if "\x00" in text:
            raise MalformedPacket("string contains U+0000")
        return text

    def packet_id(self) -> int:
        packet_id = self.u16()
        if packet_id == 0:
            raise MalformedPacket("packet identifier 0")
        return packet_id

    @property
    def remaining(self) -> int:
        return len(self.data) - self.pos

    def rest(self) -> bytes:
        return self.take(self.remaining)

    def end(self) -> None:
        if self.remaining:
            raise MalformedPacket("trailing bytes after the packet")


def decode(first: int, body: bytes) -> Packet:
    """One packet from its fixed header's first byte and its body (the remaining-length bytes)."""
    try:
        kind = PacketType(first >> 4)
    except ValueError:
        raise MalformedPacket(f"reserved packet type {first >> 4}") from None
    flags = first & 0x0F
    cursor = _Cursor(body)
    if kind == PacketType.PUBLISH:
        return _decode_publish(flags, cursor)
    expected_flags = (
        0b0010 if kind in (PacketType.SUBSCRIBE, PacketType.UNSUBSCRIBE, PacketType.PUBREL) else 0
    )
    if flags != expected_flags:
        raise MalformedPacket(f"{kind.name} with fixed-header flags {flags:#06b}")
    packet: Packet
    if kind == PacketType.CONNECT:
        packet = _decode_connect(cursor)
    elif kind == PacketType.SUBSCRIBE:
        packet = _decode_subscribe(cursor)
    elif kind == PacketType.UNSUBSCRIBE:
        packet_id = cursor.packet_id()
        topics = []
        while cursor.remaining:
            topics.append(cursor.string())
        if not topics:
            raise MalformedPacket("UNSUBSCRIBE without topics")
        packet = Unsubscribe(packet_id, tuple(topics))
    elif kind in (PacketType.PINGREQ, PacketType.PINGRESP, PacketType.DISCONNECT):
        packet = {PacketType.PINGREQ: PingReq, PacketType.PINGRESP: PingResp}.get(kind, Disconnect)()
    elif kind == PacketType.CONNACK:
        ack_flags, code = cursor.byte(), cursor.byte()
        if ack_flags & 0xFE:
            raise MalformedPacket("CONNACK with reserved flags")
        packet = ConnAck(code, bool(ack_flags))
    elif kind == PacketType.SUBACK:
        packet_id = cursor.packet_id()
        codes = tuple(cursor.rest())
        if not codes or any(code not in (0, 1, 2, SUBACK_FAILURE) for code in codes):
            raise MalformedPacket("SUBACK return codes")
        packet = SubAck(packet_id, codes)
    elif kind == PacketType.UNSUBACK:
        packet = UnsubAck(cursor.packet_id())
    else:  # PUBACK, PUBREC, PUBREL, PUBCOMP
        packet = Acknowledgement(kind, cursor.packet_id())
    cursor.end()
    return packet


def _decode_publish(flags: int, cursor: _Cursor) -> Publish:
    qos = (flags >> 1) & 0b11
    if qos == 3:
        raise MalformedPacket("PUBLISH with QoS 3")
    dup = bool(flags & 0b1000)
    if dup and qos == 0:
        raise MalformedPacket("PUBLISH with DUP at QoS 0")
    topic = cursor.string()
    packet_id = cursor.packet_id() if qos else None
    return Publish(topic, cursor.rest(), qos, bool(flags & 1), dup, packet_id)


def _decode_connect(cursor: _Cursor) -> Connect:
    name = cursor.string()
    level = cursor.byte()
    flags = cursor.byte()
    keep_alive = cursor.u16()
    if flags & 0x01:
        raise MalformedPacket("CONNECT with the reserved flag set")
    will_flag, will_qos, will_retain = bool(flags & 0x04), (flags >> 3) & 0b11, bool(flags & 0x20)
    if will_qos == 3 or (not will_flag and (will_qos or will_retain)):
        raise MalformedPacket("CONNECT with inconsistent will flags")
    has_username, has_password = bool(flags & 0x80), bool(flags & 0x40)
    if has_password and not has_username:
        raise MalformedPacket("CONNECT with a password but no user name")
    client_id = cursor.string()
    will = None
    if will_flag:
        will = Will(cursor.string(), cursor.binary(), will_qos, will_retain)
    username = cursor.string() if has_username else None
    password = cursor.binary() if has_password else None
    return Connect(
        client_id=client_id,
        protocol_name=name,
        protocol_level=level,
        keep_alive=keep_alive,
        clean_session=bool(flags & 0x02),
        will=will,
        username=username,
        password=password,
    )


def _decode_subscribe(cursor: _Cursor) -> Subscribe:
    packet_id = cursor.packet_id()
    filters = []
    while cursor.remaining:
        topic = cursor.string()
        options = cursor.byte()
        if options & 0xFC or options == 3:
            raise MalformedPacket("SUBSCRIBE with reserved bits or QoS 3")
        filters.append((topic, options))
    if not filters:
        raise MalformedPacket("SUBSCRIBE without topic filters")
    return Subscribe(packet_id, tuple(filters))


class PacketReader:
    """Splits a byte stream into packets. MQTT over WebSocket does not align packets with frames: a frame
    may hold several packets or part of one, so bytes are buffered until a whole packet is there."""

    __slots__ = ("_buffer", "max_packet_bytes")

    def __init__(self, max_packet_bytes: int) -> None:
        self._buffer = bytearray()
        self.max_packet_bytes = max_packet_bytes

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Packet]:
        """The packets completed by `data`; raises MalformedPacket (PacketTooLarge past the limit)."""
        buffer = self._buffer
        buffer += data
        packets: list[Packet] = []
        pos = 0
        while len(buffer) - pos >= 1:
            if buffer[pos] >> 4 in (0, 15):  # reserved types: refused before waiting for a length
                raise MalformedPacket(f"reserved packet type {buffer[pos] >> 4}")
            length, header = 0, 1
            for index in range(4):
                if pos + 1 + index >= len(buffer):
                    header = 0  # the length bytes are not all here yet
                    break
                byte = buffer[pos + 1 + index]
                length |= (byte & 0x7F) << (7 * index)
                header += 1
                if not byte & 0x80:
                    break
            else:
                raise MalformedPacket("remaining length longer than four bytes")
            if header == 0:
                break
            if length > self.max_packet_bytes:
                raise PacketTooLarge(f"packet of {length} bytes is over the limit of {self.max_packet_bytes}")
            end = pos + header + length
            if end > len(buffer):
                break
            packets.append(decode(buffer[pos], bytes(buffer[pos + header : end])))
            pos = end
        del buffer[:pos]
        return packets
