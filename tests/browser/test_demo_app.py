"""The demo app at `/` in a real Chromium, offline but for the server: two users sign up, chat and talk."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.auth.flows import CodeLog
from tests.browser.conftest import PageWatch, offline_page, screenshot
from tests.browser.wav_check import tiny_png, wav_data_bytes
from tests.helpers import HTTP, PASSWORD, GraphQL, signin
from tests.server import RunningServer, run_server

MIN_CLIPS = 5
AT_LEAST_8 = re.compile(r"^([89]|[1-9]\d+)$")  # clips sent: about 2 s of push-to-talk at 250 ms a clip


@pytest.fixture
def confirming_server(tmp_path: Path) -> Iterator[RunningServer]:
    with run_server(tmp_path / "data", auto_confirm=False) as running:
        yield running


@pytest.fixture
def auto_confirm_server(tmp_path: Path) -> Iterator[RunningServer]:
    with run_server(tmp_path / "data", auto_confirm=True) as running:
        yield running


def fill_sign_up(page: Page, username: str, password: str = PASSWORD) -> None:
    page.get_by_role("button", name="Create an account", exact=True).click()
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Email", exact=True).fill(f"{username}@example.com")
    page.get_by_label("Given name", exact=True).fill(username.title())
    page.get_by_label("Family name", exact=True).fill("Tester")
    page.get_by_role("button", name="Sign up", exact=True).click()


def sign_up_and_confirm(page: Page, url: str, username: str, codes: CodeLog, *, resend: bool = False) -> None:
    page.goto(url + "/")
    fill_sign_up(page, username)
    code = page.get_by_label("Code", exact=True)
    expect(code).to_be_visible()
    if resend:  # ask for a new code: the latest one in the log is the one that works
        page.get_by_role("button", name="Send a new code", exact=True).click()
        expect(page.locator("#notice")).to_contain_text(f"A new code for {username} was sent")
        assert len([m for m in codes.messages if f"code for {username}:" in m]) == 2
    code.fill(codes.latest(username))
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page.get_by_role("button", name="Sign out", exact=True)).to_be_visible()


def sign_in(page: Page, username: str) -> None:
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("button", name="Sign out", exact=True)).to_be_visible()


def open_room(page: Page, name: str) -> None:
    page.get_by_role("list", name="Rooms").get_by_role("button", name=name, exact=True).click()
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
    expect(page.locator("#room-live")).to_have_text("live")  # every start acknowledged: nothing is missed


def send_text(page: Page, text: str) -> None:
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_role("button", name="Send", exact=True).click()


def messages(page: Page) -> Locator:
    return page.get_by_role("list", name="Messages").get_by_role("listitem")


def assert_clean(*watches: PageWatch) -> None:
    for watch in watches:
        assert watch.errors == [], watch.errors
        assert watch.blocked == [], watch.blocked


def test_two_users_chat_share_an_image_edit_and_talk(
    browser: Browser, confirming_server: RunningServer, codes: CodeLog
) -> None:
    url = confirming_server.url
    alice, alice_watch = offline_page(browser, url, permissions=["microphone"])
    bob, bob_watch = offline_page(browser, url, permissions=["microphone"])

    sign_up_and_confirm(alice, url, "alice", codes)
    sign_up_and_confirm(bob, url, "bob", codes, resend=True)
    # Alice signs out and back in with the form.
    alice.get_by_role("button", name="Sign out", exact=True).click()
    expect(alice.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    sign_in(alice, "alice")

    alice.get_by_label("Room name", exact=True).fill("Lobby")
    alice.get_by_role("button", name="Create room", exact=True).click()
    expect(alice.get_by_role("heading", name="Lobby", exact=True)).to_be_visible()
    expect(alice.locator("#room-live")).to_have_text("live")
    # Bob's room list gets the new room live (onCreateRoom).
    open_room(bob, "Lobby")

    send_text(alice, "hello bob")
    expect(messages(bob).filter(has_text="hello bob")).to_have_count(1)

    with alice.expect_file_chooser() as chooser:
        alice.get_by_role("button", name="Attach image", exact=True).click()
    chooser.value.set_files(files=[{"name": "dot.png", "mimeType": "image/png", "buffer": tiny_png()}])
    expect(alice.get_by_text("Attached: dot.png")).to_be_visible()
    send_text(alice, "a picture")
    picture = messages(bob).filter(has_text="a picture").get_by_role("img", name="Image from alice")
    expect(picture).to_be_visible()
    expect(picture).to_have_js_property("naturalWidth", 240)  # the bytes arrived and decoded as the PNG
    # Newest first.
    expect(messages(bob).first).to_contain_text("a picture")

    send_text(bob, "hi alice")
    bobs = messages(alice).filter(has_text="hi alice")
    expect(bobs).to_have_count(1)
    messages(bob).filter(has_text="hi alice").get_by_role("button", name="Edit message").click()
    bob.get_by_label("Edit message", exact=True).fill("hi alice, edited")
    bob.get_by_role("button", name="Save", exact=True).click()
    expect(bobs).to_contain_text("hi alice, edited")
    expect(bobs).to_contain_text("edited")
    expect(messages(bob).get_by_role("button", name="Edit message")).to_have_count(1)  # only bob's own
    expect(messages(alice).filter(has_text="hi alice, edited").get_by_role("button")).to_have_count(0)

    # Push-to-talk: Alice holds the button until her app has sent about 2 s of clips, then lets go.
    talk = alice.get_by_role("button", name="Push to talk", exact=True)
    talk.hover()
    alice.mouse.down()
    expect(talk).to_have_attribute("aria-pressed", "true")
    expect(alice.locator("#talk-status")).to_have_attribute("data-clips-sent", AT_LEAST_8, timeout=20_000)
    alice.mouse.up()
    expect(talk).to_have_attribute("aria-pressed", "false")
    clips = bob.get_by_role("list", name="Received clips").get_by_role("link")
    expect(clips.nth(MIN_CLIPS - 1)).to_be_attached()
    urls = [clips.nth(i).get_attribute("href") or "" for i in range(clips.count())]
    sizes = [wav_data_bytes(u) for u in urls]
    assert len(sizes) >= MIN_CLIPS
    assert all(len(u) < 240 * 1024 for u in urls)
    # Bob's browser plays them (the first ones end while the later are queued).
    expect(bob.get_by_role("list", name="Received clips")).to_contain_text("played", timeout=20_000)
    # Alice hears nothing of her own voice.
    expect(alice.get_by_role("list", name="Received clips").get_by_role("link")).to_have_count(0)

    screenshot(alice, "demo-app-alice")
    screenshot(bob, "demo-app-bob")
    assert_clean(alice_watch, bob_watch)
    alice.context.close()
    bob.context.close()


def test_auto_confirmed_sign_up_goes_straight_in_and_bad_input_is_explained(
    browser: Browser, auto_confirm_server: RunningServer
) -> None:
    url = auto_confirm_server.url
    page, watch = offline_page(browser, url)
    page.goto(url + "/")
    fill_sign_up(page, "carol", password="short")
    expect(page.get_by_role("status").first).to_contain_text("InvalidPasswordException")
    refused = httpx.post(f"{url}/auth/signin", json={"username": "carol", "password": "short"}, **HTTP)
    assert refused.status_code == 400  # nothing was created

    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign up", exact=True).click()
    expect(page.get_by_role("button", name="Sign out", exact=True)).to_be_visible()
    expect(page.get_by_label("Code", exact=True)).to_have_count(0)  # never asked for a code
    # An empty room name is refused by the form itself: nothing is sent, nothing created.
    page.get_by_role("button", name="Create room", exact=True).click()
    expect(page.get_by_role("list", name="Rooms")).to_contain_text("No rooms yet.")
    screenshot(page, "demo-app-signed-in")
    page.reload()  # the session survives a reload
    expect(page.get_by_role("button", name="Sign out", exact=True)).to_be_visible()
    assert re.search(r"carol", page.locator("#account").inner_text())
    # The one refused request (the weak password) is the only thing the console reports.
    assert watch.errors == [
        "console: Failed to load resource: the server responded with a status of 400 (Bad Request)"
    ]
    assert watch.blocked == []
    page.context.close()


def test_hostile_text_stays_text_and_bad_files_are_refused(
    browser: Browser, auto_confirm_server: RunningServer
) -> None:
    url = auto_confirm_server.url
    page, watch = offline_page(browser, url)
    page.goto(url + "/")
    fill_sign_up(page, "mallory")
    expect(page.get_by_role("button", name="Sign out", exact=True)).to_be_visible()
    page.get_by_label("Room name", exact=True).fill("Hostile")
    page.get_by_role("button", name="Create room", exact=True).click()
    expect(page.locator("#room-live")).to_have_text("live")

    markup = "<img src=x onerror=\"document.title='owned'\"><b>bold?</b>"
    send_text(page, markup)
    sent = messages(page).filter(has_text="bold?")
    expect(sent).to_contain_text(markup)  # shown as the characters typed
    expect(sent.locator("b")).to_have_count(0)
    expect(sent.get_by_role("img")).to_have_count(0)
    assert page.title() == "chatserver"

    notice = page.locator("#notice")
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Attach image", exact=True).click()
    chooser.value.set_files(files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"}])
    expect(notice).to_contain_text("only PNG, JPEG, GIF and WebP")
    expect(page.get_by_text("Attached:")).to_have_count(0)

    # Declared a PNG, but the bytes are not one: the server refuses the upload, the app says so, nothing is sent.
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Attach image", exact=True).click()
    chooser.value.set_files(
        files=[{"name": "fake.png", "mimeType": "image/png", "buffer": b"GIF89a not a png"}]
    )
    send_text(page, "with a fake picture")
    expect(notice).to_have_class(re.compile(r"\berror\b"))
    expect(notice).not_to_contain_text("only PNG")
    expect(messages(page)).to_have_count(1)
    tokens = signin(url, "mallory")
    rooms = GraphQL(url, tokens.access_token).data("{ listRooms { items { id } } }")["listRooms"]["items"]
    stored = GraphQL(url, tokens.access_token).messages(rooms[0]["id"])
    assert [m["content"]["text"] for m in stored] == [markup]
    assert all("status of 4" in e for e in watch.errors), watch.errors  # only the refused upload is reported
    assert watch.blocked == []
    page.context.close()


def test_signing_out_in_one_browser_ends_the_session_in_the_other(
    browser: Browser, auto_confirm_server: RunningServer
) -> None:
    url = auto_confirm_server.url
    first, first_watch = offline_page(browser, url)
    first.goto(url + "/")
    fill_sign_up(first, "erin")
    expect(first.get_by_role("button", name="Sign out", exact=True)).to_be_visible()
    second, second_watch = offline_page(browser, url)
    second.goto(url + "/")
    sign_in(second, "erin")
    expect(second.locator("#link")).to_have_text("live")  # its real-time link is up (onCreateRoom)

    first.get_by_role("button", name="Sign out", exact=True).click()
    expect(first.locator("#notice")).to_contain_text("Signed out.")
    # The server closes the other browser's socket (4401); its refresh token is revoked too, so it signs out.
    expect(second.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    expect(second.locator("#notice")).to_contain_text("Your session has ended")
    assert first_watch.errors == [] and first_watch.blocked == []
    assert all("status of 400" in e for e in second_watch.errors), second_watch.errors  # the refused refresh
    first.context.close()
    second.context.close()


def test_app_says_so_when_a_module_does_not_load(
    browser: Browser, auto_confirm_server: RunningServer
) -> None:
    page, _ = offline_page(browser, auto_confirm_server.url)
    page.route("**/static/app/room.js", lambda route: route.abort("failed"))
    page.goto(auto_confirm_server.url + "/")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("could not load")
    expect(page.get_by_text("Loading…")).to_have_count(0)
    page.context.close()
