"""The connection state machine every WebSocket protocol shares; each protocol is a thin codec over it.

A session owns: one reader loop (the ASGI task itself), one writer task draining the connection's bounded
outbox, loop timers (connection_init deadline, keep-alive, maximum age), the connection's subscriptions and its
running queries/mutations. Codecs decode frames, call `prepare`/`subscribe`/`execute`/`stop`, and encode.

A running mutation is never cancelled (a commit must always be followed by its publish): `stop` and the
connection's end only detach it, so its result is not sent. Every operation task is awaited when the session ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from graphql import GraphQLError, parse, validate
from starlette.websockets import WebSocket

from chatserver.auth.identity import Identity
from chatserver.auth.modes import connection_key, header_value
from chatserver.config import Settings
from chatserver.errors import UnauthorizedException
from chatserver.realtime.compiler import CompiledSubscription, SubscriptionRejected, operation_type
from chatserver.realtime.engine import RealtimeEngine
from chatserver.realtime.hub import Subscriber
from chatserver.realtime.outbox import Outbox
from chatserver.transport.json_codec import loads_strict

log = logging.getLogger("chatserver.websocket")

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001  # graceful shutdown, and the end of a connection's maximum age
CLOSE_SLOW_CONSUMER = 1013  # "try again later": the outgoing buffer overflowed
CLOSE_INTERNAL_ERROR = 1011
CLOSE_UNAUTHORIZED = 4401  # global sign-out, and credentials that expired while the socket was open
EXPIRED_REASON = "Unauthorized: token expired"
SYNTAX_ERROR = "Syntax Error:"  # graphql-core's prefix for a query that does not parse

CLOSE_GRACE_SECONDS = 5.0  # after a close request, how long the queue may take to drain before an abort
SLOW_CLOSE_SECONDS = 1.0  # how long a close frame to a stalled reader is attempted
PUBLISH_GRACE_SECONDS = 5.0  # a closed session waits execution_timeout plus this for its mutations
MAX_CLOSE_REASON_BYTES = 123  # RFC 6455 5.5: a control frame's 125 bytes, less the 2-byte code
START_RATE_PER_SECOND = 50.0  # subscribe/start messages, token bucket refill
START_BURST = 200.0  # ... and capacity: a reconnecting client may start 100 subscriptions at once


def close_reason(text: str) -> str:
    """`text` cut to fit a close frame: at most 123 bytes of UTF-8, never splitting a character."""
    encoded = text.encode("utf-8")
    if len(encoded) <= MAX_CLOSE_REASON_BYTES:
        return text
    return encoded[:MAX_CLOSE_REASON_BYTES].decode("utf-8", errors="ignore")


def frame_sender(websocket: WebSocket, codec: Codec) -> Callable[[Any], Awaitable[None]]:
    """How a codec's frames go out: text, or binary for codecs with `binary = True` (MQTT)."""
    return websocket.send_bytes if getattr(codec, "binary", False) else websocket.send_text


class State(Enum):
    CONNECTING = "connecting"  # socket accepted, waiting for connection_init
    READY = "ready"  # acknowledged
    CLOSING = "closing"  # close requested: draining the outbox
    CLOSED = "closed"


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


GroupRules = Callable[[str, str], "list[str] | None"]


@dataclass(frozen=True, slots=True)
class RealtimeContext:
    """What sessions need from the server, picked out of `Services` once per app."""

    settings: Settings
    engine: RealtimeEngine
    verifier: Any  # .verify(authorization) -> Identity, raises UnauthorizedException
    executor: Any = None  # .compile(query) and async .execute(...); None: subscriptions only
    group_rules: GroupRules | None = None  # (type, field) -> cognito groups, None = no rule
    credentials: Any = None  # auth.modes.CredentialResolver: async .resolve_headers(header) -> Identity
    auth_rules: Any = None  # schema.permissions.AuthRules: the fields each auth mode may not use


