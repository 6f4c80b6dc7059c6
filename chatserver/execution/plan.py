"""Compiled query plans: a validated operation turned once into field resolvers and result writers.

The idea of graphql-jit: everything graphql-core works out per field and per list item (which fields a selection
set collects, which resolver a field has, how a leaf is serialized, whether a type is nullable) is known once the
document is validated, so the plan decides it at compile time and the per-request work is a walk over the
resolved objects. Basic Strawberry fields (no resolver, no extensions, no directives) are read with `getattr`
straight from the objects, as Strawberry's own basic-field resolver does; any other field calls the very resolver
graphql-core would call, with a `GraphQLResolveInfo` built by graphql-core's own executor.

Anything a plan does not mirror exactly is refused with `Unsupported` when compiling (the caller then runs the
operation on graphql-core), and anything unusual at run time (an exception, a null where the type forbids it, a
leaf that does not serialize) raises `Fallback`. Plans never produce errors: errors are graphql-core's job.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from chatserver.execution.arguments import compile_arguments
from chatserver.execution.completers import (
    ATTRIBUTE,
    RESOLVER,
    STRING,
    TYPENAME,
    Completer,
    FieldPlan,
    LeafCompleter,
    ListCompleter,
    NonNullCompleter,
    ObjectCompleter,
    compile_writer,
)
from chatserver.execution.direct_resolvers import direct_resolver

CONDITION_DIRECTIVES = frozenset({"include", "skip"})
# Schema directives a planned field or type may carry. The auth ones admit modes (SPEC section 13, AppSync's rule):
# a field's own auth directives, else its type's; without either, the server's default mode only.
AUTH_DIRECTIVE_MODES = {
    "aws_api_key": "API_KEY",
    "aws_cognito_user_pools": "USER_POOL",
    "aws_oidc": "OPENID_CONNECT",
}
EVERY_MODE = frozenset(AUTH_DIRECTIVE_MODES.values())
PLANNED_SCHEMA_DIRECTIVES = frozenset({*AUTH_DIRECTIVE_MODES, "aws_subscribe"})
DEFINITION_BACKREF = "strawberry-definition"  # strawberry's GraphQLCoreConverter.DEFINITION_BACKREF

Conditions = Mapping[int, bool]  # id(node with @include/@skip) -> whether it is included


class Unsupported(Exception):
    """The operation uses something the plan does not mirror: run it on graphql-core."""


# --- compiling -----------------------------------------------------------------------------------------------


def condition_nodes(
    operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> list[FieldNode | InlineFragmentNode | FragmentSpreadNode]:
    """Every selection of the operation (fragments included) that carries `@include` or `@skip`."""
    found: dict[int, FieldNode | InlineFragmentNode | FragmentSpreadNode] = {}
    seen_fragments: set[str] = set()

    def visit(selection_set: SelectionSetNode | None) -> None:
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if any(d.name.value in CONDITION_DIRECTIVES for d in selection.directives or ()):
                found.setdefault(id(selection), selection)  # type: ignore[arg-type]
            if isinstance(selection, FieldNode | InlineFragmentNode):
                visit(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is not None and name not in seen_fragments:
                    seen_fragments.add(name)
                    visit(fragment.selection_set)

    visit(operation.selection_set)
    return list(found.values())


class PlanCompiler:
    """Compiles one operation, for one set of `@include`/`@skip` outcomes, into the root `ObjectCompleter`."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        conditions: Conditions,
    ) -> None:
        self._schema = schema
        self._fragments = fragments
        self._conditions = conditions

    def compile(self, operation: OperationDefinitionNode) -> ObjectCompleter:
        if operation.operation == OperationType.QUERY:
            root = self._schema.query_type
        elif operation.operation == OperationType.MUTATION:
            root = self._schema.mutation_type
        else:
            raise Unsupported("subscriptions are the real-time engine's")
        if operation.directives:
            raise Unsupported("operation directives")
        for fragment in self._fragments.values():
            if fragment.variable_definitions:
                raise Unsupported("fragment variables")
        if root is None:
            raise Unsupported(f"no {operation.operation.value} type")
        self._default_mode_only = False
        self._modes = EVERY_MODE
        plan = self._object(root, [operation.selection_set])
        if operation.operation == OperationType.MUTATION and len(plan.fields) != 1:
            # graphql-core runs several root mutations one after another; a plan settles its resolvers together
            raise Unsupported("a mutation operation with several root fields")
        plan.default_mode_only = self._default_mode_only
        plan.modes = self._modes
        return plan

    def _object(
        self, object_type: GraphQLObjectType, selection_sets: list[SelectionSetNode]
    ) -> ObjectCompleter:
        if object_type.is_type_of is not None:
            raise Unsupported(f"{object_type.name} has is_type_of")
        definition = object_type.extensions.get(DEFINITION_BACKREF)
        if not isinstance(definition, StrawberryObjectDefinition):
            raise Unsupported(f"{object_type.name} is not a Strawberry type")
        type_modes = _auth_modes(definition.directives or ())
        completer = ObjectCompleter(object_type)
        grouped: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()
        for selection_set in selection_sets:
            self._collect(object_type, selection_set, grouped, visited)
        for key, nodes in grouped.items():
            completer.fields.append(self._field(object_type, type_modes, key, nodes))
        completer.needs_path = any(f.kind is RESOLVER or f.needs_path for f in completer.fields)
        compile_writer(completer)
        return completer

    def _included(self, node: FieldNode | InlineFragmentNode | FragmentSpreadNode) -> bool:
        for directive in node.directives or ():
            if directive.name.value not in CONDITION_DIRECTIVES:
                raise Unsupported(f"directive @{directive.name.value}")
        if not node.directives:
            return True
        return self._conditions[id(node)]

    def _collect(
        self,
        object_type: GraphQLObjectType,
        selection_set: SelectionSetNode,
        grouped: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        """graphql-core's `collect_fields` for an object type and no `@defer`: same keys, same order."""
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if self._included(selection):
                    key = selection.alias.value if selection.alias else selection.name.value
                    grouped.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                if self._included(selection) and self._matches(selection.type_condition, object_type):
                    self._collect(object_type, selection.selection_set, grouped, visited)
            elif isinstance(selection, FragmentSpreadNode):
                if selection.arguments:  # type: ignore[attr-defined]
                    raise Unsupported("fragment arguments")
                name = selection.name.value
                if not self._included(selection):
                    continue
                fragment = self._fragments.get(name)
                if fragment is None or not self._matches(fragment.type_condition, object_type):
                    continue
                if name in visited:
                    continue
                visited.add(name)
                self._collect(object_type, fragment.selection_set, grouped, visited)
            else:
                raise Unsupported("unknown selection")

    def _matches(self, type_condition: Any, object_type: GraphQLObjectType) -> bool:
        if type_condition is None:
            return True
        if type_condition.name.value == object_type.name:
            return True
        raise Unsupported("fragment on another (abstract) type")

    def _field(
        self, parent: GraphQLObjectType, type_modes: frozenset[str] | None, key: str, nodes: list[FieldNode]
    ) -> FieldPlan:
        name = nodes[0].name.value
        if name == "__typename":
            return FieldPlan(key=key, kind=TYPENAME, completer=Completer())
        if name.startswith("__"):
            raise Unsupported("introspection")
        field_def = parent.fields.get(name)
        if field_def is None:
            raise Unsupported(f"unknown field {parent.name}.{name}")
        strawberry_field = field_def.extensions.get(DEFINITION_BACKREF)
        if not isinstance(strawberry_field, StrawberryField):
            raise Unsupported(f"{parent.name}.{name} is not a Strawberry field")
        modes = _auth_modes(strawberry_field.directives or ()) or type_modes
        if modes is None:
            self._default_mode_only = True
        else:
            self._modes &= modes  # e.g. mutations: signed-in users, not API keys
        sub_selections = [n.selection_set for n in nodes if n.selection_set is not None]
        completer = self._completer(field_def.type, sub_selections)
        is_basic = (
            strawberry_field.is_basic_field
            and not strawberry_field.permission_classes
            and getattr(field_def.resolve, "_is_default", False)
            and strawberry_field.default_resolver is getattr
            and not nodes[0].arguments
        )
        if is_basic:
            leaf = completer.inner if isinstance(completer, NonNullCompleter) else completer
            return FieldPlan(
                key=key,
                kind=STRING if isinstance(leaf, LeafCompleter) and leaf.str_identity else ATTRIBUTE,
                completer=completer,
                attribute=strawberry_field.python_name,
                needs_path=completer.needs_path,
            )
        if field_def.resolve is None:
            raise Unsupported(f"{parent.name}.{name} has no resolver")
        return FieldPlan(
            key=key,
            kind=RESOLVER,
            completer=completer,
            field_def=field_def,
            nodes=nodes,
            parent_type=parent,
            needs_path=True,
            has_arguments=bool(field_def.args or nodes[0].arguments),
            direct=direct_resolver(self._schema, strawberry_field),
            arguments=compile_arguments(field_def, nodes[0]),
        )

    def _completer(self, type_: GraphQLOutputType, selection_sets: list[SelectionSetNode]) -> Completer:
        if isinstance(type_, GraphQLNonNull):
            return NonNullCompleter(self._completer(type_.of_type, selection_sets))
        if isinstance(type_, GraphQLList):
            return ListCompleter(self._completer(type_.of_type, selection_sets))
        if isinstance(type_, GraphQLScalarType | GraphQLEnumType):
            return LeafCompleter(type_)
        if isinstance(type_, GraphQLObjectType):
            return self._object(type_, selection_sets)
        raise Unsupported(f"abstract type {type_}")


def _auth_modes(directives: Iterable[object]) -> frozenset[str] | None:
    """The auth modes schema directives admit (None: they name none). Unknown directives and group rules
    (`@aws_cognito_user_pools(cognito_groups: [...])`) are graphql-core's and the permission classes' to apply."""
    modes: set[str] = set()
    for directive in directives:
        definition = getattr(type(directive), "__strawberry_directive__", None)
        name = getattr(definition, "graphql_name", None)
        if name not in PLANNED_SCHEMA_DIRECTIVES:
            raise Unsupported(f"schema directive {name or directive!r}")
        if isinstance(getattr(directive, "cognito_groups", None), list):
            raise Unsupported("group rule")
        if name in AUTH_DIRECTIVE_MODES:
            modes.add(AUTH_DIRECTIVE_MODES[name])
    return frozenset(modes) or None
