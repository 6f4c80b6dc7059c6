"""Amplify's `filter` subscription argument as AppSync enhanced filters (APPSYNC.md section 3).

The argument (`ModelSubscription<Type>FilterInput`: field -> operators, nested objects, `and` / `or` lists) is
turned into AppSync's filter groups: groups OR, rules inside a group AND. Several operators on one field OR
(one group each), as `util.transform.toSubscriptionFilter` expands them. AppSync's limits are checked on the
result, and the groups are compiled, once at start, into closures: a delivery walks no filter object.

A rule on a field the mutation did not select never matches (whatever the operator). On a selected null
field, `eq null`, `ne <value>`, `notIn` and `notContains` hold; ordering, `contains`, `beginsWith` and
`between` do not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from operator import ge, gt, le, lt
from typing import Any

from chatserver.realtime.filters import freeze

# AppSync's enhanced-filter limits (APPSYNC.md section 3).
MAX_GROUPS = 10  # filters in one filterGroup
MAX_RULES_PER_GROUP = 5  # rules in one filter
MAX_TOTAL_RULES = MAX_GROUPS * MAX_RULES_PER_GROUP
MAX_LIST_VALUES = 5  # values of `in` / `notIn`
MAX_DEPTH = 5  # nesting: dotted field paths, and `and` / `or` lists inside each other
MAX_FIELD_NAME_CHARS = 256

OPERATORS = frozenset(
    {"eq", "ne", "le", "lt", "ge", "gt", "contains", "notContains", "between", "beginsWith", "in", "notIn"}
)
LOGICAL = ("and", "or")

Rule = tuple[str, str, Any]  # (dotted field name, operator, frozen value)
Group = tuple[Rule, ...]
Predicate = Callable[[Mapping[str, Any]], bool]


class FilterRefused(ValueError):
    """The filter breaks one of AppSync's limits or cannot be read; the message names which."""


@dataclass(frozen=True, slots=True)
class FilterGroups:
    """AppSync's filterGroup: OR of groups, AND inside each. Equal filters compare and hash equal, so
    subscribers with the same filter share one evaluation per publish."""

    groups: tuple[Group, ...]
    matches: Predicate = field(compare=False, hash=False, repr=False)

    def as_appsync(self) -> dict[str, Any]:
        """The `extensions.setSubscriptionFilter` shape, for logs and tests."""
        return {
            "filterGroup": [
                {"filters": [{"fieldName": n, "operator": o, "value": _thaw(v)} for n, o, v in group]}
                for group in self.groups
            ]
        }


def compile_filter(value: Mapping[str, Any] | None) -> FilterGroups | None:
    """The filter argument (coerced input, GraphQL field names) as compiled groups; None when it filters
    nothing. Raises FilterRefused."""
    if not value:
        return None
    groups = _dnf(value, (), 1)
    if groups == [()]:
        return None
    _check_limits(groups)
    frozen = tuple(groups)
    return FilterGroups(frozen, _compile_groups(frozen))


# --- filter object -> groups (disjunctive normal form, bounded while it is built)


def _dnf(value: Mapping[str, Any], path: tuple[str, ...], depth: int) -> list[Group]:
    if depth > MAX_DEPTH:
        raise FilterRefused(
            f"The filter is nested more than {MAX_DEPTH} levels deep (AppSync's depth limit)."
        )
    result: list[Group] = [()]
    for key, item in value.items():
        if item is None:
            continue  # an explicit null entry filters nothing, as an absent one
        if key in LOGICAL and not path:
            if not isinstance(item, list):
                raise FilterRefused(f"`{key}` takes a list of filters.")
            parts = [_dnf(_object(sub, key), (), depth + 1) for sub in item if sub is not None]
            if not parts:
                continue
            part = _and_all(parts) if key == "and" else [g for p in parts for g in p]
        elif isinstance(item, Mapping) and not (item.keys() <= OPERATORS):
            part = _dnf(item, (*path, key), depth + 1)
        elif isinstance(item, Mapping):
            part = _field_groups((*path, key), item)
        else:
            raise FilterRefused(
                f"The filter entry `{'.'.join((*path, key))}` must be an object of operators."
            )
        result = _and(result, part)
    return result


