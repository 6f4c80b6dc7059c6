"""TokenVerifier against issued tokens and against the usual attacks (SPEC section 10)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jws, jwt

from chatserver.auth.tokens import TokenIssuer, TokenSubject, TokenVerifier
from chatserver.errors import UnauthorizedException
from tests.auth.flows import post, signed_in, signin, signup
from tests.server import RunningServer

INVALID = "Valid authorization header not provided."
SUBJECT = TokenSubject(sub="sub-1", username="mallory", email="m@example.com", email_verified=True)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _verifier(server: RunningServer) -> TokenVerifier:
    return server.app.state.services.verifier


def _issuer(server: RunningServer, ttl: int = 3600, **changes: Any) -> TokenIssuer:
    settings = server.settings
    options: dict[str, Any] = {
        "issuer": settings.issuer,
        "client_id": settings.client_id,
        "id_token_ttl": ttl,
        "access_token_ttl": ttl,
        **changes,
    }
    return TokenIssuer(server.app.state.services.keys, **options)


def _refused(verifier: TokenVerifier, authorization: str | None) -> str:
    with pytest.raises(UnauthorizedException) as refused:
        verifier.verify(authorization)
    assert refused.value.error_type == "UnauthorizedException"
    return refused.value.message


def _claims(server: RunningServer, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return _issuer(server).access_claims(SUBJECT, now, "origin", now) | overrides


def test_id_token_claims_are_cognitos(server: RunningServer, client: httpx.Client) -> None:
    tokens = signed_in(client, "alice")
    claims = jwt.get_unverified_claims(tokens["idToken"])
    assert set(claims) == {
        "sub", "aud", "email_verified", "token_use", "auth_time", "iss", "cognito:username",
        "exp", "iat", "email", "jti", "origin_jti", "event_id", "given_name", "family_name",
    }  # fmt: skip
    assert claims["aud"] == server.settings.client_id
    assert claims["token_use"] == "id"
    assert claims["cognito:username"] == "alice"
    assert claims["email"] == "alice@example.com"
    assert claims["email_verified"] is True
    assert (claims["given_name"], claims["family_name"]) == ("Ada", "Lovelace")
    assert claims["iss"] == server.settings.issuer == f"{server.url}/local_chatserver"  # Cognito's form
    assert claims["exp"] - claims["iat"] == server.settings.id_token_ttl
    header = jwt.get_unverified_header(tokens["idToken"])
    assert header["alg"] == "RS256"
    assert header["kid"] == server.app.state.services.keys.kid


def test_access_token_claims_are_cognitos(server: RunningServer, client: httpx.Client) -> None:
    tokens = signed_in(client, "alice")
    claims = jwt.get_unverified_claims(tokens["accessToken"])
    assert set(claims) == {
        "sub", "client_id", "token_use", "scope", "auth_time", "iss", "exp", "iat", "jti",
        "origin_jti", "event_id", "username",
    }  # fmt: skip
    assert claims["client_id"] == server.settings.client_id
    assert claims["token_use"] == "access"
    assert claims["scope"] == "aws.cognito.signin.user.admin"
    assert claims["username"] == "alice"
    id_claims = jwt.get_unverified_claims(tokens["idToken"])
    assert claims["origin_jti"] == id_claims["origin_jti"]
    assert claims["event_id"] == id_claims["event_id"]
    assert claims["sub"] == id_claims["sub"]


def test_groups_appear_in_both_tokens_once_the_user_is_in_one(
    server: RunningServer, client: httpx.Client
) -> None:
    signup(client, "root")
    # Add the user to `admin` through the auth store, as `chatserver user add-to-group` does.
    import asyncio

    from chatserver.persistence.accounts import AccountsRepository
    from chatserver.persistence.database import create_engine

    async def add() -> None:
        engine = create_engine(server.settings.resolved_database_url)
        try:
            store = AccountsRepository(engine)
            record = await store.by_username("root")
            assert record is not None
            await store.add_to_group(record.sub, "admin")
        finally:
            await engine.dispose()

    asyncio.run(add())
    tokens = signin(client, "root").json()
    for token in (tokens["idToken"], tokens["accessToken"]):
        assert jwt.get_unverified_claims(token)["cognito:groups"] == ["admin"]
        identity = _verifier(server).verify(token)
        assert identity.is_admin
        assert identity.username == "root"


def test_jwks_verifies_issued_tokens_with_python_jose(server: RunningServer, client: httpx.Client) -> None:
    tokens = signed_in(client, "alice")
    config = client.get("/.well-known/openid-configuration").json()
    assert config["issuer"] == server.settings.issuer
    assert config["id_token_signing_alg_values_supported"] == ["RS256"]
    assert config["jwks_uri"] == f"{server.settings.issuer}/.well-known/jwks.json"
    jwks = httpx.get(config["jwks_uri"]).json()
    assert [key["kid"] for key in jwks["keys"]] == [server.app.state.services.keys.kid]
    assert all("d" not in key for key in jwks["keys"])

    id_claims = jwt.decode(
        tokens["idToken"],
        jwks,
        algorithms=["RS256"],
        audience=server.settings.client_id,
        issuer=config["issuer"],
    )
    assert id_claims["cognito:username"] == "alice"
    access_claims = jwt.decode(tokens["accessToken"], jwks, algorithms=["RS256"], issuer=config["issuer"])
    assert access_claims["username"] == "alice"


def test_bearer_prefix_and_raw_tokens_are_both_accepted(server: RunningServer, client: httpx.Client) -> None:
    tokens = signed_in(client, "alice")
    verifier = _verifier(server)
    for authorization in (
        tokens["accessToken"],
        f"Bearer {tokens['accessToken']}",
        f"bearer {tokens['idToken']}",
        f"  {tokens['idToken']}  ",
    ):
        assert verifier.verify(authorization).username == "alice"


def test_a_verified_token_is_served_from_the_cache(server: RunningServer, client: httpx.Client) -> None:
    tokens = signed_in(client, "alice")
    verifier = _verifier(server)
    assert verifier.verify(tokens["accessToken"]) is verifier.verify(f"Bearer {tokens['accessToken']}")


@pytest.mark.parametrize("authorization", [None, "", "   "])
def test_missing_authorization_is_refused(shared_server: RunningServer, authorization: str | None) -> None:
    assert _refused(_verifier(shared_server), authorization) == "Missing authorization header"


@pytest.mark.parametrize(
    "authorization",
    ["garbage", "Bearer garbage", "a.b.c", "a.b", "x" * 20_000, f"{_b64(b'[1]')}.{_b64(b'{}')}.", "é.é.é"],
)
def test_garbage_is_unparsable(shared_server: RunningServer, authorization: str) -> None:
    assert _refused(_verifier(shared_server), authorization) == "Unable to parse JWT token."


def test_a_token_signed_by_another_key_is_refused(shared_server: RunningServer) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    kid = shared_server.app.state.services.keys.kid
    forged = jws.sign(_claims(shared_server), pem, headers={"kid": kid}, algorithm="RS256")
    assert _refused(_verifier(shared_server), forged) == INVALID


def test_alg_none_is_refused(shared_server: RunningServer) -> None:
    kid = shared_server.app.state.services.keys.kid
    header = _b64(json.dumps({"alg": "none", "kid": kid, "typ": "JWT"}).encode())
    payload = _b64(json.dumps(_claims(shared_server)).encode())
    for token in (f"{header}.{payload}.", f"{header}.{payload}.{_b64(b'sig')}"):
        assert _refused(_verifier(shared_server), token) == INVALID


def test_hs256_signed_with_the_public_key_is_refused(shared_server: RunningServer) -> None:
    keys = shared_server.app.state.services.keys
    public_pem = keys.current.public_key.to_pem()
    header = _b64(json.dumps({"alg": "HS256", "kid": keys.kid, "typ": "JWT"}).encode())
    payload = _b64(json.dumps(_claims(shared_server)).encode())
    for secret in (public_pem, json.dumps(keys.current.jwk).encode()):
        signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        assert _refused(_verifier(shared_server), f"{header}.{payload}.{_b64(signature)}") == INVALID


def test_unknown_kid_is_refused(shared_server: RunningServer) -> None:
    keys = shared_server.app.state.services.keys
    token = jws.sign(_claims(shared_server), keys.signing_key, headers={"kid": "other"}, algorithm="RS256")
    assert _refused(_verifier(shared_server), token) == INVALID
    token = jws.sign(_claims(shared_server), keys.signing_key, algorithm="RS256")  # no kid at all
    assert _refused(_verifier(shared_server), token) == INVALID


def test_an_expired_token_is_refused(shared_server: RunningServer) -> None:
    expired = _issuer(shared_server, ttl=-1)
    now = int(time.time())
    tokens = expired.issue(SUBJECT, auth_time=now, origin_jti="o", now=now)
    for token in (tokens.id_token, tokens.access_token):
        assert _refused(_verifier(shared_server), token) == "Token has expired."


@pytest.mark.parametrize(
    "changes", [{"issuer": "https://cognito-idp.example.com/other"}, {"client_id": "another-client"}]
)
def test_wrong_issuer_or_client_is_refused(shared_server: RunningServer, changes: dict[str, str]) -> None:
    tokens = _issuer(shared_server, **changes).issue(SUBJECT, auth_time=int(time.time()), origin_jti="o")
    for token in (tokens.id_token, tokens.access_token):
        assert _refused(_verifier(shared_server), token) == INVALID


@pytest.mark.parametrize(
    "overrides",
    [
        {"token_use": "refresh"},
        {"token_use": "id"},  # an id token must carry aud and cognito:username
        {"sub": 5},
        {"exp": "tomorrow"},
        {"cognito:groups": "admin"},
    ],
)
def test_wrong_token_use_or_malformed_claims_are_refused(
    shared_server: RunningServer, overrides: dict[str, Any]
) -> None:
    token = _issuer(shared_server).sign(_claims(shared_server, **overrides))
    assert _refused(_verifier(shared_server), token) == INVALID


def test_a_token_issued_before_signout_is_refused(server: RunningServer, client: httpx.Client) -> None:
    tokens = signed_in(client, "alice")
    verifier = _verifier(server)
    assert verifier.verify(tokens["accessToken"]).username == "alice"
    post(client, "/auth/signout", None, headers={"Authorization": tokens["accessToken"]})
    assert _refused(verifier, tokens["accessToken"]) == INVALID
    assert _refused(verifier, tokens["idToken"]) == INVALID


def test_note_revoked_from_another_replica_takes_effect(server: RunningServer, client: httpx.Client) -> None:
    tokens = signed_in(client, "alice")
    verifier = _verifier(server)
    identity = verifier.verify(tokens["accessToken"])
    verifier.revocations.note_revoked(identity.sub, int(time.time()) + 5)
    assert _refused(verifier, tokens["accessToken"]) == INVALID
