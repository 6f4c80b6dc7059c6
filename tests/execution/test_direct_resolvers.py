"""The plans' compiled argument conversion gives the resolver what Strawberry's own conversion gives it."""

from __future__ import annotations

from typing import Any

import pytest
from strawberry.types.arguments import convert_arguments

from chatserver.execution.direct_resolvers import _converter, direct_resolver
from chatserver.schema import build_schema

SCHEMA = build_schema()
CONVERTER = SCHEMA.schema_converter


def _field(root: str, name: str) -> Any:
    graphql_root = getattr(SCHEMA._schema, f"{root}_type")
    return graphql_root.fields[name].extensions["strawberry-definition"]


@pytest.mark.parametrize(
    ("root", "field", "values"),
    [
        ("mutation", "createMessage", {"input": {"roomId": "r1", "content": {"text": "hi"}}}),
        ("mutation", "createMessage", {"input": {"roomId": "r1", "content": {"text": None, "imageId": "i"}}}),
        ("mutation", "createMessage", {"input": {"roomId": "r1", "id": "m1", "content": {}}}),
        ("mutation", "updateMessage", {"input": {"roomId": "r1", "id": "m1", "content": {"text": "x"}}}),
        ("mutation", "createRoom", {"input": {"name": "n"}}),
        ("query", "listMessagesForRoom", {"roomId": "r1", "limit": 5, "nextToken": None}),
        ("query", "listMessagesForRoom", {"roomId": "r1"}),
    ],
)
def test_conversion_equals_strawberrys(root: str, field: str, values: dict[str, Any]) -> None:
    strawberry_field = _field(root, field)
    expected = convert_arguments(values, strawberry_field.arguments, CONVERTER.scalar_registry, SCHEMA.config)
    ours = {
        argument.python_name: _converter(argument.type, CONVERTER)(values[name])
        for argument in strawberry_field.arguments
        if (name := SCHEMA.config.name_converter.from_argument(argument)) in values
    }
    assert ours == expected
    assert [type(v) for v in ours.values()] == [type(v) for v in expected.values()]


def test_fields_with_extensions_keep_strawberrys_wrapper() -> None:
    """deleteRoom has a permission extension (admins only): Strawberry's wrapper runs it, so no direct call."""
    assert _field("mutation", "deleteRoom").extensions
    assert direct_resolver(SCHEMA._schema, _field("mutation", "deleteRoom")) is None
    assert direct_resolver(SCHEMA._schema, _field("mutation", "createMessage")) is not None
