"""The `/mqtt` WebSocket route: MQTT 3.1.1 (subprotocol `mqtt`) or 3.1 (`mqttv3.1`), the reply echoing it."""

from __future__ import annotations

import json

from starlette.responses import Response
from starlette.websockets import WebSocket

from chatserver.transport.mqtt.session import SUBPROTOCOLS, MqttCodec, new_client_registry
from chatserver.transport.session import Session
from chatserver.transport.websocket import realtime_context

CLOSE_UNAVAILABLE = 1011
NO_SUBPROTOCOL = "MQTT over WebSocket needs the subprotocol mqtt (3.1.1) or mqttv3.1 (3.1)."


async def mqtt_websocket(websocket: WebSocket) -> None:
    """Starlette WebSocket endpoint for /mqtt?token=<the handshake's signed token>."""
    services = websocket.app.state.services
    signer = getattr(services, "mqtt_grants", None)
    if services.realtime is None or services.verifier is None or signer is None:
        await websocket.close(CLOSE_UNAVAILABLE)
        return
    offered = list(websocket.scope.get("subprotocols") or [])
    subprotocol = next((p for p in SUBPROTOCOLS if p in offered), None)
    if subprotocol is None:
        body = json.dumps({"errors": [{"errorType": "BadRequestException", "message": NO_SUBPROTOCOL}]})
        await websocket.send_denial_response(Response(body, status_code=400, media_type="application/json"))
        return
    state = websocket.app.state
    context = getattr(state, "realtime_context", None)
    if context is None:
        context = realtime_context(services)
        state.realtime_context = context
    clients = getattr(state, "mqtt_clients", None)
    if clients is None:
        clients = state.mqtt_clients = new_client_registry()
    token = websocket.query_params.get("token")
    codec = MqttCodec(subprotocol, signer, token, services.verifier.revocations, clients)
    await Session(websocket, context, codec).run()
