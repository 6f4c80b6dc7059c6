"""The server ends subscriptions whose room or group is gone: each client gets its protocol's `complete` for
exactly those subscriptions, and its connection (with every other subscription) lives on."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from chatserver.transport.websocket import realtime_context
from tests import helpers as seed
from tests.helpers import Account, GraphQL, create_account, on_server_loop, server_with_accounts
from tests.realtime.protocols import PROTOCOLS, LiveSocket
from tests.server import RunningServer

STAFF = "staff"
ON_CREATE_ROOM_ID = "subscription { onCreateRoom { id } }"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, Account, Account]]:
    data = Path(tmp_path_factory.mktemp("invalidation")) / "data"
    with server_with_accounts(data, "rita", ("root", ["admin"])) as (server, (rita, root)):
        yield server, rita, root


async def _complete_ids(socket: LiveSocket, count: int) -> set[str]:
    ids = set()
    for _ in range(count):
        frame = await socket.next()
        assert frame["type"] == "complete", frame
        ids.add(frame["id"])
    return ids


@pytest.mark.parametrize("kind", PROTOCOLS)
async def test_ws_delete_room_completes_its_subscriptions_only(
    world: tuple[RunningServer, Account, Account], kind: str
) -> None:
    server, rita, root = world
    chat, admin = GraphQL.chat_app(server, rita), GraphQL.chat_app(server, root)
    doomed, other = chat.create_room("doomed")["id"], chat.create_room("other")["id"]
    socket = await LiveSocket.connect(kind, server, rita.tokens.access_token)
    try:
        assert await socket.start("new", seed.ON_CREATE_MESSAGE_BY_ROOM_ID, {"roomId": doomed}) is None
        assert await socket.start("edit", seed.ON_UPDATE_MESSAGE, {"roomId": doomed}) is None
        assert await socket.start("elsewhere", seed.ON_CREATE_MESSAGE_BY_ROOM_ID, {"roomId": other}) is None
        assert await socket.start("any-room", seed.ON_CREATE_MESSAGE_BY_ROOM_ID, {}) is None
        subscriptions = server.app.state.services.realtime.metrics.subscriptions

        deleted = admin.data("mutation($id: ID!) { deleteRoom(id: $id) { id } }", {"id": doomed})
        assert deleted == {"deleteRoom": {"id": doomed}}
        assert await _complete_ids(socket, 2) == {"new", "edit"}
        assert server.app.state.services.realtime.metrics.subscriptions == subscriptions - 2

        sent = chat.create_message(other, "still here")  # the others, and the connection, carry on
        got = {(await socket.next())["id"] for _ in range(2)}
        assert got == {"elsewhere", "any-room"}
        assert sent["roomId"] == other
        # the ended ids are free again, and a new subscription on the connection works
        assert await socket.start("new", seed.ON_CREATE_MESSAGE_BY_ROOM_ID, {"roomId": other}) is None
    finally:
        await socket.close()


async def test_ws_deleting_a_missing_room_ends_nothing(world: tuple[RunningServer, Account, Account]) -> None:
    server, rita, root = world
    room = GraphQL.chat_app(server, rita).create_room("kept")["id"]
    socket = await LiveSocket.connect("appsync", server, rita.tokens.access_token)
    try:
        assert await socket.start("kept", seed.ON_CREATE_MESSAGE_BY_ROOM_ID, {"roomId": room}) is None
        error = GraphQL.chat_app(server, root).error('mutation { deleteRoom(id: "nope") { id } }')
        assert error["errorType"] == "NotFound"
        refused = GraphQL.chat_app(server, rita).error(  # not an admin: nothing deleted, nothing ended
            "mutation($id: ID!) { deleteRoom(id: $id) { id } }", {"id": room}
        )
        assert refused["errorType"] == "Unauthorized"
        sent = GraphQL.chat_app(server, rita).create_message(room, "nothing ended")
        assert await socket.next_data("onCreateMessageByRoomId") == sent
    finally:
        await socket.close()


@pytest.fixture
def staff_only_rooms(world: tuple[RunningServer, Account, Account]) -> Iterator[None]:
    """onCreateRoom needs the `staff` group (the product schema has no group-only subscription field)."""
    server = world[0]
    state = server.app.state
    original = getattr(state, "realtime_context", None)  # built by the first WebSocket: maybe not yet
    base = original or realtime_context(state.services)
    state.realtime_context = replace(
        base, group_rules=lambda t, f: [STAFF] if (t, f) == ("Subscription", "onCreateRoom") else None
    )
    yield
    state.realtime_context = original


@pytest.mark.parametrize("kind", PROTOCOLS)
async def test_ws_group_removal_completes_the_subscriptions_that_needed_it(
    world: tuple[RunningServer, Account, Account], staff_only_rooms: None, kind: str
) -> None:
    server, _, root = world
    member = await asyncio.to_thread(create_account, server, f"staffer-{kind}", groups=[STAFF])
    bystander = await asyncio.to_thread(create_account, server, f"bystander-{kind}", groups=[STAFF])
    room = GraphQL.chat_app(server, member).create_room(f"staff room {kind}")["id"]
    socket = await LiveSocket.connect(kind, server, member.tokens.access_token)
    other = await LiveSocket.connect(kind, server, bystander.tokens.access_token)
    try:
        assert await socket.start("chat", seed.ON_CREATE_MESSAGE_BY_ROOM_ID, {"roomId": room}) is None
        # Through Redis, the room's own onCreateRoom may still be on its way after createRoom answered (a
        # start is not a cut-off for publications already made). One process's publications arrive in order,
        # so once a later message has arrived, that one has passed: only then start the onCreateRoom ones.
        sent = GraphQL.chat_app(server, member).create_message(room, "before the rooms subscriptions")
        assert await socket.next_data("onCreateMessageByRoomId") == sent
        assert await socket.start("rooms", ON_CREATE_ROOM_ID) is None
        assert await other.start("rooms", ON_CREATE_ROOM_ID) is None

        removed = on_server_loop(server, server.app.state.services.groups.remove(member.username, STAFF))
        assert removed is True
        assert await _complete_ids(socket, 1) == {"rooms"}

        sent = GraphQL.chat_app(server, member).create_message(room, "chat goes on")
        assert await socket.next_data("onCreateMessageByRoomId") == sent
        created = GraphQL.chat_app(server, root).create_room("for staff")
        assert (await other.next_data("onCreateRoom"))["id"] == created["id"]  # still staff: unaffected
        # The token still claims the group, but a new start with it is refused now.
        frame = await socket.start("again", ON_CREATE_ROOM_ID)
        assert frame is not None and socket.error_messages(frame) == [
            "Not Authorized to access onCreateRoom on type Subscription"
        ]
    finally:
        await socket.close()
        await other.close()


async def test_ws_group_removal_of_a_non_member_or_unknown_user(
    world: tuple[RunningServer, Account, Account],
) -> None:
    server, rita, _ = world
    groups = server.app.state.services.groups
    assert on_server_loop(server, groups.remove(rita.username, STAFF)) is False
    from chatserver.auth.errors import UserNotFoundException

    with pytest.raises(UserNotFoundException):
        on_server_loop(server, groups.remove("nobody-at-all", STAFF))
