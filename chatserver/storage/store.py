"""The storage interface: where uploaded bytes live. Local directory today; an S3-compatible store can follow."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class StoredFile:
    size: int
    etag: str  # a strong validator: the hex SHA-256 of the content


class OpenedFile(Protocol):
    """An object opened for reading; `chunks` closes it when exhausted or closed."""

    size: int

    def chunks(self, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes `start` up to and excluding `end`, in chunks."""
        ...

    def close(self) -> None: ...


class KeyExists(Exception):
    """`put` found the key already written: stored objects are written once and never overwritten."""


class FileStore(Protocol):
    """Bytes by key. Keys are relative, `/`-separated, from a safe alphabet (letters, digits, `._-`);
    anything else (`..`, absolute paths, NUL, backslashes) is refused with ValueError before any I/O.

    Contract: `put` is atomic (readers see the whole object or nothing; a failed or cancelled `put`
    leaves nothing behind) and exclusive (KeyExists when the key is taken). No method blocks the event loop.
    """

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> StoredFile:
        """Consume `chunks` into the object `key`. If the iterable raises, nothing is stored and the error propagates."""
        ...

    async def open(self, key: str) -> OpenedFile | None:
        """Open the object for reading (None when there is no such object). What is open stays readable
        even if the object is deleted meanwhile."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object; a missing object is not an error."""
        ...

    def signed_url(self, method: str, key: str, expires: int, bound: str = "") -> str:
        """An absolute URL that lets its holder `method` (PUT or GET) the object until `expires` (epoch s).
        `bound` is extra signed text a PUT must honour (the declared content type and size)."""
        ...

    async def sweep_partials(self, older_than: float) -> int:
        """Remove leftovers of interrupted writes last touched before `older_than` (epoch s); returns the count."""
        ...
