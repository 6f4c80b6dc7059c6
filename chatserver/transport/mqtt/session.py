"""MQTT 3.1 / 3.1.1 over WebSocket, as a binary codec over the shared session (transport/session.py).

The session does what it does for every protocol: one bounded outbox and writer, the slow-consumer rule, the
connect deadline, the maximum age, sign-out (the engine's `disconnect_user`), and `prepare`/`subscribe`, so a
topic's subscription is checked and fed exactly as a WebSocket `start` is. This module only turns packets into
those calls: CONNECT checks the signed URL (grants.py) and the client id, SUBSCRIBE accepts the topics the URL
handed out, PUBLISH frames go out through the engine's one fan-out path (`TopicFrames`).

MQTT has no error or `complete` packet a server may send, so the ends other protocols announce are closes here:
credentials that expire (the grant carries their `exp`) close with 4401 through the engine's expiry sweep, and a
server-side end (room deleted, group removed) closes the connection once it has no subscription left (4410), so
the client's connection-lost handler runs (aws-appsync 1.x errors that subscription's observers).
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import MutableMapping
from typing import Any

from chatserver.transport.mqtt.codec import (
    MalformedPacket,
    PacketReader,
    PacketTooLarge,
    encode,
    publish_head,
    topic_block,
)
from chatserver.transport.mqtt.grants import GrantRefused, GrantSigner, MqttGrant
from chatserver.transport.mqtt.packets import (
    PROTOCOL_MQTT_31,
    PROTOCOL_MQTT_311,
    SUBACK_FAILURE,
    ConnAck,
    Connect,
    ConnectCode,
    Disconnect,
    Packet,
    PingReq,
    PingResp,
    Publish,
    SubAck,
    Subscribe,
    UnsubAck,
    Unsubscribe,
)
from chatserver.transport.session import Session, StartRefused, State

log = logging.getLogger("chatserver.mqtt")

SUBPROTOCOLS = ("mqtt", "mqttv3.1")  # 3.1.1 and 3.1; the reply echoes the one offered
MAX_INCOMING_PACKET_BYTES = 64 * 1024  # a client only sends CONNECT, SUBSCRIBE and the like: small packets
KEEPALIVE_FACTOR = 1.5  # MQTT 3.1.1 section 3.1.2.10

CLOSE_NORMAL = 1000  # the client sent DISCONNECT
CLOSE_PROTOCOL_ERROR = 1002  # malformed packet, packet before CONNECT, a packet a client may not send
CLOSE_UNSUPPORTED_DATA = 1003  # a text frame: MQTT travels in binary frames
CLOSE_POLICY_VIOLATION = 1008  # CONNECT refused (after its CONNACK), or the client tried to PUBLISH
CLOSE_TOO_BIG = 1009  # a packet's remaining length is over MAX_INCOMING_PACKET_BYTES
CLOSE_TIMEOUT = 4408  # no CONNECT in time, or nothing received for 1.5 x the keep-alive
CLOSE_TAKEN_OVER = 4409  # a newer connection with the same client id took over (MQTT's rule)
CLOSE_UNAUTHORIZED = 4401  # the ID/access token the handshake was made with expired (as on every protocol)
CLOSE_SUBSCRIPTIONS_ENDED = 4410  # the server ended the connection's last subscription (room deleted, ...)
EXPIRED_REASON = "Unauthorized: token expired"
ENDED_REASON = "Subscription ended by the server"

Clients = MutableMapping[str, Session]  # client id -> its live session, on this replica


def new_client_registry() -> Clients:
    """Live MQTT sessions by client id; closed sessions drop out by themselves."""
    return weakref.WeakValueDictionary()


class TopicFrames:
    """The engine's frame builder for one subscriber: a QoS 0 PUBLISH of the payload to its topic."""

    __slots__ = ("block",)

    # The engine frames one payload for every subscriber of a plan group in a row (on the event loop): the
    # last payload's UTF-8 and fixed header are kept, so a publish to N subscribers encodes them once, not N
    # times (the topics of one field all have the same length, hence the same remaining length).
    _last: tuple[str | None, bytes, int, bytes] = (None, b"", -1, b"")  # payload, UTF-8, block length, head

    def __init__(self, topic: str) -> None:
        self.block = topic_block(topic)

    def frame(self, payload: str) -> bytes:
        head, encoded = self.parts(payload)
        return head + encoded

    def parts(self, payload: str) -> tuple[bytes, bytes]:
        """This subscriber's PUBLISH head (fixed header and topic), and the payload bytes all subscribers share."""
        block = self.block
        last_payload, encoded, block_length, head = TopicFrames._last
        if payload is not last_payload or len(block) != block_length:
            if payload is not last_payload:
                encoded = payload.encode()
            head = publish_head(len(block) + len(encoded))
            TopicFrames._last = (payload, encoded, len(block), head)
        return head + block, encoded


