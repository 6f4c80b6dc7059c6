"""The `chatserver` command as a person or a script runs it: a subprocess on a fresh data directory."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import websockets.sync.client
from jose import jwt

from tests.server import free_port

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "Corr3ct-horse!"


def chatserver(
    data_dir: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CHATSERVER_")} | {
        "CHATSERVER_DATA_DIR": str(data_dir)
    }
    environment |= env or {}
    return subprocess.run(
        [sys.executable, "-m", "chatserver", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        cwd=data_dir.parent,
    )


def test_cli_schema_export_prints_the_committed_schema(tmp_path: Path) -> None:
    result = chatserver(tmp_path / "data", "schema", "export")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (REPO / "schema.graphql").read_text()


def test_cli_schema_export_writes_output_file(tmp_path: Path) -> None:
    target = tmp_path / "schema.graphql"
    result = chatserver(tmp_path / "data", "schema", "export", "--output", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "type Subscription" in target.read_text()


def test_cli_user_create_and_token_prints_only_a_usable_access_token(tmp_path: Path) -> None:
    data = tmp_path / "data"
    created = chatserver(
        data,
        "user", "create", "alice", "--email", "alice@example.com", "--group", "admin",
        "--confirmed", "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert "created user alice" in created.stdout

    token = chatserver(data, "token", "alice")
    assert token.returncode == 0, token.stderr
    lines = token.stdout.split("\n")
    assert lines[1:] == [""], "token prints exactly one line"
    claims = jwt.get_unverified_claims(lines[0])
    assert claims["username"] == "alice"
    assert claims["token_use"] == "access"
    assert claims["cognito:groups"] == ["admin"]


def test_cli_token_for_unknown_user_fails_with_a_message(tmp_path: Path) -> None:
    result = chatserver(tmp_path / "data", "token", "nobody")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "does not exist" in result.stderr


def test_cli_user_create_without_terminal_asks_for_password_stdin(tmp_path: Path) -> None:
    result = chatserver(tmp_path / "data", "user", "create", "bob", "--email", "b@example.com")
    assert result.returncode == 1
    assert "--password-stdin" in result.stderr


def test_cli_user_create_refuses_weak_password(tmp_path: Path) -> None:
    result = chatserver(
        tmp_path / "data", "user", "create", "bob", "--email", "b@example.com", "--password-stdin",
        stdin="short\n",
    )  # fmt: skip
    assert result.returncode == 1
    assert "InvalidPasswordException" in result.stderr


def test_cli_room_create_prints_id_and_refuses_duplicates(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = chatserver(data, "room", "create", "Room 1", "--id", "room-1")
    assert (first.returncode, first.stdout) == (0, "room-1\n")
    again = chatserver(data, "room", "create", "Room 1", "--id", "room-1")
    assert again.returncode == 1
    assert "already exists" in again.stderr
    generated = chatserver(data, "room", "create", "Room 2")
    assert generated.returncode == 0
    assert len(generated.stdout.strip()) == 36  # a UUID


def test_cli_migrate_reports_revision(tmp_path: Path) -> None:
    result = chatserver(tmp_path / "data", "migrate")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("database is at revision ")
    assert (tmp_path / "data" / "chatserver.db").exists()


def test_cli_bad_setting_is_a_clear_configuration_error(tmp_path: Path) -> None:
    result = chatserver(tmp_path / "data", "migrate", env={"CHATSERVER_PORT": "eighty"})
    assert result.returncode == 2
    assert "CHATSERVER_PORT must be a whole number" in result.stderr


def test_cli_without_command_prints_help(tmp_path: Path) -> None:
    result = chatserver(tmp_path / "data")
    assert result.returncode == 2
    assert "serve" in result.stdout and "token" in result.stdout


def test_cli_serve_starts_on_embedded_defaults_and_stops_on_sigterm(tmp_path: Path) -> None:
    data = tmp_path / "data"
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CHATSERVER_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "chatserver", "serve", "--port", str(port), "--data-dir", str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/graphql", headers={"accept": "text/html"})
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"server did not start: {process.stdout.read() if process.stdout else ''}")
                time.sleep(0.1)
        assert page.status_code == 200
        assert "graphiql" in page.text.lower()
        unauthenticated = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": "{ rooms { id } }"})
        assert unauthenticated.status_code == 401
        # refused (no valid credentials): only the log line matters here
        with (
            contextlib.suppress(Exception),
            websockets.sync.client.connect(
                f"ws://127.0.0.1:{port}/graphql/realtime?header=c2VjcmV0LXRva2Vu&payload=e30=",
                subprotocols=["graphql-ws"],
                open_timeout=10,
            ) as socket,
        ):
            socket.recv(timeout=10)
        assert (data / "chatserver.db").exists()
        assert (data / "jwt-signing-key.pem").stat().st_mode & 0o777 == 0o600
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    # uvicorn re-raises SIGTERM after its graceful shutdown, as process supervisors expect
    assert process.returncode in (0, -signal.SIGTERM), output
    assert "chatserver ready" in output
    assert "Application shutdown complete" in output
    assert "/graphql/realtime?[redacted]" in output  # the WebSocket line is logged, its credentials are not
    assert "c2VjcmV0LXRva2Vu" not in output
