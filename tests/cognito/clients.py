"""The clients of the Cognito API tests: boto3's `cognito-idp` pointed at a running server, pycognito's SRP, and
raw x-amz-json-1.1 requests for the hostile ones."""

from __future__ import annotations

from typing import Any

import boto3
import httpx
from botocore.config import Config

from tests.server import RunningServer

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
