"""The compiled variable coercion gives exactly graphql-core's `get_variable_values`, or declines.

graphql-core is the truth: for each operation and each set of request variables, `VariableCoercer.coerce` must
return the same `VariableValues` (coerced values of the same types, enum members themselves, sources with the
same signatures and the very input objects), and None wherever graphql-core reports errors (it then words them).
chatserver's own schema gives the common shapes; a small SDL schema the ones it lacks (input field defaults,
variable defaults that are lists or objects, one-of inputs, an input type with an `out_type`).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import pytest
from graphql import (
    FragmentDefinitionNode,
    GraphQLArgument,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInt,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    build_schema,
    parse,
    print_ast,
)
from graphql.execution import Executor
from graphql.execution.values import VariableValues, get_variable_values

from chatserver.execution.documents import CompiledDocument
from chatserver.execution.fast_path import FastPath
from chatserver.execution.variables import MAX_DEPTH, Unsupported, VariableCoercer
from chatserver.schema import build_schema as build_chat_schema
from chatserver.schema.messages import ModelSortDirection

CHAT = build_chat_schema()._schema

LIST = """query ($roomId: ID!, $sortDirection: ModelSortDirection, $limit: Int, $nextToken: String) {
  listMessagesForRoom(roomId: $roomId, sortDirection: $sortDirection, limit: $limit, nextToken: $nextToken) { nextToken }
}"""
CREATE = "mutation ($input: MessageInput!) { createMessage(input: $input) { id } }"
DEFAULTS = """query ($roomId: ID! = "r0", $sortDirection: ModelSortDirection = ASC, $limit: Int = 5, $nextToken: String = null) {
  listMessagesForRoom(roomId: $roomId, sortDirection: $sortDirection, limit: $limit, nextToken: $nextToken) { nextToken }
}"""
LISTS = "query ($ids: [ID!], $directions: [ModelSortDirection]!, $grid: [[Int!]], $flags: [Boolean])"
FILTERS = "query ($filter: ModelSubscriptionMessageFilterInput, $floats: ModelSubscriptionFloatInput, $upload: UploadInput)"
SCALARS = "query ($at: AWSDateTime, $email: AWSEmail, $ratio: Float!, $flag: Boolean!)"


def _definitions(query: str) -> Any:
    if not query.rstrip().endswith("}"):
        query += " { __typename }"
    return parse(query).definitions[0].variable_definitions  # type: ignore[attr-defined]


def _nested(depth: int) -> dict[str, Any]:
    filter_: dict[str, Any] = {"owner": {"eq": "alice"}}
    for _ in range(depth):
        filter_ = {"and": [filter_]}
    return filter_


CHAT_CASES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("list: bench variables", LIST, {"roomId": "r1", "sortDirection": "DESC", "limit": 50}),
    ("list: ID given as an int", LIST, {"roomId": 12345, "limit": 2}),
    ("list: ID given as a float", LIST, {"roomId": 12.0}),
    (
        "list: nulls for nullable",
        LIST,
        {"roomId": "r", "sortDirection": None, "limit": None, "nextToken": None},
    ),
    ("list: omitted nullable", LIST, {"roomId": "r"}),
    ("list: unused extra variable", LIST, {"roomId": "r", "extra": {"a": [1]}}),
    ("list: no variables at all", LIST, None),
    ("list: missing ID!", LIST, {}),
    ("list: null for ID!", LIST, {"roomId": None}),
    ("list: ID as a boolean", LIST, {"roomId": True}),
    ("list: ID as an object", LIST, {"roomId": {"id": "r"}}),
    ("list: unknown enum value", LIST, {"roomId": "r", "sortDirection": "SIDEWAYS"}),
    ("list: enum value in lower case", LIST, {"roomId": "r", "sortDirection": "desc"}),
    ("list: enum as an int", LIST, {"roomId": "r", "sortDirection": 1}),
    ("list: limit as a string", LIST, {"roomId": "r", "limit": "ten"}),
    ("list: limit as a float", LIST, {"roomId": "r", "limit": 2.5}),
    ("list: limit as a whole float", LIST, {"roomId": "r", "limit": 2.0}),
    ("list: limit as a boolean", LIST, {"roomId": "r", "limit": True}),
    ("list: limit beyond 32 bits", LIST, {"roomId": "r", "limit": 2**31}),
    ("list: limit at the 32-bit bounds", LIST, {"roomId": "r", "limit": -(2**31)}),
    ("list: nextToken as a number", LIST, {"roomId": "r", "nextToken": 5}),
    ("create: seed input", CREATE, {"input": {"roomId": "r", "content": {"text": "hi ✓"}}}),
    ("create: id given as an int", CREATE, {"input": {"roomId": "r", "content": {"text": "x"}, "id": 7}}),
    (
        "create: null optional fields",
        CREATE,
        {"input": {"roomId": "r", "content": {"text": None}, "id": None}},
    ),
    ("create: empty content", CREATE, {"input": {"roomId": "r", "content": {}}}),
    ("create: text as a number", CREATE, {"input": {"roomId": "r", "content": {"text": 5}}}),
    ("create: unknown field", CREATE, {"input": {"roomId": "r", "content": {"text": "x"}, "colour": "red"}}),
    ("create: missing required field", CREATE, {"input": {"content": {"text": "x"}}}),
    ("create: null required field", CREATE, {"input": {"roomId": "r", "content": None}}),
    ("create: input not an object", CREATE, {"input": "roomId=r"}),
    ("create: input a list", CREATE, {"input": [{"roomId": "r", "content": {"text": "x"}}]}),
    ("create: missing input", CREATE, {}),
    ("defaults: all omitted", DEFAULTS, {}),
    ("defaults: all given", DEFAULTS, {"roomId": "r", "sortDirection": "DESC", "limit": 1, "nextToken": "t"}),
    ("defaults: null overrides a default", DEFAULTS, {"sortDirection": None, "limit": None}),
    ("defaults: null for ID! with a default", DEFAULTS, {"roomId": None}),
    ("lists: lists", LISTS, {"ids": ["a", 1], "directions": ["ASC", None], "grid": [[1, 2], [], [3]]}),
    (
        "lists: single values are lists of one",
        LISTS,
        {"ids": "a", "directions": "DESC", "grid": 4, "flags": True},
    ),
    ("lists: a list of one list", LISTS, {"directions": [], "grid": [5]}),
    ("lists: null items", LISTS, {"directions": [None], "flags": [None, False]}),
    ("lists: null for an ID! item", LISTS, {"ids": ["a", None], "directions": []}),
    ("lists: null for [..]!", LISTS, {"directions": None}),
    ("lists: a bad item", LISTS, {"directions": ["ASC", "UP"]}),
    ("lists: a bad nested item", LISTS, {"directions": [], "grid": [[1, "2"]]}),
    ("lists: an object for a list", LISTS, {"directions": {"0": "ASC"}}),
    (
        "filters: nested inputs",
        FILTERS,
        {"filter": {"roomId": {"eq": 1}, "or": [{"owner": {"in": ["a", "b"]}}]}},
    ),
    ("filters: floats", FILTERS, {"floats": {"eq": 1, "between": [0.5, 2], "in": 3.5}}),
    ("filters: a float as a string", FILTERS, {"floats": {"eq": "1.5"}}),
    ("filters: upload", FILTERS, {"upload": {"filename": "a.png", "contentType": "image/png", "size": 10}}),
    (
        "filters: upload size as a float",
        FILTERS,
        {"upload": {"filename": "a", "contentType": "b", "size": 1.5}},
    ),
    ("filters: recursive, a few levels", FILTERS, {"filter": _nested(5)}),
    ("filters: nested too deeply for graphql-core", FILTERS, {"filter": _nested(150)}),
    (
        "scalars: custom scalars",
        SCALARS,
        {"at": "2024-01-02T03:04:05.000Z", "email": "a@b.c", "ratio": 1, "flag": False},
    ),
    ("scalars: a bad date", SCALARS, {"at": "yesterday", "ratio": 1.5, "flag": True}),
    ("scalars: a bad email", SCALARS, {"email": 5, "ratio": 1.5, "flag": True}),
    ("scalars: Float! as a string", SCALARS, {"ratio": "1.5", "flag": True}),
    ("scalars: Boolean! as an int", SCALARS, {"ratio": 1.5, "flag": 1}),
    ("scalars: infinite Float", SCALARS, {"ratio": float("inf"), "flag": True}),
]


def _shape(value: Any) -> Any:
    """A value with its Python types spelled out (1 and 1.0 and True differ), enum members by identity."""
    if isinstance(value, Enum):
        return ("enum", type(value).__qualname__, value.name, id(value))
    if isinstance(value, dict):
        return ("dict", type(value).__name__, [(k, _shape(v)) for k, v in value.items()])
    if isinstance(value, list | tuple):
        return (type(value).__name__, [_shape(v) for v in value])
    return (type(value).__name__, value)


def _values(values: VariableValues) -> Any:
    sources = [
        (
            name,
            source.signature.name,
            str(source.signature.type),
            print_ast(source.signature.default.literal) if source.signature.default else None,
            source.signature.default_value,
            _shape(source.value),
            id(source.value),
        )
        for name, source in values.sources.items()
    ]
    return sources, _shape(values.coerced)


def _compare(schema: GraphQLSchema, query: str, variables: dict[str, Any] | None) -> VariableValues | None:
    definitions = _definitions(query)
    expected = get_variable_values(schema, definitions, variables or {})
    got = VariableCoercer(schema, definitions).coerce(variables)
    if isinstance(expected, list):
        assert got is None, f"graphql-core: {[e.message for e in expected]}; coercer: {got}"
        return None
    if got is not None:
        assert _values(got) == _values(expected)
    return got


@pytest.mark.parametrize(("query", "variables"), [c[1:] for c in CHAT_CASES], ids=[c[0] for c in CHAT_CASES])
def test_coerces_as_graphql_core_on_chatservers_schema(query: str, variables: dict[str, Any] | None) -> None:
    got = _compare(CHAT, query, variables)
    if not isinstance(get_variable_values(CHAT, _definitions(query), variables or {}), list):
        assert got is not None, "the coercer declined variables graphql-core coerces"


def test_the_list_querys_variables_keep_their_types() -> None:
    got = VariableCoercer(CHAT, _definitions(LIST)).coerce({"roomId": 7, "sortDirection": "ASC", "limit": 3})
    assert got is not None
    assert got.coerced == {"roomId": "7", "sortDirection": ModelSortDirection.ASC, "limit": 3}
    assert got.coerced["sortDirection"] is ModelSortDirection.ASC  # Strawberry's enum, as its enum type gives


def test_values_nested_deeper_than_the_coercer_goes_are_left_to_graphql_core() -> None:
    definitions = _definitions(FILTERS)
    coercer = VariableCoercer(CHAT, definitions)
    assert (
        coercer.coerce({"filter": _nested(MAX_DEPTH // 2 - 2)}) is not None
    )  # `and` + its list: 2 levels each
    deep = {"filter": _nested(MAX_DEPTH)}
    assert coercer.coerce(deep) is None
    assert not isinstance(get_variable_values(CHAT, definitions, deep), list)  # graphql-core coerces it
    too_deep = {"filter": _nested(150)}
    assert coercer.coerce(too_deep) is None
    errors = get_variable_values(CHAT, definitions, too_deep)
    assert isinstance(errors, list) and errors[0].message == "Variable values are nested too deeply."


SDL = build_schema("""
enum Mode { FAST SLOW }
input Inner { x: Int! }
input Options {
  size: Int = 10
  name: String! = "unnamed"
  mode: Mode = SLOW
  tags: [String!] = ["a", "b"]
  inner: Inner = {x: 1}
  plain: String
}
input Pick @oneOf { a: Int, b: String }
type Query { f(o: Options, p: Pick): Int }
""")
OPTIONS = "query ($o: Options, $list: [Options!], $m: Mode = FAST)"
OBJECT_DEFAULTS = 'query ($o: Options = {size: 2, inner: {x: 3}}, $tags: [String] = ["x"], $n: Int = null)'

SDL_CASES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("input field defaults", OPTIONS, {"o": {}}),
    (
        "input field defaults overridden",
        OPTIONS,
        {"o": {"size": 1, "name": "n", "mode": "FAST", "tags": "t"}},
    ),
    ("null for a field with a default", OPTIONS, {"o": {"size": None, "inner": None}}),
    ("null for a non-null field with a default", OPTIONS, {"o": {"name": None}}),
    ("a list of inputs", OPTIONS, {"list": [{}, {"plain": "p"}], "m": "SLOW"}),
    ("enum default", OPTIONS, {}),
    ("bad enum", OPTIONS, {"m": "MEDIUM"}),
    ("nested required field missing", OPTIONS, {"o": {"inner": {}}}),
    ("object and list defaults", OBJECT_DEFAULTS, {}),
    ("object default overridden", OBJECT_DEFAULTS, {"o": {"plain": "x"}, "tags": None, "n": 4}),
]


@pytest.mark.parametrize(("query", "variables"), [c[1:] for c in SDL_CASES], ids=[c[0] for c in SDL_CASES])
def test_coerces_as_graphql_core_with_defaults(query: str, variables: dict[str, Any] | None) -> None:
    got = _compare(SDL, query, variables)
    if not isinstance(get_variable_values(SDL, _definitions(query), variables or {}), list):
        assert got is not None


def test_input_field_defaults_are_graphql_cores_own_objects() -> None:
    got = VariableCoercer(SDL, _definitions(OPTIONS)).coerce({"o": {}})
    expected = get_variable_values(SDL, _definitions(OPTIONS), {"o": {}})
    assert got is not None and not isinstance(expected, list)
    assert got.coerced["o"]["tags"] is expected.coerced["o"]["tags"]  # memoized on the field by graphql-core


def test_variable_defaults_that_are_objects_are_made_anew_per_request() -> None:
    coercer = VariableCoercer(SDL, _definitions(OBJECT_DEFAULTS))
    first, second = coercer.coerce({}), coercer.coerce({})
    assert first is not None and second is not None
    assert (
        first.coerced["o"]
        == second.coerced["o"]
        == {"size": 2, "inner": {"x": 3}, "name": "unnamed", "mode": "SLOW", "tags": ["a", "b"]}
    )
    assert first.coerced["o"] is not second.coerced["o"]  # as graphql-core's fresh coercion per request
    assert first.coerced["tags"] is not second.coerced["tags"]


def test_one_of_inputs_are_not_compiled() -> None:
    with pytest.raises(Unsupported):
        VariableCoercer(SDL, _definitions("query ($p: Pick)"))


def test_an_input_types_out_type_is_applied() -> None:
    point = GraphQLInputObjectType(
        "Point",
        {"x": GraphQLInputField(GraphQLInt), "label": GraphQLInputField(GraphQLString)},
        out_type=lambda value: ("point", tuple(sorted(value.items()))),
    )
    query = GraphQLObjectType("Query", {"f": GraphQLField(GraphQLInt, {"p": GraphQLArgument(point)})})
    schema = GraphQLSchema(query)
    got = _compare(schema, "query ($p: Point)", {"p": {"x": 1}})
    assert got is not None and got.coerced == {"p": ("point", (("x", 1),))}


def test_the_fast_path_builds_the_executor_graphql_core_would() -> None:
    """The executor made from the compiled coercion has what `Executor.build` gives it."""
    query = (
        f"{LIST.replace('{ nextToken }', '{ ...Page }')} fragment Page on MessageConnection {{ nextToken }}"
    )
    document = parse(query)
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    compiled = CompiledDocument(document, [], fragments)
    operation = compiled.operation(None)
    assert operation is not None
    fast_path = FastPath(CHAT)
    plans = fast_path._plans(compiled, operation)
    assert plans is not None and plans.variables is not None
    context = object()
    variables = {"roomId": "r", "sortDirection": "DESC", "limit": 5}
    made = fast_path._executor(compiled, plans, variables, context)
    built = Executor.build(CHAT, document, None, context, dict(variables), None)
    assert isinstance(made, Executor) and isinstance(built, Executor)
    assert _values(made.variable_values) == _values(built.variable_values)
    for name in ("schema", "root_value", "context_value", "operation", "fragment_definitions", "fragments"):
        assert getattr(made, name) == getattr(built, name), name
    for name in (
        "field_resolver",
        "type_resolver",
        "subscribe_field_resolver",
        "is_awaitable",
        "middleware_manager",
    ):
        assert getattr(made, name) is getattr(built, name), name
    for name in ("hide_suggestions", "enable_early_execution", "abort_signal", "hooks", "error_propagation"):
        assert getattr(made, name) == getattr(built, name), name
    # Variables that do not coerce: graphql-core's errors, exactly as `build` gives them.
    errors = fast_path._executor(compiled, plans, {"roomId": None}, context)
    assert isinstance(errors, list)
    core = Executor.build(CHAT, document, None, context, {"roomId": None}, None)
    assert isinstance(core, list)
    assert [(e.message, e.locations) for e in errors] == [(e.message, e.locations) for e in core]
    assert errors[0].message.startswith(
        "Variable '$roomId' has invalid value: Expected value of non-null type"
    )
