"""The npm Cognito clients as a test drives them: one Node process per client library (a driver script in
tests/node_cognito or tests/node), one stdin command per library call, one reply line each.

A chatserver for them: manual confirmation (codes read from the server log, as a user reads their e-mail) and the
pool settings the clients are configured with (pool id, client id, endpoint).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from jose import jwt

from tests.auth.flows import CodeLog, watching_codes
from tests.helpers import AMZ_USER_AGENT, GET_ROOMS, LIST_ROOMS
from tests.node_clients import NodeScript
from tests.server import RunningServer, run_server

ATTRIBUTES = {"given_name": "Ada", "family_name": "Lovelace"}
WRONG_PASSWORD = "Wrong-Horse-9!"
INCORRECT = "Incorrect username or password."


class ClientRefused(AssertionError):
    """A library call the driver reported as failed: Cognito's error name and message as the app sees them."""

    def __init__(self, op: str, name: str, message: str) -> None:
        super().__init__(f"{op} failed: {name}: {message}")
        self.name = name
        self.message = message


class Driver:
    """One client library in one Node process; `call` runs one of its operations and returns the result."""

    def __init__(self, directory: Path, script: str, config: dict[str, Any]) -> None:
        self.script = NodeScript(directory, script, config, {})
        self.calls: list[dict[str, str]] = []  # the Cognito operations the last call sent
        self._claimed: set[int] = set()  # indexes in script.seen already returned by event()
        self.script.expect("ready")

    def _run(self, op: str, args: dict[str, Any]) -> dict[str, Any]:
        self.script.send({"op": op, "args": args})
        reply = self.script.expect("reply")
        assert reply["op"] == op, reply
        self.calls = reply["calls"]
        return reply

    def call(self, op: str, **args: Any) -> Any:
        """The operation's result; raises ClientRefused when the library reports a failure."""
        reply = self._run(op, args)
        if not reply["ok"]:
            raise ClientRefused(op, reply["error"]["name"], reply["error"]["message"])
        return reply["value"]

    def refused(self, op: str, **args: Any) -> ClientRefused:
        """The failure of an operation that must fail."""
        reply = self._run(op, args)
        assert not reply["ok"], f"{op} succeeded: {reply}"
        return ClientRefused(op, reply["error"]["name"], reply["error"]["message"])

    def event(self, name: str) -> dict[str, Any]:
        """The next unclaimed line of kind `name` (a push from the library, such as a subscription's data), including
        one that arrived while a reply was awaited."""
        for index, line in enumerate(self.script.seen):
            if line["event"] == name and index not in self._claimed:
                self._claimed.add(index)
                return line
        line = self.script.expect(name)
        self._claimed.add(len(self.script.seen) - 1)
        return line

    def operations(self) -> list[str]:
        """The last call's Cognito operations, with the flow of each InitiateAuth: e.g. InitiateAuth:USER_SRP_AUTH."""
        return [
            f"{c['operation']}:{c['authFlow']}" if "authFlow" in c else c["operation"] for c in self.calls
        ]

    def stop(self) -> None:
        self.script.stop()


@dataclass(frozen=True, slots=True)
class CognitoWorld:
    """A running chatserver with the settings a Cognito client is configured with, and the codes it logged."""

    server: RunningServer
    codes: CodeLog

    @property
    def pool(self) -> dict[str, str]:
        """What every driver is given: the Cognito endpoint (the server's root URL), pool id and client id."""
        return {
            "endpoint": f"{self.server.url}/",
            "userPoolId": self.server.settings.user_pool_id,
            "clientId": self.server.settings.client_id,
            "region": self.server.settings.user_pool_id.split("_")[0],
            "graphqlEndpoint": f"{self.server.url}/graphql",
        }

    def graphql(self, token: str, query: str = LIST_ROOMS) -> httpx.Response:
        """A GraphQL call as the seed apps send it (raw token in Authorization)."""
        return httpx.post(
            f"{self.server.url}/graphql",
            json={"query": query, "variables": {}},
            headers={"Authorization": token, "x-amz-user-agent": AMZ_USER_AGENT},
            timeout=30,
        )

    def assert_accepted(self, access_token: str, id_token: str | None = None) -> None:
        """The chat seed's ListRooms runs with the access token (and the walkie-talkie's GetRooms with the ID token)."""
        listed = self.graphql(access_token)
        assert listed.status_code == 200, listed.text
        assert "errors" not in listed.json(), listed.text
        assert isinstance(listed.json()["data"]["listRooms"]["items"], list)
        if id_token is not None:
            rooms = self.graphql(id_token, GET_ROOMS)
            assert rooms.status_code == 200 and "errors" not in rooms.json(), rooms.text

    def assert_refused(self, token: str) -> None:
        refused = self.graphql(token)
        assert refused.status_code == 401, refused.text
        assert refused.json()["errors"][0]["errorType"] == "UnauthorizedException", refused.text

    def signin_form(self, username: str, password: str) -> httpx.Response:
        """The same account through chatserver's own /auth/signin form."""
        return httpx.post(
            f"{self.server.url}/auth/signin", json={"username": username, "password": password}, timeout=30
        )

    def refresh_form(self, refresh_token: str) -> httpx.Response:
        """A refresh through chatserver's own /auth/refresh form."""
        return httpx.post(f"{self.server.url}/auth/refresh", json={"refreshToken": refresh_token}, timeout=30)


@contextmanager
def cognito_world(data_dir: Path, **settings: object) -> Iterator[CognitoWorld]:
    """A server that sends confirmation codes to its log (no auto-confirm), with the log watched.

    Every test signs in from 127.0.0.1 and some refuse a wrong password on purpose: the per-address failure limit
    is raised so one test's refusals cannot lock out the next (tests/auth covers the throttle itself).
    """
    with watching_codes() as codes, run_server(data_dir, signin_max_failures=100, **settings) as server:
        yield CognitoWorld(server, codes)


def wait_until_expired(token: str, limit_seconds: float = 30.0) -> None:
    """Until the wall clock is past the token's `exp` (bounded: fails if that is more than `limit_seconds` away)."""
    expires_at = jwt.get_unverified_claims(token)["exp"]
    assert expires_at - time.time() < limit_seconds, "the token lives too long for this test"
    while time.time() <= expires_at:
        time.sleep(0.1)


@contextmanager
def driver(directory: Path, script: str, world: CognitoWorld, **pool: str) -> Iterator[Driver]:
    """A driver configured with the world's pool settings (`pool` overrides some, e.g. a wrong clientId)."""
    started = Driver(directory, script, {**world.pool, **pool})
    try:
        yield started
    finally:
        started.stop()


def email_of(username: str) -> str:
    return f"{username}@example.com"
