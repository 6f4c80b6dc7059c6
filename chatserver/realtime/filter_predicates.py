"""Compiled filter groups: one closure per rule and per group, built once at subscription start.

AppSync's semantics: a rule on a field the mutation did not select never matches (whatever the operator). On a
selected null field, `eq null`, `ne <value>`, `notIn` and `notContains` hold; ordering, `contains`, `beginsWith` and
`between` do not. `contains` / `notContains` test substrings of strings and members of lists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import ge, gt, le, lt
from typing import Any

from chatserver.realtime.filters import freeze

Rule = tuple[str, str, Any]  # (dotted field name, operator, frozen value)
Group = tuple[Rule, ...]
Predicate = Callable[[Mapping[str, Any]], bool]


_MISSING: Any = object()


def compile_groups(groups: tuple[Group, ...]) -> Predicate:
    """OR of the groups, AND of the rules inside each."""
    alternatives = tuple(_all(tuple(_compile_rule(rule) for rule in group)) for group in groups)
    if len(alternatives) == 1:
        return alternatives[0]

    def any_group(payload: Mapping[str, Any]) -> bool:
        return any(group(payload) for group in alternatives)

    return any_group


def _all(rules: tuple[Predicate, ...]) -> Predicate:
    """One closure for a group: unrolled for the usual small groups (a call per rule, no generator)."""
    if not rules:
        return lambda payload: True
    if len(rules) == 1:
        return rules[0]
    if len(rules) == 2:
        a, b = rules
        return lambda payload: a(payload) and b(payload)
    if len(rules) == 3:
        a, b, c = rules
        return lambda payload: a(payload) and b(payload) and c(payload)

    def every(payload: Mapping[str, Any]) -> bool:
        return all(rule(payload) for rule in rules)

    return every


def _getter(path: list[str]) -> Callable[[Mapping[str, Any]], Any]:
    """The field at a path of three or more names (JSON: plain dicts), or _MISSING. A null or absent parent
    means the nested field was not delivered either."""

    def get(payload: Mapping[str, Any]) -> Any:
        value: Any = payload
        for key in path:
            if type(value) is not dict:
                return _MISSING
            value = value.get(key, _MISSING)
            if value is _MISSING:
                return _MISSING
        return value

    return get


def _compile_rule(rule: Rule) -> Predicate:
    """One closure per rule; the field lookup is inlined for top-level and two-level names (the common ones)."""
    name, operator, operand = rule
    path = name.split(".")
    fused = _fused(path, operator, operand) if len(path) <= 2 else None
    if fused is not None:
        return fused
    test = _TESTS[operator](operand)
    if len(path) == 1:
        (key,) = path

        def top_level(payload: Mapping[str, Any]) -> bool:
            value = payload.get(key, _MISSING)
            return value is not _MISSING and test(value)

        return top_level
    if len(path) == 2:
        outer, inner = path

        def two_levels(payload: Mapping[str, Any]) -> bool:
            parent = payload.get(outer)
            if type(parent) is not dict:
                return False  # a null or absent parent: the nested field was not delivered either
            value = parent.get(inner, _MISSING)
            return value is not _MISSING and test(value)

        return two_levels
    get = _getter(path)

    def nested(payload: Mapping[str, Any]) -> bool:
        value = get(payload)
        return value is not _MISSING and test(value)

    return nested


def _fused(path: list[str], operator: str, x: Any) -> Predicate | None:
    """The commonest rules on a top-level or two-level field as one closure each (no second call per rule)."""
    if isinstance(x, tuple) or not (
        operator in ("eq", "ne") or (type(x) is str and operator in _STRING_TESTS)
    ):
        return None
    compare = _STRING_TESTS.get(operator)
    if len(path) == 1:
        (key,) = path
        if operator == "eq":
            return lambda payload: payload.get(key, _MISSING) == x  # _MISSING equals no operand
        if operator == "ne":
            return lambda payload: (value := payload.get(key, _MISSING)) is not _MISSING and value != x
        assert compare is not None
        return lambda payload: type(value := payload.get(key)) is str and compare(value, x)
    outer, inner = path  # below, a null or absent parent means the nested field was not delivered either

    if operator == "eq":

        def nested_eq(payload: Mapping[str, Any]) -> bool:
            parent = payload.get(outer)
            return type(parent) is dict and parent.get(inner, _MISSING) == x

        return nested_eq
    if operator == "ne":

        def nested_ne(payload: Mapping[str, Any]) -> bool:
            parent = payload.get(outer)
            return (
                type(parent) is dict and (value := parent.get(inner, _MISSING)) is not _MISSING and value != x
            )

        return nested_ne
    assert compare is not None

    def nested_string(payload: Mapping[str, Any]) -> bool:
        parent = payload.get(outer)
        return type(parent) is dict and type(value := parent.get(inner)) is str and compare(value, x)

    return nested_string


def _same_kind(a: Any, b: Any) -> bool:
    """Orderable against each other: two strings, or two numbers (booleans are not numbers here)."""
    if isinstance(a, str):
        return isinstance(b, str)
    return (
        isinstance(a, int | float)
        and not isinstance(a, bool)
        and isinstance(b, int | float)
        and not isinstance(b, bool)
    )


def _eq(x: Any) -> Callable[[Any], bool]:
    if not isinstance(x, tuple):  # a scalar operand (what Amplify's inputs send): plain equality
        return lambda v: v == x
    return lambda v: freeze(v) == x if isinstance(v, list | dict) else v == x


def _ne(x: Any) -> Callable[[Any], bool]:
    if not isinstance(x, tuple):
        return lambda v: v != x
    eq = _eq(x)
    return lambda v: not eq(v)


def _order(compare: Callable[[Any, Any], bool]) -> Callable[[Any], Callable[[Any], bool]]:
    def build(x: Any) -> Callable[[Any], bool]:
        if type(x) is str:  # JSON strings are exactly str: a type check, then the comparison
            return lambda v: type(v) is str and compare(v, x)
        return lambda v: _same_kind(v, x) and compare(v, x)

    return build


def _contains(x: Any) -> Callable[[Any], bool]:
    def test(v: Any) -> bool:
        if isinstance(v, str):
            return isinstance(x, str) and x in v
        if isinstance(v, list):
            return x in v
        return False

    return test


def _not_contains(x: Any) -> Callable[[Any], bool]:
    contains = _contains(x)
    return lambda v: v is None or (isinstance(v, str | list) and not contains(v))


def _begins_with(x: Any) -> Callable[[Any], bool]:
    if not isinstance(x, str):
        return lambda v: False
    return lambda v: type(v) is str and v.startswith(x)


def _between(x: Any) -> Callable[[Any], bool]:
    low, high = x
    return lambda v: _same_kind(v, low) and _same_kind(v, high) and low <= v <= high


def _in(x: Any) -> Callable[[Any], bool]:
    values = tuple(x)
    return lambda v: (freeze(v) if isinstance(v, list | dict) else v) in values


def _not_in(x: Any) -> Callable[[Any], bool]:
    member = _in(x)
    return lambda v: not member(v)


# (field value, operand) -> bool for a string field and a string operand; absent and null are not str.
# (`contains` is not here: on a list field it tests membership.)
_STRING_TESTS: dict[str, Callable[[str, str], bool]] = {
    "le": le,
    "lt": lt,
    "ge": ge,
    "gt": gt,
    "beginsWith": str.startswith,
}

_TESTS: dict[str, Callable[[Any], Callable[[Any], bool]]] = {
    "eq": _eq,
    "ne": _ne,
    "le": _order(le),
    "lt": _order(lt),
    "ge": _order(ge),
    "gt": _order(gt),
    "contains": _contains,
    "notContains": _not_contains,
    "beginsWith": _begins_with,
    "between": _between,
    "in": _in,
    "notIn": _not_in,
}
