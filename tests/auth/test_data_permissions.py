"""A verifier or a hash allows an offline password guess: the data directory is 0700 and the SQLite database (with
its WAL files) 0600 when chatserver creates them, like the key files."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx

from tests.databases import on_postgresql
from tests.server import run_server


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_data_directory_and_database_files_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with run_server(data, auto_confirm=True) as server:
        body = {
            "username": "perm",
            "password": "Corr3ct-Horse!",
            "email": "p@example.com",
            "givenName": "P",
            "familyName": "Q",
        }
        assert httpx.post(f"{server.url}/auth/signup", json=body, timeout=30).status_code == 200
        assert _mode(data) == 0o700
        for secret in ("jwt-signing-key.pem", "url-signing-secret", "code-secret"):
            assert _mode(data / secret) == 0o600, secret
        if not on_postgresql():
            files = sorted(p.name for p in data.glob("chatserver.db*"))
            assert {"chatserver.db", "chatserver.db-wal", "chatserver.db-shm"} <= set(files), files
            for name in files:
                assert _mode(data / name) == 0o600, name


def test_an_existing_data_directory_keeps_its_mode(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o750)
    data.chmod(0o750)
    with run_server(data, auto_confirm=True):
        assert _mode(data) == 0o750  # the operator's choice is not overridden
