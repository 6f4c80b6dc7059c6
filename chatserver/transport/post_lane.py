"""`POST /graphql` ahead of Starlette's middleware stack: nearly every request the server gets, answered with what
the stack would have done for it and nothing more.

Per request the stack costs a Task-free but layered chain of `send` wrappers (error middleware, request observer,
CORS, router); on the room-listing bench that chain was about a tenth of the server's CPU. The lane does the same
work inline: a request id in the context and the request counted (`RequestCounters`, shared with the observer),
CORS headers from the app's own `CORSMiddleware` instance, and a plain 500 when something unexpected escapes, as
Starlette's `ServerErrorMiddleware` sends it (then re-raised, so uvicorn logs the traceback).

Middleware or exception handlers added to the app later do not reach `POST /graphql`: add them here too.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import Message, Receive, Scope, Send

from chatserver.metrics import ServerMetrics, new_request_id, request_id_var
from chatserver.transport.health import RequestCounters
from chatserver.transport.http import graphql_endpoint

# What CORSMiddleware adds to a response when the request carries no Origin header.
VARY_ORIGIN = (b"vary", b"Origin")


def takes(scope: Scope) -> bool:
    """Whether the lane answers this request (the app's other requests go through the middleware stack)."""
    return (
        scope["type"] == "http"
        and scope["path"] == "/graphql"
        and scope["method"] == "POST"
        and not scope.get("root_path")
    )


class GraphQLPostLane:
    """Answers `POST /graphql` as the middleware stack would, without it; see the module docstring."""

    def __init__(self, metrics: ServerMetrics, counters: RequestCounters, cors: CORSMiddleware) -> None:
        self.metrics = metrics
        self.counters = counters
        self.cors = cors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = new_request_id()
        id_token = request_id_var.set(request_id)
        metrics_token = self.metrics.bind()
        status = 500
        started = False
        try:
            request = Request(scope, receive)
            response = await graphql_endpoint(request)
            status = response.status_code
            headers = response.raw_headers  # graphql_endpoint's responses all carry x-amzn-RequestId
            start: Message = {"type": "http.response.start", "status": status, "headers": headers}
            started = True
            if "origin" in request.headers:
                await self.cors.send(start, send, request.headers)
            else:
                headers.append(VARY_ORIGIN)
                await send(start)
            await send({"type": "http.response.body", "body": response.body})
        except Exception:
            if not started:  # once started, the status sent is the one counted, as RequestObserver does
                await PlainTextResponse("Internal Server Error", status_code=500)(scope, receive, send)
            raise
        finally:
            self.counters.count("POST", "/graphql", status)
            self.metrics.unbind(metrics_token)
            request_id_var.reset(id_token)
