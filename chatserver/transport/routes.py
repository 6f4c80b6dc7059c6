"""The URL map: every HTTP and WebSocket route of the server."""

from __future__ import annotations

from starlette.routing import BaseRoute

from chatserver.config import Settings


def build_routes(settings: Settings) -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    # --- auth routes (/auth/*, /.well-known/*) ---
    # --- files (presigned PUT/GET) ---
    # --- health and metrics ---
    # --- GraphQL over HTTP and WebSocket (/graphql, /graphql/realtime) ---
    return routes
