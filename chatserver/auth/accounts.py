"""The Cognito user pool: sign-up with codes, sign-in, refresh, global sign-out, password reset, and the CLI's
admin operations. Raises chatserver.auth.errors (Cognito's names and messages); never sees a request object.

Unknown usernames are not given away (Cognito's PreventUserExistenceErrors=ENABLED): sign-in says
"Incorrect username or password." after the same work as a real check, code requests answer with a simulated
delivery, and code confirmations say the code does not match.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from chatserver.auth.attributes import check_new_account, is_username
from chatserver.auth.codes import (
    MAX_CODE_ATTEMPTS,
    CodeBook,
    CodePurpose,
    CodeSender,
    LogCodeSender,
    mask_email,
)
from chatserver.auth.errors import (
    ATTEMPT_LIMIT,
    CODE_EXPIRED,
    CODE_MISMATCH,
    INCORRECT_CREDENTIALS,
    CodeDeliveryFailureException,
    CodeMismatchException,
    ExpiredCodeException,
    InvalidParameterException,
    LimitExceededException,
    NotAuthorizedException,
    TooManyRequestsException,
    UsernameExistsException,
    UserNotConfirmedException,
    UserNotFoundException,
)
from chatserver.auth.passwords import PasswordHasher, check_policy
from chatserver.auth.revocations import Revocations
from chatserver.auth.throttle import FailureWindow, SigninThrottle
from chatserver.auth.tokens import IssuedTokens, TokenIssuer, TokenSubject, TokenVerifier
from chatserver.clock import iso_now
from chatserver.config import Settings
from chatserver.errors import UnauthorizedException
from chatserver.persistence.accounts import (
    CONFIRMED,
    UNCONFIRMED,
    AccountRecord,
    AccountsRepository,
    RefreshRecord,
    UsernameTaken,
)
from chatserver.persistence.users import UsersRepository

log = logging.getLogger("chatserver.auth")

CODE_SENDS_PER_HOUR = 10
ADDRESS_FAILURE_FACTOR = 4  # one address (an office behind NAT) may fail this many times more than one user
LISTENER_TIMEOUT_SECONDS = 10
INVALID_USERNAME_KEY = "\x00invalid"

SignOutListener = Callable[[str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class CodeDelivery:
    destination: str
    medium: str = "EMAIL"
    attribute: str = "email"


@dataclass(frozen=True, slots=True)
class SignUpResult:
    user_sub: str
    user_confirmed: bool
    delivery: CodeDelivery | None


@dataclass(frozen=True, slots=True)
class SignInResult:
    tokens: IssuedTokens
    refresh_token: str


class AccountService:
    """Every account operation of the /auth routes and the CLI."""

    def __init__(
        self,
        *,
        settings: Settings,
        store: AccountsRepository,
        users: UsersRepository,
        issuer: TokenIssuer,
        verifier: TokenVerifier,
        revocations: Revocations,
        code_secret: bytes,
        sender: CodeSender | None = None,
        passwords: PasswordHasher | None = None,
    ) -> None:
        self._settings = settings
        self._store = store
        self._users = users
        self._issuer = issuer
        self._verifier = verifier
        self._revocations = revocations
        self._codes = CodeBook(code_secret)
        self._sender = sender or LogCodeSender()
        self._passwords = passwords or PasswordHasher()
        self._throttle = SigninThrottle(
            settings.signin_max_failures,
            settings.signin_lockout_seconds,
            address_max_failures=settings.signin_max_failures * ADDRESS_FAILURE_FACTOR,
        )
        self._code_sends = FailureWindow(CODE_SENDS_PER_HOUR, 3600)
        self.signout_listeners: list[SignOutListener] = []

    # --- sign-up and confirmation ---

    async def signup(
        self,
        username: str,
        password: str,
        email: str,
        given_name: str | None = None,
        family_name: str | None = None,
    ) -> SignUpResult:
        record = await self._create(
            username, password, email, given_name, family_name, confirmed=self._settings.auto_confirm
        )
        if record.confirmed:
            await self._after_confirmation(record)
            return SignUpResult(record.sub, True, None)
        delivery = await self._send_code(record, CodePurpose.SIGNUP)
        return SignUpResult(record.sub, False, delivery)

    async def confirm_signup(self, username: str, code: str) -> None:
        record = await self._store.by_username(username)
        if record is None:
            raise CodeMismatchException(CODE_MISMATCH)
        if record.confirmed:
            raise NotAuthorizedException("User cannot be confirmed. Current status is CONFIRMED")
        await self._consume_code(record, CodePurpose.SIGNUP, code)
        await self._store.set_status(record.sub, CONFIRMED)
        await self._after_confirmation(record)

    async def resend_code(self, username: str) -> CodeDelivery:
        record = await self._store.by_username(username)
        if record is None:
            return _simulated_delivery(username)
        if record.confirmed:
            raise InvalidParameterException("User is already confirmed.")
        return await self._send_code(record, CodePurpose.SIGNUP, limited=True)

    # --- sign-in, refresh, sign-out ---

    async def signin(self, username: str, password: str, address: str | None = None) -> SignInResult:
        valid_name = is_username(username)
        user_key = username if valid_name else INVALID_USERNAME_KEY  # keeps throttle keys short
        if self._throttle.is_locked(user_key, address):
            raise TooManyRequestsException("Too many failed sign-in attempts, please try again later.")
        stamps = self._throttle.begin(user_key, address)
        record = await self._store.by_username(username) if valid_name else None
        if record is None:
            await self._passwords.verify_dummy(password)
            ok = False
        else:
            ok = await self._passwords.verify(record.password_hash, password)
        if not ok or record is None:
            await asyncio.sleep(self._throttle.failure_delay(user_key, address))
            raise NotAuthorizedException(INCORRECT_CREDENTIALS)
        self._throttle.succeeded(user_key, address, stamps)
        if not record.confirmed:
            raise UserNotConfirmedException("User is not confirmed.")
        if self._passwords.needs_rehash(record.password_hash):
            await self._store.set_password_hash(record.sub, await self._passwords.hash(password))
        now = int(time.time())
        tokens = await self._issue(record, auth_time=self._auth_time(record, now), origin_jti=None)
        refresh_token = secrets.token_urlsafe(48)
        await self._store.add_refresh_token(
            RefreshRecord(
                token_hash=_sha256(refresh_token),
                sub=record.sub,
                origin_jti=tokens.origin_jti,
                auth_time=tokens.auth_time,
                expires_at=now + self._settings.refresh_token_ttl,
                revoked=False,
            ),
            now,
        )
        return SignInResult(tokens, refresh_token)

    async def refresh(self, refresh_token: str) -> IssuedTokens:
        stored = await self._store.get_refresh_token(_sha256(refresh_token))
        if stored is None:
            raise NotAuthorizedException("Invalid Refresh Token")
        if stored.revoked or self._revocations.is_revoked(stored.sub, stored.auth_time):
            raise NotAuthorizedException("Refresh Token has been revoked")
        if time.time() >= stored.expires_at:
            raise NotAuthorizedException("Refresh Token has expired")
        record = await self._store.by_sub(stored.sub)
        if record is None or not record.confirmed:
            raise NotAuthorizedException("Invalid Refresh Token")
        return await self._issue(record, auth_time=stored.auth_time, origin_jti=stored.origin_jti)

    async def signout(self, authorization: str | None) -> None:
        """Global sign-out by the caller's token: refresh tokens deleted, every earlier token void."""
        try:
            identity = self._verifier.verify(authorization)
        except UnauthorizedException as exc:
            if exc.message == UnauthorizedException.MISSING:
                raise InvalidParameterException("Missing authorization header") from None
            if exc.message == UnauthorizedException.EXPIRED:
                raise NotAuthorizedException("Access Token has expired") from None
            raise NotAuthorizedException("Invalid Access Token") from None
        await self._sign_out(identity.sub)

    # --- password reset ---

    async def forgot_password(self, username: str) -> CodeDelivery:
        record = await self._store.by_username(username)
        if record is None:
            return _simulated_delivery(username)
        if not record.confirmed:
            raise InvalidParameterException(
                "Cannot reset password for the user as there is no registered/verified email or phone_number"
            )
        return await self._send_code(record, CodePurpose.RESET, limited=True)

    async def confirm_forgot_password(self, username: str, code: str, password: str) -> None:
        check_policy(password, self._settings.password_min_length)
        record = await self._store.by_username(username)
        if record is None:
            raise CodeMismatchException(CODE_MISMATCH)
        await self._consume_code(record, CodePurpose.RESET, code)
        await self._store.set_password_hash(record.sub, await self._passwords.hash(password))
        self._throttle.users.reset(username)
        await self._sign_out(record.sub)  # whoever knew the old password loses their sessions

    # --- CLI (administrator) operations ---

    async def create_user(
        self,
        username: str,
        password: str,
        email: str,
        given_name: str | None = None,
        family_name: str | None = None,
        groups: Iterable[str] = (),
        confirmed: bool = False,
    ) -> AccountRecord:
        record = await self._create(username, password, email, given_name, family_name, confirmed)
        for group in groups:
            await self.add_to_group(username, group)
        if confirmed:
            await self._after_confirmation(record)
        else:
            await self._send_code(record, CodePurpose.SIGNUP)
        return record

    async def add_to_group(self, username: str, group: str) -> None:
        """Add the user to `group` (created if it does not exist yet)."""
        if not is_username(group):
            raise InvalidParameterException("Group name must be 1 to 128 characters without spaces")
        record = await self._existing(username)
        await self._store.add_to_group(record.sub, group)

    async def mint_access_token(self, username: str) -> str:
        record = await self._existing(username)
        if not record.confirmed:
            raise UserNotConfirmedException("User is not confirmed.")
        now = int(time.time())
        tokens = await self._issue(record, auth_time=self._auth_time(record, now), origin_jti=None)
        return tokens.access_token

    # --- internals ---

    async def _create(
        self,
        username: str,
        password: str,
        email: str,
        given_name: str | None,
        family_name: str | None,
        confirmed: bool,
    ) -> AccountRecord:
        check_new_account(username, email, given_name, family_name)
        check_policy(password, self._settings.password_min_length)
        if await self._store.by_username(username) is not None:
            raise UsernameExistsException("User already exists")
        record = AccountRecord(
            sub=str(uuid.uuid4()),
            username=username,
            password_hash=await self._passwords.hash(password),
            email=email,
            given_name=given_name,
            family_name=family_name,
            status=CONFIRMED if confirmed else UNCONFIRMED,
            created_at=iso_now(),
            tokens_valid_after=0,
        )
        try:
            await self._store.create(record)
        except UsernameTaken:
            raise UsernameExistsException("User already exists") from None
        return record

    async def _existing(self, username: str) -> AccountRecord:
        record = await self._store.by_username(username)
        if record is None:
            raise UserNotFoundException("User does not exist.")
        return record

    async def _after_confirmation(self, record: AccountRecord) -> None:
        """The post-confirmation hook: the `users` profile row, as the seed's Lambda trigger wrote it."""
        await self._users.create_profile(
            sub=record.sub,
            username=record.username,
            email=record.email,
            given_name=record.given_name,
            family_name=record.family_name,
        )

    async def _send_code(
        self, record: AccountRecord, purpose: CodePurpose, *, limited: bool = False
    ) -> CodeDelivery:
        if limited:
            if self._code_sends.is_locked(record.sub):
                raise LimitExceededException(ATTEMPT_LIMIT)
            self._code_sends.begin(record.sub)
        code = self._codes.new_code()
        expires_at = int(time.time()) + self._settings.code_ttl
        await self._store.put_code(
            record.sub, purpose.value, self._codes.digest(record.sub, purpose, code), expires_at
        )
        try:
            await self._sender.send(username=record.username, email=record.email, purpose=purpose, code=code)
        except Exception:
            log.exception("could not deliver a %s code to %s", purpose.value, record.username)
            raise CodeDeliveryFailureException("Unable to deliver the verification code.") from None
        return CodeDelivery(destination=mask_email(record.email))

    async def _consume_code(self, record: AccountRecord, purpose: CodePurpose, code: str) -> None:
        stored = await self._store.get_code(record.sub, purpose.value)
        if stored is None:
            raise CodeMismatchException(CODE_MISMATCH)
        if time.time() >= stored.expires_at:
            raise ExpiredCodeException(CODE_EXPIRED)
        # Every guess spends an attempt before it is compared, so concurrent guesses cannot exceed the limit.
        if not await self._store.take_attempt(record.sub, purpose.value, MAX_CODE_ATTEMPTS):
            raise LimitExceededException(ATTEMPT_LIMIT)
        if not self._codes.matches(stored.code_hash, record.sub, purpose, code):
            raise CodeMismatchException(CODE_MISMATCH)
        if not await self._store.use_code(record.sub, purpose.value, stored.code_hash):
            raise CodeMismatchException(CODE_MISMATCH)  # another request used it first

    async def _issue(self, record: AccountRecord, *, auth_time: int, origin_jti: str | None) -> IssuedTokens:
        subject = TokenSubject(
            sub=record.sub,
            username=record.username,
            email=record.email,
            email_verified=True,
            given_name=record.given_name,
            family_name=record.family_name,
            groups=await self._store.groups_of(record.sub),
        )
        # two RSA signatures (a few ms of CPU): off the event loop, like password hashing
        return await asyncio.to_thread(
            self._issuer.issue, subject, auth_time=auth_time, origin_jti=origin_jti or str(uuid.uuid4())
        )

    def _auth_time(self, record: AccountRecord, now: int) -> int:
        """Now, but always after the last global sign-out (which voids tokens up to that very second)."""
        floor = max(record.tokens_valid_after, self._revocations.valid_after(record.sub))
        return max(now, floor + 1)

    async def _sign_out(self, sub: str) -> None:
        stored = await self._store.sign_out(sub, int(time.time()))
        self._revocations.note_revoked(sub, stored)
        for listener in list(self.signout_listeners):
            try:
                await asyncio.wait_for(listener(sub), LISTENER_TIMEOUT_SECONDS)
            except Exception:
                log.exception("a sign-out listener failed for %s", sub)


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _simulated_delivery(username: str) -> CodeDelivery:
    return CodeDelivery(destination=mask_email(f"{username}@example.com"))
