"""The local-directory FileStore: objects are files under <data dir>/files, nothing outside it is ever touched."""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import BinaryIO

from anyio import to_thread

from chatserver.storage.signing import UrlSigner
from chatserver.storage.store import KeyExists, StoredFile

ROUTE_PREFIX = "/files/"
PARTIAL_DIR = ".partial"  # keys cannot start with a dot, so no key ever reaches it
FLUSH_BYTES = 256 * 1024
READ_BYTES = 256 * 1024
MAX_KEY_LENGTH = 256
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def checked_key(key: str) -> str:
    """`key` if it is a safe relative key (no `..`, no absolute path, no NUL or backslash); else ValueError."""
    if not key or len(key) > MAX_KEY_LENGTH or not all(_SEGMENT.fullmatch(p) for p in key.split("/")):
        raise ValueError(f"not a valid file key: {key[:80]!r}")
    return key


class _PartialFile:
    """A temporary file in the partial directory, written from worker threads, published by a hard link."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{uuid.uuid4().hex}.part"
        self.handle: BinaryIO = open(self.path, "xb", buffering=0)  # noqa: SIM115 - closed by commit/discard
        self.digest = hashlib.sha256()
        self.size = 0
        self.pending = bytearray()

    def add(self, chunk: bytes) -> None:
        self.pending += chunk
        self.size += len(chunk)

    def flush(self) -> None:
        data, self.pending = bytes(self.pending), bytearray()
        self.digest.update(data)
        self.handle.write(data)

    def commit(self, final: Path, root: Path) -> None:
        self.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        final.parent.mkdir(parents=True, exist_ok=True)
        if not final.parent.resolve().is_relative_to(root):
            raise ValueError("file key escapes the storage directory")
        try:
            os.link(self.path, final)  # exclusive and atomic: never replaces an existing object
        except FileExistsError:
            raise KeyExists(final.name) from None
        finally:
            self.path.unlink(missing_ok=True)

    def discard(self) -> None:
        self.handle.close()
        self.path.unlink(missing_ok=True)


class _LocalOpenedFile:
    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self.size = os.fstat(handle.fileno()).st_size

    async def chunks(self, start: int, end: int) -> AsyncIterator[bytes]:
        try:
            await to_thread.run_sync(self._handle.seek, start)
            remaining = end - start
            while remaining > 0:
                data = await to_thread.run_sync(self._handle.read, min(READ_BYTES, remaining))
                if not data:
                    break
                remaining -= len(data)
                yield data
        finally:
            self._handle.close()

    def close(self) -> None:
        self._handle.close()


class LocalDirectoryStore:
    """FileStore over a directory; URLs point at this server's /files/<key> routes."""

    def __init__(self, root: Path, public_url: str, signer: UrlSigner) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self._root = root.resolve()
        self._partials = self._root / PARTIAL_DIR
        self._public_url = public_url.rstrip("/")
        self._signer = signer

    @property
    def root(self) -> Path:
        return self._root

    def _path(self, key: str) -> Path:
        path = self._root / checked_key(key)
        # Lexically safe already; resolving also catches a symlink planted inside the directory.
        if not path.resolve().is_relative_to(self._root):
            raise ValueError("file key escapes the storage directory")
        return path

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> StoredFile:
        final = self._root / checked_key(key)
        partial = await to_thread.run_sync(_PartialFile, self._partials)
        try:
            async for chunk in chunks:
                partial.add(chunk)
                if len(partial.pending) >= FLUSH_BYTES:
                    # anyio waits for the thread even when cancelled, so discard never races a write.
                    await to_thread.run_sync(partial.flush)
            await to_thread.run_sync(partial.commit, final, self._root)
        except BaseException:
            partial.discard()  # close and unlink: quick, and must run even under cancellation
            raise
        return StoredFile(size=partial.size, etag=partial.digest.hexdigest())

    async def open(self, key: str) -> _LocalOpenedFile | None:
        def opened() -> _LocalOpenedFile | None:
            try:
                return _LocalOpenedFile(open(self._path(key), "rb"))
            except FileNotFoundError:
                return None

        return await to_thread.run_sync(opened)

    async def delete(self, key: str) -> None:
        await to_thread.run_sync(lambda: self._path(key).unlink(missing_ok=True))

    def signed_url(self, method: str, key: str, expires: int, bound: str = "") -> str:
        path = ROUTE_PREFIX + checked_key(key)
        return f"{self._public_url}{path}?{self._signer.query(method, path, expires, bound)}"

    async def sweep_partials(self, older_than: float) -> int:
        def sweep() -> int:
            removed = 0
            if not self._partials.is_dir():
                return 0
            for entry in os.scandir(self._partials):
                if entry.is_file() and entry.stat().st_mtime < older_than:
                    Path(entry.path).unlink(missing_ok=True)
                    removed += 1
            return removed

        return await to_thread.run_sync(sweep)
