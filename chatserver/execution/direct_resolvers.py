"""Resolver fields called as Strawberry calls them, with their arguments converted by code compiled once.

Strawberry's resolver wrapper converts graphql-core's argument values into the resolver's Python types on every
call (input dataclasses, Optional, lists) by walking the type annotations: about 70 µs for `createMessage`'s
`MessageInput` on one core here, more than the rest of the wrapper and the resolver's own work before its
insert. A plan calls `direct_resolver(field)` instead: the same conversion (Strawberry's `convert_argument` rules)
decided per type at compile time, the same `Info`, the same positional `self` and keyword `info`/`root`/`parent`,
and then the resolver function itself. Fields it does not mirror exactly (field extensions, which include
permission classes; exception handlers; `Maybe`, `from_input`, lazy or GlobalID types) get None, and the plan
calls Strawberry's wrapper as before.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from graphql import GraphQLResolveInfo, GraphQLSchema
from strawberry.relay.types import GlobalID
from strawberry.types.arguments import _is_leaf_type
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryOptional,
    has_object_definition,
)
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.field import StrawberryField
from strawberry.types.lazy_type import LazyType
from strawberry.types.unset import UNSET

Converter = Callable[[Any], Any]
DirectResolver = Callable[[Any, GraphQLResolveInfo, Mapping[str, Any]], Any]


class NotMirrored(Exception):
    """Strawberry does something here that the compiled call does not: use Strawberry's wrapper."""


def direct_resolver(schema: GraphQLSchema, field: StrawberryField) -> DirectResolver | None:
    """A call of `field`'s resolver equal to Strawberry's, or None when Strawberry's wrapper must make it."""
    strawberry_schema = getattr(schema, "_strawberry_schema", None)
    resolver = field.base_resolver
    if strawberry_schema is None or resolver is None or field.extensions:
        return None
    converter = strawberry_schema.schema_converter
    if converter._get_field_exception_handlers(field):
        return None
    config = converter.config
    try:
        arguments = [
            (
                config.name_converter.from_argument(argument),
                argument.python_name,
                _converter(argument.type, converter),
            )
            for argument in field.arguments
        ]
    except NotMirrored:
        return None
    function = resolver.wrapped_func
    passes_self = resolver.self_parameter is not None
    source_names = [p.name for p in (resolver.parent_parameter, resolver.root_parameter) if p is not None]
    info_name = resolver.info_parameter.name if resolver.info_parameter is not None else None
    info_class = config.info_class

    def call(source: Any, info: GraphQLResolveInfo, values: Mapping[str, Any]) -> Any:
        kwargs = {python: convert(values[name]) for name, python, convert in arguments if name in values}
        for name in source_names:
            kwargs[name] = source
        if info_name is not None:
            kwargs[info_name] = info_class(_raw_info=info, _field=field)
        return function(source, **kwargs) if passes_self else function(**kwargs)

    return call


def _converter(type_: Any, schema_converter: Any) -> Converter:
    """Strawberry's `convert_argument` for one type, decided now: the returned function does only the work."""
    registry = schema_converter.scalar_registry
    if isinstance(type_, StrawberryMaybe | LazyType):  # Maybe before Optional: it is one
        raise NotMirrored(type_)
    if isinstance(type_, StrawberryOptional):
        return _converter(type_.of_type, schema_converter)  # None and UNSET pass through every converter
    if isinstance(type_, StrawberryList):
        item_type = type_.of_type
        if _is_leaf_type(item_type, registry) or (
            isinstance(item_type, StrawberryOptional) and _is_leaf_type(item_type.of_type, registry)
        ):
            return _passing(list)  # copied: graphql-core shares defaults between requests
        item = _converter(item_type, schema_converter)
        return _passing(lambda values: [item(value) for value in values])
    if type_ is GlobalID:
        raise NotMirrored(type_)
    if _is_leaf_type(type_, registry):
        return _identity
    if has_enum_definition(type_) or isinstance(type_, StrawberryEnumDefinition):
        definition = type_ if isinstance(type_, StrawberryEnumDefinition) else type_.__strawberry_definition__
        if not _is_leaf_type(definition, registry):
            raise NotMirrored(type_)
        return _identity
    if has_object_definition(type_):
        return _input_converter(type_, schema_converter)
    raise NotMirrored(type_)


def _input_converter(cls: Any, schema_converter: Any) -> Converter:
    definition = cls.__strawberry_definition__
    if definition.from_input is not None:
        raise NotMirrored(cls)
    name_converter = schema_converter.config.name_converter
    # Strawberry gives input fields without a default an implicit None (graphql-core has checked required ones).
    implicit = (
        {
            f.python_name: None
            for f in definition.fields
            if f.default_value is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        }
        if definition.is_input
        else {}
    )
    fields = [
        (
            name_converter.from_field(f),
            f.python_name,
            _converter(f.resolve_type(type_definition=definition), schema_converter),
        )
        for f in definition.fields
    ]

    def convert(value: Any) -> Any:
        kwargs = dict(implicit)
        for name, python, field_converter in fields:
            if name in value:
                kwargs[python] = field_converter(value[name])
        return cls(**kwargs)

    return _passing(convert)


def _identity(value: Any) -> Any:
    return value


def _passing(convert: Converter) -> Converter:
    """`convert`, except for None and UNSET, which Strawberry returns as they are."""

    def converter(value: Any) -> Any:
        if value is None or value is UNSET:
            return value
        return convert(value)

    return converter
