"""Hostile uploads and downloads: each gets a clear error and leaves no file behind."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.files.helpers import (
    CREATE_MESSAGE,
    CREATE_ROOM,
    CREATE_UPLOAD,
    LIST_MESSAGES,
    PNG_MAGIC,
    error_type,
    gql,
    png,
    put,
    raw_status,
    stored_files,
    token_for,
    upload_target,
)
from tests.server import RunningServer, run_server


def _data_dir_files(server: RunningServer) -> set[Path]:
    return {p for p in server.settings.data_dir.rglob("*") if p.is_file() and "chatserver.db" not in p.name}


@pytest.fixture
def alice(client: httpx.Client) -> str:
    return token_for(client, "alice")


def test_unsigned_and_tampered_upload_urls_are_refused(
    server: RunningServer, client: httpx.Client, alice: str
) -> None:
    data = png(4000)
    target = upload_target(client, alice, size=len(data))
    url = target["uploadUrl"]
    base, query = url.split("?", 1)
    expires, signature = (part.split("=", 1)[1] for part in query.split("&"))
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    other = upload_target(client, alice, size=len(data))["uploadUrl"].split("?", 1)[0]

    for bad in (
        base,  # unsigned
        f"{base}?expires={expires}",
        f"{base}?expires={expires}&signature={flipped}",
        f"{base}?expires={int(expires) + 3600}&signature={signature}",  # a longer life
        f"{base}?expires={expires}&signature={signature.upper()}",
        f"{other}?{query}",  # the signature of another key
        f"{base}?expires=1e9&signature={signature}",
    ):
        refused = put(bad, data)
        assert refused.status_code == 403, bad
        assert refused.json()["errors"][0]["errorType"] == "AccessDenied"
    # A PUT signature does not open the file for GET either.
    assert httpx.get(url).status_code == 403
    assert stored_files(server.settings.data_dir) == []
    # The declared type and size are signed too: a PUT that honours them still works.
    assert put(url, data).status_code == 200


def test_tampered_download_url_is_refused(client: httpx.Client, alice: str) -> None:
    data = png(3000)
    target = upload_target(client, alice, size=len(data))
    assert put(target["uploadUrl"], data).status_code == 200
    room = gql(client, alice, CREATE_ROOM, input={"name": "r"})["data"]["createRoom"]["id"]
    gql(client, alice, CREATE_MESSAGE, input={"roomId": room, "content": {"imageId": target["imageId"]}})
    url = gql(client, alice, LIST_MESSAGES, roomId=room)["data"]["listMessagesForRoom"]["items"][0][
        "content"
    ]["imageUrl"]
    base, query = url.split("?", 1)
    expires = query.split("&")[0].split("=")[1]
    assert httpx.get(url).content == data
    assert httpx.get(base).status_code == 403
    assert httpx.get(f"{base}?expires={int(expires) + 60}&{query.split('&')[1]}").status_code == 403
    assert httpx.put(url, content=data, headers={"Content-Type": "image/png"}).status_code == 403


@pytest.fixture
def short_lived(tmp_path: Path) -> Iterator[RunningServer]:
    with run_server(tmp_path / "short", auto_confirm=True, url_ttl=2) as running:
        yield running


def test_expired_upload_and_download_urls_are_refused(short_lived: RunningServer) -> None:
    with httpx.Client(base_url=short_lived.url, timeout=30) as client:
        token = token_for(client, "alice")
        data = png(2000)
        used = upload_target(client, token, size=len(data))
        assert put(used["uploadUrl"], data).status_code == 200
        unused = upload_target(client, token, size=len(data))
        room = gql(client, token, CREATE_ROOM, input={"name": "r"})["data"]["createRoom"]["id"]
        gql(client, token, CREATE_MESSAGE, input={"roomId": room, "content": {"imageId": used["imageId"]}})
        items = gql(client, token, LIST_MESSAGES, roomId=room)["data"]["listMessagesForRoom"]["items"]
        download = items[0]["content"]["imageUrl"]

        time.sleep(3.1)  # past both URLs' expiry (2 s, whole seconds)

        late_put = put(unused["uploadUrl"], data)
        assert late_put.status_code == 403
        assert "expired" in late_put.json()["errors"][0]["message"]
        late_get = httpx.get(download)
        assert late_get.status_code == 403
        assert "expired" in late_get.json()["errors"][0]["message"]
        assert len(stored_files(short_lived.settings.data_dir)) == 1  # only the upload made in time


FILENAME_TRICKS = [
    "../../etc/passwd",
    "/etc/passwd",
    "..",
    ".",
    "a/../../b.png",
    "a\\..\\b.png",
    "x\x00.png",
    "",
    "a" * 300,
]


def test_path_tricks_in_filenames_are_refused(client: httpx.Client, alice: str) -> None:
    for filename in FILENAME_TRICKS:
        body = gql(
            client, alice, CREATE_UPLOAD, input={"filename": filename, "contentType": "image/png", "size": 10}
        )
        assert error_type(body) == "ValidationException", filename


def test_filename_never_becomes_part_of_the_key(client: httpx.Client, alice: str) -> None:
    target = upload_target(client, alice, size=10, filename="..%2F..%2Fchatserver.db")
    assert "chatserver" not in target["key"] and ".." not in target["key"]


KEY_TRICKS = [
    "/files/../chatserver.db",
    "/files/uploads/../../chatserver.db",
    "/files/%2E%2E/chatserver.db",
    "/files/uploads%2F..%2F..%2Fchatserver.db",
    "/files//etc/passwd",
    "/files/%2Fetc%2Fpasswd",
    "/files/uploads/x%00.png",
    "/files/.partial/x.part",
    "/files/uploads/..%5C..%5Cchatserver.db",
]


def test_path_tricks_in_url_keys_are_refused(server: RunningServer) -> None:
    before = _data_dir_files(server)
    query = "?expires=99999999999&signature=" + "0" * 64
    for path in KEY_TRICKS:
        assert raw_status(server.url, f"GET {path}{query} HTTP/1.1") in {403, 404}, path
        status = raw_status(
            server.url, f"PUT {path}{query} HTTP/1.1", {"Content-Type": "image/png"}, png(100)
        )
        assert status in {403, 404}, path
    assert _data_dir_files(server) == before


def test_encoded_slashes_in_a_signed_key_reach_the_same_file_only(
    server: RunningServer, client: httpx.Client, alice: str
) -> None:
    data = png(1000)
    target = upload_target(client, alice, size=len(data))
    parts = urlsplit(target["uploadUrl"])
    encoded = parts.path.replace("/", "%2F").replace("%2Ffiles%2F", "/files/", 1)
    status = raw_status(
        server.url, f"PUT {encoded}?{parts.query} HTTP/1.1", {"Content-Type": "image/png"}, data
    )
    assert status == 200
    assert [
        p.relative_to(server.settings.data_dir / "files").as_posix()
        for p in stored_files(server.settings.data_dir)
    ] == [target["key"]]


NOT_IMAGES = [
    b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>",
    b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
    b"#!/bin/sh\nrm -rf /\n",
    PNG_MAGIC[:4] + b"<html>",
]


def test_declared_png_with_other_bytes_is_refused(
    server: RunningServer, client: httpx.Client, alice: str
) -> None:
    room = gql(client, alice, CREATE_ROOM, input={"name": "r"})["data"]["createRoom"]["id"]
    for body in NOT_IMAGES:
        target = upload_target(client, alice, size=len(body))
        refused = put(target["uploadUrl"], body)
        assert refused.status_code == 422, body
        assert "not a image/png image" in refused.json()["errors"][0]["message"]
        created = gql(
            client, alice, CREATE_MESSAGE, input={"roomId": room, "content": {"imageId": target["imageId"]}}
        )
        assert error_type(created) == "NotFound"
    assert stored_files(server.settings.data_dir) == []


BAD_DECLARATIONS = [
    ("image/png", 10_485_761),
    ("image/png", 0),
    ("image/png", -5),
    ("text/html", 10),
    ("image/svg+xml", 10),
    ("IMAGE/PNG", 10),
]


def test_declared_bad_type_or_size_is_refused(
    server: RunningServer, client: httpx.Client, alice: str
) -> None:
    for content_type, size in BAD_DECLARATIONS:
        body = gql(
            client,
            alice,
            CREATE_UPLOAD,
            input={"filename": "a.png", "contentType": content_type, "size": size},
        )
        assert error_type(body) == "ValidationException", (content_type, size)
        assert body["data"]["createUploadUrl"] is None
    assert stored_files(server.settings.data_dir) == []


def _chunks(data: bytes, size: int = 1000) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_bodies_larger_or_smaller_than_declared_are_refused(
    server: RunningServer, client: httpx.Client, alice: str
) -> None:
    target = upload_target(client, alice, size=5000)
    url = target["uploadUrl"]
    headers = {"Content-Type": "image/png"}
    assert put(url, png(6000)).status_code == 413  # Content-Length over the declared size
    assert put(url, png(4000)).status_code == 400  # Content-Length under it
    # Chunked bodies (no Content-Length): the limit is enforced while the body streams in.
    assert httpx.put(url, content=_chunks(png(20_000)), headers=headers).status_code == 413
    short = httpx.put(url, content=_chunks(png(4999)), headers=headers)
    assert short.status_code == 400
    assert "ended before" in short.json()["errors"][0]["message"]
    assert put(url, png(5000), content_type="image/jpeg").status_code == 415
    assert put(url, png(5000), content_type="image/png; charset=utf-8").status_code == 415
    assert stored_files(server.settings.data_dir) == []
    # None of that used the URL up.
    assert httpx.put(url, content=_chunks(png(5000)), headers=headers).status_code == 200


def test_disconnect_mid_upload_leaves_nothing(
    server: RunningServer, client: httpx.Client, alice: str
) -> None:
    import socket

    size = 2 * 1024 * 1024
    target = upload_target(client, alice, size=size)
    parts = urlsplit(target["uploadUrl"])
    partials = server.settings.data_dir / "files" / ".partial"
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        head = (
            f"PUT {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Content-Type: image/png\r\nContent-Length: {size}\r\n\r\n"
        )
        sock.sendall(head.encode() + png(size // 2))
        deadline = time.monotonic() + 10
        while not (partials.exists() and any(partials.iterdir())):  # the server is writing
            assert time.monotonic() < deadline, "the upload never started"
            time.sleep(0.01)
    deadline = time.monotonic() + 10
    while any(partials.iterdir()):  # the server noticed the disconnect and cleaned up
        assert time.monotonic() < deadline, "the temporary file was left behind"
        time.sleep(0.01)
    assert stored_files(server.settings.data_dir) == []
    # The URL was not used up: the client can retry.
    assert put(target["uploadUrl"], png(size)).status_code == 200


def test_image_id_of_someone_elses_upload_or_of_nothing_is_not_found(
    server: RunningServer, client: httpx.Client, alice: str
) -> None:
    bob = token_for(client, "bob")
    room = gql(client, alice, CREATE_ROOM, input={"name": "r"})["data"]["createRoom"]["id"]
    bobs_pending = upload_target(client, bob, size=100)
    bobs_done = upload_target(client, bob, size=100)
    assert put(bobs_done["uploadUrl"], png(100)).status_code == 200
    alices_pending = upload_target(client, alice, size=100)

    for image_id in (
        bobs_pending["imageId"],
        bobs_done["imageId"],
        alices_pending["imageId"],
        "00000000-0000-0000-0000-000000000000",
        "../../chatserver.db",
    ):
        body = gql(client, alice, CREATE_MESSAGE, input={"roomId": room, "content": {"imageId": image_id}})
        assert error_type(body) == "NotFound", image_id
        assert "was not found" in body["errors"][0]["message"]
    items = gql(client, alice, LIST_MESSAGES, roomId=room)["data"]["listMessagesForRoom"]["items"]
    assert items == []
    assert len(stored_files(server.settings.data_dir)) == 1  # only bob's finished upload


def test_signed_out_callers_get_no_upload_url(client: httpx.Client) -> None:
    response = client.post(
        "/graphql",
        json={
            "query": CREATE_UPLOAD,
            "variables": {"input": {"filename": "a.png", "contentType": "image/png", "size": 10}},
        },
    )
    assert response.status_code == 401
