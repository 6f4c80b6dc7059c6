"""Files of secrets in the data directory: created once, atomically, with mode 0600."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from pathlib import Path


def make_private_dir(path: Path) -> None:
    """Create a directory only its owner can enter (0700); an existing one is left as it is."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def create_private_file(path: Path) -> None:
    """Create an empty file of mode 0600 unless it exists (SQLite then keeps that mode, and gives it to its
    -wal and -shm files)."""
    make_private_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def write_once(path: Path, content: bytes) -> bytes:
    """Create `path` with `content` (mode 0600, fsynced) unless it exists; return what the file holds.

    The file appears whole or not at all, and a file another process created meanwhile is never replaced.
    """
    make_private_dir(path.parent)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_bytes()


def load_or_create_secret(path: Path, nbytes: int = 32) -> bytes:
    """Read the secret at `path`, creating it on first use."""
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    return bytes.fromhex(write_once(path, secrets.token_bytes(nbytes).hex().encode()).decode().strip())


def derive_key(secret: bytes, purpose: str) -> bytes:
    """A key for one purpose only, derived from a stored secret (HMAC-SHA256 as the KDF)."""
    return hmac.new(secret, b"chatserver:" + purpose.encode(), hashlib.sha256).digest()
