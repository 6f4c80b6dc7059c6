"""Document limits checked once per distinct document: depth (fragments expanded) and aliases."""

from __future__ import annotations

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from chatserver.errors import QueryComplexityLimitReached, QueryDepthLimitReached


def check_limits(document: DocumentNode, *, max_depth: int, max_aliases: int) -> None:
    """Raise QueryDepthLimitReached / QueryComplexityLimitReached for documents over the limits."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    aliases = 0
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
            aliases += _count_aliases(definition.selection_set)
    if aliases > max_aliases:
        raise QueryComplexityLimitReached(
            f"The query has {aliases} aliases; at most {max_aliases} are allowed."
        )
    memo: dict[str, int] = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            depth = _depth(definition.selection_set, fragments, memo, set())
            if depth > max_depth:
                raise QueryDepthLimitReached(
                    f"The query has depth {depth}, which exceeds the maximum depth of {max_depth}."
                )


def _count_aliases(selection_set: SelectionSetNode | None) -> int:
    if selection_set is None:
        return 0
    count = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode) and selection.alias is not None:
            count += 1
        if isinstance(selection, FieldNode | InlineFragmentNode):
            count += _count_aliases(selection.selection_set)
    return count


def _depth(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    memo: dict[str, int],
    visiting: set[str],
) -> int:
    if selection_set is None:
        return 0
    deepest = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            deepest = max(deepest, 1 + _depth(selection.selection_set, fragments, memo, visiting))
        elif isinstance(selection, InlineFragmentNode):
            deepest = max(deepest, _depth(selection.selection_set, fragments, memo, visiting))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in memo:
                deepest = max(deepest, memo[name])
                continue
            fragment = fragments.get(name)
            if fragment is None or name in visiting:
                continue  # unknown or cyclic fragments are reported by validation
            visiting.add(name)
            memo[name] = _depth(fragment.selection_set, fragments, memo, visiting)
            visiting.discard(name)
            deepest = max(deepest, memo[name])
    return deepest
