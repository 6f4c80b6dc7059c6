"""The GraphiQL playground at `/graphql` in a real Chromium with no internet: sign-in panel, queries, subscriptions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.auth.flows import CodeLog
from tests.browser.conftest import offline_page, screenshot
from tests.helpers import HTTP, PASSWORD, GraphQL, create_account
from tests.server import RunningServer, run_server

RUN = re.compile(r"Execute query")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    with run_server(tmp_path / "data", auto_confirm=True) as running:
        yield running


@pytest.fixture
def confirming_server(tmp_path: Path) -> Iterator[RunningServer]:
    with run_server(tmp_path / "data", auto_confirm=False) as running:
        yield running


def run_operation(page: Page, name: str) -> None:
    """Press the run button and pick operation `name` of the welcome document, as a newcomer would."""
    run = page.get_by_role("button", name=RUN)
    expect(run).to_have_attribute("aria-haspopup", "menu")  # GraphiQL has read the document's operations
    run.click()
    page.get_by_role("menuitem", name=name, exact=True).click()


def response_pane(page: Page) -> Locator:
    return page.locator(".graphiql-response")


def authorizations(page: Page) -> list[str]:
    """The Authorization header of every GraphQL request the page makes from now on."""
    seen: list[str] = []
    page.on(
        "request",
        lambda r: (
            seen.append(r.headers.get("authorization", ""))
            if r.url.endswith("/graphql") and r.method == "POST"
            else None
        ),
    )
    return seen


def test_playground_offline_signs_in_queries_and_subscribes(browser: Browser, server: RunningServer) -> None:
    alice = create_account(server, "alice")
    create_account(server, "bob")
    GraphQL.chat_app(server, alice).create_room("existing room")
    page, watch = offline_page(browser, server.url)
    sent = authorizations(page)
    page.goto(server.url + "/graphql")
    expect(page.get_by_role("button", name=RUN)).to_be_visible()

    page.get_by_label("Username", exact=True).fill("bob")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_text("Signed in as bob", exact=True)).to_be_visible()
    expect(page.locator(".graphiql-editor-tool")).to_contain_text(
        '"Authorization": "ey'
    )  # the headers editor

    run_operation(page, "ListRooms")
    expect(response_pane(page)).to_contain_text("existing room")
    assert sent and all(a.startswith("ey") for a in sent), sent  # every request carried bob's token

    run_operation(page, "OnCreateRoom")
    expect(page.get_by_role("button", name=re.compile("Stop"))).to_be_visible()
    # The subscription has started once alice's mutation reaches it; retry until an event shows (bounded).
    for attempt in range(20):
        GraphQL.chat_app(server, alice).create_room(f"made elsewhere {attempt}")
        try:
            expect(response_pane(page)).to_contain_text("made elsewhere", timeout=500)
            break
        except AssertionError:
            continue
    expect(response_pane(page)).to_contain_text('"onCreateRoom"')
    screenshot(page, "playground")

    token = sent[-1]
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Signed out")
    after = httpx.post(
        f"{server.url}/graphql",
        json={"query": "{ me { username } }"},
        headers={"Authorization": token},
        **HTTP,
    )
    assert after.status_code == 401  # the sign-out was global: bob's token no longer works
    assert watch.errors == [], watch.errors
    assert watch.blocked == [], watch.blocked
    page.context.close()


def test_playground_sign_up_with_code_then_wrong_password(
    browser: Browser, confirming_server: RunningServer, codes: CodeLog
) -> None:
    url = confirming_server.url
    page, watch = offline_page(browser, url)
    page.goto(url + "/graphql")
    page.get_by_role("button", name="New account", exact=True).click()
    page.get_by_label("Username", exact=True).fill("dora")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Email", exact=True).fill("dora@example.com")
    page.get_by_label("Given name", exact=True).fill("Dora")
    page.get_by_label("Family name", exact=True).fill("Explorer")
    page.get_by_role("button", name="Sign up", exact=True).click()
    code = page.get_by_label("Code", exact=True)
    expect(code).to_be_visible()  # signed up: the code is in the log
    code.fill("000000" if codes.latest("dora") != "000000" else "111111")
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("CodeMismatchException")  # a wrong code is explained
    code.fill(codes.latest("dora"))
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page.get_by_text("Signed in as dora", exact=True)).to_be_visible()
    run_operation(page, "CreateRoom")
    expect(response_pane(page)).to_contain_text('"name": "general"')

    page.get_by_role("button", name="Sign out", exact=True).click()
    page.get_by_label("Username", exact=True).fill("dora")
    page.get_by_label("Password", exact=True).fill("Wrong-Password-1")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Incorrect username or password.")
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()  # still signed out
    refused = [e for e in watch.errors if "status of 400" not in e]
    assert refused == [], watch.errors  # only the two refused /auth calls are reported
    assert len(watch.errors) == 2, watch.errors
    assert watch.blocked == []
    page.context.close()


def test_playground_says_so_when_an_asset_does_not_load(browser: Browser, server: RunningServer) -> None:
    page, _ = offline_page(browser, server.url)
    page.route("**/static/vendor/graphiql-*/graphiql.min.js", lambda route: route.abort("failed"))
    page.goto(server.url + "/graphql")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("could not load")
    expect(alert).to_contain_text("graphiql.min.js")
    expect(page.get_by_text("Loading the playground")).to_have_count(0)
    page.context.close()


def test_playground_never_asks_the_internet(browser: Browser, server: RunningServer) -> None:
    """Every request of a full page load goes to the server itself (no CDN), and each one succeeds."""
    page, watch = offline_page(browser, server.url)
    statuses: dict[str, int] = {}
    page.on("response", lambda r: statuses.__setitem__(r.url, r.status))
    page.goto(server.url + "/graphql")
    expect(page.get_by_role("button", name=RUN)).to_be_visible()
    assert watch.blocked == [] and watch.errors == [], (watch.blocked, watch.errors)
    assert all(url.startswith(server.url) for url in statuses), statuses
    assert {u: s for u, s in statuses.items() if s != 200} == {}
    assert any("/static/vendor/graphiql-3.8.3/graphiql.min.js" in u for u in statuses)
    page.context.close()
