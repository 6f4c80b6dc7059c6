"""Variable coercion compiled once per operation: graphql-core's `get_variable_values`, minus its generic walk.

graphql-core coerces an operation's variables on every request by walking each variable's type: it rebuilds the
variable signatures from the AST, checks the nesting depth of every value, then coerces it recursively
(`Executor.build` with the list query's three variables: ~24 µs in a warm loop here, more under load).
`VariableCoercer` decides that walk once per operation: one converter per variable, compiled from its type
(~2.5 µs for the same variables). It gives exactly the `VariableValues` graphql-core would (same coerced values,
same sources, same order), calling each leaf type's own `coerce_input_value` (String, ID, Int and Boolean values
of their own Python type are taken as they are, as those functions would; enum names are remembered per type).

It never words an error: for anything that would not coerce (a missing non-null variable, a wrong type, an unknown
input field), anything nested deeper than a few dozen levels, and anything it does not mirror (one-of input
objects, iterables other than lists and tuples), `coerce` returns None and graphql-core coerces the variables
itself, errors included.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from enum import Enum
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLError,
    GraphQLID,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    VariableDefinitionNode,
)
from graphql.execution.get_variable_signature import GraphQLVariableSignature, get_variable_signature
from graphql.execution.values import VariableValues, VariableValueSource
from graphql.pyutils import Undefined, is_iterable
from graphql.type import GraphQLDefaultInput, is_required_input_field
from graphql.utilities.coerce_input_value import coerce_default_value, coerce_input_literal
from strawberry.schema.schema_converter import CustomGraphQLEnumType

MAX_DEPTH = 48  # deeper values (lists of lists, recursive inputs) are graphql-core's (its limit: 200)
MAX_INT = 2**31 - 1
MIN_INT = -(2**31)
IMMUTABLE = (str, int, float, bool, type(None), Enum)
# Enum types whose coerce_input_value gives the same object for a name every time (the value, or Strawberry's member)
MEMOIZED_ENUMS = (GraphQLEnumType, CustomGraphQLEnumType)

Convert = Callable[[Any, int], Any]  # (value, depth) -> coerced value; raises Decline


class Decline(Exception):
    """The value does not coerce, or is not mirrored: graphql-core coerces the variables (and words errors)."""


class Unsupported(Exception):
    """An operation whose variables this module does not compile."""


class VariableCoercer:
    """An operation's variable definitions compiled into converters; see the module docstring."""

    __slots__ = ("_variables",)

    def __init__(self, schema: GraphQLSchema, definitions: Collection[VariableDefinitionNode]) -> None:
        variables = []
        compiler = _TypeCompiler()
        for definition in definitions:
            signature = get_variable_signature(schema, definition)
            if isinstance(signature, GraphQLError):
                raise Unsupported(signature.message)
            literal = definition.default_value
            default: Any = Undefined
            if literal is not None:
                default = coerce_input_literal(literal, signature.type)
                if default is Undefined:
                    raise Unsupported(f"invalid default of ${signature.name}")
                if not isinstance(default, IMMUTABLE):
                    default = _Fresh(literal, signature.type)
            non_null = isinstance(signature.type, GraphQLNonNull)
            variables.append((signature.name, signature, compiler.compile(signature.type), non_null, default))
        self._variables = tuple(variables)

    def coerce(self, inputs: Mapping[str, Any] | None) -> VariableValues | None:
        """graphql-core's `get_variable_values(schema, definitions, inputs)`, or None: let it run instead."""
        if inputs is None:
            inputs = {}
        sources: dict[str, VariableValueSource] = {}
        coerced: dict[str, Any] = {}
        try:
            for name, signature, convert, non_null, default in self._variables:
                value = inputs.get(name, Undefined)
                if value is Undefined:
                    if default is not Undefined:
                        # graphql-core makes a fresh signature (and so a fresh memo of the default) per request
                        signature = _fresh_signature(signature)
                        sources[name] = VariableValueSource(signature)
                        coerced[name] = default.value() if isinstance(default, _Fresh) else default
                        continue
                    if non_null:
                        return None  # a missing non-null variable: graphql-core's error
                    sources[name] = VariableValueSource(signature)
                    continue
                sources[name] = VariableValueSource(signature, value)
                coerced[name] = convert(value, 0)
        except Decline:
            return None
        return VariableValues(sources, coerced)


class _Fresh:
    """A default made anew per request (graphql-core coerces a variable's default literal on every request)."""

    __slots__ = ("literal", "type")

    def __init__(self, literal: Any, type_: GraphQLInputType) -> None:
        self.literal = literal
        self.type = type_

    def value(self) -> Any:
        value = coerce_input_literal(self.literal, self.type)
        if value is Undefined:
            raise Decline
        return value


def _fresh_signature(signature: GraphQLVariableSignature) -> GraphQLVariableSignature:
    assert signature.default is not None
    return signature._replace(default=GraphQLDefaultInput(literal=signature.default.literal))


