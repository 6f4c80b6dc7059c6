"""Signing in: with the password (/auth/signin, USER_PASSWORD_AUTH), with SRP (USER_SRP_AUTH, then the
PASSWORD_VERIFIER challenge), and the NEW_PASSWORD_REQUIRED challenge of administrator-made users.

Every failed proof of a password, whichever way it came, counts in the one sign-in throttle. Unknown users are
not given away: they get a decoy SRP challenge (a salt derived from the name, a B like any other) that fails
at the proof with "Incorrect username or password.", as a wrong password does.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import NoReturn

from chatserver.auth import srp
from chatserver.auth.attributes import MAX_NAME_LENGTH, is_username
from chatserver.auth.credentials import Credentials
from chatserver.auth.errors import (
    INCORRECT_CREDENTIALS,
    INVALID_SESSION,
    InvalidParameterException,
    NotAuthorizedException,
    TooManyRequestsException,
    UserNotConfirmedException,
)
from chatserver.auth.passwords import check_policy
from chatserver.auth.sessions import Sessions, SignInResult
from chatserver.auth.srp_handshake import (
    Handshake,
    HandshakeSealer,
    SealedBlockError,
    begin_srp,
    expected_signature,
)
from chatserver.auth.throttle import SigninThrottle
from chatserver.persistence.accounts import CONFIRMED, AccountRecord, AccountsRepository

log = logging.getLogger("chatserver.auth")

INVALID_USERNAME_KEY = "\x00invalid"
PASSWORD_VERIFIER = "PASSWORD_VERIFIER"
NEW_PASSWORD_REQUIRED = "NEW_PASSWORD_REQUIRED"
NEW_PASSWORD_ATTRIBUTES = ("given_name", "family_name")  # what a user may set while choosing a password
REQUIRED_NAME_ATTRIBUTES = ("given_name", "family_name")


@dataclass(frozen=True, slots=True)
class Challenge:
    """The next step a client must answer (RespondToAuthChallenge)."""

    name: str
    parameters: dict[str, str]
    session: str | None = None


@dataclass(frozen=True, slots=True)
class NewPassword:
    """The answer to NEW_PASSWORD_REQUIRED: the password and the attributes set with it."""

    password: str
    attributes: dict[str, str] = field(default_factory=dict)


class SignIn:
    def __init__(
        self,
        *,
        store: AccountsRepository,
        credentials: Credentials,
        sessions: Sessions,
        sealer: HandshakeSealer,
        throttle: SigninThrottle,
        decoy_key: bytes,
        on_confirmed: Callable[[AccountRecord], Awaitable[None]],
        password_min_length: int,
    ) -> None:
        self._store = store
        self._credentials = credentials
        self._sessions = sessions
        self._sealer = sealer
        self.throttle = throttle
        self._decoy_key = decoy_key
        self._on_confirmed = on_confirmed
        self._password_min_length = password_min_length

    # --- with the password ---

    async def with_password(
        self, username: str, password: str, address: str | None, client_id: str
    ) -> SignInResult | Challenge:
        key = _throttle_key(username)
        stamps = self._begin_attempt(key, address)
        record = await self._store.by_username(username) if key != INVALID_USERNAME_KEY else None
        if record is None:
            await self._credentials.passwords.verify_dummy(password)
            ok = False
        else:
            ok = await self._credentials.passwords.verify(record.password_hash, password)
        if not ok or record is None:
            await self._refuse(key, address)
        self.throttle.succeeded(key, address, stamps)
        await self._upgrade_stored_password(record, password)
        return await self._signed_in(record, client_id)

    # --- with SRP ---

    async def begin_srp(self, username: str, srp_a: str, client_id: str) -> Challenge:
        """USER_SRP_AUTH: answer the client's A with B, the salt and the sealed handshake."""
        try:
            a_public = srp.parse_srp_a(srp_a)
        except srp.SrpError as error:
            raise InvalidParameterException(str(error)) from None
        key = _throttle_key(username)
        if self.throttle.users.is_locked(key):
            raise TooManyRequestsException("Too many failed sign-in attempts, please try again later.")
        record = await self._store.by_username(username) if key != INVALID_USERNAME_KEY else None
        if record is not None and record.srp_verifier is None:
            log.warning(
                "%s has no SRP verifier yet (account made before SRP): one password sign-in "
                "(USER_PASSWORD_AUTH or /auth/signin) creates it",
                username,
            )
        salt, verifier = self._verifier_of(record, username)
        b_private, b_public = await asyncio.to_thread(begin_srp, verifier)
        sub = record.sub if record is not None and record.srp_verifier is not None else None
        handshake = self._sealer.new(
            "srp", username, sub, client_id, a_public=a_public, b_public=b_public, b_private=b_private
        )
        return Challenge(
            PASSWORD_VERIFIER,
            {
                "SALT": f"{salt:x}",
                "SRP_B": f"{b_public:x}",
                "SECRET_BLOCK": self._sealer.seal(handshake),
                "USERNAME": username,
                "USER_ID_FOR_SRP": username,
            },
        )

    async def finish_srp(
        self,
        *,
        username: str,
        secret_block: str,
        timestamp: str,
        signature: str,
        address: str | None,
        client_id: str,
    ) -> SignInResult | Challenge:
        """PASSWORD_VERIFIER: check the client's proof of the password against the sealed handshake."""
        try:
            handshake = self._sealer.open(secret_block, "srp")
        except SealedBlockError as error:
            message = (
                "The SECRET_BLOCK has expired: sign in again." if error.expired else "Invalid SECRET_BLOCK."
            )
            raise NotAuthorizedException(message) from None
        try:
            srp.parse_timestamp(timestamp)
        except srp.SrpError as error:
            raise InvalidParameterException(str(error)) from None
        if handshake.client_id != client_id or username != handshake.username:
            raise NotAuthorizedException(INCORRECT_CREDENTIALS)
        key = _throttle_key(handshake.username)
        stamps = self._begin_attempt(key, address)
        if not await self._store.use_handshake(handshake.id, handshake.expires_at, _now()):
            raise NotAuthorizedException("This SECRET_BLOCK was already used: sign in again.")
        record = await self._store.by_sub(handshake.sub) if handshake.sub else None
        if record is not None and (record.username != handshake.username or record.srp_verifier is None):
            record = None
        _, verifier = self._verifier_of(record, handshake.username)
        pool = self._credentials.pool_name
        try:
            expected = await asyncio.to_thread(
                expected_signature, handshake, verifier, pool, handshake.username, secret_block, timestamp
            )
        except srp.SrpError:
            expected = ""
        if record is None or not expected or not srp.signature_matches(expected, signature):
            await self._refuse(key, address)
        self.throttle.succeeded(key, address, stamps)
        return await self._signed_in(record, client_id)

    # --- NEW_PASSWORD_REQUIRED ---

    async def set_new_password(
        self, session: str, username: str, answer: NewPassword, client_id: str
    ) -> SignInResult:
        try:
            handshake = self._sealer.open(session, "new-password")
        except SealedBlockError:
            raise NotAuthorizedException(INVALID_SESSION) from None
        if handshake.client_id != client_id or username != handshake.username or handshake.sub is None:
            raise NotAuthorizedException(INVALID_SESSION)
        check_policy(answer.password, self._password_min_length)
        record = await self._store.by_sub(handshake.sub)
        if record is None or not record.must_change_password:
            raise NotAuthorizedException(INVALID_SESSION)
        attributes = _new_password_attributes(answer.attributes, record)
        missing = [
            name for name in REQUIRED_NAME_ATTRIBUTES if not (attributes.get(name) or getattr(record, name))
        ]
        if missing:
            raise InvalidParameterException(f"Missing required attribute(s): {', '.join(missing)}")
        if not await self._store.use_handshake(handshake.id, handshake.expires_at, _now()):
            raise NotAuthorizedException(INVALID_SESSION)
        return await self.complete_new_password(record, answer.password, attributes)

    async def complete_new_password(
        self, record: AccountRecord, password: str, attributes: Mapping[str, str]
    ) -> SignInResult:
        """The user chose a password: store it, confirm the account, run the post-confirmation hook, sign in."""
        stored = await self._credentials.make(record.username, password)
        await self._store.set_password(
            record.sub, stored.password_hash, stored.srp_salt, stored.srp_verifier, status=CONFIRMED
        )
        if attributes:
            await self._store.set_attributes(record.sub, dict(attributes))
        updated = await self._store.by_sub(record.sub)
        assert updated is not None
        await self._on_confirmed(updated)
        return await self._sessions.start(updated)

    # --- internals ---

    def _begin_attempt(self, key: str, address: str | None) -> tuple[float, float | None]:
        if self.throttle.is_locked(key, address):
            raise TooManyRequestsException("Too many failed sign-in attempts, please try again later.")
        return self.throttle.begin(key, address)

    async def _refuse(self, key: str, address: str | None) -> NoReturn:
        await asyncio.sleep(self.throttle.failure_delay(key, address))
        raise NotAuthorizedException(INCORRECT_CREDENTIALS)

    async def _signed_in(self, record: AccountRecord, client_id: str) -> SignInResult | Challenge:
        """The password was right: tokens, or the challenge an administrator-made user must answer first."""
        if record.must_change_password:
            return self._new_password_challenge(record, client_id)
        if not record.confirmed:
            raise UserNotConfirmedException("User is not confirmed.")
        return await self._sessions.start(record)

    def _new_password_challenge(self, record: AccountRecord, client_id: str) -> Challenge:
        handshake: Handshake = self._sealer.new("new-password", record.username, record.sub, client_id)
        shown = {"email": record.email, "email_verified": "true"}
        shown |= {name: value for name in REQUIRED_NAME_ATTRIBUTES if (value := getattr(record, name))}
        required = [
            f"userAttributes.{name}" for name in REQUIRED_NAME_ATTRIBUTES if not getattr(record, name)
        ]
        return Challenge(
            NEW_PASSWORD_REQUIRED,
            {
                "USER_ID_FOR_SRP": record.username,
                "requiredAttributes": json.dumps(required),
                "userAttributes": json.dumps(shown),
            },
            session=self._sealer.seal(handshake),
        )

    async def _upgrade_stored_password(self, record: AccountRecord, password: str) -> None:
        """A password seen in the clear: rehash it if the argon2 parameters changed, add a missing verifier."""
        if self._credentials.passwords.needs_rehash(record.password_hash):
            stored = await self._credentials.make(record.username, password)
            await self._store.set_password(
                record.sub, stored.password_hash, stored.srp_salt, stored.srp_verifier
            )
        elif record.srp_verifier is None:
            salt, verifier = await self._credentials.verifier(record.username, password)
            await self._store.set_verifier(record.sub, salt, verifier)
            log.info("SRP verifier created for %s at its first password sign-in", record.username)

    def _verifier_of(self, record: AccountRecord | None, username: str) -> tuple[int, int]:
        """(salt, v) of the account, or a decoy for an unknown user (the same salt every time)."""
        if record is not None and record.srp_salt and record.srp_verifier:
            return int(record.srp_salt, 16), int(record.srp_verifier, 16)
        digest = hmac.new(self._decoy_key, username.encode(), hashlib.sha256).digest()
        return int.from_bytes(digest[:16], "big"), int.from_bytes(digest, "big")


def _throttle_key(username: str) -> str:
    return username if is_username(username) else INVALID_USERNAME_KEY  # keeps throttle keys short


def _now() -> int:
    return int(time.time())


def _new_password_attributes(attributes: Mapping[str, str], record: AccountRecord) -> dict[str, str]:
    """The names a user may set with its new password. Clients may echo the attributes the challenge showed
    (email, email_verified): unchanged, they are dropped; changed, refused."""
    shown = {"email": record.email, "email_verified": "true"}
    attributes = {k: v for k, v in attributes.items() if shown.get(k) != v}
    unknown = sorted(set(attributes) - set(NEW_PASSWORD_ATTRIBUTES))
    if unknown:
        raise InvalidParameterException(f"Attributes cannot be set with a new password: {', '.join(unknown)}")
    for name, value in attributes.items():
        if len(value) > MAX_NAME_LENGTH:
            raise InvalidParameterException(f"{name} must be at most {MAX_NAME_LENGTH} characters")
    return dict(attributes)
