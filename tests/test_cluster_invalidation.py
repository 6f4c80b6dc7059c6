"""Server-side ends of subscriptions reach every replica through the broker: deleteRoom on one replica completes
the room's subscriptions on another (real `chatserver serve` processes), and a group removal, made by the
service or by `chatserver user remove-from-group` in its own process, completes the subscriptions that needed
the group on another server. Needs PostgreSQL and Redis (the suite's second pass)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests import helpers as seed
from tests.databases import fresh_database_url
from tests.helpers import GraphQL, create_account, on_server_loop, signin
from tests.realtime.brokers import redis_url, unique_prefix
from tests.realtime.protocols import PROTOCOLS, LiveSocket
from tests.replicas import Replica, replicas
from tests.server import RunningServer, run_server
from tests.test_cli import chatserver
from tests.test_cluster import PUBLIC_URL, _signin, _signup, needs_cluster

STAFF = "staff"
ON_CREATE_ROOM_ID = "subscription { onCreateRoom { id } }"


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[Replica], dict[str, str], Path]]:
    root = Path(tmp_path_factory.mktemp("cluster-ends"))
    with fresh_database_url() as database_url:
        env = {
            "CHATSERVER_DATABASE_URL": database_url,
            "CHATSERVER_BROKER_URL": redis_url(),
            "CHATSERVER_BROKER_PREFIX": unique_prefix(),
            "CHATSERVER_PUBLIC_URL": PUBLIC_URL,
        }
        with replicas(2, root / "data", root, env) as started:
            yield started, env, root / "data"


async def _completes(socket: LiveSocket) -> set[str]:
    ids = set()
    for _ in range(2):
        frame = await socket.next(wait=20)
        assert frame["type"] == "complete", frame
        ids.add(frame["id"])
    return ids


@needs_cluster
async def test_cluster_delete_room_on_one_replica_completes_subscriptions_on_another(
    pair: tuple[list[Replica], dict[str, str], Path],
) -> None:
    (a, b), env, data = pair
    _signup(a, "ada")
    made_admin = await asyncio.to_thread(chatserver, data, "user", "add-to-group", "ada", "admin", env=env)
    assert made_admin.returncode == 0, made_admin.stderr
    token = _signin(b, "ada")["accessToken"]  # signed in after joining: the token carries `admin`
    chat = GraphQL(b.url, token)
    doomed, kept = chat.create_room("doomed")["id"], chat.create_room("kept")["id"]
    sockets = [await LiveSocket.connect(kind, a, token) for kind in PROTOCOLS]
    try:
        for socket in sockets:
            assert await socket.start("doomed", seed.ON_CREATE_MESSAGE_BY_ROOM_ID, {"roomId": doomed}) is None
            assert await socket.start("edits", seed.ON_UPDATE_MESSAGE, {"roomId": doomed}) is None
            assert await socket.start("kept", seed.ON_CREATE_MESSAGE_BY_ROOM_ID, {"roomId": kept}) is None
        deleted = GraphQL(b.url, token).data(
            "mutation($id: ID!) { deleteRoom(id: $id) { id } }", {"id": doomed}
        )
        assert deleted == {"deleteRoom": {"id": doomed}}
        for socket in sockets:
            assert await _completes(socket) == {"doomed", "edits"}
        sent = GraphQL(b.url, token).create_message(kept, "the other room lives")
        for socket in sockets:
            assert await socket.next_data("onCreateMessageByRoomId") == sent
    finally:
        for socket in sockets:
            await socket.close()


# --- group removal: two in-process servers sharing PostgreSQL and Redis, onCreateRoom needing `staff`


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[RunningServer, RunningServer, dict[str, str]]]:
    prefix = unique_prefix()
    with fresh_database_url() as database_url:
        shared: dict[str, Any] = {
            "database_url": database_url,
            "broker_url": redis_url(),
            "broker_prefix": prefix,
            "auto_confirm": True,
        }
        with run_server(tmp_path / "data", **shared) as one, run_server(tmp_path / "data", **shared) as two:
            env = {
                "CHATSERVER_DATABASE_URL": database_url,
                "CHATSERVER_BROKER_URL": redis_url(),
                "CHATSERVER_BROKER_PREFIX": prefix,
            }
            yield one, two, env


def _staff_only_rooms(server: RunningServer) -> None:
    """onCreateRoom needs `staff` on this server (the product schema has no group-only subscription field)."""
    from chatserver.transport.websocket import realtime_context

    state = server.app.state
    if getattr(state, "realtime_context", None) is None:  # built on the first WebSocket otherwise
        state.realtime_context = realtime_context(state.services)
    state.realtime_context = replace(
        state.realtime_context,
        group_rules=lambda t, f: [STAFF] if (t, f) == ("Subscription", "onCreateRoom") else None,
    )


@needs_cluster
async def test_cluster_group_removal_completes_subscriptions_on_another_server(
    servers: tuple[RunningServer, RunningServer, dict[str, str]], tmp_path: Path
) -> None:
    one, two, env = servers
    for server in (one, two):
        _staff_only_rooms(server)
    account, other = await asyncio.gather(
        asyncio.to_thread(create_account, one, "stella", groups=[STAFF]),
        asyncio.to_thread(create_account, one, "stan", groups=[STAFF]),
    )
    token = (await asyncio.to_thread(signin, two.url, "stella")).access_token  # two's own token
    socket = await LiveSocket.connect("appsync", two, token)
    try:
        assert await socket.start("rooms", ON_CREATE_ROOM_ID) is None
        assert await socket.start("rooms-too", ON_CREATE_ROOM_ID) is None
        on_server_loop(one, one.app.state.services.groups.remove(account.username, STAFF))
        assert await _completes(socket) == {"rooms", "rooms-too"}
    finally:
        await socket.close()

    # The same through the CLI, in a process of its own: it announces the removal through Redis.
    token = (await asyncio.to_thread(signin, two.url, other.username)).access_token
    socket = await LiveSocket.connect("graphql-transport-ws", two, token)
    try:
        assert await socket.start("a", ON_CREATE_ROOM_ID) is None
        assert await socket.start("b", ON_CREATE_ROOM_ID) is None
        removed = await asyncio.to_thread(
            chatserver, tmp_path / "data", "user", "remove-from-group", other.username, STAFF, env=env
        )
        assert removed.returncode == 0, removed.stderr
        assert "removed stan from group staff" in removed.stdout
        assert await _completes(socket) == {"a", "b"}
    finally:
        await socket.close()
