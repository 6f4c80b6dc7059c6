"""A session's operations: validating a start, the subscriptions it holds, the queries and mutations it runs.

A running mutation is never cancelled (a commit must always be followed by its publish): `stop` and the
connection's end only detach it, so its result is not sent. Every operation task is awaited when the session ends.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError, parse, validate

from chatserver.auth.identity import Identity
from chatserver.realtime.compiler import CompiledSubscription, SubscriptionRejected, operation_type
from chatserver.transport.codec import subscriber_prefix
from chatserver.transport.session_state import State

if TYPE_CHECKING:
    from starlette.websockets import WebSocket

    from chatserver.config import Settings
    from chatserver.realtime.engine import RealtimeEngine
    from chatserver.realtime.hub import Subscriber
    from chatserver.realtime.outbox import Outbox
    from chatserver.transport.codec import Codec, RealtimeContext

log = logging.getLogger("chatserver.websocket")

SYNTAX_ERROR = "Syntax Error:"  # graphql-core's prefix for a query that does not parse
PUBLISH_GRACE_SECONDS = 5.0  # a closed session waits execution_timeout plus this for its mutations
START_RATE_PER_SECOND = 50.0  # subscribe/start messages, token bucket refill
START_BURST = 200.0  # ... and capacity: a reconnecting client may start 100 subscriptions at once


class StartRefused(Exception):
    """An operation cannot start. `error_type` is AppSync's errorType (None for validation errors)."""

    RATE = "LimitExceededError"
    MAX_SUBSCRIPTIONS = "MaxSubscriptionsReachedError"
    UNSUPPORTED = "UnsupportedOperation"
    UNAUTHORIZED = "UnauthorizedException"
    FIELD_UNAUTHORIZED = "Unauthorized"
    DUPLICATE = "DuplicateSubscriptionId"

    def __init__(
        self,
        error_type: str | None,
        message: str,
        errors: list[dict[str, Any]] | None = None,
        *,
        unparsable: bool = False,
    ) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.errors: list[dict[str, Any]] = errors or [{"errorType": error_type, "message": message}]
        self.unparsable = unparsable  # the query is not GraphQL at all (a syntax error)

    def compact_errors(self) -> list[dict[str, Any]]:
        """Errors with only the keys that carry a value (AppSync's WebSocket errors are terse)."""
        return [
            {k: v for k, v in e.items() if v is not None and k in {"errorType", "message", "path"}}
            for e in self.errors
        ]


@dataclass(frozen=True, slots=True)
class Prepared:
    """A validated operation: a subscription to register, or a query/mutation to execute."""

    op_id: str
    kind: str  # "subscription" | "query" | "mutation"
    identity: Identity
    request: Mapping[str, Any]
    compiled: CompiledSubscription | None = None
    needs_groups: frozenset[str] | None = None  # the field's group rule, None when it has none
    groups: frozenset[str] = frozenset()  # the caller's groups that count (see engine.effective_groups)


