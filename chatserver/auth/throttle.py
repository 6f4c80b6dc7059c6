"""Sliding-window limits on failures (sign-in per user and per address, code sends per user). In memory, bounded."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable

DEFAULT_MAX_KEYS = 100_000


class FailureWindow:
    """Counts failures per key within `window` seconds; a key with `limit` of them is refused.

    An attempt is counted when it starts (`begin`), so concurrent guesses cannot slip past the limit while their
    password checks run; `forgive` takes one back. At most `max_keys` keys are kept: the least recently touched
    go first.
    """

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        max_keys: int = DEFAULT_MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = max(1, limit)
        self.window = window
        self._max_keys = max_keys
        self._clock = clock
        self._entries: OrderedDict[str, deque[float]] = OrderedDict()

    def count(self, key: str) -> int:
        entry = self._entries.get(key)
        if entry is None:
            return 0
        self._expire(entry, self._clock())
        if not entry:
            del self._entries[key]
            return 0
        return len(entry)

    def is_locked(self, key: str) -> bool:
        return self.count(key) >= self.limit

    def begin(self, key: str) -> float:
        """Count an attempt now; returns its timestamp (pass it to `forgive` if it turns out fine)."""
        now = self._clock()
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = deque(maxlen=self.limit)
            if len(self._entries) > self._max_keys:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(key)
            self._expire(entry, now)
        entry.append(now)
        return now

    def forgive(self, key: str, stamp: float) -> None:
        entry = self._entries.get(key)
        if entry is not None and stamp in entry:
            entry.remove(stamp)

    def reset(self, key: str) -> None:
        self._entries.pop(key, None)

    def any_locked(self, keys: Iterable[str]) -> bool:
        return any(self.is_locked(key) for key in keys)

    def __len__(self) -> int:
        return len(self._entries)

    def _expire(self, entry: deque[float], now: float) -> None:
        while entry and now - entry[0] >= self.window:
            entry.popleft()


class SigninThrottle:
    """Slows, then refuses, repeated failed sign-ins for one username or one client address."""

    def __init__(
        self,
        max_failures: int,
        lockout_seconds: float,
        *,
        address_max_failures: int | None = None,
        base_delay: float = 0.05,
        max_delay: float = 2.0,
        max_keys: int = DEFAULT_MAX_KEYS,
    ) -> None:
        self.users = FailureWindow(max_failures, lockout_seconds, max_keys=max_keys)
        self.addresses = FailureWindow(
            address_max_failures or max_failures, lockout_seconds, max_keys=max_keys
        )
        self._base_delay = base_delay
        self._max_delay = max_delay

    def is_locked(self, username: str, address: str | None) -> bool:
        if self.users.is_locked(username):
            return True
        return address is not None and self.addresses.is_locked(address)

    def begin(self, username: str, address: str | None) -> tuple[float, float | None]:
        return self.users.begin(username), (self.addresses.begin(address) if address else None)

    def succeeded(self, username: str, address: str | None, stamps: tuple[float, float | None]) -> None:
        self.users.reset(username)
        if address is not None and stamps[1] is not None:
            self.addresses.forgive(address, stamps[1])

    def failure_delay(self, username: str, address: str | None) -> float:
        """Seconds to hold a failed answer: doubling with each recent failure, capped."""
        by_address = (
            self.addresses.count(address) * self.users.limit // self.addresses.limit if address else 0
        )
        failures = max(self.users.count(username), by_address)
        if failures <= 1:
            return 0.0
        return min(self._base_delay * 2 ** (failures - 2), self._max_delay)
