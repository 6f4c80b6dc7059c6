"""Amplify's `filter` subscription argument as AppSync enhanced filters (APPSYNC.md section 3).

The argument (`ModelSubscription<Type>FilterInput`: field -> operators, nested objects, `and` / `or` lists) is
turned into AppSync's filter groups: groups OR, rules inside a group AND. Several operators on one field OR
(one group each), as `util.transform.toSubscriptionFilter` expands them. AppSync's limits are checked on the
result, and the groups are compiled, once at start, into closures: a delivery walks no filter object.

What a rule means on a payload is chatserver.realtime.filter_predicates' business.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chatserver.realtime.filter_predicates import Group, Predicate, compile_groups
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
    return FilterGroups(frozen, compile_groups(frozen))


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
