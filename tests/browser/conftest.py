"""Playwright (Python) driving the machine's Chromium: Debian's `chromium`, never Playwright's own download.

Outside CI the tests skip when /usr/bin/chromium is missing; in CI (CI=true) that is a failure (.ci/run installs it).
Every page is kept offline: requests to anything but the server under test are aborted and recorded.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "bench" / "results" / "screenshots"  # git-ignored
EXPECT_TIMEOUT_MS = 15_000


# Package scope: Playwright's sync API keeps an event loop running in this thread until it stops, which would
# break later tests that call asyncio.run().
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class PageWatch:
    """What a page did wrong: console errors, uncaught exceptions, and requests that tried to leave the server."""

    errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)


def offline_page(browser: Browser, origin: str, **context_options: Any) -> tuple[Page, PageWatch]:
    """A new context and page that may reach `origin` only; everything else is aborted as if offline."""
    context = browser.new_context(**context_options)
    watch = PageWatch()

    def only_the_server(route: Route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" == origin or parts.scheme in {"data", "blob"}:
            route.continue_()
        else:
            watch.blocked.append(url)
            route.abort("internetdisconnected")

    context.route("**/*", only_the_server)
    page = context.new_page()
    page.on("console", lambda m: watch.errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: watch.errors.append(f"pageerror: {e}"))
    return page, watch


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path
