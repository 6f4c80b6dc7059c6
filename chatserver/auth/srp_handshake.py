"""The state between InitiateAuth and RespondToAuthChallenge, sealed into what the client carries back
(`SECRET_BLOCK` for SRP, `Session` for NEW_PASSWORD_REQUIRED), so any replica can finish what another began.

A sealed block is AES-256-GCM over a small JSON document, keyed from the data directory's secret: it cannot be
read or forged without that key, names the user and app client it was made for, expires after a few minutes
and carries a unique id that the database records on use, so a replayed block is refused on every replica.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chatserver.auth import srp

HANDSHAKE_TTL_SECONDS = 300
MAX_SEALED_CHARS = 4096
NONCE_BYTES = 12


class SealedBlockError(ValueError):
    """Not a block this server sealed (forged, truncated, tampered with, another kind) or expired."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


@dataclass(frozen=True, slots=True)
class Handshake:
    """What a sealed block says: which user and client, until when, and the SRP values if it is one."""

    kind: str  # "srp" | "new-password"
    id: str
    username: str
    sub: str | None  # None: an unknown user, whose handshake can only fail
    client_id: str
    expires_at: int
    a_public: int = 0
    b_public: int = 0
    b_private: int = 0


class HandshakeSealer:
    """Seals and opens handshake blocks with one key (derive_key(secret, "srp-handshakes"))."""

    def __init__(self, key: bytes, ttl: int = HANDSHAKE_TTL_SECONDS) -> None:
        self._aead = AESGCM(key)
        self._ttl = ttl

    def new(self, kind: str, username: str, sub: str | None, client_id: str, **values: int) -> Handshake:
        return Handshake(
            kind=kind,
            id=uuid.uuid4().hex,
            username=username,
            sub=sub,
            client_id=client_id,
            expires_at=int(time.time()) + self._ttl,
            **values,
        )

    def seal(self, handshake: Handshake) -> str:
        document = {
            "k": handshake.kind,
            "i": handshake.id,
            "u": handshake.username,
            "s": handshake.sub,
            "c": handshake.client_id,
            "e": handshake.expires_at,
        }
        if handshake.kind == "srp":
            document |= {
                "A": f"{handshake.a_public:x}",
                "B": f"{handshake.b_public:x}",
                "b": f"{handshake.b_private:x}",
            }
        nonce = secrets.token_bytes(NONCE_BYTES)
        plain = json.dumps(document, separators=(",", ":")).encode()
        return base64.b64encode(nonce + self._aead.encrypt(nonce, plain, handshake.kind.encode())).decode()

    def open(self, block: str, kind: str, now: float | None = None) -> Handshake:
        """The handshake a block holds; SealedBlockError if it is not one of `kind` sealed here, or expired."""
        if not isinstance(block, str) or not 0 < len(block) <= MAX_SEALED_CHARS or not block.isascii():
            raise SealedBlockError("malformed")
        try:
            raw = base64.b64decode(block, validate=True)
            plain = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], kind.encode())
            document: dict[str, Any] = json.loads(plain)
            handshake = Handshake(
                kind=document["k"],
                id=document["i"],
                username=document["u"],
                sub=document["s"],
                client_id=document["c"],
                expires_at=int(document["e"]),
                a_public=int(document.get("A", "0"), 16),
                b_public=int(document.get("B", "0"), 16),
                b_private=int(document.get("b", "0"), 16),
            )
        except (binascii.Error, InvalidTag, ValueError, KeyError, TypeError):
            raise SealedBlockError("not sealed here") from None
        if handshake.kind != kind:
            raise SealedBlockError("another kind")
        if (time.time() if now is None else now) >= handshake.expires_at:
            raise SealedBlockError("expired", expired=True)
        return handshake


def begin_srp(verifier: int) -> tuple[int, int]:
    """Draw b and compute B = k*v + g^b (CPU-heavy: run in a thread). Returns (b, B)."""
    b = srp.new_private_key()
    return b, srp.server_public(verifier, b)


def expected_signature(
    handshake: Handshake, verifier: int, pool: str, user_id: str, secret_block: str, timestamp: str
) -> str:
    """The PASSWORD_CLAIM_SIGNATURE a client that knows the password sends (CPU-heavy: run in a thread)."""
    key = srp.session_key(handshake.a_public, handshake.b_public, handshake.b_private, verifier)
    return srp.claim_signature(key, pool, user_id, base64.b64decode(secret_block), timestamp)
