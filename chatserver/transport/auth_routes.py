"""The /auth JSON endpoints and the /.well-known documents. Errors are written as Cognito writes them."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from chatserver.auth.accounts import AccountService, CodeDelivery
from chatserver.auth.errors import AuthError, InvalidParameterException
from chatserver.auth.keys import ALGORITHM
from chatserver.auth.tokens import ACCESS_SCOPE, IssuedTokens
from chatserver.config import Settings
from chatserver.metrics import current_request_id, new_request_id
from chatserver.transport.bodies import BodyTooLarge, read_body
from chatserver.transport.json_codec import loads_strict

log = logging.getLogger("chatserver.transport.auth")

MAX_AUTH_BODY_BYTES = 64 * 1024
JWKS_CACHE_CONTROL = "public, max-age=300"

Handler = Callable[[Request], Awaitable[Response]]


def auth_routes(settings: Settings) -> list[BaseRoute]:
    pool = f"/{settings.user_pool_id}"  # the issuer's path, as on Cognito: <public URL>/<pool id>
    return [
        Route("/auth/signup", _endpoint(signup), methods=["POST"]),
        Route("/auth/confirm-signup", _endpoint(confirm_signup), methods=["POST"]),
        Route("/auth/resend-code", _endpoint(resend_code), methods=["POST"]),
        Route("/auth/signin", _endpoint(signin), methods=["POST"]),
        Route("/auth/refresh", _endpoint(refresh), methods=["POST"]),
        Route("/auth/signout", _endpoint(signout), methods=["POST"]),
        Route("/auth/forgot-password", _endpoint(forgot_password), methods=["POST"]),
        Route("/auth/confirm-forgot-password", _endpoint(confirm_forgot_password), methods=["POST"]),
        Route("/.well-known/jwks.json", jwks, methods=["GET"]),
        Route("/.well-known/openid-configuration", openid_configuration, methods=["GET"]),
        Route(f"{pool}/.well-known/jwks.json", jwks, methods=["GET"]),
        Route(f"{pool}/.well-known/openid-configuration", openid_configuration, methods=["GET"]),
    ]


async def signup(request: Request) -> Response:
    body = await _fields(
        request, required=("username", "password", "email"), optional=("givenName", "familyName")
    )
    result = await _accounts(request).signup(
        body["username"],
        body["password"],
        body["email"],
        given_name=body.get("givenName"),
        family_name=body.get("familyName"),
    )
    return JSONResponse(
        {
            "userSub": result.user_sub,
            "userConfirmed": result.user_confirmed,
            "codeDeliveryDetails": _delivery(result.delivery),
        }
    )


async def confirm_signup(request: Request) -> Response:
    body = await _fields(request, required=("username", "code"))
    await _accounts(request).confirm_signup(body["username"], body["code"])
    return JSONResponse({})


async def resend_code(request: Request) -> Response:
    body = await _fields(request, required=("username",))
    delivery = await _accounts(request).resend_code(body["username"])
    return JSONResponse({"codeDeliveryDetails": _delivery(delivery)})


async def signin(request: Request) -> Response:
    body = await _fields(request, required=("username", "password"), optional=("newPassword",))
    address = request.client.host if request.client else None
    result = await _accounts(request).signin(
        body["username"], body["password"], address, new_password=body.get("newPassword")
    )
    return JSONResponse(_token_body(result.tokens, result.refresh_token))


async def refresh(request: Request) -> Response:
    body = await _fields(request, required=("refreshToken",))
    tokens = await _accounts(request).refresh(body["refreshToken"])
    return JSONResponse(_token_body(tokens, None))


async def signout(request: Request) -> Response:
    await _accounts(request).signout(request.headers.get("authorization"))
    return JSONResponse({})


async def forgot_password(request: Request) -> Response:
    body = await _fields(request, required=("username",))
    delivery = await _accounts(request).forgot_password(body["username"])
    return JSONResponse({"codeDeliveryDetails": _delivery(delivery)})


async def confirm_forgot_password(request: Request) -> Response:
    body = await _fields(request, required=("username", "code", "password"))
    await _accounts(request).confirm_forgot_password(body["username"], body["code"], body["password"])
    return JSONResponse({})


async def jwks(request: Request) -> Response:
    keys = request.app.state.services.keys
    return JSONResponse(keys.jwks(), headers={"cache-control": JWKS_CACHE_CONTROL})


async def openid_configuration(request: Request) -> Response:
    issuer = request.app.state.services.settings.issuer
    document = {
        "issuer": issuer,
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "id_token_signing_alg_values_supported": [ALGORITHM],
        "subject_types_supported": ["public"],
        "response_types_supported": ["token"],
        "scopes_supported": [ACCESS_SCOPE],
        "token_endpoint_auth_methods_supported": ["none"],
        "claims_supported": [
            "sub",
            "aud",
            "iss",
            "auth_time",
            "iat",
            "exp",
            "jti",
            "origin_jti",
            "event_id",
            "token_use",
            "cognito:username",
            "username",
            "client_id",
            "scope",
            "cognito:groups",
            "email",
            "email_verified",
            "given_name",
            "family_name",
        ],
    }
    return JSONResponse(document, headers={"cache-control": JWKS_CACHE_CONTROL})


def _endpoint(handler: Handler) -> Handler:
    """Turn AuthError into Cognito's error body, and anything unexpected into a logged 500 with a request id."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except AuthError as exc:
            return _error(exc.type_name, exc.message, exc.http_status)
        except Exception:
            request_id = current_request_id() or new_request_id()
            log.exception("auth request %s failed", request_id)
            return _error("InternalErrorException", f"Internal error (request id {request_id})", 500)

    return endpoint


