"""`chatserver api-key create / list / delete` as an operator runs them, against the data of a running server."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

import httpx
import websockets

from tests import helpers as seed
from tests.helpers import HTTP
from tests.realtime import live
from tests.server import run_server
from tests.test_cli import chatserver

KEY = re.compile(r"^da2-[a-z0-9]{26}\n$")


def _db_env(database_url: str) -> dict[str, str]:
    return {"CHATSERVER_DATABASE_URL": database_url} if database_url else {}


def _cli(data: Path, database_url: str, *args: str):
    return chatserver(data, "api-key", *args, env=_db_env(database_url))


def _list_rows(data: Path, database_url: str) -> list[str]:
    listed = _cli(data, database_url, "list")
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert header.split()[:2] == ["ID", "EXPIRES"]
    return rows


def test_api_key_cli_create_prints_the_key_once_and_list_shows_it(tmp_path: Path, database_url: str) -> None:
    data = tmp_path / "data"
    created = _cli(data, database_url, "create", "--description", "kiosk in the lobby")
    assert created.returncode == 0, created.stderr
    assert KEY.match(created.stdout)
    key_id = re.search(r"id ([0-9a-f]+)", created.stderr).group(1)
    assert created.stdout.strip() not in created.stderr
    assert "set CHATSERVER_ADDITIONAL_AUTH_MODES=API_KEY" in created.stderr  # the mode is off by default
    enabled = chatserver(
        data, "api-key", "create", env={"CHATSERVER_ADDITIONAL_AUTH_MODES": "API_KEY"} | _db_env(database_url)
    )
    assert enabled.returncode == 0 and "CHATSERVER_ADDITIONAL_AUTH_MODES" not in enabled.stderr
    rows = _list_rows(data, database_url)
    assert len(rows) == 2
    row = next(r for r in rows if r.startswith(key_id))
    assert row.startswith(key_id) and "never" in row and row.endswith("kiosk in the lobby")
    expires = re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row).group(0)
    days = (time.mktime(time.strptime(expires, "%Y-%m-%d %H:%M:%S")) - time.mktime(time.gmtime())) / 86400
    assert 6.9 < days <= 7.0  # AppSync's default: seven days
    if not database_url:  # only a keyed hash is stored, never the key
        assert created.stdout.strip().encode() not in (data / "chatserver.db").read_bytes()


def test_api_key_cli_refuses_expiry_beyond_a_year_and_keeps_nothing(
    tmp_path: Path, database_url: str
) -> None:
    data = tmp_path / "data"
    for days in ("366", "0", "-3"):
        refused = _cli(data, database_url, "create", "--expires-in", days)
        assert refused.returncode == 1
        assert "between 1 and 365 days" in refused.stderr
        assert refused.stdout == ""
    assert _cli(data, database_url, "create", "--expires-in", "x").returncode == 2  # argparse: not a number
    assert _list_rows(data, database_url) == []
    assert _cli(data, database_url, "create", "--expires-in", "365").returncode == 0


def test_api_key_cli_delete_of_an_unknown_id_is_a_clear_error(tmp_path: Path, database_url: str) -> None:
    data = tmp_path / "data"
    assert _cli(data, database_url, "create").returncode == 0
    refused = _cli(data, database_url, "delete", "nope")
    assert refused.returncode == 1
    assert "no API key with id 'nope'" in refused.stderr
    assert len(_list_rows(data, database_url)) == 1


async def test_api_key_cli_key_works_on_a_running_server_and_delete_closes_its_sockets(
    tmp_path: Path, database_url: str
) -> None:
    data = tmp_path / "data"
    with run_server(
        data,
        database_url=database_url,
        auto_confirm=True,
        additional_auth_modes=("API_KEY",),
        api_key_refresh_interval=1,
    ) as server:
        created = _cli(data, database_url, "create", "--expires-in", "30")
        assert created.returncode == 0, created.stderr
        key = created.stdout.strip()
        key_id = re.search(r"id ([0-9a-f]+)", created.stderr).group(1)
        async with httpx.AsyncClient(**HTTP) as client:
            answered = await client.post(
                f"{server.url}/graphql", json={"query": seed.LIST_ROOMS}, headers={"x-api-key": key}
            )
        assert answered.status_code == 200 and "errors" not in answered.json()
        for _ in range(40):  # "last used" is written coarsely, by the server's refresh loop
            row = _list_rows(data, database_url)[0]
            if "never" not in row:
                break
            await asyncio.sleep(0.5)
        assert "never" not in row

        header = {"host": live.host_of(server), "x-api-key": key}
        async with websockets.connect(
            f"{server.ws_url}/graphql/realtime", subprotocols=["graphql-ws", "header-" + _b64url(header)]
        ) as ws:
            await ws.send(json.dumps({"type": "connection_init"}))
            assert (await live.recv_json(ws))["type"] == "connection_ack"
            deleted = _cli(data, database_url, "delete", key_id)  # another process, as another replica would
            assert deleted.returncode == 0, deleted.stderr
            try:
                while True:
                    await live.recv_json(ws, wait=15)
            except websockets.ConnectionClosed as closed:
                assert closed.rcvd is not None and closed.rcvd.code == 4401
        async with httpx.AsyncClient(**HTTP) as client:
            refused = await client.post(
                f"{server.url}/graphql", json={"query": seed.LIST_ROOMS}, headers={"x-api-key": key}
            )
        assert refused.status_code == 401
        assert _list_rows(data, database_url) == []


def _b64url(header: dict[str, str]) -> str:
    import base64

    return base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