class SessionOperations:
    """Part of `transport.session.Session`: start (`prepare`, then `subscribe` or `execute`) and `stop`."""

    __slots__ = ()

    websocket: WebSocket
    context: RealtimeContext
    engine: RealtimeEngine
    settings: Settings
    codec: Codec
    outbox: Outbox
    state: State
    subscriptions: dict[str, Subscriber]
    operations: dict[str, asyncio.Task[None]]
    _tasks: dict[asyncio.Task[None], str]
    _tokens: float
    _tokens_at: float

    def _stop_everything(self) -> None:
        for subscriber in self.subscriptions.values():
            self.engine.unsubscribe(subscriber)
        self.subscriptions.clear()
        for task in self.operations.values():
            self._detach(task)
        self.operations.clear()

    def _detach(self, task: asyncio.Task[None]) -> None:
        """Its result is no longer wanted: a query is cancelled, a mutation runs on to its publish."""
        if self._tasks.get(task) != "mutation":
            task.cancel()

    async def _await_operations(self) -> None:
        """Await every operation task: mutations get their execution time, then what is left is cancelled."""
        tasks = list(self._tasks)
        if not tasks:
            return
        bound = self.settings.execution_timeout + PUBLISH_GRACE_SECONDS
        _, pending = await asyncio.wait(tasks, timeout=bound)
        for task in pending:
            log.warning("operation still running %.0f s after its connection ended: cancelled", bound)
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def prepare(
        self,
        op_id: str,
        request: Mapping[str, Any],
        identity: Identity,
        *,
        subscriptions_only: bool = False,
    ) -> Prepared:
        """Validate a start/subscribe request; raises StartRefused with the error to report."""
        self._take_start_token()
        if op_id in self.subscriptions or op_id in self.operations:
            raise StartRefused(StartRefused.DUPLICATE, f"Subscriber for {op_id} already exists")
        query = request.get("query")
        variables = request.get("variables")
        operation_name = request.get("operationName")
        if not isinstance(query, str) or not (variables is None or isinstance(variables, dict)):
            raise StartRefused(StartRefused.UNSUPPORTED, "unknown not supported through the realtime channel")
        if not (operation_name is None or isinstance(operation_name, str)):
            operation_name = None
        document, errors = self._compile(query)
        if errors:
            first = errors[0]
            message = str(first.get("message", "Invalid"))
            unparsable = document is None and SYNTAX_ERROR in message
            raise StartRefused(first.get("errorType"), message, errors, unparsable=unparsable)
        if document is None:
            raise StartRefused(StartRefused.UNSUPPORTED, "unknown not supported through the realtime channel")
        kind = operation_type(document, operation_name)
        if kind != "subscription":
            if subscriptions_only or kind == "unknown":
                raise StartRefused(
                    StartRefused.UNSUPPORTED, f"{kind} not supported through the realtime channel"
                )
            if len(self._tasks) >= self.settings.max_subscriptions_per_connection:
                raise StartRefused(StartRefused.RATE, "Rate limit exceeded")  # too many in flight
            return Prepared(op_id, kind, identity, request)
        auth_rules = self.context.auth_rules
        denied = auth_rules.denied_fields(document, self.engine.schema, identity.mode) if auth_rules else ()
        if denied:
            type_name, field_name = denied[0]
            raise StartRefused(
                StartRefused.FIELD_UNAUTHORIZED, f"Not Authorized to access {field_name} on type {type_name}"
            )
        limit = self.settings.max_subscriptions_per_connection
        if len(self.subscriptions) >= limit:
            raise StartRefused(StartRefused.MAX_SUBSCRIPTIONS, f"Max number of {limit} subscriptions reached")
        try:
            compiled = self.engine.compile(document, variables, operation_name)
        except SubscriptionRejected as rejected:
            if rejected.kind == SubscriptionRejected.BAD_FILTER:
                raise StartRefused(rejected.kind, rejected.message) from None
            error_type = rejected.kind if rejected.kind == SubscriptionRejected.UNSUPPORTED else None
            raise StartRefused(error_type, rejected.message, rejected.errors) from None
        rules = self.context.group_rules
        needed = rules("Subscription", compiled.field_name) if rules else None
        groups = self.engine.effective_groups(identity.sub, identity.groups, identity.issued_at)
        if needed is not None and groups.isdisjoint(needed):
            raise StartRefused(
                StartRefused.FIELD_UNAUTHORIZED,
                f"Not Authorized to access {compiled.field_name} on type Subscription",
            )
        needs = frozenset(needed) if needed is not None else None
        return Prepared(op_id, kind, identity, request, compiled, needs, groups)

    def subscribe(self, prepared: Prepared) -> None:
        """Register a prepared subscription: from now on its events are queued after what is queued now."""
        assert prepared.compiled is not None
        if self.state is not State.READY:
            return
        op_id = prepared.op_id
        self.subscriptions[op_id] = self.engine.subscribe(
            prepared.compiled,
            self.outbox,
            subscriber_prefix(self.websocket, self.codec, op_id),
            end=partial(self.end_subscription, op_id),
            user_sub=prepared.identity.sub,
            groups=prepared.groups,
            needs_groups=prepared.needs_groups,
        )

    def end_subscription(self, op_id: str, subscriber: Subscriber) -> None:
        """The server ends a subscription (its room was deleted, a group it needed was removed): it stops
        and the client gets the protocol's `complete`; the connection stays open."""
        if self.subscriptions.get(op_id) is not subscriber:
            return  # stopped already (the id may be reused by a newer subscription)
        del self.subscriptions[op_id]
        self.engine.unsubscribe(subscriber)
        if self.state is not State.READY:
            return
        complete_frame = getattr(self.codec, "complete_frame", None)
        if complete_frame is not None:
            self.send(complete_frame(op_id))
        ended = getattr(self.codec, "subscription_ended", None)
        if ended is not None:
            ended(self)

    def stop(self, op_id: str) -> bool:
        """End a subscription or a running operation (its result is not sent); False when the id is unknown.

        A stopped query is cancelled; a stopped mutation runs on so that what it commits is published.
        """
        subscriber = self.subscriptions.pop(op_id, None)
        if subscriber is not None:
            self.engine.unsubscribe(subscriber)
            return True
        task = self.operations.pop(op_id, None)
        if task is not None:
            self._detach(task)
            return True
        return False

    def execute(self, prepared: Prepared, on_result: Callable[[dict[str, Any]], None]) -> None:
        """Run a query or mutation in its own task; `on_result` gets the AppSync-shaped response."""
        executor = self.context.executor
        request = prepared.request
        op_id = prepared.op_id

        async def run() -> None:
            me = asyncio.current_task()
            try:
                result = await executor.execute(
                    request["query"],
                    request.get("variables"),
                    request.get("operationName"),
                    prepared.identity,
                )
            except Exception:
                log.exception("operation %s failed", op_id)
                message = "An internal error occurred."
                result = {"data": None, "errors": [{"errorType": "InternalFailure", "message": message}]}
            finally:
                # Stopped, or the id reused by a newer operation since: then the id is not ours to remove.
                wanted = self.operations.get(op_id) is me
                if wanted:
                    del self.operations[op_id]
            if wanted and self.state is State.READY:
                on_result(result)

        task = asyncio.create_task(run())
        self._tasks[task] = prepared.kind
        task.add_done_callback(self._forget)
        self.operations[op_id] = task

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._tasks.pop(task, None)

    def _take_start_token(self) -> None:
        now = time.monotonic()
        self._tokens = min(START_BURST, self._tokens + (now - self._tokens_at) * START_RATE_PER_SECOND)
        self._tokens_at = now
        if self._tokens < 1:
            raise StartRefused(StartRefused.RATE, "Rate limit exceeded")
        self._tokens -= 1

    def _compile(self, query: str) -> tuple[Any, list[dict[str, Any]]]:
        executor = self.context.executor
        if executor is not None:
            compiled = executor.compile(query)
            return compiled.document, list(compiled.errors)
        try:
            document = parse(query)
        except GraphQLError as error:
            return None, [{"message": error.message}]
        errors = validate(self.engine.schema, document)
        return document, [{"message": f"Validation error: {e.message}"} for e in errors]
