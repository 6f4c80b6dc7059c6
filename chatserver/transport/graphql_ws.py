"""Legacy graphql-ws (subscriptions-transport-ws, Apollo 2): init/ack/ka, start/data/error/complete/stop."""

from __future__ import annotations

import json
from typing import Any, Literal, NotRequired, TypedDict

from chatserver.errors import UnauthorizedException
from chatserver.transport.graphql_transport_ws import credentials_of
from chatserver.transport.session import Session
from chatserver.transport.session_operations import StartRefused

SUBPROTOCOL = "graphql-ws"

CLOSE_NORMAL = 1000  # connection_terminate
CLOSE_UNAUTHORIZED = 4401  # connection_error sent: bad credentials
CLOSE_INIT_TIMEOUT = 4408
EXPIRED_CLOSE_REASON = "Unauthorized: token expired"

KEEPALIVE = '{"type":"ka"}'


class ConnectionInit(TypedDict):
    type: Literal["connection_init"]
    payload: NotRequired[dict[str, Any] | None]


class Start(TypedDict):
    type: Literal["start"]
    id: str
    payload: dict[str, Any]  # {"query", "variables", "operationName"}


class Stop(TypedDict):
    type: Literal["stop"]
    id: str


class Data(TypedDict):
    type: Literal["data"]
    id: str
    payload: dict[str, Any]


class LegacyGraphQLWSCodec:
    subprotocol = SUBPROTOCOL
    keepalive = KEEPALIVE

    def data_prefix(self, op_id: str) -> str:
        return '{"id":' + json.dumps(op_id) + ',"type":"data","payload":'

    async def handle(self, session: Session, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "connection_init":
            await self.handle_connection_init(session, message)
        elif kind == "start":
            self.handle_start(session, message)
        elif kind == "stop":
            op_id = message.get("id")
            if isinstance(op_id, str):
                session.stop(op_id)
                session.send({"type": "complete", "id": op_id})
        elif kind == "connection_terminate":
            session.disconnect(CLOSE_NORMAL, "")
        else:
            self.error(session, message.get("id"), f"Invalid message type: {kind!r}")

    async def handle_connection_init(self, session: Session, message: dict[str, Any]) -> None:
        if session.identity is not None:
            return
        try:
            identity = await session.authenticate_headers(credentials_of(message.get("payload")))
        except UnauthorizedException as error:
            session.send({"type": "connection_error", "payload": {"message": error.message}})
            session.disconnect(CLOSE_UNAUTHORIZED, "Unauthorized")
            return
        session.acknowledge(identity, {"type": "connection_ack"})

    def handle_start(self, session: Session, message: dict[str, Any]) -> None:
        op_id = message.get("id")
        payload = message.get("payload")
        if not isinstance(op_id, str) or not op_id or not isinstance(payload, dict):
            self.error(session, op_id if isinstance(op_id, str) else None, "Invalid message")
            return
        if session.identity is None:
            self.error(session, op_id, "connection_init must come before start")
            return
        try:
            prepared = session.prepare(op_id, payload, session.identity)
        except StartRefused as refused:
            session.send({"type": "error", "id": op_id, "payload": {"errors": refused.compact_errors()}})
            return
        if prepared.compiled is not None:
            session.subscribe(prepared)
            return

        def done(result: dict[str, Any]) -> None:
            session.send({"type": "data", "id": op_id, "payload": result})
            session.send({"type": "complete", "id": op_id})

        session.execute(prepared, done)

    def error(self, session: Session, op_id: Any, message: str) -> None:
        frame: dict[str, Any] = {"type": "error"}
        if isinstance(op_id, str):
            frame["id"] = op_id
        frame["payload"] = {"errors": [{"message": message}]}
        session.send(frame)

    def complete_frame(self, op_id: str) -> dict[str, Any]:
        return {"type": "complete", "id": op_id}

    def expired(self, session: Session) -> None:
        """The connection's token expired: `connection_error`, then close 4401 (as for a bad token)."""
        session.send({"type": "connection_error", "payload": {"message": UnauthorizedException.EXPIRED}})
        session.disconnect(CLOSE_UNAUTHORIZED, EXPIRED_CLOSE_REASON)

    def invalid(self, session: Session, reason: str) -> None:
        self.error(session, None, reason)

    def init_timeout(self, session: Session) -> None:
        session.disconnect(CLOSE_INIT_TIMEOUT, "Connection initialisation timeout")
