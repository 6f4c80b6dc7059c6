"""The URL map: every HTTP and WebSocket route of the server."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route, WebSocketRoute

from chatserver.config import Settings
from chatserver.transport.auth_routes import auth_routes
from chatserver.transport.cognito_api import cognito_routes
from chatserver.transport.files import file_routes
from chatserver.transport.health import health_routes
from chatserver.transport.http import graphql_endpoint
from chatserver.transport.mqtt.endpoint import mqtt_websocket
from chatserver.transport.web import web_routes
from chatserver.transport.websocket import graphql_websocket


def build_routes(settings: Settings) -> list[BaseRoute]:
    # --- GraphQL over HTTP first: the router tries routes in order, and this is the one nearly every request takes
    # (an HTTP route never matches a WebSocket scope, so the WebSocket routes of the same path still get theirs) ---
    routes: list[BaseRoute] = [Route("/graphql", graphql_endpoint, methods=["GET", "POST"])]
    # --- auth routes (/auth/*, /.well-known/*) ---
    routes.extend(auth_routes(settings))
    # --- Cognito's user-pool API (POST / with X-Amz-Target); GET / is the browser app ---
    routes.extend(cognito_routes())
    # --- files (presigned PUT/GET) ---
    routes.extend(file_routes())
    # --- health and metrics ---
    routes.extend(health_routes())
    # --- GraphQL over WebSocket (/graphql, /graphql/realtime) ---
    routes.append(WebSocketRoute("/graphql", graphql_websocket))
    routes.append(WebSocketRoute("/graphql/realtime", graphql_websocket))
    # --- legacy AppSync subscriptions: MQTT over WebSocket (the HTTP handshake hands out its URLs) ---
    routes.append(WebSocketRoute("/mqtt", mqtt_websocket))
    # --- the browser: the demo app at GET / and the static files of the app and the playground ---
    routes.extend(web_routes())
    return routes
