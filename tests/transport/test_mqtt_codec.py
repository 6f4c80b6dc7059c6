"""The MQTT packet codec on its own: every packet round-trips, every malformed byte string is refused."""

from __future__ import annotations

import pytest

from chatserver.transport.mqtt.codec import (
    MalformedPacket,
    PacketReader,
    PacketTooLarge,
    decode,
    encode,
    encode_remaining_length,
    publish_frame,
    topic_block,
)
from chatserver.transport.mqtt.packets import (
    PROTOCOL_MQTT_31,
    SUBACK_FAILURE,
    Acknowledgement,
    ConnAck,
    Connect,
    ConnectCode,
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
from chatserver.transport.mqtt.session import TopicFrames

ROUND_TRIPS: list[Packet] = [
    Connect("client-1"),
    Connect(
        "c",
        protocol_name=PROTOCOL_MQTT_31[0],
        protocol_level=PROTOCOL_MQTT_31[1],
        keep_alive=0,
        clean_session=False,
        will=Will("last/words", b"\x00bye", qos=1, retain=True),
        username="ü-user",
        password=b"\xff\x00secret",
    ),
    ConnAck(ConnectCode.ACCEPTED),
    ConnAck(ConnectCode.NOT_AUTHORIZED, session_present=True),
    Publish("a/b", b'{"data":{}}'),
    Publish("a/b", b"", qos=1, retain=True, dup=True, packet_id=7),
    Publish("a/b", b"x" * 300, qos=2, packet_id=65535),
    Acknowledgement(PacketType.PUBACK, 1),
    Acknowledgement(PacketType.PUBREC, 2),
    Acknowledgement(PacketType.PUBREL, 3),
    Acknowledgement(PacketType.PUBCOMP, 4),
    Subscribe(10, (("t/1", 0), ("t/+/#", 2))),
    SubAck(10, (0, 1, 2, SUBACK_FAILURE)),
    Unsubscribe(11, ("t/1", "t/2")),
    UnsubAck(11),
    PingReq(),
    PingResp(),
    Disconnect(),
]


@pytest.mark.parametrize("packet", ROUND_TRIPS, ids=lambda p: type(p).__name__)
def test_mqtt_codec_round_trips_every_packet(packet: Packet) -> None:
    wire = encode(packet)
    reader = PacketReader(max_packet_bytes=1 << 20)
    assert reader.feed(wire) == [packet]
    assert reader.buffered == 0


def test_mqtt_codec_reader_splits_and_joins_frames() -> None:
    wire = b"".join(encode(p) for p in ROUND_TRIPS)
    reader = PacketReader(max_packet_bytes=1 << 20)
    seen: list[Packet] = []
    for index in range(0, len(wire), 3):  # packets cut across "frames" of 3 bytes
        seen.extend(reader.feed(wire[index : index + 3]))
    assert seen == ROUND_TRIPS
    assert reader.feed(wire) == ROUND_TRIPS  # and many packets in one frame


@pytest.mark.parametrize("length", [0, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 268_435_455])
def test_mqtt_codec_remaining_length_boundaries(length: int) -> None:
    encoded = encode_remaining_length(length)
    assert len(encoded) == 1 + (length > 127) + (length > 16_383) + (length > 2_097_151)
    value = sum((byte & 0x7F) << (7 * i) for i, byte in enumerate(encoded))
    assert value == length


def test_mqtt_codec_publish_fast_path_equals_encode() -> None:
    payload = b'{"data":{"onCreateAudioSegment":{"data":"' + b"A" * 30_000 + b'"}}}'
    assert publish_frame(topic_block("chatserver/x/abc"), payload) == encode(
        Publish("chatserver/x/abc", payload)
    )


def _connect_body(flags: int, payload: bytes = b"\x00\x01c") -> bytes:
    return b"\x00\x04MQTT\x04" + bytes((flags,)) + b"\x00\x3c" + payload


MALFORMED = {
    "reserved type 0": b"\x00\x00",
    "reserved type 15": b"\xf0\x00",
    "PINGREQ with flags": b"\xc1\x00",
    "PINGREQ with a body": b"\xc0\x01\x00",
    "DISCONNECT with a body": b"\xe0\x01\x00",
    "SUBSCRIBE without its 0010 flags": b"\x80\x06\x00\x01\x00\x01t\x00",
    "SUBSCRIBE with packet id 0": b"\x82\x06\x00\x00\x00\x01t\x00",
    "SUBSCRIBE without filters": b"\x82\x02\x00\x01",
    "SUBSCRIBE with QoS 3": b"\x82\x06\x00\x01\x00\x01t\x03",
    "SUBSCRIBE with reserved option bits": b"\x82\x06\x00\x01\x00\x01t\x04",
    "SUBSCRIBE with a filter cut short": b"\x82\x05\x00\x01\x00\x05t",
    "UNSUBSCRIBE without topics": b"\xa2\x02\x00\x01",
    "string that is not UTF-8": b"\x82\x06\x00\x01\x00\x01\xff\x00",
    "string with U+0000": b"\x82\x06\x00\x01\x00\x01\x00\x00",
    "string with a lone surrogate": b"\x82\x08\x00\x01\x00\x03\xed\xa0\x80\x00",
    "PUBLISH with QoS 3": b"\x36\x05\x00\x01t\x00\x01",
    "PUBLISH with DUP at QoS 0": b"\x38\x03\x00\x01t",
    "PUBLISH without its topic": b"\x30\x01\x00",
    "PUBACK too long": b"\x40\x03\x00\x01\x00",
    "PUBREL without its flags": b"\x60\x02\x00\x01",
    "CONNACK with reserved flags": b"\x20\x02\x02\x00",
    "SUBACK with an unknown code": b"\x90\x03\x00\x01\x03",
    "CONNECT cut short": b"\x10\x05\x00\x04MQT",
    "CONNECT with the reserved flag": b"\x10" + bytes((len(_connect_body(0x03)),)) + _connect_body(0x03),
    "CONNECT with will QoS but no will": b"\x10" + bytes((len(_connect_body(0x0A)),)) + _connect_body(0x0A),
    "CONNECT with will QoS 3": b"\x10" + bytes((len(_connect_body(0x1E)),)) + _connect_body(0x1E),
    "CONNECT with a password only": b"\x10"
    + bytes((len(_connect_body(0x42, b"\x00\x01c\x00\x01p")),))
    + _connect_body(0x42, b"\x00\x01c\x00\x01p"),
    "CONNECT with trailing bytes": b"\x10"
    + bytes((len(_connect_body(0x02, b"\x00\x01cX")),))
    + _connect_body(0x02, b"\x00\x01cX"),
    "remaining length of five bytes": b"\x30\xff\xff\xff\xff\x01",
}


@pytest.mark.parametrize("wire", list(MALFORMED.values()), ids=list(MALFORMED))
def test_mqtt_codec_refuses_malformed_packets(wire: bytes) -> None:
    with pytest.raises(MalformedPacket):
        PacketReader(max_packet_bytes=1 << 20).feed(wire)


def test_mqtt_codec_refuses_an_oversized_length_before_the_body_arrives() -> None:
    reader = PacketReader(max_packet_bytes=1024)
    with pytest.raises(PacketTooLarge):
        reader.feed(b"\x82" + encode_remaining_length(1025))  # only the fixed header is here


def test_mqtt_codec_waits_for_a_whole_packet() -> None:
    reader = PacketReader(max_packet_bytes=1024)
    wire = encode(Subscribe(1, (("topic", 0),)))
    assert reader.feed(wire[:1]) == []
    assert reader.feed(wire[1:-1]) == []
    assert reader.feed(wire[-1:]) == [Subscribe(1, (("topic", 0),))]


def test_mqtt_codec_decodes_an_unknown_protocol_level_for_the_session_to_refuse() -> None:
    body = b"\x00\x04MQTT\x05\x02\x00\x3c\x00\x01c"
    packet = decode(0x10, body)
    assert isinstance(packet, Connect)
    assert (packet.protocol_name, packet.protocol_level) == ("MQTT", 5)


def test_mqtt_topic_frames_encode_each_payload_for_every_topic() -> None:
    topics = ("chatserver/a/1", "chatserver/b/2", "t", "chatserver/c/3")  # one of another length between
    framers = [TopicFrames(topic) for topic in topics]
    for payload in ('{"data":{"x":"é"}}', '{"data":{"x":"second"}}', '{"data":{"x":"' + "A" * 300 + '"}}'):
        for frames, topic in zip(framers, topics, strict=True):
            assert frames.frame(payload) == encode(Publish(topic, payload.encode()))
