"""Pre-framed subscription writes (transport.ws_frames): what a client reads is what websockets would frame."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.frames import Frame, Opcode

from chatserver.transport.ws_frames import text_header
from tests import helpers as seed
from tests.realtime import live
from tests.server import RunningServer, run_server


@pytest.mark.parametrize("length", [0, 1, 125, 126, 127, 65535, 65536, 240 * 1024])
def test_text_header_is_the_header_websockets_writes(length: int) -> None:
    payload = b"x" * length
    framed = Frame(Opcode.TEXT, payload).serialize(mask=False, extensions=[])
    assert text_header(length) + payload == framed


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data = Path(tmp_path_factory.mktemp("preframed")) / "data"
    with run_server(data, auto_confirm=True, max_outgoing_bytes=8 * 1024 * 1024) as running:
        yield running


async def test_ws_every_frame_size_and_non_ascii_body_arrives_intact_in_order_on_each_subscription(
    server: RunningServer,
) -> None:
    token = live.sign_up(server, "framer")["accessToken"]
    auth = {"Authorization": token, "host": live.host_of(server)}
    room = await live.create_room(server, token, "frames")
    engine = live.services(server).realtime
    ws = await live.appsync_connect(server, token, max_size=None)
    other = await live.appsync_connect(server, token, max_size=None)
    try:
        # two subscriptions on one connection (same body, different prefixes) and one on another
        starts = ((ws, "first"), (ws, "second-with-a-longer-id"), (other, "o"))
        for socket, sub_id in starts:
            ack = await live.appsync_start(
                socket, sub_id, seed.ON_CREATE_AUDIO_SEGMENT, {"roomId": room}, auth
            )
            assert ack["type"] == "start_ack"
        # bodies whose frames take each header size (7-bit, 16-bit, 64-bit length), some not ASCII
        datas = ["", "é", "a" * 60, "🎙" * 40_000, "b" * 65_400, "c" * 65_600, "ü" * 70_000, "d" * 200_000]
        for n, data in enumerate(datas):
            payload = {"roomId": room, "data": data, "timestamp": str(n), "userId": "u"}
            live.run_on_server_loop(server, engine.publish("createAudioSegment", payload))
        for socket, ids in ((ws, ["first", "second-with-a-longer-id"]), (other, ["o"])):
            for n, data in enumerate(datas):  # in publish order, each publish once per subscription
                seen = []
                for _ in ids:
                    frame = await live.recv_json(socket)
                    assert frame["type"] == "data"
                    segment = frame["payload"]["data"]["onCreateAudioSegment"]
                    assert (segment["timestamp"], segment["data"]) == (str(n), data)
                    seen.append(frame["id"])
                assert sorted(seen) == sorted(ids)
    finally:
        await ws.close()
        await other.close()
