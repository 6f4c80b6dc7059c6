"""What every resolver receives as `info.context`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chatserver.auth.identity import Identity

if TYPE_CHECKING:
    from chatserver.app import Services


@dataclass(frozen=True, slots=True)
class RequestContext:
    identity: Identity
    services: Services
    request_id: str
