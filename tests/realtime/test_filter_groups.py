"""Amplify's `filter` argument with AppSync's enhanced-filter semantics and limits, through the real engine."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse

from chatserver.realtime.compiler import SubscriptionRejected
from chatserver.realtime.engine import RealtimeEngine
from chatserver.realtime.filter_groups import compile_filter
from tests.realtime.schema_fixture import Client, make_engine

SUB = """subscription S($roomId: ID, $filter: ModelSubscriptionMessageFilterInput) {
  onFiltered(roomId: $roomId, filter: $filter) { id }
}"""

MESSAGE: dict[str, Any] = {
    "id": "m1",
    "roomId": "r1",
    "owner": "alice",
    "content": {"text": "hello world", "imageId": None},
    "tags": ["news", "sport"],
    "score": 5,
    "weight": 2.5,
    "pinned": True,
}


async def delivered(filter_: dict[str, Any] | None, payload: dict[str, Any], room: str | None = None) -> bool:
    """Whether one createMessage with `payload` reaches a subscriber with this filter (and roomId argument)."""
    engine = await make_engine()
    client = Client(engine)
    variables: dict[str, Any] = {"filter": filter_}
    if room is not None:
        variables["roomId"] = room
    client.subscribe(SUB, variables)
    await engine.publish("createMessage", payload)
    return len(await client.payloads()) == 1


# --- each operator, on each kind of field: (filter, matches MESSAGE?)

CASES = [
    # strings
    ({"owner": {"eq": "alice"}}, True),
    ({"owner": {"eq": "bob"}}, False),
    ({"owner": {"ne": "bob"}}, True),
    ({"owner": {"ne": "alice"}}, False),
    ({"owner": {"lt": "bob"}}, True),
    ({"owner": {"lt": "alice"}}, False),
    ({"owner": {"le": "alice"}}, True),
    ({"owner": {"le": "aaa"}}, False),
    ({"owner": {"gt": "aaa"}}, True),
    ({"owner": {"gt": "alice"}}, False),
    ({"owner": {"ge": "alice"}}, True),
    ({"owner": {"ge": "b"}}, False),
    ({"owner": {"contains": "lic"}}, True),
    ({"owner": {"contains": "bob"}}, False),
    ({"owner": {"notContains": "bob"}}, True),
    ({"owner": {"notContains": "lic"}}, False),
    ({"owner": {"beginsWith": "al"}}, True),
    ({"owner": {"beginsWith": "li"}}, False),
    ({"owner": {"between": ["a", "b"]}}, True),
    ({"owner": {"between": ["b", "c"]}}, False),
    ({"owner": {"in": ["bob", "alice"]}}, True),
    ({"owner": {"in": ["bob", "carol"]}}, False),
    ({"owner": {"notIn": ["bob", "carol"]}}, True),
    ({"owner": {"notIn": ["alice"]}}, False),
    # IDs (an ID given as a number is the same ID)
    ({"roomId": {"eq": "r1"}}, True),
    ({"roomId": {"beginsWith": "r"}}, True),
    ({"roomId": {"in": ["r2", "r3"]}}, False),
    # integers
    ({"score": {"eq": 5}}, True),
    ({"score": {"eq": 6}}, False),
    ({"score": {"ne": 6}}, True),
    ({"score": {"ne": 5}}, False),
    ({"score": {"lt": 6}}, True),
    ({"score": {"lt": 5}}, False),
    ({"score": {"le": 5}}, True),
    ({"score": {"le": 4}}, False),
    ({"score": {"gt": 4}}, True),
    ({"score": {"gt": 5}}, False),
    ({"score": {"ge": 5}}, True),
    ({"score": {"ge": 6}}, False),
    ({"score": {"between": [5, 9]}}, True),  # inclusive
    ({"score": {"between": [6, 9]}}, False),
    ({"score": {"in": [1, 5]}}, True),
    ({"score": {"in": [1, 2]}}, False),
    ({"score": {"notIn": [1, 2]}}, True),
    ({"score": {"notIn": [5]}}, False),
    # floats, compared with ints too
    ({"weight": {"gt": 2}}, True),
    ({"weight": {"lt": 2.5}}, False),
    ({"weight": {"between": [2.5, 2.5]}}, True),
    ({"weight": {"eq": 2.4}}, False),
    # booleans: eq, ne only
    ({"pinned": {"eq": True}}, True),
    ({"pinned": {"eq": False}}, False),
    ({"pinned": {"ne": False}}, True),
    ({"pinned": {"ne": True}}, False),
    # lists: contains / notContains are membership
    ({"tags": {"contains": "sport"}}, True),
    ({"tags": {"contains": "spo"}}, False),  # an element, not a substring of one
    ({"tags": {"notContains": "music"}}, True),
    ({"tags": {"notContains": "news"}}, False),
    # nested objects: dotted field names
    ({"content": {"text": {"contains": "world"}}}, True),
    ({"content": {"text": {"beginsWith": "world"}}}, False),
    ({"content": {"imageId": {"eq": None}}}, True),  # a selected null equals null
    ({"content": {"imageId": {"ne": None}}}, False),
    ({"content": {"imageId": {"beginsWith": "i"}}}, False),  # ordering and prefixes never match null
    ({"content": {"imageId": {"notContains": "x"}}}, True),
]


@pytest.mark.parametrize(("filter_", "expected"), CASES, ids=[repr(c[0]) for c in CASES])
async def test_filter_operator(filter_: dict[str, Any], expected: bool) -> None:
    assert await delivered(filter_, MESSAGE) is expected


async def test_filter_and_or_nest() -> None:
    # (owner = alice AND (score > 9 OR pinned)) OR content.text begins with "bye"
    filter_ = {
        "or": [
            {"owner": {"eq": "alice"}, "or": [{"score": {"gt": 9}}, {"pinned": {"eq": True}}]},
            {"content": {"text": {"beginsWith": "bye"}}},
        ]
    }
    assert await delivered(filter_, MESSAGE)
    assert not await delivered(filter_, {**MESSAGE, "pinned": False})
    assert await delivered(filter_, {**MESSAGE, "pinned": False, "score": 10})
    assert await delivered(filter_, {**MESSAGE, "owner": "bob", "content": {"text": "bye now"}})
    assert not await delivered(filter_, {**MESSAGE, "owner": "bob"})
    # and: every entry must hold
    both = {"and": [{"owner": {"eq": "alice"}}, {"and": [{"tags": {"contains": "news"}}]}]}
    assert await delivered(both, MESSAGE)
    assert not await delivered(both, {**MESSAGE, "tags": ["sport"]})


async def test_filter_several_operators_on_one_field_are_alternatives() -> None:
    # toSubscriptionFilter expands them into one group each (APPSYNC.md section 3)
    filter_ = {"score": {"lt": 2, "gt": 8}}
    assert not await delivered(filter_, MESSAGE)
    assert await delivered(filter_, {**MESSAGE, "score": 1})
    assert await delivered(filter_, {**MESSAGE, "score": 9})


async def test_filter_on_field_the_mutation_did_not_select_never_matches() -> None:
    unselected = {k: v for k, v in MESSAGE.items() if k not in ("owner", "content")}
    for filter_ in (
        {"owner": {"eq": "alice"}},
        {"owner": {"ne": "bob"}},  # even the negative operators
        {"owner": {"notIn": ["bob"]}},
        {"owner": {"notContains": "x"}},
        {"content": {"text": {"ne": "x"}}},
    ):
        assert not await delivered(filter_, unselected), filter_
        assert await delivered(filter_, MESSAGE), filter_
    # a rule in another `or` branch can still match
    assert await delivered({"or": [{"owner": {"eq": "alice"}}, {"score": {"eq": 5}}]}, unselected)


async def test_filter_and_arguments_combine_with_and() -> None:
    filter_ = {"owner": {"eq": "alice"}}
    assert await delivered(filter_, MESSAGE, room="r1")
    assert not await delivered(filter_, MESSAGE, room="r2")
    assert not await delivered(filter_, {**MESSAGE, "owner": "bob"}, room="r1")


async def test_filter_empty_or_null_filters_nothing() -> None:
    assert await delivered({}, MESSAGE)
    assert await delivered(None, MESSAGE)
    assert await delivered({"owner": None, "and": []}, MESSAGE)


async def test_filter_subscribers_with_equal_filters_share_one_check() -> None:
    engine = await make_engine()
    clients = [Client(engine) for _ in range(3)]
    clients[0].subscribe(SUB, {"filter": {"owner": {"eq": "alice"}}})
    clients[1].subscribe(SUB, {"filter": {"owner": {"eq": "alice"}}})
    clients[2].subscribe(SUB, {"filter": {"owner": {"eq": "bob"}}})
    (plans,) = list(engine.hub.matching("onFiltered", MESSAGE))
    assert sorted(len(members) for members in plans.values()) == [1, 2]
    await engine.publish("createMessage", MESSAGE)
    assert [len(await c.payloads()) for c in clients] == [1, 1, 0]
    assert engine.metrics.encodings == 1


async def test_filter_groups_have_appsyncs_shape() -> None:
    compiled = compile_filter(
        {"owner": {"eq": "a"}, "or": [{"score": {"in": [1, 2]}}, {"pinned": {"eq": True}}]}
    )
    assert compiled is not None
    assert compiled.as_appsync() == {
        "filterGroup": [
            {
                "filters": [
                    {"fieldName": "owner", "operator": "eq", "value": "a"},
                    {"fieldName": "score", "operator": "in", "value": [1, 2]},
                ]
            },
            {
                "filters": [
                    {"fieldName": "owner", "operator": "eq", "value": "a"},
                    {"fieldName": "pinned", "operator": "eq", "value": True},
                ]
            },
        ]
    }


# --- AppSync's limits refuse the subscription at start, naming the limit


def refusal(engine: RealtimeEngine, filter_: Any) -> SubscriptionRejected:
    with pytest.raises(SubscriptionRejected) as refused:
        engine.compile(parse(SUB), {"filter": filter_})
    assert refused.value.kind == SubscriptionRejected.BAD_FILTER
    return refused.value


def nested_and(levels: int) -> dict[str, Any]:
    filter_: dict[str, Any] = {"owner": {"eq": "alice"}}
    for _ in range(levels):
        filter_ = {"and": [filter_]}
    return filter_


async def test_filter_limits_refuse_at_start() -> None:
    engine = await make_engine()
    five = ["a", "b", "c", "d", "e"]
    engine.compile(parse(SUB), {"filter": {"owner": {"in": five}}})  # at the limit: fine
    assert "at most 5 values" in refusal(engine, {"owner": {"in": [*five, "f"]}}).message
    assert "at most 5 values" in refusal(engine, {"owner": {"notIn": [*five, "f"]}}).message

    fields = ["owner", "roomId", "id", "tags", "score"]
    engine.compile(parse(SUB), {"filter": {f: {"ne": "1" if f != "score" else 1} for f in fields}})
    too_many_rules = {"and": [{"owner": {"ne": str(n)}} for n in range(6)]}
    assert "at most 5 rules per group" in refusal(engine, too_many_rules).message

    engine.compile(parse(SUB), {"filter": {"or": [{"score": {"eq": n}} for n in range(10)]}})
    too_many_groups = {"or": [{"score": {"eq": n}} for n in range(11)]}
    assert "at most 10 groups" in refusal(engine, too_many_groups).message
    # groups multiply through `and`: 4 x 3 = 12 alternatives
    product = {
        "and": [
            {"or": [{"score": {"eq": n}} for n in range(4)]},
            {"or": [{"owner": {"eq": str(n)}} for n in range(3)]},
        ]
    }
    assert "12 filter groups" in refusal(engine, product).message

    engine.compile(parse(SUB), {"filter": nested_and(4)})  # five levels
    assert "more than 5 levels deep" in refusal(engine, nested_and(5)).message

    assert "exactly two values" in refusal(engine, {"score": {"between": [1]}}).message
    assert "exactly two values" in refusal(engine, {"score": {"between": [1, 2, 3]}}).message


async def test_filter_of_the_wrong_type_is_a_validation_error() -> None:
    engine = await make_engine()
    with pytest.raises(SubscriptionRejected) as refused:
        engine.compile(parse(SUB), {"filter": {"score": {"eq": "five"}}})
    assert refused.value.kind == SubscriptionRejected.INVALID
    with pytest.raises(SubscriptionRejected):
        engine.compile(parse(SUB), {"filter": {"nope": {"eq": 1}}})
