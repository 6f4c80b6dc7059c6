"""Global sign-out in memory: per user, the epoch second up to which every issued token is void."""

from __future__ import annotations

from collections.abc import Mapping


class Revocations:
    """sub -> tokens_valid_after (the accounts column), read on every token check, so it stays a dict lookup.

    Loaded from the database at start and updated by sign-out on this replica through `note_revoked`;
    a scale-out feed can call `note_revoked` for sign-outs on other replicas. Values only ever move forward.
    """

    def __init__(self, initial: Mapping[str, int] | None = None) -> None:
        self._valid_after: dict[str, int] = {}
        for sub, valid_after in (initial or {}).items():
            self.note_revoked(sub, valid_after)

    def note_revoked(self, sub: str, valid_after: int) -> None:
        """Void every token of `sub` whose auth_time is at or before `valid_after` (epoch seconds)."""
        if valid_after > self._valid_after.get(sub, 0):
            self._valid_after[sub] = valid_after

    def valid_after(self, sub: str) -> int:
        return self._valid_after.get(sub, 0)

    def is_revoked(self, sub: str, auth_time: int) -> bool:
        return auth_time <= self._valid_after.get(sub, 0)

    def __len__(self) -> int:
        return len(self._valid_after)
