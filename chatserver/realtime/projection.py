"""Projection: a subscription's selection set applied to a mutation payload, with GraphQL null bubbling.

Plans are immutable tuples, so equal selection sets compare and hash equal: subscribers sharing one are
served from one encoding. Type plans:
    ("N", inner)                 non-null wrapper
    ("L", inner)                 list
    ("S", type_name)             leaf (scalar or enum): the payload value is already serialised
    ("O", type_name, fields)     object; fields is a tuple of (response_key, field_name, type_plan)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

TypePlan = tuple[Any, ...]
TYPENAME = "__typename"

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode


@dataclass(frozen=True, slots=True)
class RootPlan:
    """The whole response of one subscription field: `{"data": {response_key: ...}}`."""

    response_key: str
    type_plan: TypePlan

    def encode(self, payload: dict[str, Any]) -> str:
        """The `payload` of a data frame, JSON-encoded: `{"data":{...}}`, plus `"errors"` when nulls bubbled."""
        errors: list[dict[str, Any]] = []
        try:
            value = _complete(self.type_plan, payload, [self.response_key], "Subscription", errors)
        except _NullBubble:
            if self.type_plan[0] == "N":
                return _encode({"data": None, "errors": errors})
            value = None
        if errors:
            return _encode({"data": {self.response_key: value}, "errors": errors})
        return _encode({"data": {self.response_key: value}})


class _NullBubble(Exception):
    """A non-null position got null: its nearest nullable ancestor becomes null."""


def _named(plan: TypePlan) -> str:
    while plan[0] in ("N", "L"):
        plan = plan[1]
    return plan[1]


def _path_text(path: list[str | int]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f"/{part}" for part in path)


def _null_error(plan: TypePlan, path: list[str | int], parent: str) -> dict[str, Any]:
    # graphql-java's wording, as AppSync sends it; errors carry only message and path.
    message = (
        f"Cannot return null for non-nullable type: '{_named(plan)}' "
        f"within parent '{parent}' ({_path_text(path)})"
    )
    return {"message": message, "path": list(path)}


def _complete(
    plan: TypePlan, value: Any, path: list[str | int], parent: str, errors: list[dict[str, Any]]
) -> Any:
    kind = plan[0]
    if kind == "N":
        inner = plan[1]
        if value is None:
            errors.append(_null_error(inner, path, parent))
            raise _NullBubble
        result = _complete(inner, value, path, parent, errors)
        if result is None:
            errors.append(_null_error(inner, path, parent))
            raise _NullBubble
        return result
    if value is None:
        return None
    if kind == "S":
        return value
    if kind == "O":
        if not isinstance(value, dict):
            return None
        type_name = plan[1]
        out: dict[str, Any] = {}
        for key, name, field_plan in plan[2]:
            if name == TYPENAME:
                out[key] = type_name
                continue
            child = value.get(name)
            if child is None and field_plan[0] != "N":
                out[key] = None
                continue
            path.append(key)
            try:
                out[key] = _complete(field_plan, child, path, type_name, errors)
            except _NullBubble:
                if field_plan[0] == "N":
                    raise
                out[key] = None
            finally:
                path.pop()
        return out
    # list
    if not isinstance(value, list):
        return None
    item_plan = plan[1]
    items: list[Any] = []
    for index, item in enumerate(value):
        path.append(index)
        try:
            items.append(_complete(item_plan, item, path, parent, errors))
        except _NullBubble:
            if item_plan[0] == "N":
                raise
            items.append(None)
        finally:
            path.pop()
    return items
