"""What a plan covers and what it leaves to graphql-core, on a schema with every shape chatserver's lacks.

chatserver's own schema has no abstract types, no non-string leaves in lists and no non-null field that can come
back null, so this small Strawberry schema has them: interfaces, unions, Int / Float / Boolean / enum / custom
scalars, null in a non-null field (null bubbling), leaves that do not serialize, resolvers that raise, lists that
are not lists, permission classes. For each query, graphql-core's `execute` is the truth: the fast path either
answers exactly its `data` (and graphql-core had no errors), or declines so graphql-core answers.
"""

from __future__ import annotations

import asyncio
import json
from enum import Enum
from types import SimpleNamespace
from typing import Annotated, Any, NewType

import pytest
import strawberry
from graphql import ExecutionResult, FragmentDefinitionNode, execute, parse, validate
from strawberry.permission import BasePermission
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

from chatserver.execution.documents import CompiledDocument
from chatserver.execution.fast_path import FastPath

Money = NewType("Money", int)


@strawberry.enum
class Color(Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.interface
class Node:
    id: strawberry.ID


@strawberry.type
class Item:
    id: strawberry.ID
    name: str
    count: int
    ratio: float
    ok: bool
    color: Color
    price: Money
    tags: list[str]
    note: str | None


@strawberry.type
class Other(Node):
    label: str


class Deny(BasePermission):
    message = "Not Authorized"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return False


def _item(n: int, **overrides: Any) -> Item:
    values: dict[str, Any] = {
        "id": strawberry.ID(f"i{n}"),
        "name": f"item {n}",
        "count": n,
        "ratio": n / 4,
        "ok": n % 2 == 0,
        "color": Color.RED if n % 2 else Color.BLUE,
        "price": Money(n * 100),
        "tags": [f"t{n}", "shared"],
        "note": None if n % 3 else f"note {n}",
    }
    values.update(overrides)
    return Item(**values)


@strawberry.type
class Query:
    @strawberry.field
    def items(self, first: int = 3) -> list[Item]:
        return [_item(n) for n in range(first)]

    @strawberry.field
    async def async_items(self) -> list[Item] | None:
        return [_item(n) for n in range(2)]

    @strawberry.field
    def broken_items(self) -> list[Item] | None:
        return [_item(1), _item(2, name=None)]  # a null in a non-null field: the list (nullable) becomes null

    @strawberry.field
    def broken_root(self) -> Item:
        return _item(3, count=None)  # bubbles up to `data: null`

    @strawberry.field
    def node(self) -> Node:
        return Other(id=strawberry.ID("o2"), label="as a node")

    @strawberry.field
    def other(self) -> Other:
        return Other(id=strawberry.ID("o3"), label="typed by an interface: is_type_of")

    @strawberry.field
    def thing(self) -> Annotated[Item | Other, strawberry.union("Thing")]:
        return Other(id=strawberry.ID("o1"), label="other")

    @strawberry.field
    def count_as_text(self) -> str:
        return 5  # type: ignore[return-value]  # String serializes ints as text

    @strawberry.field
    def flag(self) -> bool | None:
        return "yes"  # type: ignore[return-value]  # Boolean refuses strings: an error

    @strawberry.field
    def fails(self) -> str | None:
        raise ValueError("resolver failed")

    @strawberry.field
    async def fails_later(self) -> str | None:
        raise ValueError("async resolver failed")

    @strawberry.field
    def not_a_list(self) -> list[int] | None:
        return iter([1, 2])  # type: ignore[return-value]  # any iterable does for graphql-core

    @strawberry.field(permission_classes=[Deny])
    def secret(self) -> str | None:
        return "hidden"

    @strawberry.field
    def echo(self, text: str, times: int = 1) -> str:
        return text * times

    @strawberry.field
    async def never(self) -> str | None:
        await asyncio.Event().wait()  # until cancelled
        return None


SCHEMA = strawberry.Schema(
    query=Query,
    types=[Other],
    config=StrawberryConfig(
        scalar_map={Money: strawberry.scalar(name="Money", serialize=lambda v: f"${v}", parse_value=int)}
    ),
)._schema

TAKEN = [
    ("leaves of every kind", "{ items { id name count ratio ok color price tags note __typename } }", None),
    (
        "arguments, variables, defaults",
        'query Q($n: Int) { items(first: $n) { id } echo(text: "ab", times: 2) }',
        {"n": 5},
    ),
    ("async list", "{ asyncItems { id tags } }", None),
    ("String from an int", "{ countAsText }", None),
    (
        "fragments on the object type",
        "{ items { ...F ... on Item { count } } } fragment F on Item { id name }",
        None,
    ),
    (
        "include/skip",
        "query Q($y: Boolean!) { items { id @include(if: $y) name @skip(if: $y) } }",
        {"y": True},
    ),
]
DECLINED = [
    ("null in a non-null field of a list item", "{ brokenItems { id name } }", None),
    ("null bubbling to the root", "{ brokenRoot { id count } items { id } }", None),
    ("interface", "{ node { id } }", None),
    ("fragment on an interface", "{ other { ... on Node { id } } }", None),
    ("object type with is_type_of", "{ other { id label } }", None),
    ("union", "{ thing { ... on Other { label } } }", None),
    ("Boolean from a string", "{ flag }", None),
    ("resolver raises", "{ fails items { id } }", None),
    ("async resolver raises", "{ failsLater asyncItems { id } }", None),
    ("iterable that is not a list", "{ notAList }", None),
    ("permission class refuses", "{ secret }", None),
    ("bad variable", "query Q($n: Int) { items(first: $n) { id } }", {"n": "three"}),
    ("introspection", "{ __schema { queryType { name } } }", None),
]
CONTEXT = SimpleNamespace(identity=SimpleNamespace(mode="USER_POOL"))


def _compiled(query: str) -> CompiledDocument:
    document = parse(query)
    errors = validate(SCHEMA, document)
    if errors:
        return CompiledDocument(document, [], {})  # validation errors are caught earlier in chatserver
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    return CompiledDocument(document, [], fragments)


async def _both(
    query: str, variables: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, ExecutionResult]:
    compiled = _compiled(query)
    assert not validate(SCHEMA, compiled.document), query  # type: ignore[arg-type]
    fast_path = FastPath(SCHEMA)
    operation = compiled.operation(None)
    assert operation is not None
    fast = await fast_path.execute(compiled, operation, variables, CONTEXT)
    outcome = execute(SCHEMA, compiled.document, context_value=CONTEXT, variable_values=variables)  # type: ignore[arg-type]
    core = outcome if isinstance(outcome, ExecutionResult) else await outcome
    return fast, core


@pytest.mark.parametrize(("name", "query", "variables"), TAKEN, ids=[t[0] for t in TAKEN])
async def test_plan_answers_exactly_as_graphql_core(
    name: str, query: str, variables: dict[str, Any] | None
) -> None:
    fast, core = await _both(query, variables)
    assert core.errors is None, core.errors
    assert fast is not None, "the fast path declined"
    assert json.dumps(fast) == json.dumps(core.data)


@pytest.mark.parametrize(("name", "query", "variables"), DECLINED, ids=[d[0] for d in DECLINED])
async def test_plan_declines_what_it_does_not_mirror(
    name: str, query: str, variables: dict[str, Any] | None
) -> None:
    fast, core = await _both(query, variables)
    assert fast is None, f"the fast path answered {fast}; graphql-core: {core}"


async def test_declined_run_leaves_counters_and_plan_cache_consistent() -> None:
    compiled = _compiled("query Q($y: Boolean!) { items { id @include(if: $y) } }")
    operation = compiled.operation(None)
    assert operation is not None
    fast_path = FastPath(SCHEMA)
    assert await fast_path.execute(compiled, operation, {"y": True}, CONTEXT) == {
        "items": [{"id": "i0"}, {"id": "i1"}, {"id": "i2"}]
    }
    assert await fast_path.execute(compiled, operation, {"y": False}, CONTEXT) == {"items": [{}, {}, {}]}
    assert await fast_path.execute(compiled, operation, {"y": "no"}, CONTEXT) is None
    assert (fast_path.counters.taken, fast_path.counters.fell_back) == (2, 1)
    (plans,) = compiled.plans.values()
    assert set(plans.plans) == {(True,), (False,)}  # one plan per outcome of the condition


async def test_callers_of_another_mode_go_to_graphql_core() -> None:
    """Types and fields without auth directives admit the default mode only (AppSync's rule): plans that touch
    them are not used for API-key or OIDC callers, whose field rules graphql-core applies."""
    compiled = _compiled("{ items { id } }")
    operation = compiled.operation(None)
    assert operation is not None
    fast_path = FastPath(SCHEMA, default_mode="USER_POOL")
    api_key_caller = SimpleNamespace(identity=SimpleNamespace(mode="API_KEY"))
    assert await fast_path.execute(compiled, operation, None, api_key_caller) is None
    assert await fast_path.execute(compiled, operation, None, CONTEXT) is not None


async def test_cancellation_propagates_and_is_not_a_fallback() -> None:
    """The execution timeout cancels a plan's pending resolvers; the fast path does not swallow it as a fallback."""
    compiled = _compiled("{ never other: never items { id } }")
    operation = compiled.operation(None)
    assert operation is not None
    fast_path = FastPath(SCHEMA)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await fast_path.execute(compiled, operation, None, CONTEXT)
    assert (fast_path.counters.taken, fast_path.counters.fell_back) == (0, 0)
