"""The periodic sweep: expired pending uploads, completed files no message references, leftovers of broken writes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass

from chatserver.config import Settings
from chatserver.persistence.files import FilesRepository
from chatserver.storage.store import FileStore

log = logging.getLogger("chatserver.storage.sweep")

ORPHAN_BATCH = 500
SHUTDOWN_TIMEOUT = 10.0
PARTIAL_MAX_AGE = 3600.0  # seconds a temporary file may sit untouched before it counts as abandoned


@dataclass(frozen=True, slots=True)
class SweepResult:
    expired_uploads: int
    orphans: int
    partials: int


class Sweeper:
    """Owns one background task that sweeps every `settings.file_sweep_interval` seconds.

    A completed file is an orphan when no message names its imageId and its upload URL expired more than
    `url_ttl` seconds ago (the grace a client has between uploading and sending the message). Once swept, a
    download URL still in circulation answers 404."""

    def __init__(
        self,
        repository: FilesRepository,
        store: FileStore,
        settings: Settings,
        *,
        clock: Callable[[], int],
        in_flight: Collection[str],
        forget: Callable[[str], None],
    ) -> None:
        self._files = repository
        self._store = store
        self._settings = settings
        self._clock = clock
        self._in_flight = in_flight
        self._forget = forget

    async def sweep_once(self) -> SweepResult:
        now = self._clock()
        expired = await self._files.delete_expired_pending(now, keep=list(self._in_flight))
        for key in expired:
            await self._store.delete(key)
        orphans = 0
        while True:
            batch = await self._files.delete_orphans(now - self._settings.url_ttl, ORPHAN_BATCH)
            for key, image_id in batch:
                self._forget(image_id)
                await self._store.delete(key)
            orphans += len(batch)
            if len(batch) < ORPHAN_BATCH:
                break
        partials = await self._store.sweep_partials(time.time() - PARTIAL_MAX_AGE)
        result = SweepResult(expired_uploads=len(expired), orphans=orphans, partials=partials)
        if expired or orphans or partials:
            log.info("file sweep removed %s", result)
        return result

    async def _run(self) -> None:
        interval = max(1, self._settings.file_sweep_interval)
        while True:
            try:
                await self.sweep_once()
            except Exception:
                log.exception("file sweep failed; trying again in %s s", interval)
            await asyncio.sleep(interval)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        task = asyncio.create_task(self._run(), name="chatserver-file-sweep")
        try:
            yield
        finally:
            task.cancel()
            # A sweep step in a worker thread finishes its file call before the cancellation lands.
            done, _ = await asyncio.wait({task}, timeout=SHUTDOWN_TIMEOUT)
            if not done:  # still inside a slow file call: ask again, and wait for it to end
                log.warning("file sweep still busy after %ss at shutdown; cancelling again", SHUTDOWN_TIMEOUT)
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
