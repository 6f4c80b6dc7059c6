"""An external OpenID Connect issuer for the OIDC tests: a second chatserver, in its own process, with its own keys.

It serves `/.well-known/openid-configuration` and `/.well-known/jwks.json` and signs Cognito-shaped tokens, as a real
Cognito pool does. `sign` mints tokens with any claims from its key file (for the expired, other-audience, wrong-issuer
cases); `rotate` moves its key to `.previous` and restarts it on the same port (a new `kid`, the old one still
published), and `stop` takes it away.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from jose import jws

from tests.server import free_port

CLIENT_ID = "external-web-client"
PASSWORD = "Ext3rnal-pool!"
START_SECONDS = 30.0


class ExternalIssuer:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = self.base  # the issuer, as its discovery document names it (read at start)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def key_file(self) -> Path:
        return self.data_dir / "jwt-signing-key.pem"

    def start(self) -> None:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("CHATSERVER_")} | {
            "CHATSERVER_DATA_DIR": str(self.data_dir),
            "CHATSERVER_PORT": str(self.port),
            "CHATSERVER_AUTO_CONFIRM": "true",
            "CHATSERVER_CLIENT_ID": CLIENT_ID,
            "CHATSERVER_LOG_LEVEL": "warning",
        }
        self._process = subprocess.Popen(
            [sys.executable, "-m", "chatserver", "serve"],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError("the external issuer exited at start")
            try:
                discovery = httpx.get(f"{self.base}/.well-known/openid-configuration", timeout=1)
                if discovery.status_code == 200:
                    self.url = discovery.json()["issuer"]
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the external issuer did not start")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=15)
        self._process = None

    def rotate(self) -> None:
        """Key rotation as the README describes it: the key becomes `.previous`, a new one signs after a restart."""
        self.stop()
        self.key_file.rename(self.key_file.with_name(self.key_file.name + ".previous"))
        self.start()

    def kids(self) -> list[str]:
        keys = httpx.get(f"{self.base}/.well-known/jwks.json", timeout=10).json()["keys"]
        return [key["kid"] for key in keys]

    def user_tokens(self, username: str) -> dict[str, str]:
        """Sign up and sign in a user of the external pool: its ID and access tokens."""
        body = {
            "username": username,
            "password": PASSWORD,
            "email": f"{username}@example.com",
            "givenName": username.title(),
            "familyName": "External",
        }
        response = httpx.post(f"{self.base}/auth/signup", json=body, timeout=30)
        assert response.status_code == 200, response.text
        response = httpx.post(
            f"{self.base}/auth/signin", json={"username": username, "password": PASSWORD}, timeout=30
        )
        assert response.status_code == 200, response.text
        return response.json()

    def sign(self, claims: dict[str, Any] | None = None, *, kid: str | None = None, **overrides: Any) -> str:
        """A token signed with the issuer's current key: Cognito access-token claims, changed by `overrides`."""
        now = int(time.time())
        body: dict[str, Any] = {
            "sub": str(uuid.uuid4()),
            "client_id": CLIENT_ID,
            "token_use": "access",
            "iss": self.url,
            "username": "minted",
            "iat": now,
            "exp": now + 600,
            "jti": str(uuid.uuid4()),
        }
        body.update(claims or {})
        body.update(overrides)
        for key in [k for k, v in body.items() if v is None]:
            del body[key]
        return jws.sign(
            body, self.key_file.read_bytes(), headers={"kid": kid or self.kids()[0]}, algorithm="RS256"
        )
