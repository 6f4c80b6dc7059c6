"""Revocations in memory: per user, the epoch second up to which every issued token is void (global sign-out);
per session (`origin_jti`), the sessions ended by RevokeToken."""

from __future__ import annotations

from collections.abc import Mapping


class Revocations:
    """sub -> tokens_valid_after (the accounts column), read on every token check, so it stays a dict lookup.

    Loaded from the database at start and updated by sign-out on this replica through `note_revoked`;
    a scale-out feed can call `note_revoked` for sign-outs on other replicas. Values only ever move forward.
    """

    def __init__(self, initial: Mapping[str, int] | None = None) -> None:
        self._valid_after: dict[str, int] = {}
        self._sessions: dict[str, float] = {}  # origin_jti -> when no token of it can be alive any more
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

    def note_session_revoked(self, origin_jti: str, forget_at: float) -> None:
        """Void every token issued from one refresh token (RevokeToken) until `forget_at` (epoch seconds),
        after which none of them is unexpired anyway."""
        if forget_at > self._sessions.get(origin_jti, 0):
            self._sessions[origin_jti] = forget_at

    def is_session_revoked(self, origin_jti: object) -> bool:
        return isinstance(origin_jti, str) and origin_jti in self._sessions

    def knows_session(self, origin_jti: str) -> bool:
        return origin_jti in self._sessions

    def prune_sessions(self, now: float) -> None:
        for origin_jti in [o for o, until in self._sessions.items() if until <= now]:
            del self._sessions[origin_jti]

    def __len__(self) -> int:
        return len(self._valid_after)
