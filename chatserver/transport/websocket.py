"""The WebSocket endpoint of /graphql and /graphql/realtime: picks the protocol (SPEC section 6), runs a session."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.responses import Response
from starlette.websockets import WebSocket

from chatserver.errors import UnauthorizedException
from chatserver.transport import appsync_realtime, graphql_transport_ws, graphql_ws
from chatserver.transport.codec import Codec, RealtimeContext
from chatserver.transport.session import Session

CLOSE_UNAVAILABLE = 1011


def realtime_context(services: Any) -> RealtimeContext:
    """The session's view of the server's services (built once per app, on first use)."""
    group_rules = None
    if services.schema is not None:
        from chatserver.schema.links import field_group_rules

        schema = services.schema

        def group_rules(type_name: str, field_name: str) -> list[str] | None:
            try:
                return field_group_rules(schema, type_name, field_name)
            except LookupError:
                return None

    return RealtimeContext(
        settings=services.settings,
        engine=services.realtime,
        verifier=services.verifier,
        executor=services.executor,
        group_rules=group_rules,
        credentials=services.credentials,
        auth_rules=services.auth_rules,
    )


def choose_codec(websocket: WebSocket) -> Codec | Response:
    """The protocol for this upgrade, or the HTTP response that refuses it."""
    scope = websocket.scope
    offered: list[str] = list(scope.get("subprotocols") or [])
    query_string: bytes = scope.get("query_string", b"")
    if appsync_realtime.wants_appsync(scope["path"], query_string, offered):
        offered_credentials, header = appsync_realtime.connection_header(
            query_string, offered, websocket.headers.get("authorization"), websocket.headers.get("x-api-key")
        )
        if not offered_credentials:
            return Response(
                json.dumps(appsync_realtime.unauthorized_body(UnauthorizedException.MISSING)),
                status_code=401,
                media_type="application/json",
                headers={"x-amzn-ErrorType": "UnauthorizedException"},
            )
        return appsync_realtime.AppSyncRealtimeCodec(header, offered)
    if graphql_transport_ws.SUBPROTOCOL in offered:
        return graphql_transport_ws.GraphQLTransportWSCodec()
    if graphql_ws.SUBPROTOCOL in offered:
        return graphql_ws.LegacyGraphQLWSCodec()
    # No subprotocol we know: speak graphql-transport-ws without naming it in the reply.
    return graphql_transport_ws.GraphQLTransportWSCodec(subprotocol=None)


async def graphql_websocket(websocket: WebSocket) -> None:
    """Starlette WebSocket endpoint for /graphql and /graphql/realtime."""
    services = websocket.app.state.services
    if services.realtime is None or services.verifier is None:
        await websocket.close(CLOSE_UNAVAILABLE)
        return
    state = websocket.app.state
    context = getattr(state, "realtime_context", None)
    if context is None:
        context = realtime_context(services)
        state.realtime_context = context
    codec = choose_codec(websocket)
    if isinstance(codec, Response):
        await websocket.send_denial_response(codec)
        return
    await Session(websocket, context, codec).run()


SHUTDOWN_DRAIN_SECONDS = 10.0


def draining_server_class(after_startup: Callable[[], None] | None = None) -> type:
    """A uvicorn.Server whose shutdown first closes every WebSocket with 1001 after draining its queue.

    uvicorn closes open WebSockets with 1012 *before* the lifespan shutdown runs, so the engine's own
    `stop()` (which closes with 1001) would find nothing left to close; `chatserver serve` runs this class, with
    `after_startup` tuning the garbage collector (chatserver/heap.py) once the lifespan has started.
    """
    import uvicorn

    class DrainingServer(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            if after_startup is not None:
                after_startup()

        async def shutdown(self, sockets: Any = None) -> None:
            for server in self.servers:
                server.close()  # no new connections while the old ones drain
            services = getattr(getattr(self.config.app, "state", None), "services", None)
            engine = getattr(services, "realtime", None)
            if engine is not None:
                await engine.close_all(1001, "Server shutting down", SHUTDOWN_DRAIN_SECONDS)
            await super().shutdown(sockets)

    return DrainingServer
