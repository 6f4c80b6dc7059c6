"""Hostile and malformed requests to the Cognito API: each a Cognito-shaped HTTP 400 (`__type`, message and
`x-amzn-ErrorType`), nothing changed, and the other users signing in as before."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chatserver.auth import srp
from chatserver.auth.srp_handshake import HandshakeSealer
from chatserver.secrets import derive_key, load_or_create_secret
from tests.cognito.clients import (
    AMZ_JSON,
    TARGET,
    SrpClient,
    attributes,
    client_id,
    cognito_client,
    error_of,
    raw_call,
    sign_up,
)
from tests.helpers import assert_no_stack_trace
from tests.server import RunningServer, run_server

USERS = ("victim", "bystander")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    # A high failure limit: these tests fail on purpose many times, and the throttle has tests of its own.
    data = Path(tmp_path_factory.mktemp("hostile")) / "data"
    with run_server(data, auto_confirm=True, signin_max_failures=1000) as running:
        cognito = cognito_client(running)
        for username in USERS:
            sign_up(cognito, running, username)
        yield running


@pytest.fixture(autouse=True)
def others_unaffected(server: RunningServer) -> Iterator[None]:
    """After every hostile request, a bystander still signs in with SRP."""
    yield
    client = SrpClient(server, "bystander")
    response = client.respond(client.answer(client.challenge()))
    assert response.status_code == 200, response.text
    assert response.json()["AuthenticationResult"]["AccessToken"]


def _refused(response: httpx.Response, kind: str, mentions: str = "") -> str:
    assert_no_stack_trace(response.text)
    status, type_name, message = error_of(response)
    assert (status, type_name) == (400, kind), response.text
    assert mentions.lower() in message.lower(), message
    return message


@pytest.mark.parametrize(
    ("srp_a", "mentions"),
    [
        ("f" * 5000, "770 hex digits"),  # an unbounded A would be a CPU sink
        ("0", "not a valid value"),
        (f"{srp.N:x}", "not a valid value"),  # A mod N = 0
        (f"{2 * srp.N:x}", "not a valid value"),
        ("not-hex", "hexadecimal"),
        ("-1", "not a valid value"),
    ],
)
def test_bad_srp_a_is_invalid_parameter(server: RunningServer, srp_a: str, mentions: str) -> None:
    _refused(SrpClient(server, "victim").initiate(SRP_A=srp_a), "InvalidParameterException", mentions)


def test_forged_secret_block_is_refused(server: RunningServer) -> None:
    client = SrpClient(server, "victim")
    challenge = client.challenge()
    forged = base64.b64encode(b"\x00" * 600).decode()
    _refused(
        client.respond(client.answer(challenge, secret_block=forged)),
        "NotAuthorizedException",
        "SECRET_BLOCK",
    )
    raw = bytearray(base64.b64decode(challenge["SECRET_BLOCK"]))
    raw[40] ^= 1  # one bit of the sealed handshake
    tampered = base64.b64encode(bytes(raw)).decode()
    _refused(
        client.respond(client.answer(challenge, secret_block=tampered)),
        "NotAuthorizedException",
        "SECRET_BLOCK",
    )
    not_base64 = client.answer(challenge) | {"PASSWORD_CLAIM_SECRET_BLOCK": "%%%"}
    _refused(client.respond(not_base64), "NotAuthorizedException", "SECRET_BLOCK")


def test_expired_secret_block_is_refused(server: RunningServer) -> None:
    """A block past its expiry (sealed with the server's own key, as another replica would) is refused."""
    client = SrpClient(server, "victim")
    challenge = client.challenge()
    secret = load_or_create_secret(server.settings.data_dir / "url-signing-secret")
    sealer = HandshakeSealer(derive_key(secret, "srp-handshakes"))
    handshake = sealer.open(challenge["SECRET_BLOCK"], "srp")
    expired = sealer.seal(
        type(handshake)(**{**{f: getattr(handshake, f) for f in handshake.__slots__}, "expires_at": 1})
    )
    message = _refused(
        client.respond(client.answer(challenge, secret_block=expired)), "NotAuthorizedException", "expired"
    )
    assert "sign in again" in message


def test_replayed_password_claim_is_refused(server: RunningServer) -> None:
    client = SrpClient(server, "victim")
    responses = client.answer(client.challenge())
    assert client.respond(responses).status_code == 200
    _refused(client.respond(responses), "NotAuthorizedException", "already used")


def test_wrong_proof_is_incorrect_username_or_password(server: RunningServer) -> None:
    client = SrpClient(server, "victim", "Wr0ng-Password!")
    _refused(
        client.respond(client.answer(client.challenge())),
        "NotAuthorizedException",
        "Incorrect username or password.",
    )
    other = SrpClient(server, "victim")
    mismatched = other.answer(other.challenge()) | {"USERNAME": "bystander"}
    _refused(other.respond(mismatched), "NotAuthorizedException", "Incorrect username or password.")


@pytest.mark.parametrize(
    "timestamp",
    [
        "Sat Sep 05 09:03:07 UTC 2026",  # zero-padded day (warrant's old bug)
        "2026-09-05T09:03:07Z",
        "Sat Sep 5 9:03:07 UTC 2026",
        "Sun Sep 5 09:03:07 UTC 2026",  # 5 Sep 2026 is a Saturday
        "Sat Sep 5 09:03:07 GMT 2026",
        "",
    ],
)
def test_wrong_timestamp_format_is_refused_and_the_handshake_still_usable(
    server: RunningServer, timestamp: str
) -> None:
    client = SrpClient(server, "victim")
    challenge = client.challenge()
    bad = client.respond(client.answer(challenge, timestamp=timestamp or " "))
    _refused(bad, "InvalidParameterException", "TIMESTAMP" if timestamp else "")
    assert client.respond(client.answer(challenge)).status_code == 200  # nothing was used up


def test_unknown_auth_flow_and_challenge_name(server: RunningServer) -> None:
    for flow in ("CUSTOM_AUTH", "ADMIN_NO_SRP_AUTH", "USER_AUTH", "user_srp_auth"):
        body = {"AuthFlow": flow, "ClientId": client_id(server), "AuthParameters": {"USERNAME": "victim"}}
        _refused(raw_call(server, "InitiateAuth", body), "InvalidParameterException", f"AuthFlow {flow}")
    client = SrpClient(server, "victim")
    responses = client.answer(client.challenge())
    for name in ("SMS_MFA", "DEVICE_SRP_AUTH", "CUSTOM_CHALLENGE"):
        body = {"ChallengeName": name, "ClientId": client_id(server), "ChallengeResponses": responses}
        _refused(raw_call(server, "RespondToAuthChallenge", body), "InvalidParameterException", name)
    assert client.respond(responses).status_code == 200  # the handshake was not spent by those


def test_another_client_id_is_resource_not_found(server: RunningServer) -> None:
    body = {
        "ClientId": "someone-elses-client",
        "Username": "intruder",
        "Password": "Corr3ct-Horse!",
        "UserAttributes": attributes("intruder"),
    }
    _refused(raw_call(server, "SignUp", body), "ResourceNotFoundException", "someone-elses-client")
    client = SrpClient(server, "victim")
    responses = client.answer(client.challenge())
    _refused(client.respond(responses, client="someone-elses-client"), "ResourceNotFoundException")
    auth = {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": "x", "AuthParameters": {"USERNAME": "victim"}}
    _refused(raw_call(server, "InitiateAuth", auth), "ResourceNotFoundException")
    assert client.respond(responses).status_code == 200
    # nothing was created for the other client
    login = {
        "AuthFlow": "USER_PASSWORD_AUTH",
        "ClientId": client_id(server),
        "AuthParameters": {"USERNAME": "intruder", "PASSWORD": "Corr3ct-Horse!"},
    }
    _refused(raw_call(server, "InitiateAuth", login), "NotAuthorizedException")


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"{not json", "SerializationException"),
        (b"[1, 2]", "SerializationException"),
        (b'"a string"', "SerializationException"),
        (b"\xff\xfe", "SerializationException"),
        (b'{"Username": "\\ud800"}', "SerializationException"),
        (b"[" * 100_000 + b"]" * 100_000, "InvalidParameterException"),  # over the body limit
        (b"[" * 20_000 + b"]" * 20_000, "SerializationException"),  # nested too deep
    ],
)
def test_malformed_bodies_are_refused(server: RunningServer, content: bytes, kind: str) -> None:
    _refused(raw_call(server, "SignUp", None, content=content), kind)


