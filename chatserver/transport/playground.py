"""The GraphiQL playground served at `GET /graphql` to browsers. It needs no token; its operations do.

The page and its sign-in panel are `chatserver/web/playground/`; GraphiQL, React and graphql-ws are vendored in
`chatserver/web/vendor/` (see scripts/vendor_web_assets.py), so the playground works with no internet.
"""

from __future__ import annotations

from starlette.responses import HTMLResponse

from chatserver.transport.web import html_page, page

PAGE = "playground/index.html"
# GraphiQL sets inline styles and inlines its fonts as data: URLs; everything else comes from this server.
PLAYGROUND_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def playground_html() -> str:
    return page(PAGE)


def playground_response() -> HTMLResponse:
    """The playground's page with its headers (no caching of the page itself, a CSP that allows only this server)."""
    return html_page(PAGE, PLAYGROUND_CSP)
