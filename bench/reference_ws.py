"""The fan-out reference: a bare Starlette + uvicorn WebSocket endpoint, no engine.

It speaks just enough of the AppSync real-time protocol for bench/rawws.py (connection_init -> connection_ack,
start -> start_ack) on /graphql/realtime, and answers `POST /graphql` carrying a createAudioSegment request by
encoding the AppSync `data` payload once and writing one pre-encoded frame per subscriber of the room in a direct
loop. Run: `python -m bench.reference_ws --port 8100` (uvicorn settings as `chatserver serve`: no deflate).
"""

from __future__ import annotations

import argparse
import json
import time

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

ACK = '{"type":"connection_ack","payload":{"connectionTimeoutMs":300000}}'


def build_app() -> Starlette:
    rooms: dict[str, dict[WebSocket, str]] = {}

    async def realtime(websocket: WebSocket) -> None:
        await websocket.accept(subprotocol="graphql-ws")
        joined: list[str] = []
        try:
            while True:
                message = json.loads(await websocket.receive_text())
                kind = message.get("type")
                if kind == "connection_init":
                    await websocket.send_text(ACK)
                elif kind == "start":
                    op_id = message["id"]
                    request = json.loads(message["payload"]["data"])
                    room_id = request["variables"]["roomId"]
                    prefix = '{"type":"data","id":' + json.dumps(op_id) + ',"payload":'
                    rooms.setdefault(room_id, {})[websocket] = prefix
                    joined.append(room_id)
                    await websocket.send_text('{"type":"start_ack","id":' + json.dumps(op_id) + "}")
        except WebSocketDisconnect:
            pass
        finally:
            for room_id in joined:
                rooms.get(room_id, {}).pop(websocket, None)

    async def publish(request: Request) -> JSONResponse:
        variables = (await request.json())["variables"]
        room_id = variables["roomId"]
        segment = {
            "roomId": room_id,
            "data": variables["data"],
            "timestamp": str(int(time.time() * 1000)),
            "userId": "reference",
        }
        body = json.dumps({"data": {"onCreateAudioSegment": segment}}, separators=(",", ":"))
        for websocket, prefix in list(rooms.get(room_id, {}).items()):
            try:
                await websocket.send_text(prefix + body + "}")
            except Exception:
                rooms.get(room_id, {}).pop(websocket, None)
        return JSONResponse({"data": {"createAudioSegment": segment}})

    return Starlette(
        routes=[WebSocketRoute("/graphql/realtime", realtime), Route("/graphql", publish, methods=["POST"])]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        build_app(),
        host="127.0.0.1",
        port=args.port,
        ws_per_message_deflate=False,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