class MqttCodec:
    """One MQTT connection: CONNECT -> CONNACK; SUBSCRIBE -> SUBACK then PUBLISHes; PINGREQ -> PINGRESP."""

    binary = True  # the session hands over raw ASGI messages and sends bytes
    keepalive: str | None = None  # the client pings; the server only watches (watch_idle)

    def __init__(
        self,
        subprotocol: str,
        signer: GrantSigner,
        token: str | None,
        revocations: Any,
        clients: Clients,
    ) -> None:
        self.subprotocol: str | None = subprotocol
        self._signer = signer
        self._token = token
        self._revocations = revocations  # auth.revocations.Revocations
        self._clients = clients
        self._reader = PacketReader(MAX_INCOMING_PACKET_BYTES)
        self.grant: MqttGrant | None = None
        self.level = 4  # 4: MQTT 3.1.1, 3: MQTT 3.1 (known once CONNECT arrives)
        self._topics: dict[str, Any] = {}

    def data_prefix(self, op_id: str) -> TopicFrames:
        return TopicFrames(op_id)  # a subscription's id is its topic

    # --- frames in

    async def handle(self, session: Session, message: dict[str, Any]) -> None:
        data = message.get("bytes")
        if data is None:
            self._close(session, CLOSE_UNSUPPORTED_DATA, "MQTT needs binary frames")
            return
        try:
            packets = self._reader.feed(data)
        except PacketTooLarge as error:
            self._close(session, CLOSE_TOO_BIG, str(error))
            return
        except MalformedPacket as error:
            self._close(session, CLOSE_PROTOCOL_ERROR, f"Malformed packet: {error}")
            return
        for packet in packets:
            if session.state is not State.READY and session.state is not State.CONNECTING:
                return
            self._dispatch(session, packet)

    def _dispatch(self, session: Session, packet: Packet) -> None:
        if self.grant is None:
            if isinstance(packet, Connect):
                self.handle_connect(session, packet)
            else:
                self._close(session, CLOSE_PROTOCOL_ERROR, "CONNECT must be the first packet")
        elif isinstance(packet, Subscribe):
            self.handle_subscribe(session, packet)
        elif isinstance(packet, Unsubscribe):
            self.handle_unsubscribe(session, packet)
        elif isinstance(packet, PingReq):
            session.send_bytes(encode(PingResp()))
        elif isinstance(packet, Disconnect):
            session.disconnect(CLOSE_NORMAL, "DISCONNECT")
        elif isinstance(packet, Publish):
            self._close(session, CLOSE_POLICY_VIOLATION, "Clients cannot publish")
        else:
            self._close(session, CLOSE_PROTOCOL_ERROR, f"Unexpected {type(packet).__name__}")

    def handle_connect(self, session: Session, connect: Connect) -> None:
        version = (connect.protocol_name, connect.protocol_level)
        if version not in (PROTOCOL_MQTT_31, PROTOCOL_MQTT_311):
            if connect.protocol_name not in (PROTOCOL_MQTT_31[0], PROTOCOL_MQTT_311[0]):
                self._close(session, CLOSE_PROTOCOL_ERROR, "Not an MQTT CONNECT")
                return
            self._refuse(session, ConnectCode.UNACCEPTABLE_PROTOCOL_VERSION, "Unsupported MQTT version")
            return
        self.level = connect.protocol_level
        if connect.will is not None:
            self._refuse(session, ConnectCode.NOT_AUTHORIZED, "Clients cannot publish, not even a will")
            return
        try:
            if not self._token:
                raise GrantRefused(GrantRefused.INVALID)
            grant = self._signer.open(self._token)
        except GrantRefused as refused:
            self._refuse(session, ConnectCode.NOT_AUTHORIZED, f"Not authorized: URL {refused.reason}")
            return
        if self._revoked(grant):
            self._refuse(session, ConnectCode.NOT_AUTHORIZED, "Not authorized: signed out")
            return
        if 0 < grant.token_expires_at <= time.time():
            self._refuse(session, ConnectCode.NOT_AUTHORIZED, "Not authorized: token expired")
            return
        if connect.client_id != grant.client_id:
            self._refuse(session, ConnectCode.IDENTIFIER_REJECTED, "Client id does not match the URL")
            return
        self._token = None  # not kept for the connection's life
        self.grant = grant
        self._topics = grant.topic_requests()
        previous = self._clients.get(grant.client_id)
        if previous is not None and previous is not session:
            previous.disconnect(CLOSE_TAKEN_OVER, "Session taken over")
        self._clients[grant.client_id] = session
        session.acknowledge(grant.identity())
        session.send_bytes(encode(ConnAck(ConnectCode.ACCEPTED)))
        session.engine.watch_expiry(session, grant.token_expires_at, lambda: self.expired(session))
        if connect.keep_alive:
            session.watch_idle(
                connect.keep_alive * KEEPALIVE_FACTOR,
                lambda: session.disconnect(CLOSE_TIMEOUT, "Keep-alive timeout"),
            )

    def handle_subscribe(self, session: Session, subscribe: Subscribe) -> None:
        """Each topic handed out by the URL is granted (at QoS 0); any other gets the failure code on 3.1.1,
        and on 3.1 (which has none) a grant that never delivers anything."""
        assert self.grant is not None
        refused = SUBACK_FAILURE if self.level == 4 else 0
        identity = session.identity
        codes = []
        for topic, _qos in subscribe.filters:
            request = self._topics.get(topic)
            if request is None or identity is None:
                codes.append(refused)
                continue
            if (
                topic in session.subscriptions
            ):  # MQTT replaces a subscription: the same one again changes nothing
                codes.append(0)
                continue
            try:
                prepared = session.prepare(topic, request, identity, subscriptions_only=True)
            except StartRefused as error:
                log.info("SUBSCRIBE %s refused: %s", topic, error.message)
                codes.append(refused)
                continue
            session.subscribe(prepared)
            codes.append(0)
        session.send_bytes(encode(SubAck(subscribe.packet_id, tuple(codes))))

    def handle_unsubscribe(self, session: Session, unsubscribe: Unsubscribe) -> None:
        for topic in unsubscribe.topics:
            session.stop(topic)
        session.send_bytes(encode(UnsubAck(unsubscribe.packet_id)))

    # --- session callbacks

    def invalid(self, session: Session, reason: str) -> None:
        self._close(session, CLOSE_PROTOCOL_ERROR, reason)

    def init_timeout(self, session: Session) -> None:
        session.disconnect(CLOSE_TIMEOUT, "No CONNECT in time")

    def expired(self, session: Session) -> None:
        """The engine's expiry sweep: the credentials behind the handshake expired."""
        if session.state is State.READY or session.state is State.CONNECTING:
            session.disconnect(CLOSE_UNAUTHORIZED, EXPIRED_REASON)

    def subscription_ended(self, session: Session) -> None:
        """After a server-side end (room deleted, group removed) the topic has stopped; a connection left with
        no subscription closes, since MQTT cannot tell a client that one topic ended."""
        if not session.subscriptions:
            session.disconnect(CLOSE_SUBSCRIPTIONS_ENDED, ENDED_REASON)

    # --- helpers

    def _revoked(self, grant: MqttGrant) -> bool:
        """A global sign-out (or a revoked refresh token) after the handshake's session voids its URLs."""
        if grant.auth_time is not None and self._revocations.is_revoked(grant.sub, grant.auth_time):
            return True
        session_revoked = getattr(self._revocations, "is_session_revoked", None)
        return bool(grant.origin_jti and session_revoked is not None and session_revoked(grant.origin_jti))

    def _refuse(self, session: Session, code: ConnectCode, reason: str) -> None:
        session.send_bytes(encode(ConnAck(code)))
        session.disconnect(CLOSE_POLICY_VIOLATION, reason)

    def _close(self, session: Session, code: int, reason: str) -> None:
        session.disconnect(code, reason)
