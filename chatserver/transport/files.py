"""Presigned file URLs over HTTP: `PUT /files/<key>` stores an upload, `GET /files/<key>` serves it (ranges too)."""

from __future__ import annotations

import logging
import re

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from chatserver.storage.service import FileRefused

log = logging.getLogger("chatserver.transport.files")

_RANGE = re.compile(r"bytes=(\d{0,19})-(\d{0,19})")
# The bytes are never a page: no sniffing, no scripts, no plugins, even if a browser is asked to render them.
SAFETY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Content-Disposition": "inline",
}


class RangeNotSatisfiable(Exception):
    pass


def file_routes() -> list[BaseRoute]:
    return [
        Route("/files/{key:path}", upload, methods=["PUT"]),
        Route("/files/{key:path}", download, methods=["GET", "HEAD"]),
    ]


def refused(error: FileRefused, *, close: bool = False) -> JSONResponse:
    headers = {"x-amzn-ErrorType": error.code}
    if close:
        headers["Connection"] = "close"  # the body may be unread: do not reuse this connection
    body = {"errors": [{"errorType": error.code, "message": error.message}]}
    return JSONResponse(body, status_code=error.status, headers=headers)


async def upload(request: Request) -> Response:
    files = request.app.state.services.files
    try:
        stored = await files.receive_upload(
            request.path_params["key"],
            expires=request.query_params.get("expires"),
            signature=request.query_params.get("signature"),
            content_type=request.headers.get("content-type"),
            content_length=request.headers.get("content-length"),
            body=request.stream(),
        )
    except FileRefused as error:
        return refused(error, close=True)
    except ClientDisconnect:
        log.info("upload to %s abandoned by the client; nothing stored", request.url.path)
        return Response(status_code=400)  # nobody is listening
    except OSError:
        log.exception("upload to %s failed writing to storage; nothing stored", request.url.path)
        return refused(
            FileRefused(507, "InsufficientStorage", "The server could not store the file."), close=True
        )
    etag = f'"{stored.etag}"'
    return JSONResponse({"size": stored.size, "etag": etag}, headers={"ETag": etag})


async def download(request: Request) -> Response:
    files = request.app.state.services.files
    try:
        found = await files.open_download(
            request.path_params["key"],
            expires=request.query_params.get("expires"),
            signature=request.query_params.get("signature"),
        )
    except FileRefused as error:
        return refused(error)
    size, etag = found.opened.size, f'"{found.record.etag}"'
    headers = {
        **SAFETY_HEADERS,
        "Content-Type": found.record.content_type,
        "ETag": etag,
        "Accept-Ranges": "bytes",
        # Never cached past the URL's own life.
        "Cache-Control": f"private, max-age={found.remaining}",
    }
    if etag in _etags(request.headers.get("if-none-match")):
        found.opened.close()
        return Response(status_code=304, headers=headers)
    start, end, status = 0, size, 200
    range_header = request.headers.get("range")
    if range_header and request.headers.get("if-range", etag) == etag:
        try:
            wanted = byte_range(range_header, size)
        except RangeNotSatisfiable:
            found.opened.close()
            return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
        if wanted is not None:
            start, end, status = *wanted, 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    headers["Content-Length"] = str(end - start)
    if request.method == "HEAD":
        found.opened.close()
        return Response(status_code=status, headers=headers)
    return StreamingResponse(found.opened.chunks(start, end), status_code=status, headers=headers)


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """One `bytes=` range as [start, end); None to ignore the header (malformed or several ranges)."""
    match = _RANGE.fullmatch(header.strip())
    if match is None or not (match[1] or match[2]):
        return None
    if not match[1]:  # suffix: the last N bytes
        suffix = int(match[2])
        if suffix == 0:
            raise RangeNotSatisfiable(header)
        return max(0, size - suffix), size
    start = int(match[1])
    if start >= size:
        raise RangeNotSatisfiable(header)
    last = int(match[2]) if match[2] else size - 1
    if last < start:
        return None
    return start, min(last + 1, size)


def _etags(header: str | None) -> set[str]:
    if not header:
        return set()
    return {tag.strip().removeprefix("W/") for tag in header.split(",")}
