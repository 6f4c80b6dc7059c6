"""SRP-6a as Cognito's user pools run it (the server's half): RFC 5054's 3072-bit group, g = 2, SHA-256,
Cognito's padHex, the pool name in the password hash and the "Caldera Derived Key" HKDF.

Everything here is synchronous and CPU-bound (3072-bit modular exponentiation): callers run it in a worker
thread. gmpy2's powmod is about 7x faster than Python's pow here and, with `allow_release_gil`, lets the
event loop's thread run meanwhile; Python's pow holds the GIL for the whole exponentiation (tens of ms).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import gmpy2

N = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C"
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
    16,
)
G = 2
MAX_SRP_A_HEX_CHARS = 770  # 3072 bits are 768 hex digits; padHex may add "00"
SALT_BYTES = 16
# b: 256 bits, RFC 5054 section 3.1's minimum (128-bit security); a 1024-bit b costs 4x the arithmetic
PRIVATE_KEY_BYTES = 32
DERIVED_KEY_INFO = b"Caldera Derived Key\x01"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class SrpError(ValueError):
    """A client value that the protocol refuses (bad SRP_A, u = 0, bad TIMESTAMP)."""


def pad_hex(value: int) -> str:
    """Cognito's padHex: shortest even-length hex, with "00" in front when the first nibble is 8 or more."""
    text = f"{value:x}"
    if len(text) % 2:
        return "0" + text
    return "00" + text if text[0] in "89abcdef" else text


def _padded(value: int) -> bytes:
    return bytes.fromhex(pad_hex(value))


def _hash_int(*parts: bytes) -> int:
    return int.from_bytes(hashlib.sha256(b"".join(parts)).digest(), "big")


def powmod(base: int, exponent: int, modulus: int) -> int:
    """base**exponent % modulus through GMP, the GIL released while it runs."""
    with gmpy2.context(allow_release_gil=True):
        return int(gmpy2.powmod(base, exponent, modulus))


K = _hash_int(_padded(N), _padded(G))


@dataclass(frozen=True, slots=True)
class Verifier:
    """What the server keeps instead of the password: the salt and v = g^x mod N."""

    salt: int
    verifier: int


def pool_name(user_pool_id: str) -> str:
    """The part of the pool id after the first '_' (what the clients hash)."""
    return user_pool_id.split("_")[1]


def compute_verifier(pool: str, user_id: str, password: str, salt: int | None = None) -> Verifier:
    """x = H(pad(salt) | H(pool + user_id + ":" + password)); v = g^x mod N."""
    salt = int.from_bytes(secrets.token_bytes(SALT_BYTES), "big") if salt is None else salt
    inner = hashlib.sha256(f"{pool}{user_id}:{password}".encode()).digest()
    x = _hash_int(_padded(salt), inner)
    return Verifier(salt=salt, verifier=powmod(G, x, N))


def parse_srp_a(text: str) -> int:
    """The client's public value: bounded hex, A mod N != 0."""
    if not 0 < len(text) <= MAX_SRP_A_HEX_CHARS:
        raise SrpError("SRP_A must be 1 to 770 hex digits")
    try:
        value = int(text, 16)
    except ValueError:
        raise SrpError("SRP_A must be hexadecimal") from None
    if text[:1] in "+-" or value % N == 0:
        raise SrpError("SRP_A is not a valid value")
    return value


def new_private_key() -> int:
    return int.from_bytes(secrets.token_bytes(PRIVATE_KEY_BYTES), "big")


def server_public(verifier: int, b: int) -> int:
    """B = (k*v + g^b) mod N."""
    return (K * verifier + powmod(G, b, N)) % N


def session_key(a_public: int, b_public: int, b: int, verifier: int) -> bytes:
    """The 16-byte key both sides derive: HKDF over S = (A * v^u)^b mod N, salted with u."""
    u = _hash_int(_padded(a_public), _padded(b_public))
    if u == 0:
        raise SrpError("u is zero")
    s = powmod(a_public * powmod(verifier, u, N) % N, b, N)
    prk = hmac.new(_padded(u), _padded(s), hashlib.sha256).digest()
    return hmac.new(prk, DERIVED_KEY_INFO, hashlib.sha256).digest()[:16]


def claim_signature(key: bytes, pool: str, user_id: str, secret_block: bytes, timestamp: str) -> str:
    """base64(HMAC-SHA256(K, pool | user_id | secret block bytes | TIMESTAMP)): PASSWORD_CLAIM_SIGNATURE."""
    message = pool.encode() + user_id.encode() + secret_block + timestamp.encode()
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def signature_matches(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())


def format_timestamp(moment: datetime) -> str:
    """`Sat Sep 5 09:03:07 UTC 2026`: English names, UTC, the day not zero-padded."""
    moment = moment.astimezone(UTC)
    return (
        f"{WEEKDAYS[moment.weekday()]} {MONTHS[moment.month - 1]} {moment.day} "
        f"{moment:%H:%M:%S} UTC {moment.year}"
    )


def parse_timestamp(text: str) -> datetime:
    """Read a client's TIMESTAMP; anything not of exactly that form (zero-padded day included) is refused."""
    parts = text.split(" ")
    if len(parts) != 6 or parts[0] not in WEEKDAYS or parts[1] not in MONTHS or parts[4] != "UTC":
        raise SrpError("TIMESTAMP must look like 'Sat Sep 5 09:03:07 UTC 2026'")
    day, clock, year = parts[2], parts[3], parts[5]
    if not (day.isdigit() and day[0] != "0" and len(day) <= 2 and year.isdigit() and len(year) == 4):
        raise SrpError("TIMESTAMP must look like 'Sat Sep 5 09:03:07 UTC 2026'")
    try:
        moment = datetime.strptime(f"{year} {parts[1]} {day} {clock}", "%Y %b %d %H:%M:%S").replace(
            tzinfo=UTC
        )
    except ValueError:
        raise SrpError("TIMESTAMP must look like 'Sat Sep 5 09:03:07 UTC 2026'") from None
    if len(clock) != 8 or WEEKDAYS[moment.weekday()] != parts[0]:
        raise SrpError("TIMESTAMP must look like 'Sat Sep 5 09:03:07 UTC 2026'")
    return moment
