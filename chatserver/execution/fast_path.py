"""The fast path for cached operations: run an operation's compiled plan, or say graphql-core must run it.

Plans are compiled once per operation of a cached document (and per distinct outcome of its `@include`/`@skip`
conditions) and kept on the `CompiledDocument`, so they live and die with the document cache's LRU entry.
Queries and mutations with one root field have plans (graphql-core runs several root mutations one after another).
`execute` returns the response `data`, or None when graphql-core must run the whole operation instead: the
operation is not covered, its variables do not coerce, a resolver raised, or a value needs error handling. A
mutation's resolver runs once: when its plan cannot finish, `execute` returns a `Replay`, and graphql-core answers
from what the resolver gave or raised. A plan never answers differently from graphql-core;
tests/execution/test_fast_path_differential.py holds it to that.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLIncludeDirective,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
)
from graphql.execution import Executor as GraphQLCoreExecutor
from graphql.execution.collect_fields import FragmentDetails
from graphql.execution.executor import default_field_resolver, default_type_resolver
from graphql.execution.values import get_argument_values
from graphql.type import assert_valid_schema

from chatserver.execution.completers import Fallback, ObjectCompleter, RootOutcome, Run
from chatserver.execution.documents import CompiledDocument
from chatserver.execution.plan import PlanCompiler, Unsupported, condition_nodes
from chatserver.execution.variables import Unsupported as UnsupportedVariables
from chatserver.execution.variables import VariableCoercer

PLANNED_OPERATIONS = frozenset({OperationType.QUERY, OperationType.MUTATION})  # subscriptions: the engine
MAX_PLANS_PER_OPERATION = 64  # distinct @include/@skip outcomes kept per operation

ConditionNode = FieldNode | InlineFragmentNode | FragmentSpreadNode


@dataclass(slots=True)
class FastPathCounters:
    """How often the fast path answered, and how often graphql-core did instead (and why)."""

    taken: int = 0
    not_covered: int = 0  # the operation (for these conditions) has no plan
    fell_back: int = 0  # a plan started but graphql-core answered (bad variables, an error, a null)
    replayed: int = 0  # of those, mutations whose resolver had run: graphql-core answered from its outcome


@dataclass(frozen=True, slots=True)
class Replay:
    """A mutation whose root resolver ran but whose plan could not finish (it raised, or its value needs error
    handling): graphql-core answers instead, with this as middleware, which hands it the resolver's outcome
    rather than running the mutation a second time."""

    outcomes: Mapping[str, RootOutcome]

    def resolve(self, next_: Any, root: Any, info: Any, **args: Any) -> Any:
        outcome = self.outcomes.get(str(info.path.key)) if info.path.prev is None else None
        if outcome is None:
            return next_(root, info, **args)
        if outcome.awaitable:
            return _later(outcome)
        if outcome.raised:
            raise outcome.value
        return outcome.value


@dataclass(slots=True)
class OperationPlans:
    """The plans of one operation: one per outcome of its `@include`/`@skip` conditions."""

    operation: OperationDefinitionNode
    conditions: list[ConditionNode]
    plans: dict[tuple[bool, ...], ObjectCompleter | None] = field(default_factory=dict)
    # The operation's variable definitions compiled (None: graphql-core's `Executor.build` coerces them), and
    # the document's fragments as `build` gives them to the executor.
    variables: VariableCoercer | None = None
    fragments: dict[str, FragmentDetails] | None = None


class FastPath:
    """Runs queries from their compiled plans; see the module docstring for when it declines."""

    def __init__(self, schema: GraphQLSchema, default_mode: str = "USER_POOL") -> None:
        self._schema = schema
        self._default_mode = default_mode
        self.counters = FastPathCounters()

    async def execute(
        self,
        compiled: CompiledDocument,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any] | None,
        context: Any,
    ) -> dict[str, Any] | Replay | None:
        """The operation's `data`; or None: run it on graphql-core (nothing observable happened here); or, for a
        mutation whose resolver ran, a `Replay`: run it on graphql-core with that middleware."""
        plans = self._plans(compiled, operation)
        if plans is None:
            self.counters.not_covered += 1
            return None
        executor = self._executor(compiled, plans, variables, context)
        if isinstance(executor, list):  # variables that do not coerce: graphql-core words the errors
            self.counters.fell_back += 1
            return None
        try:
            outcome = tuple(_included(node, executor) for node in plans.conditions)
        except Exception:  # e.g. `@include(if: $v)` with $v null: graphql-core words the error
            self.counters.fell_back += 1
            return None
        root = self._plan(compiled, plans, outcome)
        mode = _mode(context)
        if root is None or mode not in root.modes or (root.default_mode_only and mode != self._default_mode):
            self.counters.not_covered += 1
            return None
        run = Run(executor, mutation=operation.operation == OperationType.MUTATION)
        try:
            data = root.write(run, None, None)
            await _settle(run)
        except Exception:  # Fallback, or anything a resolver or a serializer raised
            _discard(run)
            self.counters.fell_back += 1
            if run.outcomes:
                self.counters.replayed += 1
                return Replay(dict(run.outcomes))
            return None
        except BaseException:  # cancelled (the execution timeout, a closing socket): nothing left unawaited
            _discard(run)
            raise
        self.counters.taken += 1
        return data

    def _plans(self, compiled: CompiledDocument, operation: OperationDefinitionNode) -> OperationPlans | None:
        key = id(operation)
        if key in compiled.plans:
            return compiled.plans[key]
        plans: OperationPlans | None = None
        if operation.operation in PLANNED_OPERATIONS and not operation.directives:
            plans = OperationPlans(operation, condition_nodes(operation, compiled.fragments))
            plans.variables, plans.fragments = _compile_variables(self._schema, compiled, operation)
        compiled.plans[key] = plans
        return plans

    def _executor(
        self,
        compiled: CompiledDocument,
        plans: OperationPlans,
        variables: Mapping[str, Any] | None,
        context: Any,
    ) -> GraphQLCoreExecutor | list[Any]:
        """graphql-core's executor for this request, as `Executor.build` makes it; the variables coerced by the
        operation's compiled coercer when it can (else by `build`, which also words their errors)."""
        operation = plans.operation
        coercer = plans.variables
        values = None
        if coercer is not None and (variables is None or type(variables) is dict):
            values = coercer.coerce(variables)
        if values is None:
            return GraphQLCoreExecutor.build(
                self._schema,
                compiled.document,  # type: ignore[arg-type]
                None,
                context,
                dict(variables) if variables else None,
                operation.name.value if operation.name else None,
            )
        assert_valid_schema(self._schema)  # as `build` does (the schema's validation is cached)
        return GraphQLCoreExecutor(
            self._schema,
            compiled.fragments,
            plans.fragments,  # type: ignore[arg-type]
            None,
            context,
            operation,
            values,
            default_field_resolver,
            default_type_resolver,
            default_field_resolver,
        )

    def _plan(
        self, compiled: CompiledDocument, plans: OperationPlans, outcome: tuple[bool, ...]
    ) -> ObjectCompleter | None:
        if outcome in plans.plans:
            return plans.plans[outcome]
        conditions = {id(node): included for node, included in zip(plans.conditions, outcome, strict=True)}
        compiler = PlanCompiler(self._schema, compiled.fragments, conditions)
        try:
            root: ObjectCompleter | None = compiler.compile(plans.operation)
        except Unsupported:
            root = None
        if len(plans.plans) < MAX_PLANS_PER_OPERATION:
            plans.plans[outcome] = root
        return root


