"""Counters of the real-time engine: plain attributes, read by /metrics and the bench."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class RealtimeMetrics:
    """Monotonic counters and two gauges (`connections`, `subscriptions`). Single-threaded: the event loop owns it."""

    publishes: int = 0  # publications received from the broker
    publish_errors: int = 0  # publications that failed to fan out (logged)
    encodings: int = 0  # projections computed and encoded (one per distinct selection set per publish)
    deliveries: int = 0  # frames queued to a subscriber
    oversize_drops: int = 0  # deliveries skipped because the payload exceeded max_payload_bytes
    slow_consumer_disconnects: int = 0  # connections dropped because their outgoing buffer overflowed
    connections: int = 0  # open connections (gauge)
    subscriptions: int = 0  # active subscriptions (gauge)
    connections_total: int = 0
    subscriptions_total: int = 0

    def snapshot(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}
