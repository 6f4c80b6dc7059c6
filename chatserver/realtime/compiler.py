"""Compile a validated subscription document once, at start, into its filter and its projection plan."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLIncludeDirective,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
)
from graphql.execution.values import get_argument_values, get_directive_values, get_variable_values
from graphql.language import DocumentNode
from graphql.utilities import get_operation_ast

from chatserver.realtime.filter_groups import FilterGroups, FilterRefused, compile_filter
from chatserver.realtime.filters import Filter, freeze
from chatserver.realtime.projection import TYPENAME, RootPlan, TypePlan


class SubscriptionRejected(Exception):
    """The document cannot become a subscription. `kind` says which AppSync errorType applies."""

    UNSUPPORTED = "UnsupportedOperation"
    INVALID = "ValidationError"
    BAD_FILTER = "BadRequestException"  # the `filter` argument breaks an AppSync limit

    def __init__(self, kind: str, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.errors = errors or [{"message": message}]


FILTER_ARGUMENT = "filter"


@dataclass(frozen=True, slots=True)
class CompiledSubscription:
    """What the hub needs: the subscription field, the argument filter, the projection plan, and the
    compiled `filter` argument (None without one). Arguments and `filter` combine with AND."""

    field_name: str
    filter: Filter
    plan: RootPlan
    rules: FilterGroups | None = None


def operation_type(document: DocumentNode, operation_name: str | None) -> str:
    """`query`, `mutation`, `subscription`, or `unknown` when no single operation is selected."""
    operation = get_operation_ast(document, operation_name)
    return operation.operation.value if operation is not None else "unknown"


def compile_subscription(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None,
    operation_name: str | None = None,
) -> CompiledSubscription:
    """`document` must already be validated against `schema`. Raises SubscriptionRejected."""
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation is not OperationType.SUBSCRIPTION:
        kind = operation.operation.value if operation is not None else "unknown"
        raise SubscriptionRejected(
            SubscriptionRejected.UNSUPPORTED, f"{kind} not supported through the realtime channel"
        )
    root = schema.subscription_type
    if root is None:
        raise SubscriptionRejected(SubscriptionRejected.UNSUPPORTED, "subscriptions not supported")
    coerced = get_variable_values(schema, operation.variable_definitions or (), dict(variables or {}))
    if isinstance(coerced, list):
        raise SubscriptionRejected(
            SubscriptionRejected.INVALID, coerced[0].message, [_error(e) for e in coerced]
        )
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    collector = _Collector(schema, fragments, coerced)
    fields = collector.collect(root, [operation.selection_set])
    if len(fields) != 1:
        raise SubscriptionRejected(
            SubscriptionRejected.INVALID, "A subscription must select exactly one top level field."
        )
    ((response_key, nodes),) = fields.items()
    field_name = nodes[0].name.value
    field_def = root.fields.get(field_name)
    if field_def is None:
        raise SubscriptionRejected(
            SubscriptionRejected.INVALID,
            f"Field '{field_name}' in type '{root.name}' is undefined",
        )
    try:
        arguments = get_argument_values(field_def, nodes[0], coerced)
    except GraphQLError as error:
        raise SubscriptionRejected(SubscriptionRejected.INVALID, error.message) from None
    rules = None
    if _is_filter_argument(field_def.args.get(FILTER_ARGUMENT)):
        try:
            rules = compile_filter(arguments.pop(FILTER_ARGUMENT, None))
        except FilterRefused as refused:
            raise SubscriptionRejected(SubscriptionRejected.BAD_FILTER, str(refused)) from None
    filter_items = tuple(
        sorted(
            (name, freeze(_serialize(field_def.args[name].type, value))) for name, value in arguments.items()
        )
    )
    plan = RootPlan(response_key, collector.type_plan(field_def.type, nodes))
    return CompiledSubscription(field_name, Filter(filter_items), plan, rules)


def _is_filter_argument(argument: Any) -> bool:
    """Amplify's `filter: ModelSubscription<Type>FilterInput`: an input object, not an equality argument."""
    if argument is None:
        return False
    type_ = argument.type.of_type if isinstance(argument.type, GraphQLNonNull) else argument.type
    return isinstance(type_, GraphQLInputObjectType)


def _error(error: GraphQLError) -> dict[str, Any]:
    return {"message": error.message}


def _serialize(type_: Any, value: Any) -> Any:
    """An argument value in the form a response carries it, so it compares with the payload's field."""
    if value is None:
        return None
    if isinstance(type_, GraphQLNonNull):
        return _serialize(type_.of_type, value)
    if isinstance(type_, GraphQLList):
        return [_serialize(type_.of_type, item) for item in value]
    if isinstance(type_, GraphQLScalarType | GraphQLEnumType):
        try:
            return type_.serialize(value)
        except Exception:
            return value
    return value


class _Collector:
    """Field collection as GraphQL execution does it: fragments inlined, @skip/@include applied, merged."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def collect(
        self, type_: GraphQLObjectType, selection_sets: list[SelectionSetNode]
    ) -> dict[str, list[FieldNode]]:
        fields: dict[str, list[FieldNode]] = {}
        for selection_set in selection_sets:
            self._collect_into(type_, selection_set, fields, set())
        return fields

    def _collect_into(
        self,
        type_: GraphQLObjectType,
        selection_set: SelectionSetNode,
        fields: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                fields.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                if self._applies(selection.type_condition, type_):
                    self._collect_into(type_, selection.selection_set, fields, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if name in visited or fragment is None:
                    continue
                visited.add(name)
                if self._applies(fragment.type_condition, type_):
                    self._collect_into(type_, fragment.selection_set, fields, visited)

    def _included(self, node: Any) -> bool:
        skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
        if skip and skip.get("if") is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        return not (include and include.get("if") is False)

    def _applies(self, condition: Any, type_: GraphQLObjectType) -> bool:
        if condition is None:
            return True
        conditional = self.schema.get_type(condition.name.value)
        if conditional is type_:
            return True
        return conditional is not None and self.schema.is_sub_type(conditional, type_)  # type: ignore[arg-type]

    def type_plan(self, type_: Any, nodes: list[FieldNode]) -> TypePlan:
        if isinstance(type_, GraphQLNonNull):
            return ("N", self.type_plan(type_.of_type, nodes))
        if isinstance(type_, GraphQLList):
            return ("L", self.type_plan(type_.of_type, nodes))
        named = get_named_type(type_)
        if not isinstance(named, GraphQLObjectType):
            if isinstance(named, GraphQLScalarType | GraphQLEnumType):
                return ("S", named.name)
            # Interfaces and unions: the payload carries no runtime type here; project leaves only.
            return ("S", named.name)
        sub_sets = [node.selection_set for node in nodes if node.selection_set is not None]
        collected = self.collect(named, sub_sets)
        entries: list[tuple[str, str, TypePlan]] = []
        for key, field_nodes in collected.items():
            name = field_nodes[0].name.value
            if name == TYPENAME:
                entries.append((key, TYPENAME, ("N", ("S", "String"))))
                continue
            field_def = named.fields.get(name)
            if field_def is None:
                continue
            entries.append((key, name, self.type_plan(field_def.type, field_nodes)))
        return ("O", named.name, tuple(entries))
