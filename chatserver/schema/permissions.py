"""Field rules read from the very directive objects printed in SDL: auth modes (AppSync's rule) and groups.

Modes: a field with auth directives admits exactly the modes they name; a field without them takes its type's; a
type without them admits the default mode only. Groups: `@aws_cognito_user_pools(cognito_groups:)` admits only
members of those groups (for OIDC callers too, with the groups of CHATSERVER_OIDC_GROUPS_CLAIM).
"""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import DocumentNode, FieldNode, GraphQLObjectType, TypeInfo, TypeInfoVisitor, Visitor, visit
from graphql.type.definition import GraphQLResolveInfo
from strawberry.permission import BasePermission
from strawberry.types import Info
from strawberry.types.base import StrawberryObjectDefinition

from chatserver.errors import FieldUnauthorized
from chatserver.schema.directives import AwsCognitoUserPools, auth_modes_of, group_rule

Coordinate = tuple[str, str]  # (type name, field name)
MODES = ("USER_POOL", "API_KEY", "OPENID_CONNECT")


class CognitoGroups(BasePermission):
    """Allows the field only to members of the groups its `@aws_cognito_user_pools` directive names."""

    message = "Not Authorized"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        groups = group_rule(info._field.directives)
        if groups is None or info.context.identity.in_any_group(groups):
            return True
        raise FieldUnauthorized.for_field(info.field_name, info._raw_info.parent_type.name)


def group_mutation(groups: list[str], *, also: list[object] | None = None, **kwargs: Any) -> Any:
    """A mutation only members of `groups` may call: `@aws_cognito_user_pools(cognito_groups: groups)`,
    plus `also` (e.g. `@aws_oidc`, whose callers are held to the same groups)."""
    return strawberry.mutation(
        directives=[AwsCognitoUserPools(cognito_groups=groups), *(also or [])],
        permission_classes=[CognitoGroups],
        **kwargs,
    )


class AuthRules:
    """Which fields each auth mode may not use, worked out once from the schema's directives."""

    def __init__(self, schema: strawberry.Schema, default_mode: str) -> None:
        self.default_mode = default_mode
        self._denied: dict[str, frozenset[Coordinate]] = {}
        admitted = field_modes(schema, default_mode)
        for mode in MODES:
            self._denied[mode] = frozenset(c for c, modes in admitted.items() if mode not in modes)

    def denied(self, mode: str) -> frozenset[Coordinate]:
        return self._denied.get(mode, frozenset())

    def denied_fields(self, document: DocumentNode, schema: Any, mode: str) -> tuple[Coordinate, ...]:
        """The fields of `document` (a validated document of `schema`) that `mode` may not use, in order."""
        denied = self.denied(mode)
        if not denied:
            return ()
        found: dict[Coordinate, None] = {}
        type_info = TypeInfo(schema)

        class Collect(Visitor):
            def enter_field(self, node: FieldNode, *_: Any) -> None:
                parent = type_info.get_parent_type()
                if isinstance(parent, GraphQLObjectType) and (parent.name, node.name.value) in denied:
                    found[(parent.name, node.name.value)] = None

        visit(document, TypeInfoVisitor(type_info, Collect()))
        return tuple(found)


class ModeGuard:
    """graphql-core middleware: a denied field resolves to AppSync's `Unauthorized` error (null, request goes on)."""

    __slots__ = ("_denied",)

    def __init__(self, denied: tuple[Coordinate, ...] | frozenset[Coordinate]) -> None:
        self._denied = frozenset(denied)

    def resolve(self, next_: Any, root: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
        if (info.parent_type.name, info.field_name) in self._denied:
            raise FieldUnauthorized.for_field(info.field_name, info.parent_type.name)
        return next_(root, info, **args)


def field_modes(schema: strawberry.Schema, default_mode: str) -> dict[Coordinate, frozenset[str]]:
    """(type, field) -> the modes admitted, for every field of every object type of the schema."""
    result: dict[Coordinate, frozenset[str]] = {}
    name_of = schema.config.name_converter.get_graphql_name
    for type_name in schema._schema.type_map:
        if type_name.startswith("__"):
            continue
        definition = schema.get_type_by_name(type_name)
        if not isinstance(definition, StrawberryObjectDefinition) or definition.is_input:
            continue
        type_modes = auth_modes_of(definition.directives or ())
        for field in definition.fields:
            modes = auth_modes_of(field.directives or ()) or type_modes or frozenset({default_mode})
            result[(type_name, name_of(field))] = modes
    return result
