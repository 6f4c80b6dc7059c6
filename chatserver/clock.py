"""Time as the seed apps' resolvers write it: ISO 8601 UTC with milliseconds and `Z`, and epoch milliseconds."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from functools import lru_cache


def iso_now() -> str:
    """`2022-08-11T17:32:11.123Z`"""
    return iso_from_epoch_ms(epoch_ms())


def iso_from_epoch_ms(ms: int) -> str:
    return _second_prefix(ms // 1000) + f"{ms % 1000:03d}Z"


@lru_cache(maxsize=64)
def _second_prefix(seconds: int) -> str:
    """`2022-08-11T17:32:11.` — formatted once per second, not once per row."""
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.")


def epoch_ms() -> int:
    return time.time_ns() // 1_000_000


def epoch_s() -> int:
    return int(time.time())
