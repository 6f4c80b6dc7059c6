"""The clients of the Cognito API tests: boto3's `cognito-idp` pointed at a running server, pycognito's SRP, and
raw x-amz-json-1.1 requests for the hostile ones."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any, Protocol

import boto3
import httpx
from botocore.config import Config
from pycognito.aws_srp import AWSSRP

from chatserver.config import Settings


class RunningServer(Protocol):
    """What these clients need of a server: its URL and settings (tests.server.RunningServer, or a replica)."""

    @property
    def url(self) -> str: ...

    @property
    def settings(self) -> Settings: ...


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A server known by URL only (a `chatserver serve` replica on the default pool and client ids)."""

    url: str
    settings: Settings = field(default_factory=Settings)


PASSWORD = "Corr3ct-Horse!"
TARGET = "AWSCognitoIdentityProviderService."
AMZ_JSON = "application/x-amz-json-1.1"


def cognito_client(server: RunningServer) -> Any:
    """boto3 as a user configures it for chatserver: endpoint_url, any region, dummy credentials (the
    operations used here are unsigned on Cognito too), no retries so a refusal shows at once."""
    return boto3.client(
        "cognito-idp",
        endpoint_url=f"{server.url}/",
        region_name="local",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(retries={"max_attempts": 1}, connect_timeout=10, read_timeout=60),
    )


def pool_id(server: RunningServer) -> str:
    return server.settings.user_pool_id


def client_id(server: RunningServer) -> str:
    return server.settings.client_id


def attributes(username: str, **extra: str) -> list[dict[str, str]]:
    values = {"email": f"{username}@example.com", "given_name": "Grace", "family_name": "Hopper", **extra}
    return [{"Name": k, "Value": v} for k, v in values.items()]


def sign_up(cognito: Any, server: RunningServer, username: str, password: str = PASSWORD) -> dict[str, Any]:
    return cognito.sign_up(
        ClientId=client_id(server), Username=username, Password=password, UserAttributes=attributes(username)
    )


def password_auth(
    cognito: Any, server: RunningServer, username: str, password: str = PASSWORD
) -> dict[str, Any]:
    return cognito.initiate_auth(
        ClientId=client_id(server),
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )


def raw_call(
    server: RunningServer,
    operation: str,
    body: Any,
    *,
    content_type: str = AMZ_JSON,
    content: bytes | None = None,
) -> httpx.Response:
    """One request as the JavaScript clients send it (fetch, no signature)."""
    headers = {"content-type": content_type, "x-amz-target": TARGET + operation}
    if content is None:
        return httpx.post(f"{server.url}/", json=body, headers=headers, timeout=30)
    return httpx.post(f"{server.url}/", content=content, headers=headers, timeout=30)


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    """Status, `__type` and message; the x-amzn-ErrorType header must name the same type."""
    body = response.json()
    assert response.headers["x-amzn-errortype"] == body["__type"], response.headers
    return response.status_code, body["__type"], body["message"]


class SrpClient:
    """The client half of SRP step by step (pycognito's AWSSRP math), so tests can tamper with each step."""

    def __init__(self, server: RunningServer, username: str, password: str = PASSWORD) -> None:
        self.server = server
        self.username = username
        self.srp = AWSSRP(username, password, pool_id(server), client_id(server), client=object())

    def initiate(self, **parameters: str) -> httpx.Response:
        auth = {**self.srp.get_auth_params(), **parameters}
        body = {"AuthFlow": "USER_SRP_AUTH", "ClientId": client_id(self.server), "AuthParameters": auth}
        return raw_call(self.server, "InitiateAuth", body)

    def challenge(self) -> dict[str, str]:
        response = self.initiate()
        assert response.status_code == 200, response.text
        return response.json()["ChallengeParameters"]

    def answer(
        self, challenge: dict[str, str], *, timestamp: str | None = None, secret_block: str | None = None
    ) -> dict[str, str]:
        """PASSWORD_VERIFIER responses signed over `timestamp` and `secret_block` (default: now, as sent)."""
        block = challenge["SECRET_BLOCK"] if secret_block is None else secret_block
        stamp = timestamp or AWSSRP.get_cognito_formatted_timestamp(datetime.datetime.now(datetime.UTC))
        user_id = challenge["USER_ID_FOR_SRP"]
        key = self.srp.get_password_authentication_key(
            user_id, self.srp.password, int(challenge["SRP_B"], 16), challenge["SALT"]
        )
        message = pool_id(self.server).split("_")[1].encode() + user_id.encode() + base64.b64decode(block)
        signature = hmac.new(key, message + stamp.encode(), hashlib.sha256).digest()
        return {
            "USERNAME": challenge["USERNAME"],
            "PASSWORD_CLAIM_SECRET_BLOCK": block,
            "TIMESTAMP": stamp,
            "PASSWORD_CLAIM_SIGNATURE": base64.b64encode(signature).decode(),
        }

    def respond(self, responses: dict[str, str], *, client: str | None = None) -> httpx.Response:
        body = {
            "ChallengeName": "PASSWORD_VERIFIER",
            "ClientId": client or client_id(self.server),
            "ChallengeResponses": responses,
        }
        return raw_call(self.server, "RespondToAuthChallenge", body)
