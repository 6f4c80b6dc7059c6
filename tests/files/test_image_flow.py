"""The chat app's image flow end to end over a real server, plus what a browser or image cache relies on."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.files.helpers import (
    CREATE_MESSAGE,
    CREATE_ROOM,
    LIST_MESSAGES,
    gql,
    png,
    put,
    stored_files,
    token_for,
    upload_target,
)
from tests.server import RunningServer


def _posted_image(client: httpx.Client, token: str, data: bytes) -> tuple[str, dict]:
    target = upload_target(client, token, size=len(data))
    assert put(target["uploadUrl"], data).status_code == 200
    room = gql(client, token, CREATE_ROOM, input={"name": "pictures"})["data"]["createRoom"]["id"]
    created = gql(
        client, token, CREATE_MESSAGE, input={"roomId": room, "content": {"imageId": target["imageId"]}}
    )
    assert created.get("errors") is None, created
    return room, target


def test_image_message_round_trip_returns_same_bytes_and_type(
    server: RunningServer, client: httpx.Client
) -> None:
    alice = token_for(client, "alice")
    data = png(70_000)
    room, target = _posted_image(client, alice, data)
    assert target["key"].startswith("uploads/") and target["key"].endswith(".png")
    assert target["uploadUrl"].startswith(server.url + "/files/")
    assert target["expiresAt"].endswith("Z")

    bob = token_for(client, "bob")  # any signed-in reader gets the picture
    items = gql(client, bob, LIST_MESSAGES, roomId=room)["data"]["listMessagesForRoom"]["items"]
    assert [m["content"]["imageId"] for m in items] == [target["imageId"]]
    image_url = items[0]["content"]["imageUrl"]
    assert "signature=" in image_url and "expires=" in image_url

    response = httpx.get(image_url)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-length"] == str(len(data))
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["etag"].startswith('"')
    max_age = int(response.headers["cache-control"].split("max-age=")[1])
    assert 0 < max_age <= server.settings.url_ttl

    revalidated = httpx.get(image_url, headers={"If-None-Match": response.headers["etag"]})
    assert revalidated.status_code == 304 and revalidated.content == b""


def test_download_range_request_returns_partial_content(client: httpx.Client) -> None:
    alice = token_for(client, "alice")
    data = png(300_000)
    room, _ = _posted_image(client, alice, data)
    image_url = gql(client, alice, LIST_MESSAGES, roomId=room)["data"]["listMessagesForRoom"]["items"][0][
        "content"
    ]["imageUrl"]

    middle = httpx.get(image_url, headers={"Range": "bytes=1000-200999"})
    assert middle.status_code == 206
    assert middle.content == data[1000:201000]
    assert middle.headers["content-range"] == f"bytes 1000-200999/{len(data)}"

    tail = httpx.get(image_url, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == data[-10:]

    beyond = httpx.get(image_url, headers={"Range": f"bytes={len(data)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(data)}"


def test_upload_url_is_used_once(server: RunningServer, client: httpx.Client) -> None:
    alice = token_for(client, "alice")
    first, second = png(5000), png(5000)
    target = upload_target(client, alice, size=len(first))
    assert put(target["uploadUrl"], first).status_code == 200

    again = put(target["uploadUrl"], second)
    assert again.status_code == 409
    assert "already" in again.json()["errors"][0]["message"]
    stored = stored_files(server.settings.data_dir)
    assert len(stored) == 1 and stored[0].read_bytes() == first


def test_concurrent_uploads_all_finish_intact(server: RunningServer, client: httpx.Client) -> None:
    alice = token_for(client, "alice")
    bodies = [png(200_000 + i) for i in range(16)]
    targets = [upload_target(client, alice, size=len(body)) for body in bodies]

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(
            pool.map(
                lambda pair: put(pair[0]["uploadUrl"], pair[1]).status_code, zip(targets, bodies, strict=True)
            )
        )

    assert statuses == [200] * 16
    root = server.settings.data_dir / "files"
    for target, body in zip(targets, bodies, strict=True):
        assert (root / target["key"]).read_bytes() == body
    assert len({t["key"] for t in targets}) == 16
    assert len(stored_files(server.settings.data_dir)) == 16  # no temporary file left over
