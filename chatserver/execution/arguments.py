"""A planned field's argument values compiled once: graphql-core's `get_argument_values`, minus its generic walk.

For each argument of the field's definition (in its order, under its out name), `get_argument_values` gives: for an
absent argument, its default (none: the argument is left out); for a variable, the variable's coerced value, or,
when the variable has no value and the argument is not required, the argument's default (none: left out); for any
other literal, the literal coerced with the variables. `CompiledArguments` decides which of these applies once per
field node. Defaults are graphql-core's own memoized objects; a literal without variables of a built-in scalar or
enum type is coerced once. Where graphql-core would raise (a required argument without a value, a null for a
non-null type, a literal that does not coerce), `values` returns None and the caller asks `get_argument_values`,
which words the error.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLNonNull,
    ValueNode,
    VariableNode,
    get_named_type,
    specified_scalar_types,
)
from graphql.execution.values import VariableValues
from graphql.language import ListValueNode, ObjectValueNode
from graphql.pyutils import Undefined
from graphql.type import is_required_argument
from graphql.utilities.coerce_input_value import coerce_default_value, coerce_input_literal

CONSTANT = 0  # the value computed at compile time
VARIABLE = 1  # the variable's coerced value (when it has none: the default, or left out)
LITERAL = 2  # coerce_input_literal with the variables, per call
IMMUTABLE = (str, int, float, bool, type(None), Enum)


class NotCompiled(Exception):
    """Arguments `get_argument_values` must coerce on every call (it raises for them, or may)."""


class CompiledArguments:
    """One field node's argument values; see the module docstring."""

    __slots__ = ("_arguments",)

    def __init__(self, field_def: GraphQLField, node: FieldNode) -> None:
        arguments: list[tuple[int, str, Any, Any, bool, bool]] = []
        nodes = {argument.name.value: argument for argument in node.arguments or ()}
        for name, arg_def in field_def.args.items():
            out_name = arg_def.out_name or name
            argument = nodes.get(name)
            required = is_required_argument(arg_def)
            if argument is None and required:
                raise NotCompiled(f"required argument {name} not given")
            if argument is None or isinstance(argument.value, VariableNode):
                try:
                    default = Undefined if required else coerce_default_value(arg_def)  # memoized on arg_def
                except TypeError as error:
                    raise NotCompiled(f"default of {name}") from error
                if argument is None:
                    if default is not Undefined:
                        arguments.append((CONSTANT, out_name, default, None, False, False))
                    continue
                non_null = isinstance(arg_def.type, GraphQLNonNull)
                variable = argument.value.name.value
                arguments.append((VARIABLE, out_name, variable, default, required, non_null))
                continue
            value_node = argument.value
            if _constant(value_node, arg_def.type):
                value = coerce_input_literal(value_node, arg_def.type)
                if value is not Undefined and isinstance(value, IMMUTABLE):
                    arguments.append((CONSTANT, out_name, value, None, False, False))
                    continue
            arguments.append((LITERAL, out_name, value_node, arg_def.type, False, False))
        self._arguments = tuple(arguments)

    def values(self, variable_values: VariableValues) -> dict[str, Any] | None:
        """`get_argument_values(field_def, node, variable_values)`, or None where that raises."""
        coerced = variable_values.coerced
        out: dict[str, Any] = {}
        # `extra`: the argument's default for a VARIABLE, its type for a LITERAL
        for kind, out_name, value, extra, required, non_null in self._arguments:
            if kind is CONSTANT:
                out[out_name] = value
            elif kind is VARIABLE:
                if value not in coerced:  # an omitted variable without a default
                    if required:
                        return None
                    if extra is not Undefined:
                        out[out_name] = extra
                    continue
                found = coerced[value]
                if found is Undefined or (found is None and non_null):
                    return None
                out[out_name] = found
            else:
                found = coerce_input_literal(value, extra, variable_values)
                if found is Undefined:
                    return None
                out[out_name] = found
        return out


def compile_arguments(field_def: GraphQLField, node: FieldNode) -> CompiledArguments | None:
    """The field node's compiled arguments, or None: `get_argument_values` on every call."""
    try:
        return CompiledArguments(field_def, node)
    except NotCompiled:
        return None


def _constant(value_node: ValueNode, type_: Any) -> bool:
    """A literal without variables of a built-in scalar or an enum type: it coerces the same on every call."""
    named = get_named_type(type_)
    if not (isinstance(named, GraphQLEnumType) or named in specified_scalar_types):
        return False
    stack = [value_node]
    while stack:
        node = stack.pop()
        if isinstance(node, VariableNode):
            return False
        if isinstance(node, ListValueNode):
            stack.extend(node.values)
        elif isinstance(node, ObjectValueNode):
            stack.extend(field.value for field in node.fields)
    return True
