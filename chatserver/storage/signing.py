"""Presigned URLs: an HMAC-SHA256 over the method, the path, the expiry and (for uploads) the declared body."""

from __future__ import annotations

import hashlib
import hmac
import re

_HEX64 = re.compile("[0-9a-f]{64}")


class UrlSigner:
    """Signs and checks `?expires=<epoch s>&signature=<hex>` query strings. The secret never leaves the server."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def signature(self, method: str, path: str, expires: int, bound: str = "") -> str:
        message = "\n".join((method.upper(), path, str(expires), bound)).encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def query(self, method: str, path: str, expires: int, bound: str = "") -> str:
        return f"expires={expires}&signature={self.signature(method, path, expires, bound)}"

    def verify(
        self, method: str, path: str, expires: str | None, signature: str | None, now: int, bound: str = ""
    ) -> str | None:
        """None when the URL is good; otherwise why it is refused (a message for the client)."""
        if not expires or not signature:
            return "This URL is not signed: expires and signature are required."
        if not expires.isdigit() or len(expires) > 12:
            return "This URL's expiry is not valid."
        expected = self.signature(method, path, int(expires), bound)
        if not _HEX64.fullmatch(signature) or not hmac.compare_digest(expected, signature):
            return "The signature does not match this URL."
        if int(expires) < now:
            return "This URL has expired."
        return None
