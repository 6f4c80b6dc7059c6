"""Passwords: Cognito's default policy, and argon2id hashes computed off the event loop."""

from __future__ import annotations

import asyncio
import secrets
import string

from argon2 import PasswordHasher as Argon2Hasher
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError

from chatserver.auth.errors import InvalidParameterException, InvalidPasswordException

MAX_PASSWORD_LENGTH = 256  # Cognito's limit
SYMBOLS = frozenset(string.punctuation + " ")
# OWASP's argon2id recommendation (19 MiB, 2 passes, 1 lane): about 50 ms of one core per hash.
ARGON2_TIME_COST = 2
ARGON2_MEMORY_KIB = 19_456
ARGON2_PARALLELISM = 1


def check_policy(password: str, min_length: int) -> None:
    """Raise InvalidPasswordException naming the first rule the password breaks (Cognito's wording)."""
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidParameterException(
            f"Password must have length less than or equal to {MAX_PASSWORD_LENGTH}"
        )
    if len(password) < min_length:
        problem = f"Password not long enough (at least {min_length} characters)"
    elif not any(c.islower() for c in password):
        problem = "Password must have lowercase characters"
    elif not any(c.isupper() for c in password):
        problem = "Password must have uppercase characters"
    elif not any(c in string.digits for c in password):
        problem = "Password must have numeric characters"
    elif not any(c in SYMBOLS for c in password):
        problem = "Password must have symbol characters"
    else:
        return
    raise InvalidPasswordException(f"Password did not conform with policy: {problem}")


class PasswordHasher:
    """argon2id hashing and verification, each run in a worker thread so the loop never blocks."""

    def __init__(self, hasher: Argon2Hasher | None = None) -> None:
        self._hasher = hasher or Argon2Hasher(
            time_cost=ARGON2_TIME_COST,
            memory_cost=ARGON2_MEMORY_KIB,
            parallelism=ARGON2_PARALLELISM,
            type=Type.ID,
        )
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        return await asyncio.to_thread(self._verify_sync, password_hash, password)

    async def verify_dummy(self, password: str) -> None:
        """Spend the time a real verification takes, so an unknown username is not given away by timing."""
        if self._dummy_hash is None:  # hashing costs what verifying costs
            self._dummy_hash = await self.hash(secrets.token_urlsafe(16))
            return
        await self.verify(self._dummy_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    def _verify_sync(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


def generate_temporary_password(length: int = 16) -> str:
    """A random password that meets the default policy (`chatserver user create --temporary-password`)."""
    alphabet = string.ascii_letters + string.digits + "!#%+-=@^_"
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(length))
        try:
            check_policy(password, length)
        except InvalidPasswordException:
            continue
        return password
