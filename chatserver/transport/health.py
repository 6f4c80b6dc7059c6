"""`/healthz` (the process answers), `/readyz` (database and broker reachable), `/metrics` (Prometheus), and the
ASGI middleware that gives every request an id and counts it."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatserver.metrics import CONTENT_TYPE, ServerMetrics, new_request_id, request_id_var
from chatserver.persistence.database import ping

log = logging.getLogger("chatserver.health")

READINESS_TIMEOUT_SECONDS = 2.0
KNOWN_ROUTES = ("/graphql", "/auth", "/.well-known", "/files", "/healthz", "/readyz", "/metrics")


def health_routes() -> list[BaseRoute]:
    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """200 when the database answers and the broker is connected; 503 naming what is down otherwise."""
    services = getattr(request.app.state, "services", None)
    if services is None:
        return JSONResponse({"status": "starting"}, status_code=503)
    checks = {"database": await _database_ok(services.engine), "broker": _broker_ok(services.realtime)}
    ready = all(checks.values())
    body: dict[str, Any] = {
        "status": "ok" if ready else "unavailable",
        "checks": {name: "ok" if ok else "down" for name, ok in checks.items()},
    }
    if not ready:
        body["down"] = [name for name, ok in checks.items() if not ok]
    return JSONResponse(body, status_code=200 if ready else 503)


async def metrics_endpoint(request: Request) -> Response:
    metrics: ServerMetrics = request.app.state.metrics
    return Response(metrics.exposition(), media_type=CONTENT_TYPE)


async def _database_ok(engine: Any) -> bool:
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
            await ping(engine)
        return True
    except Exception as error:
        log.warning("readiness: database unreachable: %s", error)
        return False


def _broker_ok(realtime: Any) -> bool:
    broker = getattr(realtime, "broker", None)
    return broker is None or bool(getattr(broker, "connected", True))


class RequestCounters:
    """The request counter by method, route and status, its labelled children kept (`labels()` costs per
    request); shared by `RequestObserver` and the `POST /graphql` lane (transport/post_lane.py)."""

    def __init__(self, metrics: ServerMetrics) -> None:
        self.metrics = metrics
        self._children: dict[tuple[str, str, int], Any] = {}

    def count(self, method: str, route: str, status: int) -> None:
        """One request to `route` (one of KNOWN_ROUTES, or "other": see `route_of`)."""
        key = (method, route, status)
        counter = self._children.get(key)
        if counter is None:
            counter = self.metrics.requests.labels(method, route, str(status))
            if len(self._children) < MAX_COUNTER_CHILDREN:  # methods come from clients: bounded
                self._children[key] = counter
        counter.inc()


class RequestObserver:
    """Pure ASGI middleware: a request id in the context (logs, InternalFailure messages), request counts by
    route and status, and this app's metrics bound for `chatserver.metrics.count_error`."""

    def __init__(self, app: ASGIApp, metrics: ServerMetrics, counters: RequestCounters) -> None:
        self.app = app
        self.metrics = metrics
        self.counters = counters

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        id_token = request_id_var.set(request_id)
        metrics_token = self.metrics.bind()
        try:
            if scope["type"] == "websocket":
                await self.app(scope, receive, send)
                return
            status = 500

            async def observed_send(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    headers = list(message.get("headers", ()))
                    if not any(name.lower() == b"x-amzn-requestid" for name, _ in headers):
                        headers.append((b"x-amzn-RequestId", request_id.encode()))
                        message = {**message, "headers": headers}
                await send(message)

            try:
                await self.app(scope, receive, observed_send)
            finally:
                self.counters.count(scope["method"], route_of(scope["path"]), status)
        finally:
            self.metrics.unbind(metrics_token)
            request_id_var.reset(id_token)


MAX_COUNTER_CHILDREN = 1024


def route_of(path: str) -> str:
    """The route a path is counted under: the known route it falls in, or "other"."""
    for route in KNOWN_ROUTES:
        if path == route or path.startswith(route + "/"):
            return route
    return "other"