@pytest.mark.parametrize(
    "content_type", ["application/json", "text/plain", "", "application/x-www-form-urlencoded"]
)
def test_wrong_content_type_is_refused(server: RunningServer, content_type: str) -> None:
    body = {"ClientId": client_id(server), "Username": "victim"}
    response = raw_call(server, "ForgotPassword", body, content_type=content_type)
    _refused(response, "InvalidParameterException", "Content-Type")


@pytest.mark.parametrize("operation", ["AdminCreateUser", "ListUsers", "CreateUserPool", "initiateauth", ""])
def test_unknown_operation_is_invalid_parameter(server: RunningServer, operation: str) -> None:
    message = _refused(raw_call(server, operation, {}), "InvalidParameterException")
    if operation:
        assert message == f"Operation {operation} is not supported by chatserver"


def test_missing_target_and_other_services_are_refused(server: RunningServer) -> None:
    headers = {"content-type": AMZ_JSON}
    _refused(
        httpx.post(f"{server.url}/", json={}, headers=headers), "InvalidParameterException", "X-Amz-Target"
    )
    headers["x-amz-target"] = "DynamoDB_20120810.ListTables"
    _refused(
        httpx.post(f"{server.url}/", json={}, headers=headers), "InvalidParameterException", "X-Amz-Target"
    )


