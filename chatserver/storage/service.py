"""The files service: upload targets for signed-in users, checked uploads, signed downloads, the orphan sweep."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass

from chatserver.clock import epoch_s, iso_from_epoch_ms, iso_now
from chatserver.config import Settings
from chatserver.errors import NotFound, ValidationFailed
from chatserver.persistence.files import FileRecord, FilesRepository
from chatserver.storage.formats import HEAD_BYTES, IMAGE_FORMATS
from chatserver.storage.local import ROUTE_PREFIX, checked_key
from chatserver.storage.signing import UrlSigner
from chatserver.storage.store import FileStore, KeyExists, OpenedFile, StoredFile
from chatserver.storage.sweep import Sweeper

log = logging.getLogger("chatserver.storage")

MAX_FILENAME_LENGTH = 255
URL_CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class UploadTarget:
    key: str
    image_id: str
    upload_url: str
    expires_at: str  # ISO 8601 with milliseconds and Z


@dataclass(frozen=True, slots=True)
class Download:
    record: FileRecord
    opened: OpenedFile
    remaining: int  # seconds the URL stays valid: the longest a cache may keep the response


class FileRefused(Exception):
    """An upload or download request refused at the HTTP edge: a status, an S3-like code and a clear message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _denied(message: str) -> FileRefused:
    return FileRefused(403, "AccessDenied", message)


def _check_filename(filename: str) -> None:
    if not filename or len(filename) > MAX_FILENAME_LENGTH:
        raise ValidationFailed(f"filename must be 1 to {MAX_FILENAME_LENGTH} characters.")
    if filename in {".", ".."} or any(c in filename for c in "/\\") or not filename.isprintable():
        raise ValidationFailed(
            "filename must be a plain file name: no slashes, no control characters, not . or .."
        )


class FileService:
    def __init__(
        self,
        *,
        settings: Settings,
        repository: FilesRepository,
        store: FileStore,
        signer: UrlSigner,
        clock: Callable[[], int] = epoch_s,
    ) -> None:
        self._settings = settings
        self._files = repository
        self._store = store
        self._signer = signer
        self._clock = clock
        self._receiving: set[str] = set()  # keys with an upload in flight in this process
        self._keys: OrderedDict[str, str] = OrderedDict()  # image_id -> key of completed uploads (LRU)
        self.sweeper = Sweeper(
            repository, store, settings, clock=clock, in_flight=self._receiving, forget=self._forget
        )

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[FileService]:
        """Run the periodic sweep for as long as the context is open."""
        async with self.sweeper.running():
            yield self

    # --- GraphQL side ---

    async def create_upload(self, *, owner: str, filename: str, content_type: str, size: int) -> UploadTarget:
        image_format = IMAGE_FORMATS.get(content_type)
        if image_format is None:
            raise ValidationFailed(
                f"contentType must be one of {', '.join(IMAGE_FORMATS)}, not {content_type[:64]!r}."
            )
        limit = self._settings.max_upload_bytes
        if size <= 0 or size > limit:
            raise ValidationFailed(f"size must be between 1 and {limit} bytes, not {size}.")
        _check_filename(filename)
        image_id = str(uuid.uuid4())
        owner_dir = hashlib.sha256(owner.encode()).hexdigest()[:16]
        key = f"uploads/{owner_dir}/{image_id}.{image_format.extension}"
        expires = self._clock() + self._settings.url_ttl
        await self._files.add_pending(
            FileRecord(
                key=key,
                image_id=image_id,
                owner=owner,
                content_type=content_type,
                size=size,
                status="pending",
                created_at=iso_now(),
                expires_at=expires,
                etag=None,
            )
        )
        return UploadTarget(
            key=key,
            image_id=image_id,
            upload_url=self._store.signed_url("PUT", key, expires, _upload_bound(content_type, size)),
            expires_at=iso_from_epoch_ms(expires * 1000),
        )

    async def require_uploaded(self, image_id: str, username: str) -> None:
        record = await self._files.by_image_id(image_id)
        if record is None or record.owner != username:
            raise NotFound(f"Image {image_id} was not found: upload it with createUploadUrl first.")
        if not record.complete:
            raise NotFound(f"Image {image_id} was not found: its upload has not completed.")

    async def download_url(self, image_id: str) -> str | None:
        key = self._keys.get(image_id)
        if key is None:
            record = await self._files.by_image_id(image_id)
            if record is None or not record.complete:
                return None
            key = self._remember(image_id, record.key)
        else:
            self._keys.move_to_end(image_id)
        return self._store.signed_url("GET", key, self._clock() + self._settings.url_ttl)

    def _remember(self, image_id: str, key: str) -> str:
        self._keys[image_id] = key
        if len(self._keys) > URL_CACHE_SIZE:
            self._keys.popitem(last=False)
        return key

    def _forget(self, image_id: str) -> None:
        self._keys.pop(image_id, None)

    # --- HTTP side (the presigned URLs of the local store) ---

    async def receive_upload(
        self,
        key: str,
        *,
        expires: str | None,
        signature: str | None,
        content_type: str | None,
        content_length: str | None,
        body: AsyncIterable[bytes],
    ) -> StoredFile:
        """Check the URL and the declared body, stream it into the store, mark the upload complete."""
        record = await self._signed_record("PUT", key, expires, signature)
        if record.complete:
            raise FileRefused(
                409, "AlreadyUploaded", "This upload URL was already used: a file is stored there."
            )
        if key in self._receiving:
            raise FileRefused(409, "UploadInProgress", "An upload to this URL is already in progress.")
        if (content_type or "").strip().lower() != record.content_type:
            raise FileRefused(
                415,
                "ContentTypeMismatch",
                f"Content-Type must be exactly the declared {record.content_type}, not {(content_type or '')[:64]!r}.",
            )
        _check_length(content_length, record.size)
        self._receiving.add(key)
        try:
            try:
                stored = await self._store.put(key, _checked_body(body, record))
            except KeyExists:
                raise FileRefused(409, "AlreadyUploaded", "This upload URL was already used.") from None
            except ValueError:  # the store found the key escaping its directory (e.g. a planted symlink)
                raise _denied("This URL does not name a file this server issued.") from None
            if not await self._files.mark_complete(key, stored.etag):
                await self._store.delete(key)
                raise FileRefused(409, "AlreadyUploaded", "This upload URL is no longer valid.")
        finally:
            self._receiving.discard(key)
        self._remember(record.image_id, key)
        return stored

    async def open_download(self, key: str, *, expires: str | None, signature: str | None) -> Download:
        path = ROUTE_PREFIX + _safe_key(key)
        now = self._clock()
        reason = self._signer.verify("GET", path, expires, signature, now)
        if reason is not None:
            raise _denied(reason)
        record = await self._files.by_key(key)
        opened = await self._store.open(key) if record is not None and record.complete else None
        if record is None or opened is None:
            raise FileRefused(404, "NoSuchKey", "There is no file at this URL (it may have been deleted).")
        return Download(record=record, opened=opened, remaining=max(0, int(expires or 0) - now))

    async def _signed_record(
        self, method: str, key: str, expires: str | None, signature: str | None
    ) -> FileRecord:
        path = ROUTE_PREFIX + _safe_key(key)
        record = await self._files.by_key(key)
        if record is None:
            # Never issued (or swept): no signature can be valid for it.
            raise _denied(
                "The signature does not match this URL." if signature else "This URL is not signed."
            )
        bound = _upload_bound(record.content_type, record.size)
        reason = self._signer.verify(method, path, expires, signature, self._clock(), bound)
        if reason is not None:
            raise _denied(reason)
        return record


