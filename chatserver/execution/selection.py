"""A result as the client selected it, re-keyed by field names: what `@aws_subscribe` publishes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
)

Fragments = dict[str, FragmentDefinitionNode]


def iter_fields(selection_set: SelectionSetNode, fragments: Fragments) -> Iterator[FieldNode]:
    """The fields of a selection set with fragments expanded, in document order."""
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from iter_fields(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                yield from iter_fields(fragment.selection_set, fragments)


def dealias(value: Any, selection_set: SelectionSetNode | None, fragments: Fragments) -> Any:
    """`value` (keyed by response keys) re-keyed by field names; repeated fields merge."""
    if value is None or selection_set is None:
        return value
    if isinstance(value, list):
        return [dealias(item, selection_set, fragments) for item in value]
    out: dict[str, Any] = {}
    for field in iter_fields(selection_set, fragments):
        key = field.alias.value if field.alias else field.name.value
        if key not in value:
            continue  # skipped by @skip / @include
        item = dealias(value[key], field.selection_set, fragments)
        name = field.name.value
        previous = out.get(name)
        out[name] = _merge(previous, item) if previous is not None else item
    return out


def _merge(left: Any, right: Any) -> Any:
    if isinstance(left, dict) and isinstance(right, dict):
        merged = dict(left)
        for key, value in right.items():
            merged[key] = _merge(merged[key], value) if merged.get(key) is not None else value
        return merged
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        return [_merge(a, b) for a, b in zip(left, right, strict=True)]
    return right