@pytest.mark.parametrize(
    ("operation", "body", "mentions"),
    [
        ("SignUp", {"Username": "x", "Password": "Corr3ct-Horse!"}, "ClientId"),
        ("SignUp", {"ClientId": "chatserver", "Password": "Corr3ct-Horse!"}, "Username"),
        ("SignUp", {"ClientId": "chatserver", "Username": 5, "Password": "Corr3ct-Horse!"}, "Username"),
        ("SignUp", {"ClientId": "chatserver", "Username": "x", "Password": "P", "UserAttributes": "email"}, "UserAttributes"),
        ("SignUp", {"ClientId": "chatserver", "Username": "x", "Password": "P", "UserAttributes": [{"Value": "v"}]}, "UserAttributes"),
        ("InitiateAuth", {"ClientId": "chatserver", "AuthFlow": "USER_SRP_AUTH", "AuthParameters": {"USERNAME": "victim"}}, "SRP_A"),
        ("InitiateAuth", {"ClientId": "chatserver", "AuthFlow": "USER_SRP_AUTH", "AuthParameters": ["x"]}, "AuthParameters"),
        ("InitiateAuth", {"ClientId": "chatserver", "AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": {"USERNAME": 1}}, "AuthParameters"),
        ("RespondToAuthChallenge", {"ClientId": "chatserver", "ChallengeName": "PASSWORD_VERIFIER"}, "USERNAME"),
        ("GetUser", {}, "AccessToken"),
        ("ConfirmSignUp", {"ClientId": "chatserver", "Username": "victim"}, "ConfirmationCode"),
    ],
)  # fmt: skip
def test_missing_or_mistyped_fields_are_invalid_parameter(
    server: RunningServer, operation: str, body: dict[str, Any], mentions: str
) -> None:
    _refused(raw_call(server, operation, body), "InvalidParameterException", mentions)


@pytest.mark.parametrize(
    "token",
    ["not-a-jwt", "a.b.c", "", "x" * 20_000],
)
def test_bad_access_tokens_are_not_authorized(server: RunningServer, token: str) -> None:
    kind = "NotAuthorizedException" if 0 < len(token) <= 8192 else "InvalidParameterException"
    for operation in ("GetUser", "GlobalSignOut", "DeleteUser", "ChangePassword", "UpdateUserAttributes"):
        body = {
            "AccessToken": token,
            "PreviousPassword": "Corr3ct-Horse!",
            "ProposedPassword": "Corr3ct-Horse!2",
            "UserAttributes": [{"Name": "given_name", "Value": "Eve"}],
        }
        _refused(raw_call(server, operation, body), kind)


def test_an_id_token_is_not_an_access_token(server: RunningServer) -> None:
    client = SrpClient(server, "victim")
    result = client.respond(client.answer(client.challenge())).json()["AuthenticationResult"]
    _refused(
        raw_call(server, "GetUser", {"AccessToken": result["IdToken"]}),
        "NotAuthorizedException",
        "Access Token",
    )


def test_cors_preflight_allows_the_cognito_clients_headers(server: RunningServer) -> None:
    wanted = "x-amz-target,x-amz-user-agent,cache-control,amz-sdk-invocation-id,amz-sdk-request,content-type"
    response = httpx.options(
        f"{server.url}/",
        headers={
            "origin": server.settings.cors_origins[0],
            "access-control-request-method": "POST",
            "access-control-request-headers": wanted,
        },
    )
    assert response.status_code == 200, response.text
    allowed = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    assert set(wanted.split(",")) <= allowed
    error = raw_call(server, "GetUser", {"AccessToken": "x"})
    assert error.headers["content-type"].startswith(AMZ_JSON)


def test_target_header_name_is_the_prefix(server: RunningServer) -> None:
    assert TARGET == "AWSCognitoIdentityProviderService."
