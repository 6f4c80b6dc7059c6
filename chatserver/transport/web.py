"""The browser side: the demo app's page at `GET /`, and the static files of the app and the playground.

Everything a page loads comes from `chatserver/web/` in the installed package, under `/static/`: nothing from a CDN.
Vendored files live in versioned folders (`vendor/graphiql-3.8.3/...`), so browsers may keep them for a year; the
app's own files are revalidated on every load (ETag), so a new server version shows at once.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
STATIC_PREFIX = "/static"

# Explicit types, so a host's mime.types (or a missing one) never serves JavaScript as text/plain.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".md": "text/plain; charset=utf-8",
    "": "text/plain; charset=utf-8",  # LICENSE files
}
PAGES = ("app/index.html", "playground/index.html")
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

# The pages load only from this server; images and clips may also be data: or blob: URLs made in the page.
APP_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


class WebAssets(StaticFiles):
    """StaticFiles with fixed content types, caching by folder, and `nosniff`."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        path = Path(full_path)
        relative = path.relative_to(WEB_DIR)
        if response.status_code == 200:
            response.headers["content-type"] = CONTENT_TYPES.get(path.suffix, "application/octet-stream")
        response.headers["cache-control"] = IMMUTABLE if relative.parts[0] == "vendor" else REVALIDATE
        response.headers["x-content-type-options"] = "nosniff"
        return response


@cache
def page(name: str) -> str:
    """An HTML page of `chatserver/web/` (read once)."""
    return (WEB_DIR / name).read_text(encoding="utf-8")


def html_page(name: str, csp: str) -> HTMLResponse:
    headers = {
        "cache-control": REVALIDATE,
        "content-security-policy": csp,
        "x-content-type-options": "nosniff",
        "referrer-policy": "same-origin",
    }
    return HTMLResponse(page(name), headers=headers)


async def demo_app(request: Request) -> Response:
    """`GET /`: the demo chat and push-to-talk app."""
    return html_page("app/index.html", APP_CSP)


def web_routes() -> list[BaseRoute]:
    for name in PAGES:
        page(name)  # read now, while the app is built, not on the event loop at the first request
    # GET only: `POST /` is the Cognito JSON API, routed by method.
    return [
        Route("/", demo_app, methods=["GET", "HEAD"]),
        Mount(STATIC_PREFIX, app=WebAssets(directory=WEB_DIR), name="static"),
    ]