def _error(type_name: str, message: str, status: int) -> Response:
    return JSONResponse(
        {"__type": type_name, "message": message},
        status_code=status,
        headers={"x-amzn-ErrorType": type_name},
    )


def _accounts(request: Request) -> AccountService:
    return request.app.state.services.accounts


async def _fields(
    request: Request, *, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> dict[str, str]:
    """The JSON object body: every required field a string, optional ones a string or null, no others."""
    body = await _json_object(request)
    unknown = sorted(set(body) - set(required) - set(optional))
    if unknown:
        raise InvalidParameterException(f"Unknown field(s): {', '.join(unknown)}")
    values: dict[str, str] = {}
    for name in required:
        if body.get(name) is None:
            raise InvalidParameterException(f"Missing required field: {name}")
    for name in (*required, *optional):
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise InvalidParameterException(f"Field {name} must be a string")
        values[name] = value
    return values


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        raw = await read_body(request, MAX_AUTH_BODY_BYTES)
    except BodyTooLarge as error:
        raise InvalidParameterException(str(error)) from None
    if not raw.strip():
        raise InvalidParameterException("Request body must be a JSON object")
    try:
        body = loads_strict(raw)
    except ValueError:  # UnicodeDecodeError is one
        raise InvalidParameterException("Request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidParameterException("Request body must be a JSON object")
    return body


def _delivery(delivery: CodeDelivery | None) -> dict[str, str] | None:
    if delivery is None:
        return None
    return {
        "Destination": delivery.destination,
        "DeliveryMedium": delivery.medium,
        "AttributeName": delivery.attribute,
    }


def _token_body(tokens: IssuedTokens, refresh_token: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "idToken": tokens.id_token,
        "accessToken": tokens.access_token,
        "expiresIn": tokens.expires_in,
        "tokenType": "Bearer",
    }
    result: dict[str, Any] = {
        "IdToken": tokens.id_token,
        "AccessToken": tokens.access_token,
        "ExpiresIn": tokens.expires_in,
        "TokenType": "Bearer",
    }
    if refresh_token is not None:
        body["refreshToken"] = refresh_token
        result["RefreshToken"] = refresh_token
    body["AuthenticationResult"] = result
    return body
