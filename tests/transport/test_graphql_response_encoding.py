"""GraphQL responses are encoded with orjson (transport/json_codec.py): the very bytes Starlette's JSONResponse
(json.dumps, compact, no ASCII escaping) wrote before, for everything a response can hold."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLObjectType, get_named_type
from starlette.responses import JSONResponse

from chatserver.schema import build_schema
from chatserver.transport.json_codec import GraphQLJSONResponse, dumps_response
from tests.helpers import LIST_MESSAGES_FOR_ROOM, GraphQL, server_with_accounts

EVERY_ESCAPE = "".join(chr(c) for c in range(0x800)) + '\u2028\u2029\ufeff\U0001f600 "quoted" \\ / \x7f'
VALUES: list[Any] = [
    {"data": {"text": EVERY_ESCAPE, "list": [None, True, False, 0, -1, 2**63 - 1, -(2**63)], "empty": {}}},
    {
        "data": None,
        "errors": [{"path": ["a", 0, "b"], "locations": [{"line": 1, "column": 2}], "message": "é"}],
    },
    {"data": {"big": 2**64, "bigger": -(2**80)}},  # past orjson's 64 bits: the stdlib answers
    {"data": {"nested": [[[[{"k": "v"}]]]]}},
    [],
    "text",
]


@pytest.mark.parametrize("value", VALUES)
def test_dumps_response_matches_starlette_json_response(value: Any) -> None:
    assert dumps_response(value) == JSONResponse(value).body
    assert GraphQLJSONResponse(value).body == JSONResponse(value).body


def test_non_string_keys_and_surrogates_behave_as_before() -> None:
    assert dumps_response({1: "one"}) == JSONResponse({1: "one"}).body  # stdlib turns the key into "1"
    with pytest.raises(UnicodeEncodeError):
        JSONResponse({"s": "\ud800"})
    with pytest.raises(UnicodeEncodeError):
        dumps_response({"s": "\ud800"})


def test_schema_outputs_no_floats() -> None:
    """Floats are the one value orjson writes differently (1e+20 vs 1e20): no output field may be a Float."""
    schema = build_schema()._schema
    floats = [
        f"{type_.name}.{name}"
        for type_ in schema.type_map.values()
        if isinstance(type_, GraphQLObjectType) and not type_.name.startswith("__")
        for name, field in type_.fields.items()
        if get_named_type(field.type).name == "Float"
    ]
    assert floats == []


def test_http_response_bytes_are_json_dumps_of_the_answer(tmp_path: Path) -> None:
    with server_with_accounts(tmp_path / "data", "alice") as (server, (alice,)):
        client = GraphQL.chat_app(server, alice)
        room_id = client.create_room("encoding")["id"]
        client.create_message(room_id, 'tab\there, newline\n, nul-free \u0001 \u2028 ✓ 😀 "q" \\')
        response = client.post(LIST_MESSAGES_FOR_ROOM, {"roomId": room_id})
    expected = json.dumps(response.json(), ensure_ascii=False, separators=(",", ":")).encode()
    assert response.content == expected
    assert response.headers["content-type"] == "application/json"
