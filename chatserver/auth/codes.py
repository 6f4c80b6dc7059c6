"""Confirmation and password-reset codes: 6 random digits, stored as HMAC-SHA256, and how they reach the user."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from enum import StrEnum
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger("chatserver.auth.codes")

CODE_DIGITS = 6
MAX_CODE_ATTEMPTS = 5
SMTP_TIMEOUT_SECONDS = 15


class CodePurpose(StrEnum):
    SIGNUP = "signup"
    RESET = "reset"


class CodeBook:
    """Makes codes and their keyed hashes; the secret keeps a stolen database from revealing live codes."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def new_code(self) -> str:
        return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"

    def digest(self, sub: str, purpose: CodePurpose, code: str) -> str:
        message = f"{purpose.value}\x00{sub}\x00{code}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def matches(self, stored_digest: str, sub: str, purpose: CodePurpose, code: str) -> bool:
        return hmac.compare_digest(stored_digest, self.digest(sub, purpose, code))


class CodeSender(Protocol):
    """Delivers a code to a user. Must not block the loop; raises on a delivery failure."""

    async def send(self, *, username: str, email: str, purpose: CodePurpose, code: str) -> None: ...


class LogCodeSender:
    """The default: codes go to the server log at WARNING, so they show at the default log level."""

    async def send(self, *, username: str, email: str, purpose: CodePurpose, code: str) -> None:
        label = "confirmation code" if purpose is CodePurpose.SIGNUP else "password reset code"
        log.warning("%s for %s: %s", label, username, code)


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None
    password: str | None
    sender: str
    use_ssl: bool
    starttls: bool

    @classmethod
    def from_url(cls, url: str) -> SmtpConfig:
        """`smtp://user:pass@host:port?from=addr` (`smtps://` for implicit TLS, `?starttls=true`)."""
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ValueError(f"CHATSERVER_SMTP_URL must look like smtp://user:pass@host:port, not {url!r}")
        query = parse_qs(parts.query)
        use_ssl = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if use_ssl else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            sender=query.get("from", [f"chatserver@{parts.hostname}"])[0],
            use_ssl=use_ssl,
            starttls=query.get("starttls", ["false"])[0].lower() in {"1", "true", "yes"},
        )


class SmtpCodeSender:
    """Sends codes by e-mail; smtplib runs in a worker thread."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    async def send(self, *, username: str, email: str, purpose: CodePurpose, code: str) -> None:
        message = EmailMessage()
        message["From"] = self.config.sender
        message["To"] = email
        if purpose is CodePurpose.SIGNUP:
            message["Subject"] = "Your verification code"
            message.set_content(f"Hello {username},\n\nyour verification code is {code}\n")
        else:
            message["Subject"] = "Your password reset code"
            message.set_content(f"Hello {username},\n\nyour password reset code is {code}\n")
        await asyncio.to_thread(self._deliver, message)

    def _deliver(self, message: EmailMessage) -> None:
        cfg = self.config
        smtp_class = smtplib.SMTP_SSL if cfg.use_ssl else smtplib.SMTP
        with smtp_class(cfg.host, cfg.port, timeout=SMTP_TIMEOUT_SECONDS) as client:
            if cfg.starttls:
                client.starttls()
            if cfg.username:
                client.login(cfg.username, cfg.password or "")
            client.send_message(message)


def build_code_sender(smtp_url: str) -> CodeSender:
    return SmtpCodeSender(SmtpConfig.from_url(smtp_url)) if smtp_url else LogCodeSender()


def mask_email(email: str) -> str:
    """Cognito's masked destination: `a***@e***.com`."""
    local, _, domain = email.rpartition("@")
    suffix = "." + domain.rsplit(".", 1)[1] if "." in domain else ""
    return f"{local[:1]}***@{domain[:1]}***{suffix}"
