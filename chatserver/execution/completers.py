"""Result writers of compiled plans: each turns resolved values into response values as graphql-core would.

An `ObjectCompleter` holds one `FieldPlan` per response key and, once its fields are known, a writer generated as
straight-line Python (`compile_writer`: the idea of graphql-jit): one attribute read per basic field, one dict
literal per object, no per-field dispatch. Any value that needs error handling raises `Fallback`.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import FieldNode, GraphQLEnumType, GraphQLField, GraphQLObjectType, GraphQLScalarType
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, Undefined
from graphql.type.scalars import serialize_id, serialize_string

from chatserver.execution.arguments import CompiledArguments

# Output coercions that return a `str` value unchanged: String, ID and scalars declared with `serialize=str`.
STR_IDENTITY_COERCIONS: frozenset[Callable[[Any], Any]] = frozenset({serialize_string, serialize_id, str})


class Fallback(Exception):
    """Something at run time the plan does not handle (an error, a null in a non-null place)."""


class Run:
    """One request's state while a plan writes its result: resolver calls still to be awaited."""

    __slots__ = ("executor", "outcomes", "pending")

    def __init__(self, executor: Any, *, mutation: bool = False) -> None:
        self.executor = executor  # graphql-core's Executor, built (variables coerced) for this request
        self.pending: list[tuple[Any, Completer, dict[str, Any], str, Path | None]] = []
        # A mutation's root resolver runs once: what it gave (or raised), by response key, so that graphql-core
        # can answer from it instead of running the mutation again if the plan cannot finish.
        self.outcomes: dict[str, RootOutcome] | None = {} if mutation else None

    def note_outcome(self, path: Path | None, outcome: RootOutcome) -> None:
        if self.outcomes is not None and path is not None and path.prev is None:
            self.outcomes[str(path.key)] = outcome


@dataclass(frozen=True, slots=True)
class RootOutcome:
    """What a root resolver returned or raised, and whether it answered with an awaitable."""

    value: Any
    raised: bool
    awaitable: bool


class Completer:
    """Turns a resolved value into its response value, as graphql-core's `complete_value` would."""

    needs_path = False

    def complete(self, run: Run, value: Any, path: Path | None) -> Any:
        raise NotImplementedError


class NonNullCompleter(Completer):
    def __init__(self, inner: Completer) -> None:
        self.inner = inner
        self.needs_path = inner.needs_path

    def complete(self, run: Run, value: Any, path: Path | None) -> Any:
        if value is None:
            raise Fallback  # graphql-core reports the error and nulls the nearest nullable parent
        return self.inner.complete(run, value, path)


class LeafCompleter(Completer):
    def __init__(self, leaf: GraphQLScalarType | GraphQLEnumType) -> None:
        self.coerce = leaf.coerce_output_value
        self.str_identity = self.coerce in STR_IDENTITY_COERCIONS

    def complete(self, run: Run, value: Any, path: Path | None) -> Any:
        if value is None:
            return None
        if self.str_identity and type(value) is str:
            return value
        coerced = self.coerce(value)  # raises for values the scalar refuses: Fallback via the caller
        if coerced is None or coerced is Undefined:
            raise Fallback
        return coerced


class ListCompleter(Completer):
    def __init__(self, item: Completer) -> None:
        self.item = item
        self.needs_path = item.needs_path

    def complete(self, run: Run, value: Any, path: Path | None) -> Any:
        if value is None:
            return None
        if type(value) is not list and type(value) is not tuple:
            raise Fallback  # other iterables are graphql-core's to complete
        item = self.item
        if path is None:
            if isinstance(item, NonNullCompleter) and isinstance(item.inner, ObjectCompleter):
                write = item.inner.write  # the common case, `[Message!]`: one call per item
                return [write(run, v, None) if v is not None else _fallback() for v in value]
            complete = item.complete
            return [complete(run, v, None) for v in value]
        return [item.complete(run, v, path.add_key(i, None)) for i, v in enumerate(value)]


class ObjectCompleter(Completer):
    """An object type's selection: one writer per response key, in graphql-core's collection order."""

    def __init__(self, object_type: GraphQLObjectType) -> None:
        self.object_type = object_type
        self.type_name = object_type.name
        self.fields: list[FieldPlan] = []
        # Set on the root: some planned field has no auth directive (its own or its type's), so only callers of
        # the server's default mode may have it planned; others go to graphql-core and its mode rules.
        self.default_mode_only = False
        # Set on the root: the auth modes every planned field admits; callers of other modes go to graphql-core.
        self.modes: frozenset[str] = frozenset()

    def complete(self, run: Run, value: Any, path: Path | None) -> Any:
        if value is None:
            return None
        return self.write(run, value, path)

    def write(self, run: Run, value: Any, path: Path | None) -> dict[str, Any]:
        """The selection of `value` (the root value, None, for the operation's root type). `compile_writer`
        replaces this loop with generated straight-line code; both write the same dict."""
        out: dict[str, Any] = {}
        type_name = self.type_name
        for plan in self.fields:
            key = plan.key
            kind = plan.kind
            if kind is STRING:
                item = getattr(value, plan.attribute)
                out[key] = item if type(item) is str else plan.completer.complete(run, item, None)
            elif kind is ATTRIBUTE:
                child = Path(path, key, type_name) if plan.needs_path else None
                out[key] = plan.completer.complete(run, getattr(value, plan.attribute), child)
            elif kind is TYPENAME:
                out[key] = type_name
            else:
                plan.resolve(run, value, out, Path(path, key, type_name))
        return out


