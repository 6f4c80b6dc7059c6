"""What the server keeps of a password: its argon2id hash and its SRP verifier, made together whenever the
server sees the password (sign-up, change, reset, first password sign-in of an account made before SRP)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from chatserver.auth import srp
from chatserver.auth.passwords import PasswordHasher


@dataclass(frozen=True, slots=True)
class StoredPassword:
    password_hash: str
    srp_salt: str  # hex
    srp_verifier: str  # hex


class Credentials:
    """Makes and checks stored passwords; the hashing and the 3072-bit arithmetic run in worker threads."""

    def __init__(self, passwords: PasswordHasher, user_pool_id: str) -> None:
        self.passwords = passwords
        self.pool_name = srp.pool_name(user_pool_id)

    async def make(self, username: str, password: str) -> StoredPassword:
        password_hash, verifier = await asyncio.gather(
            self.passwords.hash(password), self.verifier(username, password)
        )
        return StoredPassword(password_hash, *verifier)

    async def verifier(self, username: str, password: str) -> tuple[str, str]:
        """(salt, v) as hex for USER_ID_FOR_SRP = username."""
        made = await asyncio.to_thread(srp.compute_verifier, self.pool_name, username, password)
        return f"{made.salt:x}", f"{made.verifier:x}"
