"""The client half of Cognito's SRP for the sign-in bench: pycognito's AWSSRP math, with GMP for the exponentiations.

pycognito computes with Python's pow (tens of ms per 3072-bit exponentiation), which would make the load generator
the bottleneck; here the same formulas run through gmpy2.powmod, the secret exponent `a` is 256 bits (the client's
own choice: the server cannot tell, and A = g^a is as valid) and g^x is kept per user (it depends only on the salt
and password). Per sign-in the client does two exponentiations, the server three.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

import gmpy2
from pycognito.aws_srp import (
    AWSSRP,
    G_HEX,
    N_HEX,
    calculate_u,
    compute_hkdf,
    hash_sha256,
    hex_hash,
    hex_to_long,
    long_to_hex,
    pad_hex,
)

N = gmpy2.mpz(int(N_HEX, 16))
G = gmpy2.mpz(int(G_HEX, 16))
K = gmpy2.mpz(hex_to_long(hex_hash("00" + N_HEX + "0" + G_HEX)))  # as AWSSRP's val_k
SECRET_BITS = 256


@dataclass
class SrpClient:
    """One user's side of USER_SRP_AUTH: `start()` gives SRP_A, `answer(...)` the PASSWORD_VERIFIER responses."""

    pool_id: str
    password: str
    _small_a: int = 0
    _large_a: int = 0
    _g_x: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)  # (user id, salt) -> (x, g^x)

    def start(self) -> str:
        """A fresh SRP_A (hex) for a new handshake."""
        self._small_a = secrets.randbits(SECRET_BITS) | 1
        self._large_a = int(gmpy2.powmod(G, self._small_a, N))
        return long_to_hex(self._large_a)

    def answer(self, challenge: dict[str, str], username: str) -> dict[str, str]:
        """ChallengeResponses for the server's PASSWORD_VERIFIER challenge."""
        user_id = challenge["USER_ID_FOR_SRP"]
        salt, server_b = challenge["SALT"], hex_to_long(challenge["SRP_B"])
        u = calculate_u(self._large_a, server_b)
        if u == 0:
            raise ValueError("u is 0")
        x, g_x = self._g_x.get((user_id, salt)) or self._remember(user_id, salt)
        s = int(gmpy2.powmod(server_b - K * g_x, self._small_a + u * x, N))
        key = compute_hkdf(bytearray.fromhex(pad_hex(s)), bytearray.fromhex(pad_hex(long_to_hex(u))))
        timestamp = AWSSRP.get_cognito_formatted_timestamp(datetime.datetime.now(datetime.UTC))
        secret_block = challenge["SECRET_BLOCK"]
        message = (
            self.pool_id.split("_")[1].encode()
            + user_id.encode()
            + base64.standard_b64decode(secret_block)
            + timestamp.encode()
        )
        signature = base64.standard_b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()
        return {
            "USERNAME": challenge.get("USERNAME", username),
            "TIMESTAMP": timestamp,
            "PASSWORD_CLAIM_SECRET_BLOCK": secret_block,
            "PASSWORD_CLAIM_SIGNATURE": signature,
        }

    def _remember(self, user_id: str, salt: str) -> tuple[int, int]:
        inner = hash_sha256(f"{self.pool_id.split('_')[1]}{user_id}:{self.password}".encode())
        x = hex_to_long(hex_hash(pad_hex(salt) + inner))
        remembered = self._g_x[(user_id, salt)] = (x, int(gmpy2.powmod(G, x, N)))
        return remembered