class Codec(Protocol):
    """One wire protocol. Frames in: `handle`; frames out: through `session.send`."""

    subprotocol: str | None
    keepalive: str | None  # frame sent every ka_interval once acknowledged, or None

    def data_prefix(self, op_id: str) -> str: ...

    async def handle(self, session: Session, message: dict[str, Any]) -> None: ...

    def invalid(self, session: Session, reason: str) -> None: ...

    def init_timeout(self, session: Session) -> None: ...

    # Optional (looked up with getattr, so a codec without them still works):
    #   complete_frame(op_id) -> frame   the server ended a subscription (room deleted, group removed)
    #   expired(session) -> None         the connection's credentials expired: close it the protocol's way


class Session:
    """One WebSocket connection, whatever its protocol. Implements realtime.engine.Connection."""

    __slots__ = (
        "__weakref__",
        "_aborted",
        "_close",
        "_closed",
        "_closer",
        "_idle",
        "_idle_timer",
        "_ka_timer",
        "_last_frame",
        "_main",
        "_tasks",
        "_timers",
        "_tokens",
        "_tokens_at",
        "_writer",
        "codec",
        "context",
        "engine",
        "identity",
        "operations",
        "outbox",
        "settings",
        "state",
        "subscriptions",
        "websocket",
    )

    def __init__(self, websocket: WebSocket, context: RealtimeContext, codec: Codec) -> None:
        self.websocket = websocket
        self.context = context
        self.engine = context.engine
        self.settings = context.settings
        self.codec = codec
        self.state = State.CONNECTING
        self.identity: Identity | None = None
        self.outbox = Outbox(
            self.settings.max_outgoing_bytes,
            self._overflowed,
            send=frame_sender(websocket, codec),
            spawn=self._spawn_writer,
        )
        self.subscriptions: dict[str, Subscriber] = {}
        self.operations: dict[str, asyncio.Task[None]] = {}  # running, result still wanted, by id
        self._tasks: dict[asyncio.Task[None], str] = {}  # every operation task not done yet -> its kind
        self._close: tuple[int, str] = (CLOSE_NORMAL, "")
        self._writer: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None
        self._main: asyncio.Task[Any] | None = None
        self._aborted = False
        self._timers: list[asyncio.TimerHandle] = []
        self._ka_timer: asyncio.TimerHandle | None = None
        self._idle: tuple[float, Callable[[], None]] | None = None  # see watch_idle
        self._idle_timer: asyncio.TimerHandle | None = None
        self._last_frame = 0.0
        self._closed: asyncio.Future[None] | bool = False  # True once closed; a future while awaited
        self._tokens = START_BURST
        self._tokens_at = time.monotonic()

    # --- engine.Connection

    @property
    def user_sub(self) -> str | None:
        return self.identity.sub if self.identity else None

    async def wait_closed(self) -> None:
        if self._closed is True:
            return
        if self._closed is False:
            self._closed = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._closed)

    def disconnect(self, code: int, reason: str) -> None:
        """Close after the queued frames are sent (aborted after CLOSE_GRACE_SECONDS if they cannot be).

        `reason` may carry client input: it is cut to the 123 bytes a close frame holds.
        """
        if self.state in (State.CLOSING, State.CLOSED):
            return
        self.state = State.CLOSING
        self._close = (code, close_reason(reason))
        self._stop_everything()
        self.outbox.close()
        self._closer = asyncio.create_task(self._close_when_drained())
        loop = asyncio.get_running_loop()
        self._timers.append(loop.call_later(CLOSE_GRACE_SECONDS, self._abort))

    # --- lifecycle

    async def run(self) -> None:
        """Accept, then read until the socket closes. Runs in the ASGI task of the connection."""
        await self.websocket.accept(subprotocol=self.codec.subprotocol)
        loop = asyncio.get_running_loop()
        self._main = asyncio.current_task()
        self.engine.add_connection(self)
        self._timers.append(loop.call_later(self.settings.connection_init_timeout, self._init_expired))
        self._timers.append(loop.call_later(self.settings.max_connection_age, self._max_age))
        try:
            await self._read()
        except asyncio.CancelledError:
            if not self._aborted:
                raise
            if self._main is not None:
                self._main.uncancel()
        finally:
            await self._finish()

    async def _read(self) -> None:
        receive = self.websocket.receive
        while True:
            # No local keeps the last frame alive while waiting (a start frame carries a ~1 KB token).
            if await self._on_message(await receive()):
                return

    async def _on_message(self, message: Mapping[str, Any]) -> bool:
        """Handle one ASGI message; True when the socket is gone."""
        if self._idle is not None:
            self._last_frame = time.monotonic()
        if message["type"] == "websocket.disconnect":
            return True
        if self.state is not State.READY and self.state is not State.CONNECTING:
            return False
        codec = self.codec
        if getattr(codec, "binary", False):  # the codec reads raw frames itself (MQTT packets span frames)
            return await self._handle(codec, dict(message))
        text = message.get("text")
        if text is None:
            codec.invalid(self, "Binary frames are not supported")
            return False
        try:
            data = loads_strict(text)
        except ValueError:
            codec.invalid(self, "Invalid JSON")
            return False
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            codec.invalid(self, "Invalid message")
            return False
        return await self._handle(codec, data)

    async def _handle(self, codec: Codec, data: dict[str, Any]) -> bool:
        try:
            await codec.handle(self, data)
        except Exception:
            log.exception("%s message failed", type(codec).__name__)
            self.disconnect(CLOSE_INTERNAL_ERROR, "Internal error")
        return False

    def _spawn_writer(self) -> None:
        self._writer = asyncio.create_task(self._write())

    async def _write(self) -> None:
        """The connection's one writer: runs only while there is a backlog (see Outbox)."""
        try:
            await self.outbox.drain(frame_sender(self.websocket, self.codec))
        except Exception as error:  # the peer went away mid-send: nothing left to tell it
            log.debug("writer stopped: %r", error)
            self.outbox.fail()

    async def _close_when_drained(self) -> None:
        try:
            writer = self._writer
            if writer is not None and not writer.done():
                await writer
            if self.outbox.overflowed or self.outbox.failed:
                return
            code, reason = self._close
            await self.websocket.close(code, reason)
        except Exception as error:
            log.debug("close failed: %r", error)

    async def _finish(self) -> None:
        self.state = State.CLOSED
        self._stop_everything()
        self.outbox.close()
        for timer in self._timers:
            timer.cancel()
        if self._ka_timer is not None:
            self._ka_timer.cancel()
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        closer = self._closer
        if closer is not None and not closer.done() and not self._aborted:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(closer), SLOW_CLOSE_SECONDS)
        for task in (self._closer, self._writer):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        try:
            await self._await_operations()
        finally:
            self.engine.remove_connection(self)
            waiter, self._closed = self._closed, True
            if isinstance(waiter, asyncio.Future) and not waiter.done():
                waiter.set_result(None)

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

    def _abort(self) -> None:
        """Stop reading now: the socket could not be closed politely."""
        if self.state is State.CLOSED or self._main is None or self._main.done():
            return
        self._aborted = True
        self._main.cancel()

    def _overflowed(self) -> None:
        # Called from inside the engine's fan-out loop: touch no hub state here.
        if self.state is State.CLOSED:
            return
        self.engine.note_slow_consumer()
        self.state = State.CLOSING
        self._close = (CLOSE_SLOW_CONSUMER, "Slow consumer")
        asyncio.get_running_loop().call_soon(self._drop_slow)

    def _drop_slow(self) -> None:
        self._stop_everything()
        if self._writer is not None:
            self._writer.cancel()
        self._closer = asyncio.create_task(self._close_slow())

    async def _close_slow(self) -> None:
        try:
            await asyncio.wait_for(
                self.websocket.close(CLOSE_SLOW_CONSUMER, "Slow consumer"), SLOW_CLOSE_SECONDS
            )
        except Exception:
            self._abort()

    def _init_expired(self) -> None:
        if self.state is State.CONNECTING:
            self.codec.init_timeout(self)

    def _max_age(self) -> None:
        self.disconnect(CLOSE_GOING_AWAY, "Connection max age reached")

    def _keepalive(self) -> None:
        frame = self.codec.keepalive
        if self.state is State.READY and frame is not None:
            self.send_text(frame)
            loop = asyncio.get_running_loop()
            self._ka_timer = loop.call_later(self.settings.ka_interval, self._keepalive)

    # --- what codecs call

    def send(self, frame: Mapping[str, Any]) -> None:
        self.outbox.push(json.dumps(frame, separators=(",", ":"), ensure_ascii=False))

    def send_text(self, frame: str) -> None:
        self.outbox.push(frame)

    def send_bytes(self, frame: bytes) -> None:
        """Queue a binary frame (codecs with `binary = True`)."""
        self.outbox.push(frame)  # type: ignore[arg-type]

    def watch_idle(self, seconds: float, on_idle: Callable[[], None]) -> None:
        """Call `on_idle` once no frame has arrived for `seconds` (MQTT's keep-alive); 0 turns it off."""
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        self._idle = (seconds, on_idle) if seconds > 0 else None
        if self._idle is not None:
            self._last_frame = time.monotonic()
            self._idle_timer = asyncio.get_running_loop().call_later(seconds, self._idle_check)

    def _idle_check(self) -> None:
        self._idle_timer = None
        if self._idle is None or self.state is State.CLOSED:
            return
        seconds, on_idle = self._idle
        left = self._last_frame + seconds - time.monotonic()
        if left > 0:
            self._idle_timer = asyncio.get_running_loop().call_later(left, self._idle_check)
            return
        self._idle = None
        on_idle()

    def acknowledge(self, identity: Identity | None, *frames: Mapping[str, Any]) -> None:
        """connection_init accepted: send the ack frames, then keep-alives if the protocol has them."""
        self.state = State.READY
        self.identity = identity
        if identity is not None:
            self.engine.set_user(self, connection_key(identity))
        for frame in frames:
            self.send(frame)
        if self.codec.keepalive is not None:
            self._keepalive()

    def authenticate(self, authorization: str | None) -> Identity:
        """Verify a token (raw or `Bearer `); raises UnauthorizedException."""
        if not authorization:
            raise UnauthorizedException(UnauthorizedException.MISSING)
        identity = self.context.verifier.verify(authorization)
        self.engine.set_user(self, identity.sub)
        self.engine.watch_expiry(self, identity.expires_at, self._credentials_expired)
        return identity

    async def authenticate_headers(self, header: Mapping[str, Any] | None) -> Identity:
        """Credentials in any enabled mode (`Authorization`, `x-api-key`, whatever their case) -> Identity;
        raises UnauthorizedException. The connection is indexed by the credential, to be closed when it dies."""
        resolver = self.context.credentials
        if resolver is None:
            return self.authenticate(header_value(header, "authorization"))
        identity = await resolver.resolve_headers(header)
        self.engine.set_user(self, connection_key(identity))
        self.engine.watch_expiry(self, identity.expires_at, self._credentials_expired)
        return identity

    def _credentials_expired(self) -> None:
        """Called by the engine's expiry sweep: the token this connection relies on has expired."""
        if self.state is State.CLOSING or self.state is State.CLOSED:
            return
        expired = getattr(self.codec, "expired", None)
        if expired is not None:
            expired(self)
        else:
            self.disconnect(CLOSE_UNAUTHORIZED, EXPIRED_REASON)

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
            self.codec.data_prefix(op_id),
            end=lambda ended: self.end_subscription(op_id, ended),
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
        complete_frame = getattr(self.codec, "complete_frame", None)
        if complete_frame is not None and self.state is State.READY:
            self.send(complete_frame(op_id))

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