def compile_type(type_: GraphQLInputType) -> Convert:
    """A converter for values of `type_`: what graphql-core's `coerce_input_value` gives, or Decline where that
    gives Undefined (or where this module does not mirror it)."""
    return _TypeCompiler().compile(type_)


class _TypeCompiler:
    """Compiles converters, each input object type once (input types may refer to themselves)."""

    def __init__(self) -> None:
        self._objects: dict[str, Convert] = {}

    def compile(self, type_: GraphQLInputType) -> Convert:
        if isinstance(type_, GraphQLNonNull):
            inner = self._nullable(type_.of_type)

            def non_null(value: Any, depth: int) -> Any:
                if value is None or value is Undefined:
                    raise Decline
                return inner(value, depth)

            return non_null
        inner = self._nullable(type_)

        def nullable(value: Any, depth: int) -> Any:
            if value is None or value is Undefined:
                return None
            return inner(value, depth)

        return nullable

    def _nullable(self, type_: Any) -> Convert:
        """The converter of a nullable type's non-null values."""
        if isinstance(type_, GraphQLList):
            return self._list(type_)
        if isinstance(type_, GraphQLInputObjectType):
            return self._objects.get(type_.name) or self._input_object(type_)
        if isinstance(type_, GraphQLScalarType):
            return _compile_scalar(type_)
        if isinstance(type_, GraphQLEnumType):
            return _compile_enum(type_)
        raise Unsupported(f"input type {type_}")

    def _list(self, type_: GraphQLList[Any]) -> Convert:
        item = self.compile(type_.of_type)

        def convert(value: Any, depth: int) -> Any:
            if depth > MAX_DEPTH:
                raise Decline
            depth += 1
            kind = type(value)
            if kind is list or kind is tuple:
                return [item(v, depth) for v in value]
            if is_iterable(value):
                raise Decline  # other iterables are graphql-core's
            return [item(value, depth)]  # a non-list value is a list of one

        return convert

    def _input_object(self, type_: GraphQLInputObjectType) -> Convert:
        if type_.is_one_of:
            raise Unsupported(f"one-of input {type_.name}")
        out_type = type_.out_type
        custom_out_type = out_type is not GraphQLInputObjectType.out_type
        names = frozenset(type_.fields)
        fields: list[tuple[str, str, Convert, bool, Any]] = []

        def convert(value: Any, depth: int) -> Any:
            if depth > MAX_DEPTH or type(value) is not dict:
                raise Decline
            for key in value:
                if key not in names:
                    raise Decline  # an unknown field
            depth += 1
            out: dict[str, Any] = {}
            for name, out_name, coerce, required, default in fields:
                field_value = value.get(name, Undefined)
                if field_value is Undefined:
                    if required:
                        raise Decline
                    if default is not Undefined:
                        out[out_name] = default
                else:
                    out[out_name] = coerce(field_value, depth)
            return out_type(out) if custom_out_type else out

        self._objects[type_.name] = convert  # before its fields: they may refer back to it
        for name, field in type_.fields.items():
            required = is_required_input_field(field)
            default: Any = Undefined
            if not required:
                try:
                    default = coerce_default_value(field)  # memoized on the field: graphql-core's own object
                except TypeError as error:
                    raise Unsupported(f"default of {type_.name}.{name}") from error
            fields.append((name, field.out_name or name, self.compile(field.type), required, default))
        return convert


def _coerced(coerce: Callable[[Any], Any], value: Any) -> Any:
    """A leaf type's own coercion of `value`; Decline where graphql-core would report an error."""
    try:
        result = coerce(value)
    except Exception as error:
        raise Decline from error
    if result is Undefined:
        raise Decline
    return result


def _compile_scalar(type_: GraphQLScalarType) -> Convert:
    coerce = type_.coerce_input_value

    def leaf(value: Any, depth: int) -> Any:
        return _coerced(coerce, value)

    # The built-in scalars return values of their own type unchanged (graphql/type/scalars.py).
    if type_ is GraphQLString or type_ is GraphQLID:
        return lambda value, depth: value if type(value) is str else leaf(value, depth)
    if type_ is GraphQLBoolean:
        return lambda value, depth: value if type(value) is bool else leaf(value, depth)
    if type_ is GraphQLInt:
        return lambda value, depth: (
            value if type(value) is int and MIN_INT <= value <= MAX_INT else leaf(value, depth)
        )
    return leaf


def _compile_enum(type_: GraphQLEnumType) -> Convert:
    coerce = type_.coerce_input_value
    memo: dict[str, Any] = {} if type(type_) in MEMOIZED_ENUMS else None  # type: ignore[assignment]

    def enum(value: Any, depth: int) -> Any:
        if memo is not None and type(value) is str:
            known = memo.get(value, Undefined)
            if known is not Undefined:
                return known
        result = _coerced(coerce, value)
        if memo is not None and type(value) is str:
            memo[value] = result
        return result

    return enum
