"""The orphan sweep: files no message references go away, referenced and fresh ones stay."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from chatserver.config import Settings
from chatserver.persistence.database import create_engine, migrate
from chatserver.persistence.files import FilesRepository
from chatserver.persistence.messages import MessagesRepository
from chatserver.persistence.rooms import RoomsRepository
from chatserver.storage.local import LocalDirectoryStore
from chatserver.storage.service import FileService
from chatserver.storage.signing import UrlSigner
from tests.databases import db_rows
from tests.files.helpers import png, token_for, upload_target
from tests.server import run_server

TTL = 900


async def _body(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _uploaded(service: FileService, owner: str) -> tuple[str, str]:
    data = png(500)
    target = await service.create_upload(
        owner=owner, filename="a.png", content_type="image/png", size=len(data)
    )
    url = urlsplit(target.upload_url)
    query = parse_qs(url.query)
    await service.receive_upload(
        target.key,
        expires=query["expires"][0],
        signature=query["signature"][0],
        content_type="image/png",
        content_length=str(len(data)),
        body=_body(data),
    )
    return target.image_id, target.key


async def test_sweep_removes_orphans_and_expired_uploads_only(tmp_path: Path, database_url: str) -> None:
    settings = Settings(data_dir=tmp_path, url_ttl=TTL, database_url=database_url)
    engine = create_engine(settings.resolved_database_url)
    try:
        await migrate(engine)
        now = [1_900_000_000]
        signer = UrlSigner(b"s" * 32)
        store = LocalDirectoryStore(tmp_path / "files", "http://127.0.0.1:9", signer)
        service = FileService(
            settings=settings,
            repository=FilesRepository(engine),
            store=store,
            signer=signer,
            clock=lambda: now[0],
        )
        rooms = RoomsRepository(engine)
        async with MessagesRepository(engine).running() as messages:
            await rooms.create(room_id="r", name="r", owner="alice")

            kept_id, kept_key = await _uploaded(service, "alice")
            await messages.create(message_id="m1", room_id="r", owner="alice", text=None, image_id=kept_id)
            orphan_id, orphan_key = await _uploaded(service, "alice")
            await messages.create(message_id="m2", room_id="r", owner="alice", text=None, image_id=orphan_id)
            await messages.delete(message_id="m2", owner="alice")
            await service.create_upload(owner="alice", filename="b.png", content_type="image/png", size=10)

            # Within the grace period nothing goes: the client may still be about to send its message.
            assert (await service.sweeper.sweep_once()).orphans == 0
            assert (store.root / orphan_key).exists()

            now[0] += 2 * TTL + 1
            fresh_id, fresh_key = await _uploaded(service, "alice")  # uploaded just now, no message yet
            result = await service.sweeper.sweep_once()

            assert (result.orphans, result.expired_uploads) == (1, 1)
            assert not (store.root / orphan_key).exists()
            assert await service.download_url(orphan_id) is None
            assert (store.root / kept_key).exists() and await service.download_url(kept_id) is not None
            assert (store.root / fresh_key).exists()
            await service.require_uploaded(fresh_id, "alice")
    finally:
        await engine.dispose()


def test_server_sweeps_expired_pending_uploads(tmp_path: Path) -> None:
    with run_server(tmp_path / "data", auto_confirm=True, url_ttl=1, file_sweep_interval=1) as server:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            target = upload_target(client, token_for(client, "alice"), size=100)

        def pending() -> list[tuple[str]]:
            return db_rows(server.settings, "SELECT key FROM files WHERE image_id = :i", i=target["imageId"])

        assert pending() == [(target["key"],)]
        deadline = time.monotonic() + 15
        while pending():
            assert time.monotonic() < deadline, "the expired upload was never swept"
            time.sleep(0.1)
