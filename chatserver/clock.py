"""Time as the seed apps' resolvers write it: ISO 8601 UTC with milliseconds and `Z`, and epoch milliseconds."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def iso_now() -> str:
    """`2022-08-11T17:32:11.123Z`"""
    return iso_from_epoch_ms(epoch_ms())


def iso_from_epoch_ms(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def epoch_ms() -> int:
    return time.time_ns() // 1_000_000


def epoch_s() -> int:
    return int(time.time())
