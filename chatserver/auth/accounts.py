"""The Cognito user pool: sign-up with codes, sign-in, refresh, global sign-out, password reset, and the CLI's
admin operations. Raises chatserver.auth.errors (Cognito's names and messages); never sees a request object.

Unknown usernames are not given away (Cognito's PreventUserExistenceErrors=ENABLED): sign-in says
"Incorrect username or password." after the same work as a real check, code requests answer with a simulated
delivery, and code confirmations say the code does not match.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from chatserver.auth.attributes import check_new_account, check_profile_attributes, is_username
from chatserver.auth.codes import (
    MAX_CODE_ATTEMPTS,
    CodeBook,
    CodePurpose,
    CodeSender,
    LogCodeSender,
    mask_email,
)
from chatserver.auth.credentials import Credentials
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
    PasswordResetRequiredException,
    UsernameExistsException,
    UserNotConfirmedException,
    UserNotFoundException,
)
from chatserver.auth.passwords import PasswordHasher, check_policy
from chatserver.auth.revocations import Revocations
from chatserver.auth.sessions import Sessions, SignInResult, SignOutListener
from chatserver.auth.sign_in import Challenge, SignIn
from chatserver.auth.srp_handshake import HandshakeSealer
from chatserver.auth.throttle import FailureWindow, SigninThrottle
from chatserver.auth.tokens import IssuedTokens, TokenIssuer, TokenVerifier
from chatserver.clock import iso_now
from chatserver.config import Settings
from chatserver.persistence.accounts import (
    CONFIRMED,
    FORCE_CHANGE_PASSWORD,
    UNCONFIRMED,
    AccountRecord,
    AccountsRepository,
    UsernameTaken,
)
from chatserver.persistence.users import UsersRepository
from chatserver.secrets import derive_key

log = logging.getLogger("chatserver.auth")

CODE_SENDS_PER_HOUR = 10
ADDRESS_FAILURE_FACTOR = 4  # one address (an office behind NAT) may fail this many times more than one user

__all__ = ["AccountService", "Challenge", "CodeDelivery", "SignInResult", "SignOutListener", "SignUpResult"]


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


class AccountService:
    """Every account operation of the /auth routes, the Cognito API and the CLI: one pool, two wire forms.

    Signing in lives in `sign_in` (SignIn) and sessions in `sessions` (Sessions); this class keeps accounts,
    codes and the administrator's operations.
    """

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
        handshake_secret: bytes,
        sender: CodeSender | None = None,
        passwords: PasswordHasher | None = None,
    ) -> None:
        self._settings = settings
        self._store = store
        self._users = users
        self._codes = CodeBook(code_secret)
        self._sender = sender or LogCodeSender()
        self.credentials = Credentials(passwords or PasswordHasher(), settings.user_pool_id)
        self.sessions = Sessions(
            settings=settings, store=store, issuer=issuer, verifier=verifier, revocations=revocations
        )
        self.sign_in = SignIn(
            store=store,
            credentials=self.credentials,
            sessions=self.sessions,
            sealer=HandshakeSealer(derive_key(handshake_secret, "srp-handshakes")),
            throttle=SigninThrottle(
                settings.signin_max_failures,
                settings.signin_lockout_seconds,
                address_max_failures=settings.signin_max_failures * ADDRESS_FAILURE_FACTOR,
            ),
            decoy_key=derive_key(handshake_secret, "srp-decoy-salts"),
            on_confirmed=self._after_confirmation,
            password_min_length=settings.password_min_length,
        )
        self._code_sends = FailureWindow(CODE_SENDS_PER_HOUR, 3600)

    @property
    def signout_listeners(self) -> list[SignOutListener]:
        return self.sessions.signout_listeners

    # --- sign-up and confirmation ---

    async def signup(
        self,
        username: str,
        password: str,
        email: str,
        given_name: str | None = None,
        family_name: str | None = None,
    ) -> SignUpResult:
        """Sign-up through either wire form; the pool requires email, given_name and family_name."""
        check_new_account(username, email, given_name, family_name, names_required=True)
        status = CONFIRMED if self._settings.auto_confirm else UNCONFIRMED
        record = await self._create(username, password, email, given_name, family_name, status)
        if record.confirmed:
            await self._after_confirmation(record)
            return SignUpResult(record.sub, True, None)
        delivery = await self._send_code(record, CodePurpose.SIGNUP)
        return SignUpResult(record.sub, False, delivery)

    async def confirm_signup(self, username: str, code: str) -> None:
        record = await self._store.by_username(username)
        if record is None:
            raise CodeMismatchException(CODE_MISMATCH)
        if record.status != UNCONFIRMED:
            raise NotAuthorizedException(f"User cannot be confirmed. Current status is {record.status}")
        await self._consume_code(record, CodePurpose.SIGNUP, code)
        await self._store.set_status(record.sub, CONFIRMED)
        await self._after_confirmation(record)

    async def resend_code(self, username: str) -> CodeDelivery:
        record = await self._store.by_username(username)
        if record is None:
            return _simulated_delivery(username)
        if record.status != UNCONFIRMED:
            raise InvalidParameterException("User is already confirmed.")
        return await self._send_code(record, CodePurpose.SIGNUP, limited=True)

    # --- sign-in, refresh, sign-out (the /auth form; the Cognito API calls sign_in and sessions directly) ---

    async def signin(
        self, username: str, password: str, address: str | None = None, new_password: str | None = None
    ) -> SignInResult:
        """/auth/signin. A user who must choose a password sends it as `new_password` with the temporary one."""
        outcome = await self.sign_in.with_password(username, password, address, self._settings.client_id)
        if isinstance(outcome, SignInResult):
            return outcome
        if new_password is None:
            raise PasswordResetRequiredException(
                "This user must choose a new password: sign in again with newPassword"
            )
        check_policy(new_password, self._settings.password_min_length)
        record = await self._existing(username)
        if not (record.given_name and record.family_name):
            raise InvalidParameterException("Missing required attribute(s): given_name, family_name")
        return await self.sign_in.complete_new_password(record, new_password, {})

    async def refresh(self, refresh_token: str) -> IssuedTokens:
        return await self.sessions.refresh(refresh_token)

    async def signout(self, authorization: str | None) -> None:
        """Global sign-out by the caller's token (ID or access): refresh tokens deleted, every earlier token void."""
        identity = self.sessions.caller(
            authorization, access_only=False, missing="Missing authorization header"
        )
        await self.sessions.sign_out(identity.sub)

    # --- password reset and the signed-in user's own account ---

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
        await self._set_password(record, password)
        self.sign_in.throttle.users.reset(username)
        await self.sessions.sign_out(record.sub)  # whoever knew the old password loses their sessions

    async def user(self, access_token: str) -> AccountRecord:
        """GetUser and the other access-token operations: the caller's account."""
        identity = self.sessions.access_identity(access_token)
        record = await self._store.by_sub(identity.sub)
        if record is None:
            raise NotAuthorizedException("User does not exist.")
        return record

    async def change_password(self, access_token: str, previous: str, proposed: str) -> None:
        record = await self.user(access_token)
        check_policy(proposed, self._settings.password_min_length)
        throttle, key = self.sign_in.throttle, record.username
        if throttle.users.is_locked(key):
            raise LimitExceededException(ATTEMPT_LIMIT)
        stamp = throttle.users.begin(key)
        if not await self.credentials.passwords.verify(record.password_hash, previous):
            raise NotAuthorizedException(INCORRECT_CREDENTIALS)
        throttle.users.forgive(key, stamp)
        await self._set_password(record, proposed)

    async def update_attributes(self, access_token: str, attributes: dict[str, str]) -> None:
        record = await self.user(access_token)
        check_profile_attributes(attributes)
        await self._store.set_attributes(record.sub, attributes)

    async def global_sign_out(self, access_token: str) -> None:
        await self.sessions.sign_out(self.sessions.access_identity(access_token).sub)

    async def delete_user(self, access_token: str) -> None:
        record = await self.user(access_token)
        await self.sessions.sign_out(record.sub)
        await self._store.delete(record.sub)

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
        temporary: bool = False,
    ) -> AccountRecord:
        """`chatserver user create`. A `temporary` password must be replaced at first sign-in
        (NEW_PASSWORD_REQUIRED, as for Cognito's AdminCreateUser)."""
        check_new_account(username, email, given_name, family_name)
        status = FORCE_CHANGE_PASSWORD if temporary else CONFIRMED if confirmed else UNCONFIRMED
        record = await self._create(username, password, email, given_name, family_name, status)
        for group in groups:
            await self.add_to_group(username, group)
        if record.confirmed:
            await self._after_confirmation(record)
        elif not temporary:
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
        tokens = await self.sessions.issue(
            record, auth_time=self.sessions.auth_time(record, now), origin_jti=None
        )
        return tokens.access_token

    # --- internals ---

    async def _create(
        self,
        username: str,
        password: str,
        email: str,
        given_name: str | None,
        family_name: str | None,
        status: str,
    ) -> AccountRecord:
        check_policy(password, self._settings.password_min_length)
        if await self._store.by_username(username) is not None:
            raise UsernameExistsException("User already exists")
        stored = await self.credentials.make(username, password)
        record = AccountRecord(
            sub=str(uuid.uuid4()),
            username=username,
            password_hash=stored.password_hash,
            email=email,
            given_name=given_name,
            family_name=family_name,
            status=status,
            created_at=iso_now(),
            tokens_valid_after=0,
            srp_salt=stored.srp_salt,
            srp_verifier=stored.srp_verifier,
        )
        try:
            await self._store.create(record)
        except UsernameTaken:
            raise UsernameExistsException("User already exists") from None
        return record

    async def _set_password(self, record: AccountRecord, password: str) -> None:
        stored = await self.credentials.make(record.username, password)
        await self._store.set_password(record.sub, stored.password_hash, stored.srp_salt, stored.srp_verifier)

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


def _simulated_delivery(username: str) -> CodeDelivery:
    return CodeDelivery(destination=mask_email(f"{username}@example.com"))