STRING = "string"  # an attribute whose `str` values are their own response value (String, ID, AWSDateTime...)
ATTRIBUTE = "attribute"
TYPENAME = "typename"
RESOLVER = "resolver"


@dataclass(slots=True)
class FieldPlan:
    """One response key of an object: read an attribute, write `__typename`, or call the field's resolver."""

    key: str
    kind: str
    completer: Completer
    attribute: str = ""
    field_def: GraphQLField | None = None
    nodes: list[FieldNode] | None = None
    parent_type: GraphQLObjectType | None = None
    needs_path: bool = False
    has_arguments: bool = False
    # The resolver called as Strawberry calls it, arguments converted by compiled code (direct_resolvers.py);
    # None: through Strawberry's own wrapper, `field_def.resolve`.
    direct: Callable[[Any, Any, Any], Any] | None = None
    # The argument values of `nodes[0]` compiled (arguments.py); None: `get_argument_values` on every call.
    arguments: CompiledArguments | None = None

    def resolve(self, run: Run, source: Any, out: dict[str, Any], path: Path) -> None:
        """Call the field's resolver as graphql-core's `execute_field` does; awaitables are awaited later."""
        executor = run.executor
        field_def = self.field_def
        nodes = self.nodes
        assert field_def is not None and nodes is not None
        info = executor.build_resolve_info(field_def, nodes, self.parent_type, path)
        args: dict[str, Any] | None = {}
        if self.has_arguments:
            args = self.arguments.values(executor.variable_values) if self.arguments is not None else None
            if args is None:  # not compiled, or graphql-core raises (its error, then)
                args = get_argument_values(
                    field_def, nodes[0], executor.variable_values, None, executor.hide_suggestions
                )
        try:
            if self.direct is not None:
                result = self.direct(source, info, args)
            else:
                result = field_def.resolve(source, info, **args)  # type: ignore[misc]
        except Exception as error:
            run.note_outcome(path, RootOutcome(error, raised=True, awaitable=False))
            raise
        if executor.is_awaitable(result):
            out[self.key] = None  # keeps the key's place; the value is written once awaited
            run.pending.append((result, self.completer, out, self.key, path))
        else:
            run.note_outcome(path, RootOutcome(result, raised=False, awaitable=False))
            out[self.key] = self.completer.complete(run, result, path)


def _fallback() -> Any:
    raise Fallback


def _object_within(completer: Completer) -> ObjectCompleter | None:
    """The object completer of `T` or `T!`, whose writer a parent may call directly for a value that is not None
    (for None, the completer itself answers: None, or Fallback for `T!`)."""
    if isinstance(completer, NonNullCompleter):
        completer = completer.inner
    return completer if type(completer) is ObjectCompleter else None


def compile_writer(completer: ObjectCompleter) -> None:
    """Replace `completer.write` by a generated function doing the same for its fields, e.g. for
    `{ id owner content { text } }`:

        def write(run, value, path):
            v0 = value.id
            if type(v0) is not str: v0 = c0(run, v0, None)
            ...
            v2 = c2(run, value.content, None)
            return {'id': v0, 'owner': v1, 'content': v2}

    Resolver fields are called after the dict is built, in field order, each writing its own key (its value,
    or a placeholder until it is awaited), exactly as the loop does.
    """
    names: dict[str, Any] = {"Path": Path}
    lines = ["def write(run, value, path):"]
    entries: list[str] = []
    resolvers: list[str] = []
    type_name = repr(completer.type_name)
    for index, plan in enumerate(completer.fields):
        key = repr(plan.key)
        local = f"v{index}"
        attribute = plan.attribute
        read = (
            f"value.{attribute}"
            if attribute.isidentifier() and not keyword.iskeyword(attribute)
            else f"getattr(value, {attribute!r})"
        )
        if plan.kind is STRING:
            names[f"c{index}"] = plan.completer.complete
            lines.append(f"    {local} = {read}")
            lines.append(f"    if type({local}) is not str: {local} = c{index}(run, {local}, None)")
        elif (
            plan.kind is ATTRIBUTE
            and not plan.needs_path
            and (inner := _object_within(plan.completer)) is not None
        ):
            # A nested object (`content { text }`): its writer called here, no completer calls in between.
            names[f"c{index}"] = plan.completer.complete
            names[f"o{index}"] = inner
            lines.append(f"    {local} = {read}")
            lines.append(
                f"    {local} = c{index}(run, {local}, None) if {local} is None else o{index}.write(run, {local}, None)"
            )
        elif plan.kind is ATTRIBUTE:
            names[f"c{index}"] = plan.completer.complete
            child = f"Path(path, {key}, {type_name})" if plan.needs_path else "None"
            lines.append(f"    {local} = c{index}(run, {read}, {child})")
        elif plan.kind is TYPENAME:
            lines.append(f"    {local} = {type_name}")
        else:
            names[f"r{index}"] = plan.resolve
            lines.append(f"    {local} = None")
            resolvers.append(f"    r{index}(run, value, out, Path(path, {key}, {type_name}))")
        entries.append(f"{key}: {local}")
    lines.append("    out = {" + ", ".join(entries) + "}")
    lines.extend(resolvers)
    lines.append("    return out")
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(lines), f"<plan writer {completer.type_name}>", "exec"), names, namespace)
    completer.write = namespace["write"]  # type: ignore[method-assign]
