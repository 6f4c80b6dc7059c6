"""Runs queries and mutations for every transport, and hands linked mutation results to the publisher."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import strawberry
from graphql import ExecutionResult, OperationDefinitionNode, OperationType, execute

from chatserver.auth.identity import Identity
from chatserver.execution.documents import CompiledDocument, DocumentCache
from chatserver.execution.error_format import AppSyncError, appsync_error, from_graphql_error
from chatserver.execution.fast_path import FastPath, Replay
from chatserver.execution.selection import dealias, iter_fields
from chatserver.metrics import count_error, new_request_id
from chatserver.realtime.publisher import MutationPublisher
from chatserver.schema.context import ReadBudget, RequestContext
from chatserver.schema.links import subscription_links
from chatserver.schema.permissions import AuthRules, ModeGuard

if TYPE_CHECKING:
    from chatserver.services import Services

log = logging.getLogger("chatserver.executor")

GraphQLResponse = dict[str, Any]


class Executor:
    """One execution path for HTTP and WebSocket: compile (cached), execute, publish linked mutations."""

    def __init__(
        self,
        schema: strawberry.Schema,
        services: Services,
        publisher: MutationPublisher,
        auth_rules: AuthRules | None = None,
    ) -> None:
        self._graphql_schema = schema._schema
        self._services = services
        self.auth_rules = (
            auth_rules if auth_rules is not None else AuthRules(schema, services.settings.auth_mode)
        )
        self._publisher = publisher
        self._timeout = services.settings.execution_timeout
        self.documents = DocumentCache(self._graphql_schema, services.settings)
        # Cached queries run from compiled plans; graphql-core answers whatever a plan does not cover.
        self.fast_path = (
            FastPath(self._graphql_schema, getattr(services.settings, "auth_mode", "USER_POOL"))
            if services.settings.fast_path
            else None
        )
        self._linked_mutations = frozenset(subscription_links(schema))

    def compile(self, query: str) -> CompiledDocument:
        return self.documents.compile(query)

    async def execute(
        self,
        query: str,
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
        identity: Identity,
        *,
        request_id: str | None = None,
    ) -> GraphQLResponse:
        """Run a query or mutation; the response is AppSync-shaped (`data`, and `errors` when any).

        Subscriptions never come here: transport/http.py answers them with the MQTT handshake, and sessions
        hand them to the real-time engine (each picks the operation by the same rules before calling this).
        """
        response = await self._execute(query, variables, operation_name, identity, request_id)
        for error in response.get("errors", ()):
            count_error(error["errorType"])  # every error answered, cached compile errors included
        return response

    async def _execute(
        self,
        query: str,
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
        identity: Identity,
        request_id: str | None,
    ) -> GraphQLResponse:
        request_id = request_id or new_request_id()
        compiled = self.documents.compile(query)
        if compiled.errors:
            return {"data": None, "errors": compiled.errors}
        operation = compiled.operation(operation_name)
        if operation is None:
            return {"data": None, "errors": [_operation_error(compiled, operation_name)]}
        context = RequestContext(
            identity=identity,
            services=self._services,
            request_id=request_id,
            budget=ReadBudget(self._services.settings.max_list_items),
        )
        try:
            async with asyncio.timeout(self._timeout):  # no extra Task per request, unlike wait_for
                result = await self._run(compiled, operation, variables, context)
        except TimeoutError:
            return {
                "data": None,
                "errors": [
                    appsync_error(
                        f"Execution timed out after {self._timeout} seconds.",
                        error_type="ExecutionTimeout",
                    )
                ],
            }
        response: GraphQLResponse = {"data": result.data}
        if result.errors:
            response["errors"] = [from_graphql_error(e, request_id) for e in result.errors]
        if operation.operation == OperationType.MUTATION and result.data:
            await self._publish(compiled, operation, result.data)
        return response

    async def _run(
        self,
        compiled: CompiledDocument,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any] | None,
        context: RequestContext,
    ) -> ExecutionResult:
        guard = self._mode_guard(compiled, context.identity.mode)
        middleware: list[ModeGuard | Replay] | None = list(guard) if guard else None
        if self.fast_path is not None and guard is None:  # fields the caller's mode may not use: graphql-core
            answer = await self.fast_path.execute(compiled, operation, variables, context)
            if isinstance(answer, dict):
                return ExecutionResult(answer, None)
            context = replace(context, budget=ReadBudget(context.budget.limit))  # graphql-core starts afresh
            if answer is not None:  # a mutation that ran: graphql-core answers from its resolver's outcome
                middleware = [answer]
        outcome = execute(
            self._graphql_schema,
            compiled.document,  # type: ignore[arg-type]
            context_value=context,
            variable_values=dict(variables) if variables else None,
            operation_name=operation.name.value if operation.name else None,
            middleware=middleware,
        )
        if isinstance(outcome, ExecutionResult):
            return outcome
        return await outcome

    def _mode_guard(self, compiled: CompiledDocument, mode: str) -> list[ModeGuard] | None:
        """A guard for the fields of this document the caller's auth mode may not use; None when there are none
        (the common case: the default mode, for which nothing in the schema is refused)."""
        rules = self.auth_rules
        if not rules.denied(mode):
            return None
        denied = compiled.denied.get(mode)
        if denied is None:
            denied = rules.denied_fields(compiled.document, self._graphql_schema, mode)
            compiled.denied[mode] = denied
        return [ModeGuard(denied)] if denied else None

    async def _publish(
        self, compiled: CompiledDocument, operation: OperationDefinitionNode, data: dict[str, Any]
    ) -> None:
        for field in iter_fields(operation.selection_set, compiled.fragments):
            name = field.name.value
            if name not in self._linked_mutations:
                continue
            value = data.get(field.alias.value if field.alias else name)
            if value is None:
                continue  # the mutation failed: nothing was committed, nothing is published
            payload = dealias(value, field.selection_set, compiled.fragments)
            try:
                await self._publisher.publish(name, payload)
            except Exception:  # publishing must never fail a committed mutation
                log.exception("publishing %s failed", name)


def _operation_error(compiled: CompiledDocument, name: str | None) -> AppSyncError:
    if name:
        return appsync_error(f'Unknown operation named "{name}".')
    return appsync_error("Must provide operation name if query contains multiple operations.")
