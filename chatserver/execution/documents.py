"""Compiled documents: parsed, validated and limit-checked once per distinct query text (LRU cache)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    parse,
    specified_rules,
    validate,
)
from graphql.validation import NoSchemaIntrospectionCustomRule

from chatserver.config import Settings
from chatserver.errors import ChatServerError, QueryComplexityLimitReached
from chatserver.execution.error_format import AppSyncError, appsync_error
from chatserver.execution.limits import check_limits

MAX_QUERY_CHARS = 100_000


@dataclass(slots=True)
class CompiledDocument:
    """A query text ready to execute, or the errors that stop it. Shared by HTTP and every WebSocket protocol."""

    document: DocumentNode | None
    errors: list[AppSyncError]
    fragments: dict[str, FragmentDefinitionNode] = field(default_factory=dict)
    # The fast path's compiled plans, per operation (execution/fast_path.py); they live as long as this entry.
    plans: dict[int, Any] = field(default_factory=dict)
    # Per auth mode, the (type, field)s of this document that mode may not use (schema/permissions.AuthRules).
    denied: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)

    def operation(self, name: str | None) -> OperationDefinitionNode | None:
        """The operation to run: the one named, or the only one."""
        if self.document is None:
            return None
        operations = [d for d in self.document.definitions if isinstance(d, OperationDefinitionNode)]
        if name:
            return next((op for op in operations if op.name and op.name.value == name), None)
        return operations[0] if len(operations) == 1 else None


class DocumentCache:
    """Parse + validate + limits, cached by query text so the hot path does each only once."""

    def __init__(self, schema: GraphQLSchema, settings: Settings, capacity: int = 2048) -> None:
        self._schema = schema
        self._settings = settings
        self._capacity = capacity
        self._cache: OrderedDict[str, CompiledDocument] = OrderedDict()
        self._rules = list(specified_rules)
        if not settings.introspection:
            self._rules.append(NoSchemaIntrospectionCustomRule)

    def compile(self, query: str) -> CompiledDocument:
        cached = self._cache.get(query)
        if cached is not None:
            self._cache.move_to_end(query)
            return cached
        compiled = self._compile(query)
        self._cache[query] = compiled
        if len(self._cache) > self._capacity:
            self._cache.popitem(last=False)
        return compiled

    def _compile(self, query: str) -> CompiledDocument:
        if len(query) > MAX_QUERY_CHARS:
            error = QueryComplexityLimitReached(
                f"The query is {len(query)} characters long; at most {MAX_QUERY_CHARS} are allowed."
            )
            return CompiledDocument(None, [_limit_error(error)])
        try:
            document = parse(query, max_tokens=self._settings.max_tokens)
        except GraphQLSyntaxError as error:
            if "tokens" in error.message and "Parsing aborted" in error.message:
                limit = QueryComplexityLimitReached(
                    f"The query has more than {self._settings.max_tokens} tokens."
                )
                return CompiledDocument(None, [_limit_error(limit)])
            return CompiledDocument(None, [_graphql_error(error)])
        try:
            check_limits(
                document,
                max_depth=self._settings.max_depth,
                max_aliases=self._settings.max_aliases,
            )
        except ChatServerError as error:
            return CompiledDocument(None, [_limit_error(error)])
        errors = validate(self._schema, document, self._rules, max_errors=20)
        if errors:
            return CompiledDocument(None, [_graphql_error(e) for e in errors])
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        return CompiledDocument(document, [], fragments)


def _graphql_error(error: GraphQLError) -> AppSyncError:
    locations = (
        [{"line": loc.line, "column": loc.column, "sourceName": None} for loc in error.locations]
        if error.locations
        else None
    )
    return appsync_error(f"Validation error: {error.message}", locations=locations)


def _limit_error(error: ChatServerError) -> AppSyncError:
    return appsync_error(error.message, error_type=error.error_type)
