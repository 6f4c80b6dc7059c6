"""AWS AppSync's real-time protocol (APPSYNC.md section 1): messages as data, one handler per type."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any, Literal, NotRequired, TypedDict
from urllib.parse import unquote

from chatserver.errors import UnauthorizedException
from chatserver.transport.json_codec import loads_strict
from chatserver.transport.session import Session
from chatserver.transport.session_operations import StartRefused

SUBPROTOCOL = "graphql-ws"
HEADER_SUBPROTOCOL_PREFIX = "header-"

CLOSE_UNAUTHORIZED = 4401  # connection_error sent: bad credentials
CLOSE_INIT_TIMEOUT = 4408  # no connection_init in time
CLOSE_NORMAL = 1000

KEEPALIVE = '{"type":"ka"}'
EXPIRED_CLOSE_REASON = "UnauthorizedException: Token has expired."
UNKNOWN_UNSUPPORTED = "unknown not supported through the realtime channel"
DATA_NOT_A_STRING = "payload.data must be a JSON string of {query, variables}"


# --- wire messages


class ConnectionInit(TypedDict):
    type: Literal["connection_init"]


class StartPayload(TypedDict):
    data: str  # a JSON string of {"query", "variables", "operationName"}
    extensions: NotRequired[dict[str, Any]]  # {"authorization": {header object}}


class Start(TypedDict):
    type: Literal["start"]
    id: str
    payload: StartPayload


class Stop(TypedDict):
    type: Literal["stop"]
    id: str


class ConnectionAck(TypedDict):
    type: Literal["connection_ack"]
    payload: dict[str, int]  # {"connectionTimeoutMs": ...}


class ErrorMessage(TypedDict):
    type: Literal["error", "connection_error"]
    id: NotRequired[str]
    payload: dict[str, list[dict[str, Any]]]


# --- the auth header object


_WHITESPACE = re.compile(r"\s+")


def decode_header_object(encoded: str) -> dict[str, Any] | None:
    """Lenient base64 of a JSON object: whitespace ignored, standard or URL alphabet, padding optional."""
    text = _WHITESPACE.sub("", encoded).rstrip("=").replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        decoded = json.loads(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError):
        return None
    return decoded if isinstance(decoded, dict) else None


def raw_query_param(query_string: bytes, name: str) -> str | None:
    """A query parameter read from the raw query string: percent-escapes decoded, `+` kept as `+`."""
    for part in query_string.decode("latin-1").split("&"):
        key, _, value = part.partition("=")
        if unquote(key) == name:
            return unquote(value)
    return None


def authorization_of(header: Mapping[str, Any] | None) -> str | None:
    """The `Authorization` entry of a header object, whatever its case."""
    if not header:
        return None
    for key, value in header.items():
        if isinstance(key, str) and key.lower() == "authorization" and isinstance(value, str):
            return value
    return None


def connection_header(
    query_string: bytes,
    subprotocols: list[str],
    authorization_header: str | None,
    api_key_header: str | None = None,
) -> tuple[bool, dict[str, Any] | None]:
    """(credentials offered at all, the header object). The three ways of APPSYNC.md 1.2, in that order."""
    encoded = raw_query_param(query_string, "header")
    if encoded is not None:
        return True, decode_header_object(encoded)
    for protocol in subprotocols:
        if protocol.startswith(HEADER_SUBPROTOCOL_PREFIX):
            return True, decode_header_object(protocol[len(HEADER_SUBPROTOCOL_PREFIX) :])
    if authorization_header or api_key_header:
        plain = {"Authorization": authorization_header, "x-api-key": api_key_header}
        return True, {k: v for k, v in plain.items() if v}
    return False, None


def wants_appsync(path: str, query_string: bytes, subprotocols: list[str]) -> bool:
    """SPEC section 6: the realtime path, or `graphql-ws` with a header query parameter or subprotocol."""
    if path.rstrip("/").endswith("/realtime"):
        return True
    if SUBPROTOCOL not in subprotocols:
        return False
    return raw_query_param(query_string, "header") is not None or any(
        p.startswith(HEADER_SUBPROTOCOL_PREFIX) for p in subprotocols
    )


def unauthorized_body(message: str) -> dict[str, Any]:
    return {"errors": [{"errorType": "UnauthorizedException", "message": message}]}


# --- the codec


class AppSyncRealtimeCodec:
    """AppSync real-time: `connection_init` → `connection_ack`; `start` → `start_ack`, `data`...; `stop` → `complete`."""

    subprotocol: str | None = SUBPROTOCOL
    keepalive = KEEPALIVE

    def __init__(self, header: dict[str, Any] | None, offered: list[str]) -> None:
        self.header = header
        # RFC 6455: the accept names a subprotocol only if the client offered it (strict clients abort otherwise).
        self.subprotocol = SUBPROTOCOL if SUBPROTOCOL in offered else None

    def data_prefix(self, op_id: str) -> str:
        return '{"type":"data","id":' + json.dumps(op_id) + ',"payload":'

    async def handle(self, session: Session, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "connection_init":
            await self.handle_connection_init(session)
        elif kind == "start":
            await self.handle_start(session, message)
        elif kind == "stop":
            self.handle_stop(session, message)
        else:
            self.error(
                session, None, "UnsupportedOperation", f"{kind} not supported through the realtime channel"
            )

    async def handle_connection_init(self, session: Session) -> None:
        if session.identity is not None:
            return  # already acknowledged: a repeated init changes nothing
        header, self.header = self.header, None  # not kept for the connection's life
        try:
            identity = await session.authenticate_headers(header)
        except UnauthorizedException as error:
            session.send(
                {
                    "type": "connection_error",
                    "payload": {
                        "errors": [
                            {"errorType": error.error_type, "message": error.message, "errorCode": 401}
                        ]
                    },
                }
            )
            session.disconnect(CLOSE_UNAUTHORIZED, "Unauthorized")
            return
        session.acknowledge(
            identity,
            {
                "type": "connection_ack",
                "payload": {"connectionTimeoutMs": session.settings.connection_timeout_ms},
            },
        )

    async def handle_start(self, session: Session, message: dict[str, Any]) -> None:
        op_id = message.get("id")
        payload = message.get("payload")
        if not isinstance(op_id, str) or not op_id or not isinstance(payload, dict):
            self.invalid(session, "Invalid message")
            return
        if session.identity is None:
            self.error(session, op_id, "UnsupportedOperation", "connection_init must come before start")
            return
        data = payload.get("data")
        if not isinstance(data, str):  # AppSync takes `data` only as a JSON string (APPSYNC.md 1.3)
            self.error(session, op_id, StartRefused.UNSUPPORTED, DATA_NOT_A_STRING)
            return
        request = _request_of(data)
        try:
            extensions = payload.get("extensions")
            header = extensions.get("authorization") if isinstance(extensions, dict) else None
            if not isinstance(header, dict):  # checked per start, never inherited from connection_init
                raise StartRefused(StartRefused.UNAUTHORIZED, UnauthorizedException.MISSING)
            try:
                identity = await session.authenticate_headers(header)
            except UnauthorizedException as error:
                raise StartRefused(error.error_type, error.message) from None
            if request is None:
                raise StartRefused(StartRefused.UNSUPPORTED, UNKNOWN_UNSUPPORTED)
            prepared = session.prepare(op_id, request, identity, subscriptions_only=True)
        except StartRefused as refused:
            if refused.unparsable:
                self.error(session, None, StartRefused.UNSUPPORTED, UNKNOWN_UNSUPPORTED)
            elif refused.error_type == StartRefused.RATE or (
                refused.error_type == StartRefused.UNSUPPORTED and "realtime channel" in refused.message
            ):
                self.error(session, None, refused.error_type, refused.message)
            else:
                session.send({"type": "error", "id": op_id, "payload": {"errors": refused.compact_errors()}})
            return
        session.send({"type": "start_ack", "id": op_id})
        session.subscribe(prepared)

    def complete_frame(self, op_id: str) -> dict[str, Any]:
        return {"type": "complete", "id": op_id}

    def expired(self, session: Session) -> None:
        """The connection's token expired: `connection_error` (UnauthorizedException), then close 4401."""
        session.send(
            {
                "type": "connection_error",
                "payload": {
                    "errors": [
                        {
                            "errorType": UnauthorizedException.error_type,
                            "message": UnauthorizedException.EXPIRED,
                            "errorCode": 401,
                        }
                    ]
                },
            }
        )
        session.disconnect(CLOSE_UNAUTHORIZED, EXPIRED_CLOSE_REASON)

    def handle_stop(self, session: Session, message: dict[str, Any]) -> None:
        op_id = message.get("id")
        if not isinstance(op_id, str):
            self.invalid(session, "Invalid message")
            return
        session.stop(op_id)
        session.send({"type": "complete", "id": op_id})

    def error(self, session: Session, op_id: str | None, error_type: str, message: str) -> None:
        frame: dict[str, Any] = {"type": "error"}
        if op_id is not None:
            frame["id"] = op_id
        frame["payload"] = {"errors": [{"errorType": error_type, "message": message}]}
        session.send(frame)

    def invalid(self, session: Session, reason: str) -> None:
        self.error(session, None, "UnsupportedOperation", reason)

    def init_timeout(self, session: Session) -> None:
        session.disconnect(CLOSE_INIT_TIMEOUT, "Connection initialisation timeout")


def _request_of(data: str) -> dict[str, Any] | None:
    """`payload.data`, a JSON string of the request object; None when it is not one."""
    try:
        request = loads_strict(data)
    except ValueError:
        return None
    return request if isinstance(request, dict) else None
