"""What the chat app does around images: sign in, ask for an upload URL, PUT, send and read messages."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx

from tests.auth.flows import signed_in

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

CREATE_UPLOAD = """
mutation CreateUploadUrl($input: UploadInput!) {
  createUploadUrl(input: $input) { key imageId uploadUrl expiresAt }
}"""
CREATE_ROOM = "mutation CreateRoom($input: RoomInput!) { createRoom(input: $input) { id } }"
CREATE_MESSAGE = """
mutation CreateMessage($input: MessageInput!) {
  createMessage(input: $input) { id content { text imageId imageUrl } }
}"""
DELETE_MESSAGE = "mutation DeleteMessage($id: ID!) { deleteMessage(id: $id) { id } }"
LIST_MESSAGES = """
query ListMessagesForRoom($roomId: ID!) {
  listMessagesForRoom(roomId: $roomId) { items { id content { text imageId imageUrl } } }
}"""


def png(size: int) -> bytes:
    return PNG_MAGIC + os.urandom(size - len(PNG_MAGIC))


def token_for(client: httpx.Client, username: str) -> str:
    return signed_in(client, username)["accessToken"]


def gql(client: httpx.Client, token: str, query: str, **variables: Any) -> dict[str, Any]:
    response = client.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"Authorization": token}
    )
    assert response.status_code == 200, response.text
    return response.json()


def upload_target(
    client: httpx.Client,
    token: str,
    *,
    size: int,
    content_type: str = "image/png",
    filename: str = "cat.png",
) -> dict[str, Any]:
    body = gql(
        client,
        token,
        CREATE_UPLOAD,
        input={"filename": filename, "contentType": content_type, "size": size},
    )
    assert body.get("errors") is None, body
    return body["data"]["createUploadUrl"]


def put(url: str, data: bytes, content_type: str = "image/png", **kwargs: Any) -> httpx.Response:
    return httpx.put(url, content=data, headers={"Content-Type": content_type}, timeout=30, **kwargs)


def error_type(body: dict[str, Any]) -> str:
    assert body.get("errors"), body
    return body["errors"][0]["errorType"]


def stored_files(data_dir: Path) -> list[Path]:
    """Every file the store holds, finished or temporary."""
    root = data_dir / "files"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def raw_status(url: str, request_line: str, headers: dict[str, str] | None = None, body: bytes = b"") -> int:
    """Send exactly `request_line` (no client-side path normalisation) and return the response status."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    lines = [request_line, f"Host: {parts.netloc}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        reply = b""
        while b"\r\n" not in reply:
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    return int(reply.split(b" ", 2)[1])