def _object(value: Any, key: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise FilterRefused(f"Every entry of `{key}` must be a filter object.")
    return value


def _field_groups(path: tuple[str, ...], operators: Mapping[str, Any]) -> list[Group]:
    if len(path) > MAX_DEPTH:
        raise FilterRefused(
            f"The filter field `{'.'.join(path)}` is nested more than {MAX_DEPTH} levels deep "
            "(AppSync's depth limit)."
        )
    name = ".".join(path)
    if len(name) > MAX_FIELD_NAME_CHARS:
        raise FilterRefused(f"A filter field name is longer than {MAX_FIELD_NAME_CHARS} characters.")
    rules: list[Group] = []
    for operator, operand in operators.items():
        if operand is None and operator not in ("eq", "ne"):
            continue  # `{"gt": null}`: nothing to compare with
        _check_operand(name, operator, operand)
        rules.append(((name, operator, freeze(operand)),))
    return rules or [()]


def _check_operand(name: str, operator: str, operand: Any) -> None:
    if operator in ("in", "notIn"):
        if not isinstance(operand, list):
            raise FilterRefused(f"`{name}.{operator}` takes a list.")
        if len(operand) > MAX_LIST_VALUES:
            raise FilterRefused(
                f"`{name}.{operator}` has {len(operand)} values; AppSync allows at most {MAX_LIST_VALUES} "
                f"values in `in` / `notIn`."
            )
    elif operator == "between" and (not isinstance(operand, list) or len(operand) != 2 or None in operand):
        raise FilterRefused(f"`{name}.between` takes exactly two values: [low, high].")


def _and(left: list[Group], right: list[Group]) -> list[Group]:
    product = [a + b for a in left for b in right]
    if len(product) > MAX_GROUPS:
        raise FilterRefused(_too_many_groups(len(product)))
    for group in product:
        if len(group) > MAX_RULES_PER_GROUP:
            raise FilterRefused(_too_many_rules(len(group)))
    return product


def _and_all(parts: list[list[Group]]) -> list[Group]:
    result: list[Group] = [()]
    for part in parts:
        result = _and(result, part)
    return result


def _check_limits(groups: list[Group]) -> None:
    if len(groups) > MAX_GROUPS:
        raise FilterRefused(_too_many_groups(len(groups)))
    total = 0
    for group in groups:
        if len(group) > MAX_RULES_PER_GROUP:
            raise FilterRefused(_too_many_rules(len(group)))
        total += len(group)
    if total > MAX_TOTAL_RULES:
        raise FilterRefused(f"The filter has {total} rules; AppSync allows at most {MAX_TOTAL_RULES}.")


def _too_many_groups(count: int) -> str:
    return (
        f"The filter expands to {count} filter groups (each `or` branch, and each extra operator on one "
        f"field, is a group); AppSync allows at most {MAX_GROUPS} groups."
    )


def _too_many_rules(count: int) -> str:
    return (
        f"A filter group has {count} rules; AppSync allows at most {MAX_RULES_PER_GROUP} rules per group "
        "(rules joined by `and`)."
    )


def _thaw(value: Any) -> Any:
    return [_thaw(v) for v in value] if isinstance(value, tuple) else value


# --- groups -> one predicate

_MISSING: Any = object()


def _compile_groups(groups: tuple[Group, ...]) -> Predicate:
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


def _getter(name: str) -> Callable[[Mapping[str, Any]], Any]:
    """The field at a dotted path of a payload (JSON: plain dicts), or _MISSING. A null or absent parent means
    the nested field was not delivered either."""
    path = name.split(".")
    if len(path) == 1:
        (key,) = path
        return lambda payload: payload.get(key, _MISSING)
    if len(path) == 2:
        outer, inner = path

        def get_two(payload: Mapping[str, Any]) -> Any:
            parent = payload.get(outer)
            return parent.get(inner, _MISSING) if type(parent) is dict else _MISSING

        return get_two

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
    get = _getter(name)

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