def _safe_key(key: str) -> str:
    try:
        return checked_key(key)
    except ValueError:
        raise _denied("This URL does not name a file this server issued.") from None


def _upload_bound(content_type: str, size: int) -> str:
    return f"{content_type}\n{size}"


def _check_length(content_length: str | None, size: int) -> None:
    if content_length is None:
        return  # chunked: enforced while streaming
    if not content_length.strip().isdigit():
        raise FileRefused(400, "InvalidRequest", "Content-Length is not a number.")
    if int(content_length) > size:
        raise FileRefused(413, "EntityTooLarge", f"The body is larger than the declared {size} bytes.")
    if int(content_length) < size:
        raise FileRefused(400, "IncompleteBody", f"The body is smaller than the declared {size} bytes.")


async def _checked_body(body: AsyncIterable[bytes], record: FileRecord) -> AsyncIterator[bytes]:
    """The body as it streams in, refused the moment it passes the declared size or fails the type check."""
    image_format = IMAGE_FORMATS[record.content_type]
    received = 0
    head = b""
    async for chunk in body:
        received += len(chunk)
        if received > record.size:
            raise FileRefused(
                413, "EntityTooLarge", f"The body is larger than the declared {record.size} bytes."
            )
        if len(head) < HEAD_BYTES:
            head += chunk[: HEAD_BYTES - len(head)]
            if len(head) == HEAD_BYTES:
                _check_head(image_format.matches(head), record.content_type)
        yield chunk
    if received < record.size:
        raise FileRefused(400, "IncompleteBody", f"The body ended before the declared {record.size} bytes.")
    if len(head) < HEAD_BYTES:
        _check_head(image_format.matches(head), record.content_type)


def _check_head(matches: bool, content_type: str) -> None:
    if not matches:
        raise FileRefused(
            422, "ContentMismatch", f"The body is not a {content_type} image: its first bytes do not match."
        )