def _compile_variables(
    schema: GraphQLSchema, compiled: CompiledDocument, operation: OperationDefinitionNode
) -> tuple[VariableCoercer | None, dict[str, FragmentDetails] | None]:
    """The operation's compiled variable coercion and the executor's fragment details; (None, None) when
    `Executor.build` must make them (fragment variables, or variables the coercer does not compile)."""
    if any(fragment.variable_definitions for fragment in compiled.fragments.values()):
        return None, None
    try:
        coercer = VariableCoercer(schema, operation.variable_definitions or ())
    except UnsupportedVariables:
        return None, None
    return coercer, {name: FragmentDetails(fragment) for name, fragment in compiled.fragments.items()}


def _mode(context: Any) -> str:
    """The auth mode the caller's credentials were proven with (identities without one are user-pool users)."""
    return getattr(context.identity, "mode", "USER_POOL")


def _included(node: ConditionNode, executor: Any) -> bool:
    """graphql-core's `should_include_node`: `@skip` first, then `@include`, arguments coerced the same way."""
    skip = next((d for d in node.directives if d.name.value == "skip"), None)
    if skip is not None:
        values = get_argument_values(
            GraphQLSkipDirective, skip, executor.variable_values, None, executor.hide_suggestions
        )
        if values["if"]:
            return False
    include = next((d for d in node.directives if d.name.value == "include"), None)
    if include is not None:
        values = get_argument_values(
            GraphQLIncludeDirective, include, executor.variable_values, None, executor.hide_suggestions
        )
        return bool(values["if"])
    return True


async def _settle(run: Run) -> None:
    """Await the resolvers the plan called (concurrently, as graphql-core does) and complete their values."""
    while run.pending:
        batch, run.pending = run.pending, []
        if len(batch) == 1:
            try:
                results: list[Any] = [await batch[0][0]]
            except Exception as error:
                results = [error]
        else:
            results = await asyncio.gather(*(entry[0] for entry in batch), return_exceptions=True)
        for (_, completer, out, key, path), result in zip(batch, results, strict=True):
            raised = isinstance(result, BaseException)
            run.note_outcome(path, RootOutcome(result, raised=raised, awaitable=True))
            if raised:
                raise Fallback from result
            out[key] = completer.complete(run, result, path)


async def _later(outcome: RootOutcome) -> Any:
    if outcome.raised:
        raise outcome.value
    return outcome.value


def _discard(run: Run) -> None:
    """Close resolver coroutines that will never be awaited (a fallback re-runs them on graphql-core)."""
    batch, run.pending = run.pending, []
    for entry in batch:
        awaitable = entry[0]
        if inspect.iscoroutine(awaitable):
            awaitable.close()
        elif isinstance(awaitable, asyncio.Future):
            awaitable.cancel()
