"""Who is calling: the verified claims of a Cognito-shaped ID or access token."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ADMIN_GROUP = "admin"


@dataclass(frozen=True, slots=True)
class Identity:
    """A verified caller. `username` is `cognito:username` (ID token) or `username` (access token)."""

    sub: str
    username: str
    groups: frozenset[str] = frozenset()
    token_use: str = "access"
    issued_at: int = 0
    expires_at: int = 0
    claims: Mapping[str, Any] = field(default_factory=dict)
    mode: str = "USER_POOL"  # how it was proven: USER_POOL, OPENID_CONNECT, or API_KEY (sub = the key's id)

    @property
    def is_admin(self) -> bool:
        return ADMIN_GROUP in self.groups

    def in_any_group(self, groups: frozenset[str] | set[str] | list[str] | tuple[str, ...]) -> bool:
        return not self.groups.isdisjoint(groups)
