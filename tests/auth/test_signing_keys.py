from __future__ import annotations

import stat
from pathlib import Path

import httpx

from chatserver.auth.keys import SigningKeys, thumbprint
from tests.auth.flows import signed_in
from tests.server import run_server


def test_key_file_is_created_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with run_server(data, auto_confirm=True) as running:
        path = running.settings.jwt_key_path
        assert path.exists()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert b"PRIVATE KEY" in path.read_bytes()
        assert list(path.parent.glob("*.tmp")) == []


def test_keys_survive_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with run_server(data, auto_confirm=True) as first, httpx.Client(base_url=first.url) as client:
        kid = first.app.state.services.keys.kid
        tokens = signed_in(client, "alice")
    with run_server(data, auto_confirm=True) as second:
        assert second.app.state.services.keys.kid == kid
        # Same issuer only when the port is the same; the key is what must survive.
        jwks = httpx.get(f"{second.url}/.well-known/jwks.json").json()
        assert [key["kid"] for key in jwks["keys"]] == [kid]
        assert jwks["keys"][0]["alg"] == "RS256"
    assert tokens["accessToken"]


def test_rotation_publishes_and_accepts_the_previous_key(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with run_server(data, auto_confirm=True) as first:
        key_path = first.settings.jwt_key_path
        old_kid = first.app.state.services.keys.kid
    key_path.rename(key_path.with_name(key_path.name + ".previous"))
    with run_server(data, auto_confirm=True) as second:
        keys = second.app.state.services.keys
        assert keys.kid != old_kid
        jwks = httpx.get(f"{second.url}/.well-known/jwks.json").json()
        assert {key["kid"] for key in jwks["keys"]} == {keys.kid, old_kid}


def test_a_token_signed_with_the_previous_key_still_verifies(tmp_path: Path) -> None:
    old = SigningKeys.load_or_create(tmp_path / "old.pem")
    new_path = tmp_path / "new.pem"
    new_path.with_name("new.pem.previous").write_bytes((tmp_path / "old.pem").read_bytes())
    rotated = SigningKeys.load_or_create(new_path)
    assert rotated.get(old.kid) is not None
    assert rotated.kid != old.kid
    assert len(rotated.jwks()["keys"]) == 2


def test_kid_is_the_rfc7638_thumbprint() -> None:
    # The example key of RFC 7638 section 3.1.
    jwk = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
