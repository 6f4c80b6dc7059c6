"""`User.email` is visible to its owner and to `admin` members; everyone else sees null."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers import ISO_MILLIS, Account, GraphQL, server_with_accounts
from tests.server import RunningServer

GET_USER = "query GetUser($id: ID!) { getUser(id: $id) { id username email givenName familyName createdAt } }"
ME = "{ me { id username email givenName familyName createdAt __typename } }"
LIST_USERS = "{ listUsers { items { username email } nextToken } }"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, list[Account]]]:
    data_dir = tmp_path_factory.mktemp("users") / "data"
    with server_with_accounts(data_dir, "alice", "bob", ("root", ["admin"])) as world:
        yield world


def test_me_shows_own_profile_and_email(world: tuple[RunningServer, list[Account]]) -> None:
    server, (alice, _, _) = world
    me = GraphQL.chat_app(server, alice).data(ME)["me"]
    assert me["id"] == alice.sub
    assert me["username"] == "alice"
    assert me["email"] == alice.email
    assert (me["givenName"], me["familyName"]) == ("Test", "User")
    assert ISO_MILLIS.match(me["createdAt"])
    assert me["__typename"] == "User"


def test_get_user_hides_email_from_other_users(world: tuple[RunningServer, list[Account]]) -> None:
    server, (alice, bob, _) = world
    seen = GraphQL.chat_app(server, bob).data(GET_USER, {"id": alice.sub})["getUser"]
    assert seen["username"] == "alice"
    assert seen["email"] is None


def test_get_user_shows_email_to_self_and_admin(world: tuple[RunningServer, list[Account]]) -> None:
    server, (alice, _, root) = world
    for caller in (GraphQL.walkie_talkie(server, alice), GraphQL.chat_app(server, root)):
        assert caller.data(GET_USER, {"id": alice.sub})["getUser"]["email"] == alice.email


def test_list_users_shows_only_permitted_emails(world: tuple[RunningServer, list[Account]]) -> None:
    server, (alice, bob, root) = world
    as_bob = GraphQL.chat_app(server, bob).data(LIST_USERS)["listUsers"]["items"]
    assert {u["username"]: u["email"] for u in as_bob} == {
        "alice": None,
        "bob": bob.email,
        "root": None,
    }
    as_admin = GraphQL.chat_app(server, root).data(LIST_USERS)["listUsers"]["items"]
    assert {u["username"]: u["email"] for u in as_admin} == {
        "alice": alice.email,
        "bob": bob.email,
        "root": root.email,
    }
