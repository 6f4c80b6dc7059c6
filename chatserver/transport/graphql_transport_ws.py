"""graphql-transport-ws (the `graphql-ws` library's protocol; GraphiQL, Apollo 3, urql, gql)."""

from __future__ import annotations

import json
from typing import Any, Literal, NotRequired, TypedDict

from chatserver.errors import UnauthorizedException
from chatserver.transport.session import Session
from chatserver.transport.session_operations import StartRefused

SUBPROTOCOL = "graphql-transport-ws"

# Close codes, as the protocol defines them.
CLOSE_BAD_REQUEST = 4400  # invalid message
CLOSE_UNAUTHORIZED = 4401  # subscribe before connection_ack; signed out
CLOSE_FORBIDDEN = 4403  # connection_init refused (bad or missing token)
CLOSE_INIT_TIMEOUT = 4408  # no connection_init in time
CLOSE_SUBSCRIBER_EXISTS = 4409  # duplicate operation id
CLOSE_TOO_MANY_INITS = 4429  # a second connection_init
EXPIRED_CLOSE_REASON = "Unauthorized: token expired"


class ConnectionInit(TypedDict):
    type: Literal["connection_init"]
    payload: NotRequired[dict[str, Any] | None]


class SubscribePayload(TypedDict):
    query: str
    variables: NotRequired[dict[str, Any] | None]
    operationName: NotRequired[str | None]
    extensions: NotRequired[dict[str, Any] | None]


class Subscribe(TypedDict):
    type: Literal["subscribe"]
    id: str
    payload: SubscribePayload


class Complete(TypedDict):
    type: Literal["complete"]
    id: str


class Next(TypedDict):
    type: Literal["next"]
    id: str
    payload: dict[str, Any]


class Error(TypedDict):
    type: Literal["error"]
    id: str
    payload: list[dict[str, Any]]


def token_of(payload: Any) -> str | None:
    """The token in a connection_init payload: Authorization, authorization, authToken or headers.Authorization."""
    if not isinstance(payload, dict):
        return None
    for key in ("Authorization", "authorization", "authToken"):
        value = payload.get(key)
        if isinstance(value, str) and value:
            return value
    headers = payload.get("headers")
    if isinstance(headers, dict):
        for key, value in headers.items():
            if isinstance(key, str) and key.lower() == "authorization" and isinstance(value, str):
                return value
    return None


def credentials_of(payload: Any) -> dict[str, str]:
    """The credentials of a connection_init payload as a header object: the token (see `token_of`) and an API key
    (`x-api-key`, `apiKey`, or `headers.x-api-key`, whatever the case)."""
    found: dict[str, str] = {}
    token = token_of(payload)
    if token is not None:
        found["authorization"] = token
    if isinstance(payload, dict):
        headers = payload.get("headers")
        for source in (payload, headers if isinstance(headers, dict) else {}):
            for key, value in source.items():
                if isinstance(key, str) and key.lower() in {"x-api-key", "apikey"} and isinstance(value, str):
                    found.setdefault("x-api-key", value)
    return found


class GraphQLTransportWSCodec:
    subprotocol: str | None = SUBPROTOCOL
    keepalive = None

    def __init__(self, subprotocol: str | None = SUBPROTOCOL) -> None:
        self.subprotocol = subprotocol

    def data_prefix(self, op_id: str) -> str:
        return '{"id":' + json.dumps(op_id) + ',"type":"next","payload":'

    async def handle(self, session: Session, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "connection_init":
            await self.handle_connection_init(session, message)
        elif kind == "ping":
            session.send({"type": "pong"})
        elif kind == "pong":
            return
        elif kind == "subscribe":
            self.handle_subscribe(session, message)
        elif kind == "complete":
            op_id = message.get("id")
            if isinstance(op_id, str):
                session.stop(op_id)
            else:
                self.invalid(session, "Invalid message received")
        else:
            self.invalid(session, f"Invalid message received: unknown type {kind!r}")

    async def handle_connection_init(self, session: Session, message: dict[str, Any]) -> None:
        if session.identity is not None or session.state.value != "connecting":
            session.disconnect(CLOSE_TOO_MANY_INITS, "Too many initialisation requests")
            return
        try:
            identity = await session.authenticate_headers(credentials_of(message.get("payload")))
        except UnauthorizedException as error:
            session.disconnect(CLOSE_FORBIDDEN, f"Forbidden: {error.message}")
            return
        session.acknowledge(identity, {"type": "connection_ack"})

    def handle_subscribe(self, session: Session, message: dict[str, Any]) -> None:
        op_id = message.get("id")
        payload = message.get("payload")
        if not isinstance(op_id, str) or not op_id or not isinstance(payload, dict):
            self.invalid(session, "Invalid message received")
            return
        if session.identity is None:
            session.disconnect(CLOSE_UNAUTHORIZED, "Unauthorized")
            return
        try:
            prepared = session.prepare(op_id, payload, session.identity)
        except StartRefused as refused:
            if refused.error_type == StartRefused.DUPLICATE:
                session.disconnect(CLOSE_SUBSCRIBER_EXISTS, f"Subscriber for {op_id} already exists")
                return
            session.send({"id": op_id, "type": "error", "payload": refused.compact_errors()})
            return
        if prepared.compiled is not None:
            session.subscribe(prepared)
            return

        def done(result: dict[str, Any]) -> None:
            session.send({"id": op_id, "type": "next", "payload": result})
            session.send({"id": op_id, "type": "complete"})

        session.execute(prepared, done)

    def complete_frame(self, op_id: str) -> dict[str, Any]:
        return {"id": op_id, "type": "complete"}

    def expired(self, session: Session) -> None:
        """The connection's token expired: close 4401 (the protocol's Unauthorized)."""
        session.disconnect(CLOSE_UNAUTHORIZED, EXPIRED_CLOSE_REASON)

    def invalid(self, session: Session, reason: str) -> None:
        session.disconnect(CLOSE_BAD_REQUEST, reason)  # cut to a close frame's 123 bytes by disconnect

    def init_timeout(self, session: Session) -> None:
        session.disconnect(CLOSE_INIT_TIMEOUT, "Connection initialisation timeout")
