"""Splitting a compact JWS into its decoded parts, shared by the built-in pool's and the OIDC issuer's verifiers."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from chatserver.errors import UnauthorizedException

MAX_TOKEN_CHARS = 16_384


def parse_compact_jws(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """(header, claims, signing input, signature); anything that is not a JWS is 'Unable to parse JWT token.'"""
    parts = token.split(".")
    if len(token) > MAX_TOKEN_CHARS or len(parts) != 3 or not token.isascii():
        raise UnauthorizedException(UnauthorizedException.UNPARSABLE)
    try:
        header = json.loads(_b64url_decode(parts[0]))
        claims = json.loads(_b64url_decode(parts[1]))
        signature = _b64url_decode(parts[2])
    except (ValueError, binascii.Error):
        raise UnauthorizedException(UnauthorizedException.UNPARSABLE) from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise UnauthorizedException(UnauthorizedException.UNPARSABLE)
    return header, claims, f"{parts[0]}.{parts[1]}".encode("ascii"), signature


def is_int(value: object) -> bool:
    """A JSON integer claim (`exp`, `iat`, ...), not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def _b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
