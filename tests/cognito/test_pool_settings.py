"""The pool's id (CHATSERVER_USER_POOL_ID): in the SRP hash, in the issuer `<public URL>/<pool id>` with discovery
and JWKS under it, printed by `chatserver pool` and at start, and refused when it is not of Cognito's shape."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from jose import jwt
from pycognito.aws_srp import AWSSRP

from tests.cognito.clients import client_id, cognito_client, sign_up
from tests.server import RunningServer, run_server

POOL = "eu-west-1_Chat42"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data = Path(tmp_path_factory.mktemp("pool")) / "data"
    with run_server(data, auto_confirm=True, user_pool_id=POOL) as running:
        yield running


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CHATSERVER_")} | env
    return subprocess.run(
        [sys.executable, "-m", "chatserver", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )


def test_srp_hashes_the_configured_pool_name(server: RunningServer) -> None:
    cognito = cognito_client(server)
    sign_up(cognito, server, "pooled")
    result = AWSSRP("pooled", "Corr3ct-Horse!", POOL, client_id(server), client=cognito).authenticate_user()
    claims = jwt.get_unverified_claims(result["AuthenticationResult"]["IdToken"])
    assert claims["iss"] == f"{server.url}/{POOL}"
    # a client configured with another pool name derives another key: refused
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        AWSSRP(
            "pooled", "Corr3ct-Horse!", "eu-west-1_Other", client_id(server), client=cognito
        ).authenticate_user()


def test_discovery_and_jwks_live_under_the_issuer(server: RunningServer) -> None:
    issuer = f"{server.url}/{POOL}"
    config = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=30).json()
    assert config["issuer"] == issuer
    assert config["jwks_uri"] == f"{issuer}/.well-known/jwks.json"
    keys = httpx.get(config["jwks_uri"], timeout=30).json()["keys"]
    assert (
        keys == httpx.get(f"{server.url}/.well-known/jwks.json", timeout=30).json()["keys"]
    )  # the root stays
    assert httpx.get(f"{server.url}/other_pool/.well-known/jwks.json", timeout=30).status_code == 404


def test_cli_pool_prints_what_a_client_needs(tmp_path: Path) -> None:
    env = {
        "CHATSERVER_DATA_DIR": str(tmp_path / "data"),
        "CHATSERVER_USER_POOL_ID": POOL,
        "CHATSERVER_PUBLIC_URL": "https://chat.example.com",
    }
    result = _cli("pool", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"user pool id:  {POOL}",
        "app client id: chatserver",
        "endpoint:      https://chat.example.com/",
        f"issuer:        https://chat.example.com/{POOL}",
    ]


@pytest.mark.parametrize("bad", ["nounderscore", "eu-west-1_", "_Chat", "eu west_1", "eu-west-1_Chat!"])
def test_a_pool_id_not_of_cognitos_shape_is_a_configuration_error(tmp_path: Path, bad: str) -> None:
    result = _cli("pool", env={"CHATSERVER_DATA_DIR": str(tmp_path / "data"), "CHATSERVER_USER_POOL_ID": bad})
    assert result.returncode == 2
    assert "CHATSERVER_USER_POOL_ID" in result.stderr


def test_the_start_log_names_pool_client_and_endpoint(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.INFO, logger="chatserver"),
        run_server(tmp_path / "data", user_pool_id=POOL) as srv,
    ):
        pass
    lines = [r.getMessage() for r in caplog.records if "Cognito user pool" in r.getMessage()]
    assert lines == [
        f"Cognito user pool: id {POOL}, app client id chatserver, endpoint {srv.url}/ (issuer {srv.url}/{POOL})"
    ]
