"""The URL map: every HTTP and WebSocket route of the server."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from chatserver.config import Settings
from chatserver.transport.http import graphql_endpoint


def build_routes(settings: Settings) -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    # --- auth routes (/auth/*, /.well-known/*) ---
    # --- files (presigned PUT/GET) ---
    # --- health and metrics ---
    # --- GraphQL over HTTP and WebSocket (/graphql, /graphql/realtime) ---
    routes.append(Route("/graphql", graphql_endpoint, methods=["GET", "POST"]))
    return routes
