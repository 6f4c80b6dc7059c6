"""Runtime rules read from the schema's directive objects: subscription links and group rules."""

from __future__ import annotations

import strawberry
from strawberry.types.base import StrawberryObjectDefinition

from chatserver.schema.directives import AwsSubscribe, find_directive, group_rule


def _object_definition(schema: strawberry.Schema, type_name: str) -> StrawberryObjectDefinition:
    definition = schema.get_type_by_name(type_name)
    if not isinstance(definition, StrawberryObjectDefinition):
        raise LookupError(f"{type_name} is not an object type of the schema")
    return definition


def subscription_links(schema: strawberry.Schema) -> dict[str, tuple[str, ...]]:
    """Mutation field name -> the subscription field names whose `@aws_subscribe` lists it."""
    links: dict[str, list[str]] = {}
    subscription = _object_definition(schema, "Subscription")
    for field in subscription.fields:
        rule = find_directive(field.directives, AwsSubscribe)
        if rule is None:
            continue
        name = schema.config.name_converter.get_graphql_name(field)
        for mutation in rule.mutations:
            links.setdefault(mutation, []).append(name)
    return {mutation: tuple(fields) for mutation, fields in links.items()}


def field_group_rules(schema: strawberry.Schema, type_name: str, field_name: str) -> list[str] | None:
    """`cognito_groups` of the field's `@aws_cognito_user_pools`, or None when the field has no rule."""
    definition = _object_definition(schema, type_name)
    for field in definition.fields:
        if schema.config.name_converter.get_graphql_name(field) == field_name:
            return group_rule(field.directives)
    raise LookupError(f"{type_name}.{field_name} is not in the schema")
