"""Message rules a chat user notices: who may change what, and what each refusal looks like."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from tests.helpers import (
    CREATE_MESSAGE,
    UPDATE_MESSAGE,
    Account,
    GraphQL,
    server_with_accounts,
)
from tests.server import RunningServer

DELETE_MESSAGE = """
mutation DeleteMessage($id: ID!) {
  deleteMessage(id: $id) { id content { text } owner roomId }
}
"""
CONDITIONAL = "DynamoDB:ConditionalCheckFailedException"


@dataclass(frozen=True, slots=True)
class Users:
    alice: GraphQL
    bob: GraphQL
    admin: GraphQL


@pytest.fixture(scope="module")
def users(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Users]:
    data_dir = tmp_path_factory.mktemp("messages") / "data"
    with server_with_accounts(data_dir, "alice", "bob", ("root", ["admin"])) as (server, accounts):
        alice, bob, root = accounts
        yield _clients(server, alice, bob, root)


def _clients(server: RunningServer, alice: Account, bob: Account, root: Account) -> Users:
    return Users(
        GraphQL.chat_app(server, alice), GraphQL.chat_app(server, bob), GraphQL.chat_app(server, root)
    )


def _update(client: GraphQL, message_id: str | None, room_id: str, text: str) -> dict:
    message_input: dict = {"roomId": room_id, "content": {"text": text}}
    if message_id is not None:
        message_input["id"] = message_id
    return client.execute(UPDATE_MESSAGE, {"input": message_input})


def test_update_message_by_another_user_is_conditional_check_failed(users: Users) -> None:
    room = users.alice.create_room()
    message = users.alice.create_message(room["id"], "mine")
    body = _update(users.bob, message["id"], room["id"], "hijacked")
    assert body["data"] == {"updateMessage": None}
    (error,) = body["errors"]
    assert error["errorType"] == CONDITIONAL
    assert error["path"] == ["updateMessage"]
    assert message["id"] in error["message"]
    assert users.alice.messages(room["id"]) == [message]


def test_update_message_by_admin_is_refused_too(users: Users) -> None:
    room = users.alice.create_room()
    message = users.alice.create_message(room["id"], "mine")
    body = _update(users.admin, message["id"], room["id"], "edited by admin")
    assert body["errors"][0]["errorType"] == CONDITIONAL
    assert users.alice.messages(room["id"]) == [message]


def test_update_missing_message_is_conditional_check_failed_not_upsert(users: Users) -> None:
    room = users.alice.create_room()
    body = _update(users.alice, "00000000-0000-4000-8000-000000000000", room["id"], "ghost")
    assert body["data"] == {"updateMessage": None}
    assert body["errors"][0]["errorType"] == CONDITIONAL
    assert users.alice.messages(room["id"]) == []


def test_update_message_in_wrong_room_is_conditional_check_failed(users: Users) -> None:
    room, other = users.alice.create_room(), users.alice.create_room()
    message = users.alice.create_message(room["id"], "stay")
    body = _update(users.alice, message["id"], other["id"], "moved")
    assert body["errors"][0]["errorType"] == CONDITIONAL
    assert users.alice.messages(room["id"]) == [message]
    assert users.alice.messages(other["id"]) == []


def test_update_message_without_id_is_validation_error(users: Users) -> None:
    room = users.alice.create_room()
    message = users.alice.create_message(room["id"], "original")
    body = _update(users.alice, None, room["id"], "no id")
    assert body["data"] == {"updateMessage": None}
    error = body["errors"][0]
    assert error["errorType"] == "ValidationException"
    assert "input.id" in error["message"]
    assert users.alice.messages(room["id"]) == [message]


def test_delete_message_by_owner(users: Users) -> None:
    room = users.alice.create_room()
    keep = users.alice.create_message(room["id"], "keep")
    gone = users.alice.create_message(room["id"], "gone")
    deleted = users.alice.data(DELETE_MESSAGE, {"id": gone["id"]})["deleteMessage"]
    assert deleted == {"id": gone["id"], "content": {"text": "gone"}, "owner": "alice", "roomId": room["id"]}
    assert users.alice.messages(room["id"]) == [keep]


def test_delete_message_by_admin(users: Users) -> None:
    room = users.alice.create_room()
    message = users.alice.create_message(room["id"], "moderated")
    assert users.admin.data(DELETE_MESSAGE, {"id": message["id"]})["deleteMessage"]["id"] == message["id"]
    assert users.alice.messages(room["id"]) == []


def test_delete_message_by_another_user_is_conditional_check_failed(users: Users) -> None:
    room = users.alice.create_room()
    message = users.alice.create_message(room["id"], "mine")
    body = users.bob.execute(DELETE_MESSAGE, {"id": message["id"]})
    assert body["data"] == {"deleteMessage": None}
    assert body["errors"][0]["errorType"] == CONDITIONAL
    assert users.alice.messages(room["id"]) == [message]


def test_delete_missing_message_is_conditional_check_failed(users: Users) -> None:
    body = users.admin.execute(DELETE_MESSAGE, {"id": "no-such-message"})
    assert body["data"] == {"deleteMessage": None}
    assert body["errors"][0]["errorType"] == CONDITIONAL


def test_create_message_in_unknown_room_is_not_found(users: Users) -> None:
    variables = {"input": {"content": {"text": "hello?"}, "roomId": "no-such-room"}}
    body = users.alice.execute(CREATE_MESSAGE, variables)
    assert body["data"] == {"createMessage": None}
    (error,) = body["errors"]
    assert error["errorType"] == "NotFound"
    assert "no-such-room" in error["message"]


@pytest.mark.parametrize(
    "content",
    [{}, {"text": ""}, {"text": None}, {"text": None, "imageId": None}],
    ids=["nothing", "empty-text", "null-text", "all-null"],
)
def test_create_message_without_content_is_validation_error(users: Users, content: dict) -> None:
    room = users.alice.create_room()
    body = users.alice.execute(CREATE_MESSAGE, {"input": {"content": content, "roomId": room["id"]}})
    assert body["data"] == {"createMessage": None}
    assert body["errors"][0]["errorType"] == "ValidationException"
    assert users.alice.messages(room["id"]) == []


def test_create_message_text_limit_is_4_kb(users: Users) -> None:
    room = users.alice.create_room()
    at_limit = users.alice.create_message(room["id"], "x" * 4096)
    assert len(at_limit["content"]["text"]) == 4096
    over = {"input": {"content": {"text": "x" * 4097}, "roomId": room["id"]}}
    body = users.alice.execute(CREATE_MESSAGE, over)
    assert body["errors"][0]["errorType"] == "ValidationException"
    multibyte = {"input": {"content": {"text": "é" * 2049}, "roomId": room["id"]}}  # 4098 bytes in UTF-8
    assert users.alice.execute(CREATE_MESSAGE, multibyte)["errors"][0]["errorType"] == "ValidationException"
    assert users.alice.messages(room["id"]) == [at_limit]


def test_update_message_with_empty_content_is_validation_error(users: Users) -> None:
    room = users.alice.create_room()
    message = users.alice.create_message(room["id"], "fine")
    body = _update(users.alice, message["id"], room["id"], "")
    assert body["errors"][0]["errorType"] == "ValidationException"
    assert users.alice.messages(room["id"]) == [message]


def test_concurrent_deletes_of_one_message_succeed_once(users: Users) -> None:
    """The owner and an admin delete the same message at once: one gets it, the other a failed condition."""
    room = users.alice.create_room()
    for round_ in range(5):
        message = users.alice.create_message(room["id"], f"contested {round_}")
        with ThreadPoolExecutor(max_workers=2) as pool:
            bodies = list(
                pool.map(
                    lambda client, message_id=message["id"]: client.execute(
                        DELETE_MESSAGE, {"id": message_id}
                    ),
                    [users.alice, users.admin],
                )
            )
        winners = [b for b in bodies if b["data"]["deleteMessage"] is not None]
        losers = [b for b in bodies if b["data"]["deleteMessage"] is None]
        assert len(winners) == 1 and len(losers) == 1, bodies
        assert losers[0]["errors"][0]["errorType"] == CONDITIONAL
    assert users.alice.messages(room["id"]) == []
