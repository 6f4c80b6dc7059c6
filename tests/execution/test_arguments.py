"""Compiled argument values give exactly graphql-core's `get_argument_values`, or leave it to say why not.

For each field node and each set of request variables, `CompiledArguments.values` must return what
`get_argument_values` returns (same keys in the same order, values of the same types, defaults as graphql-core's
own objects), and None wherever `get_argument_values` raises (the plan then calls it, and it words the error).
"""

from __future__ import annotations

from typing import Any

import pytest
from graphql import FieldNode, GraphQLError, GraphQLSchema, build_schema, parse
from graphql.execution.values import get_argument_values, get_variable_values

from chatserver.execution.arguments import CompiledArguments, compile_arguments
from chatserver.execution.documents import CompiledDocument
from chatserver.execution.fast_path import FastPath
from chatserver.schema import build_schema as build_chat_schema
from chatserver.schema.common import ModelSortDirection
from tests.execution.test_variables import _shape

SDL = build_schema("""
enum Mode { FAST SLOW }
input In { x: Int! }
type Query {
  f(a: Int, b: Int = 3, c: Int! = 4, d: Int!, e: Mode = FAST, g: [Int] = [1], h: In, s: String): String
}
""")
CHAT = build_chat_schema()._schema

VARIABLES = "query ($a: Int, $b: Int, $c: Int, $d: Int!) { f(a: $a, b: $b, c: $c, d: $d) }"
LITERALS = '{ f(d: 1, e: SLOW, g: [2, 3], s: "x", h: {x: 5}) }'
MIXED = "query ($x: Int!, $a: Int, $m: Mode) { f(d: $x, g: [$a, 2], h: {x: $x}, e: $m) }"
DEFAULTED = "query ($d: Int! = 9, $b: Int = 8) { f(d: $d, b: $b) }"
LIST = """query ($roomId: ID!, $sortDirection: ModelSortDirection, $limit: Int, $nextToken: String) {
  listMessagesForRoom(roomId: $roomId, sortDirection: $sortDirection, limit: $limit, nextToken: $nextToken) { nextToken }
}"""
LIST_LITERALS = '{ listMessagesForRoom(roomId: "r", sortDirection: ASC, limit: 3) { nextToken } }'

CASES: list[tuple[str, GraphQLSchema, str, dict[str, Any]]] = [
    ("variables: only the required one", SDL, VARIABLES, {"d": 1}),
    ("variables: all given", SDL, VARIABLES, {"a": 1, "b": 2, "c": 3, "d": 4}),
    ("variables: nulls for nullable arguments", SDL, VARIABLES, {"a": None, "b": None, "d": 1}),
    ("variables: null for a non-null argument with a default", SDL, VARIABLES, {"c": None, "d": 1}),
    ("a required argument's variable omitted", SDL, "query ($d: Int) { f(d: $d) }", {}),
    ("a required argument's variable null", SDL, "query ($d: Int) { f(d: $d) }", {"d": None}),
    ("literals", SDL, LITERALS, {}),
    ("literals with variables", SDL, MIXED, {"x": 1}),
    ("literals with variables, null in a list", SDL, MIXED, {"x": 1, "a": None, "m": "SLOW"}),
    ("literals with variables, an item", SDL, MIXED, {"x": 2, "a": 5, "m": None}),
    ("variable defaults", SDL, DEFAULTED, {}),
    ("variable defaults overridden", SDL, DEFAULTED, {"d": 1, "b": None}),
    ("a required argument not given", SDL, "{ f(a: 1) }", {}),
    ("null literal for a non-null argument", SDL, "{ f(d: null) }", {}),
    ("the list query", CHAT, LIST, {"roomId": "r", "sortDirection": "DESC", "limit": 50}),
    (
        "the list query, ID as an int, nulls",
        CHAT,
        LIST,
        {"roomId": 5, "sortDirection": None, "nextToken": None},
    ),
    ("the list query, literals", CHAT, LIST_LITERALS, {}),
]


def _field(schema: GraphQLSchema, query: str) -> tuple[Any, FieldNode, Any]:
    operation = parse(query).definitions[0]
    node = operation.selection_set.selections[0]  # type: ignore[attr-defined]
    assert schema.query_type is not None
    return operation, node, schema.query_type.fields[node.name.value]


@pytest.mark.parametrize(("schema", "query", "variables"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_arguments_as_graphql_core(schema: GraphQLSchema, query: str, variables: dict[str, Any]) -> None:
    operation, node, field_def = _field(schema, query)
    variable_values = get_variable_values(schema, operation.variable_definitions or (), variables)
    assert not isinstance(variable_values, list), variable_values
    compiled = compile_arguments(field_def, node)
    got = compiled.values(variable_values) if compiled is not None else None
    try:
        expected = get_argument_values(field_def, node, variable_values)
    except GraphQLError:
        assert got is None
        return
    assert compiled is not None, "not compiled, though get_argument_values has values"
    assert got is not None
    assert _shape(got) == _shape(expected)
    given = {argument.name.value for argument in node.arguments}
    for name, value in expected.items():
        if name not in given and isinstance(value, list | dict):
            assert got[name] is value  # an argument's default: graphql-core's memoized object


def test_omitted_variables_and_defaults() -> None:
    """graphql-core's rules for a variable without a value: the argument's default, or no argument at all."""
    operation, node, field_def = _field(SDL, VARIABLES)
    compiled = CompiledArguments(field_def, node)
    values = get_variable_values(SDL, operation.variable_definitions, {"d": 7})
    assert not isinstance(values, list)
    assert compiled.values(values) == {"b": 3, "c": 4, "d": 7, "e": "FAST", "g": [1]}  # no `a`: left out
    nulls = get_variable_values(SDL, operation.variable_definitions, {"b": None, "c": None, "d": 7})
    assert not isinstance(nulls, list)
    assert compiled.values(nulls) is None  # null for `c: Int! = 4` given explicitly: graphql-core's error


def test_the_list_fields_plan_compiles_its_arguments() -> None:
    document = parse(LIST)
    compiled = CompiledDocument(document, [], {})
    operation = compiled.operation(None)
    assert operation is not None
    fast_path = FastPath(CHAT)
    plans = fast_path._plans(compiled, operation)
    assert plans is not None
    root = fast_path._plan(compiled, plans, ())
    assert root is not None
    (field,) = root.fields
    assert field.has_arguments and field.arguments is not None
    executor = fast_path._executor(compiled, plans, {"roomId": "r", "sortDirection": "ASC"}, object())
    assert not isinstance(executor, list)
    assert field.arguments.values(executor.variable_values) == {
        "roomId": "r",
        "sortDirection": ModelSortDirection.ASC,
    }
