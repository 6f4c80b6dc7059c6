"""RS256 signing keys: the current key signs, current and previous keys verify and are published as a JWKS.

Rotation: move the key file to `<key file>.previous` and restart; a new current key is created, and tokens signed
with the old one stay valid until they expire.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwk
from jose.backends.base import Key

from chatserver.secrets import write_once

ALGORITHM = "RS256"
RSA_KEY_BITS = 2048


class KeyFileError(RuntimeError):
    """The signing key file exists but cannot be used."""


@dataclass(frozen=True, slots=True)
class VerificationKey:
    kid: str
    public_key: Key  # a python-jose public key object, prepared once
    jwk: dict[str, str]


class SigningKeys:
    """The current private key (signs) and every public key that verifies, indexed by `kid`."""

    def __init__(self, private_pem: bytes, previous_pems: tuple[bytes, ...] = ()) -> None:
        self._private = jwk.construct(private_pem, ALGORITHM)
        self.current = _verification_key(self._private.public_key())
        self._by_kid: dict[str, VerificationKey] = {self.current.kid: self.current}
        for pem in previous_pems:
            key = _verification_key(jwk.construct(pem, ALGORITHM).public_key())
            self._by_kid.setdefault(key.kid, key)

    @classmethod
    def load_or_create(cls, path: Path) -> SigningKeys:
        """Blocking (key generation takes a moment): call through asyncio.to_thread from async code."""
        private_pem = _read_or_create_pem(path)
        previous = path.with_name(path.name + ".previous")
        previous_pems = (_read_pem(previous),) if previous.exists() else ()
        try:
            return cls(private_pem, previous_pems)
        except Exception as exc:
            raise KeyFileError(f"cannot use the JWT signing key at {path}: {exc}") from exc

    @property
    def kid(self) -> str:
        return self.current.kid

    @property
    def signing_key(self) -> Key:
        return self._private

    def get(self, kid: str) -> VerificationKey | None:
        return self._by_kid.get(kid)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [dict(key.jwk) for key in self._by_kid.values()]}


def thumbprint(public_jwk: dict[str, str]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url) of an RSA public key."""
    canonical = json.dumps(
        {"e": public_jwk["e"], "kty": "RSA", "n": public_jwk["n"]},
        separators=(",", ":"),
        sort_keys=True,
    )
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _verification_key(public_key: Key) -> VerificationKey:
    data = public_key.to_dict()
    kid = thumbprint(data)
    published = {
        "kty": "RSA",
        "alg": ALGORITHM,
        "use": "sig",
        "kid": kid,
        "n": data["n"],
        "e": data["e"],
    }
    return VerificationKey(kid=kid, public_key=public_key, jwk=published)


def _read_pem(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read the JWT signing key at {path}: {exc}") from exc


def _read_or_create_pem(path: Path) -> bytes:
    if path.exists():
        return _read_pem(path)
    private = rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return write_once(path, pem)  # never replaces a key another process created meanwhile
