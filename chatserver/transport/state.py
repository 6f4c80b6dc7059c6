"""What the transports reach through `app.state.services`: the shared parts plus the transport-only ones."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from chatserver.services import Services

if TYPE_CHECKING:
    from chatserver.execution.executor import Executor
    from chatserver.schema.permissions import AuthRules
    from chatserver.transport.mqtt.grants import GrantSigner


@dataclass(slots=True)
class AppServices(Services):
    """`Services` plus the executor (which itself holds the `Services`), the auth-mode field rules and the legacy
    MQTT handshake's URL signer."""

    executor: Executor  # every transport's one execution path
    auth_rules: AuthRules  # which fields each auth mode may use
    mqtt_grants: GrantSigner  # legacy MQTT subscriptions: the handshake's signed URLs

    @classmethod
    def around(
        cls, services: Services, *, executor: Executor, auth_rules: AuthRules, mqtt_grants: GrantSigner
    ) -> AppServices:
        """The same parts as `services` (not copies), with the transport-only ones added."""
        shared = {field.name: getattr(services, field.name) for field in fields(Services)}
        return cls(**shared, executor=executor, auth_rules=auth_rules, mqtt_grants=mqtt_grants)
