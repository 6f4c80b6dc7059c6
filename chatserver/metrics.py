"""Prometheus metrics of one app (its own CollectorRegistry) and the request context logs and metrics read.

Everything is named `chatserver_*`. The real-time engine keeps plain counters (`RealtimeMetrics`); they are read
at scrape time by `RealtimeCollector`, so the fan-out path never touches prometheus-client.
"""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from chatserver.realtime.broker import Broker, Publication, PublicationHandler

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

# The request being served (HTTP request or WebSocket connection), set by transport.health.RequestObserver.
request_id_var: ContextVar[str | None] = ContextVar("chatserver_request_id", default=None)
_metrics_var: ContextVar[ServerMetrics | None] = ContextVar("chatserver_metrics", default=None)


def current_request_id() -> str | None:
    return request_id_var.get()


_process_tag = secrets.token_hex(4)
_request_counter = itertools.count(1)


def new_request_id() -> str:
    """Unique across processes and restarts (a random per-process tag and a counter), and cheaper than a
    uuid4 on every request: it only has to tell requests apart in logs, never to be unguessable."""
    return f"{_process_tag}-{next(_request_counter):08x}"


def count_error(error_type: str | None) -> None:
    """Count one error returned to a client, by errorType, on the metrics of the app serving this request."""
    metrics = _metrics_var.get()
    if metrics is not None:
        metrics.errors.labels(error_type or "GraphQLError").inc()


class ServerMetrics:
    """The metrics of one app. `realtime` is the engine's RealtimeMetrics, attached once the engine exists."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "chatserver_requests",
            "HTTP requests served, by method, route and status code",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.errors = Counter(
            "chatserver_errors",
            "Errors returned to clients, by AppSync errorType",
            ["error_type"],
            registry=self.registry,
        )
        self.publish_latency = Histogram(
            "chatserver_publish_to_send_seconds",
            "From a mutation's publish to its frames being sent or queued to this process's subscribers",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.realtime: Any = None
        self.broker: Any = None
        self.registry.register(RealtimeCollector(lambda: self.realtime, lambda: self.broker))

    def bind(self) -> Any:
        """Make this app's metrics the ones `count_error` updates in the current context; returns the reset token."""
        return _metrics_var.set(self)

    def unbind(self, token: Any) -> None:
        _metrics_var.reset(token)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def instrument(self, broker: Broker) -> Broker:
        """Wrap the engine's broker so each publication's publish-to-send time is observed."""
        self.broker = InstrumentedBroker(broker, self.publish_latency.observe)
        return self.broker


class RealtimeCollector(Collector):
    """Reads the engine's counters at scrape time."""

    def __init__(self, realtime: Callable[[], Any], broker: Callable[[], Any]) -> None:
        self._realtime = realtime
        self._broker = broker

    def collect(self) -> Iterator[Metric]:
        counters = self._realtime()
        values = counters.snapshot() if counters is not None else {}

        def counter(name: str, doc: str, key: str) -> CounterMetricFamily:
            return CounterMetricFamily(name, doc, value=values.get(key, 0))

        def gauge(name: str, doc: str, key: str) -> GaugeMetricFamily:
            return GaugeMetricFamily(name, doc, value=values.get(key, 0))

        yield gauge("chatserver_open_connections", "Open WebSocket connections", "connections")
        yield gauge("chatserver_live_subscriptions", "Active subscriptions", "subscriptions")
        yield counter("chatserver_connections", "WebSocket connections accepted", "connections_total")
        yield counter("chatserver_subscriptions", "Subscriptions started", "subscriptions_total")
        yield counter("chatserver_publications", "Publications received from the broker", "publishes")
        yield counter("chatserver_publish_errors", "Publications that failed to fan out", "publish_errors")
        yield counter(
            "chatserver_encodings", "Projections encoded (one per selection set per publish)", "encodings"
        )
        yield counter("chatserver_deliveries", "Frames queued or sent to subscribers", "deliveries")
        yield counter(
            "chatserver_drops", "Deliveries dropped because the payload was over the limit", "oversize_drops"
        )
        yield counter(
            "chatserver_slow_consumer_disconnects",
            "Connections closed because their outgoing buffer overflowed",
            "slow_consumer_disconnects",
        )
        broker = self._broker()
        up = 1 if broker is None or getattr(broker, "connected", True) else 0
        yield GaugeMetricFamily("chatserver_broker_up", "1 while the broker is reachable", value=up)


class InstrumentedBroker:
    """A Broker that times each publication from publish (in any process) to the end of its local fan-out.

    The fan-out queues each frame and, when the socket has room, sends it in the same step, so this is the
    publish-to-send time for every subscriber that keeps up. Brokers that carry the publish time across processes
    expose it as `current_published_at` (epoch seconds) while they call the handler.
    """

    def __init__(self, inner: Broker, observe: Callable[[float], None]) -> None:
        self.inner = inner
        self._observe = observe
        self._local_started: float | None = None

    @property
    def connected(self) -> bool:
        return bool(getattr(self.inner, "connected", True))

    async def start(self, handler: PublicationHandler) -> None:
        inner, observe = self.inner, self._observe

        def timed(publication: Publication) -> None:
            started = getattr(inner, "current_published_at", None) or self._local_started
            handler(publication)
            if started is not None:
                observe(max(0.0, time.time() - started))

        await inner.start(timed)

    async def publish(self, publication: Publication) -> None:
        self._local_started = time.time()
        try:
            await self.inner.publish(publication)
        finally:
            self._local_started = None

    async def stop(self) -> None:
        await self.inner.stop()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
