"""The subscription handshake over HTTP (APPSYNC.md section 10): a subscription POSTed to /graphql is answered
with the MQTT URL, client id and topic to listen on, in `extensions.subscription`."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from chatserver.auth.identity import Identity
from chatserver.execution.error_format import appsync_error
from chatserver.metrics import count_error
from chatserver.transport.mqtt.grants import GrantedSubscription, GrantSigner, TokenTooLarge
from chatserver.transport.mqtt.session import SUBPROTOCOLS, MqttCodec, new_client_registry
from chatserver.transport.session import RealtimeContext, Session, StartRefused

MQTT_PATH = "/mqtt"
HANDSHAKE_ID = "handshake"


class _NoSocket:
    """The socket of a connection that does not exist yet: a handshake only checks, it never sends."""

    scope: Mapping[str, Any] = MappingProxyType({})  # an ASGI scope without the server's extensions

    async def send_text(self, frame: str) -> None:
        raise RuntimeError("a handshake has no socket")

    async def send_bytes(self, frame: bytes) -> None:
        raise RuntimeError("a handshake has no socket")


def mqtt_base_url(public_url: str) -> str:
    """ws(s)://<public host>/mqtt for the server's public http(s) URL."""
    scheme, _, rest = public_url.partition("://")
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest.rstrip('/')}{MQTT_PATH}"


def subscription_handshake(
    context: RealtimeContext,
    signer: GrantSigner,
    public_url: str,
    request: Mapping[str, Any],
    identity: Identity,
) -> dict[str, Any]:
    """The AppSync-shaped answer to a subscription over HTTP: `{"data": {field: null}, "extensions": ...}`,
    or `{"data": null, "errors": [...]}` for whatever a WebSocket `start` of it would be refused with."""
    # Checked by a session of its own, as a `start` on a fresh connection: validation, limits, field auth.
    checker = Session(
        _NoSocket(), context, MqttCodec(SUBPROTOCOLS[0], signer, None, None, new_client_registry())
    )  # type: ignore[arg-type]
    try:
        prepared = checker.prepare(HANDSHAKE_ID, request, identity, subscriptions_only=True)
    except StartRefused as refused:
        return _errors(
            [
                appsync_error(
                    str(e.get("message", refused.message)),
                    error_type=e.get("errorType"),
                    path=e.get("path"),
                    locations=e.get("locations"),
                )
                for e in refused.errors
            ]
        )
    assert prepared.compiled is not None
    compiled = prepared.compiled
    topic = signer.topic(identity, compiled.field_name, request)
    try:
        grant, token = signer.issue(identity, (GrantedSubscription(topic, dict(request)),))
    except TokenTooLarge as error:
        return _errors([appsync_error(str(error), error_type="UnsupportedOperation")])
    key = compiled.plan.response_key
    connection = {
        "client": grant.client_id,
        "url": f"{mqtt_base_url(public_url)}?token={token}",
        "topics": [topic],
    }
    return {
        "data": {key: None},
        "extensions": {
            "subscription": {
                "mqttConnections": [connection],
                "newSubscriptions": {key: {"topic": topic, "expireTime": None}},
            }
        },
    }


def _errors(errors: list[dict[str, Any]]) -> dict[str, Any]:
    for error in errors:
        count_error(error["errorType"])
    return {"data": None, "errors": errors}


def mqtt_handshake(app: Any, request: Mapping[str, Any], identity: Identity) -> dict[str, Any]:
    """`subscription_handshake` with the app's services (what transport/http.py calls)."""
    from chatserver.transport.websocket import realtime_context

    services = app.state.services
    context = getattr(app.state, "realtime_context", None)
    if context is None:
        context = app.state.realtime_context = realtime_context(services)
    return subscription_handshake(
        context, services.mqtt_grants, services.settings.resolved_public_url, request, identity
    )
