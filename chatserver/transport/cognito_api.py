"""Cognito's user-pool wire API (`POST /`, `X-Amz-Target: AWSCognitoIdentityProviderService.<Op>`,
x-amz-json-1.1): a codec over the one AccountService, so Amplify Auth, amazon-cognito-identity-js and the AWS
SDKs sign users in by pointing their endpoint here. Errors are HTTP 400 `{"__type", "message"}` plus
`x-amzn-ErrorType`, as Cognito writes them; malformed requests never reach the service.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from chatserver.auth.accounts import AccountService, Challenge, CodeDelivery, SignInResult
from chatserver.auth.errors import AuthError, InvalidParameterException, ResourceNotFoundException
from chatserver.auth.sign_in import NEW_PASSWORD_REQUIRED, PASSWORD_VERIFIER, NewPassword
from chatserver.auth.tokens import IssuedTokens
from chatserver.metrics import current_request_id, new_request_id
from chatserver.persistence.accounts import AccountRecord
from chatserver.transport.bodies import BodyTooLarge, read_body
from chatserver.transport.json_codec import loads_strict

log = logging.getLogger("chatserver.transport.cognito")

TARGET_PREFIX = "AWSCognitoIdentityProviderService."
CONTENT_TYPES = frozenset({"application/x-amz-json-1.1", "application/x-amz-json-1.0"})
RESPONSE_CONTENT_TYPE = "application/x-amz-json-1.1"
MAX_BODY_BYTES = 64 * 1024
MAX_FIELD_CHARS = 8192
SIGN_UP_ATTRIBUTES = frozenset({"email", "given_name", "family_name"})
REFRESH_FLOWS = frozenset({"REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"})
AUTH_FLOWS = ("USER_SRP_AUTH", "USER_PASSWORD_AUTH", "REFRESH_TOKEN_AUTH", "REFRESH_TOKEN")


class SerializationException(AuthError):
    type_name = "SerializationException"


@dataclass(frozen=True, slots=True)
class Call:
    """One decoded request: the operation's JSON object and who sent it."""

    body: dict[str, Any]
    accounts: AccountService
    client_id: str
    address: str | None

    def text(self, name: str, *, required: bool = True) -> str:
        value = self.body.get(name)
        if value is None:
            if required:
                raise InvalidParameterException(f"Missing required parameter {name}")
            return ""
        if not isinstance(value, str) or len(value) > MAX_FIELD_CHARS:
            raise InvalidParameterException(
                f"{name} must be a string of at most {MAX_FIELD_CHARS} characters"
            )
        return value

    def strings(self, name: str) -> dict[str, str]:
        """A map of string to string (AuthParameters, ChallengeResponses); JSON nulls are left out."""
        value = self.body.get(name)
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(
            isinstance(v, str) and len(v) <= MAX_FIELD_CHARS for v in value.values() if v is not None
        ):
            raise InvalidParameterException(f"{name} must be a map of strings")
        return {k: v for k, v in value.items() if v is not None}

    def attributes(self, name: str) -> dict[str, str]:
        """UserAttributes: `[{"Name": ..., "Value": ...}]` as a dict."""
        value = self.body.get(name)
        if value is None:
            return {}
        if not isinstance(value, list):
            raise InvalidParameterException(f"{name} must be a list of {{Name, Value}}")
        attributes: dict[str, str] = {}
        for item in value:
            if not (
                isinstance(item, dict)
                and isinstance(item.get("Name"), str)
                and isinstance(item.get("Value", ""), str)
            ):
                raise InvalidParameterException(f"{name} must be a list of {{Name, Value}}")
            attributes[item["Name"]] = item.get("Value", "")
        return attributes

    def own_client(self) -> None:
        """Operations naming an app client must name this pool's one client."""
        client_id = self.text("ClientId")
        if client_id != self.client_id:
            raise ResourceNotFoundException(f"User pool client {client_id} does not exist.")


Operation = Callable[[Call], Awaitable[dict[str, Any]]]


# --- sign-up, codes, password reset ---


async def sign_up(call: Call) -> dict[str, Any]:
    call.own_client()
    username, password = call.text("Username"), call.text("Password")
    attributes = call.attributes("UserAttributes")
    unknown = sorted(set(attributes) - SIGN_UP_ATTRIBUTES)
    if unknown:
        raise InvalidParameterException(
            f"Attributes did not conform to the schema: {unknown[0]}: Attribute does not exist in the schema."
        )
    if not attributes.get("email"):
        raise InvalidParameterException(
            "Attributes did not conform to the schema: email: The attribute is required"
        )
    result = await call.accounts.signup(
        username,
        password,
        attributes["email"],
        given_name=attributes.get("given_name"),
        family_name=attributes.get("family_name"),
    )
    body: dict[str, Any] = {"UserConfirmed": result.user_confirmed, "UserSub": result.user_sub}
    if result.delivery is not None:
        body["CodeDeliveryDetails"] = _delivery(result.delivery)
    return body


async def confirm_sign_up(call: Call) -> dict[str, Any]:
    call.own_client()
    await call.accounts.confirm_signup(call.text("Username"), call.text("ConfirmationCode"))
    return {}


async def resend_confirmation_code(call: Call) -> dict[str, Any]:
    call.own_client()
    return {"CodeDeliveryDetails": _delivery(await call.accounts.resend_code(call.text("Username")))}


async def forgot_password(call: Call) -> dict[str, Any]:
    call.own_client()
    return {"CodeDeliveryDetails": _delivery(await call.accounts.forgot_password(call.text("Username")))}


async def confirm_forgot_password(call: Call) -> dict[str, Any]:
    call.own_client()
    await call.accounts.confirm_forgot_password(
        call.text("Username"), call.text("ConfirmationCode"), call.text("Password")
    )
    return {}


# --- signing in ---


async def initiate_auth(call: Call) -> dict[str, Any]:
    call.own_client()
    flow = call.text("AuthFlow")
    parameters = call.strings("AuthParameters")
    if flow == "USER_SRP_AUTH":
        challenge = await call.accounts.sign_in.begin_srp(
            _parameter(parameters, "USERNAME"), _parameter(parameters, "SRP_A"), call.client_id
        )
        return _outcome(challenge)
    if flow == "USER_PASSWORD_AUTH":
        outcome = await call.accounts.sign_in.with_password(
            _parameter(parameters, "USERNAME"),
            _parameter(parameters, "PASSWORD"),
            call.address,
            call.client_id,
        )
        return _outcome(outcome)
    if flow in REFRESH_FLOWS:
        tokens = await call.accounts.sessions.refresh(_parameter(parameters, "REFRESH_TOKEN"))
        return {"AuthenticationResult": _result(tokens, None), "ChallengeParameters": {}}
    raise InvalidParameterException(
        f"AuthFlow {flow} is not supported by chatserver (supported: {', '.join(AUTH_FLOWS)})"
    )


async def respond_to_auth_challenge(call: Call) -> dict[str, Any]:
    call.own_client()
    name = call.text("ChallengeName")
    responses = call.strings("ChallengeResponses")
    if name == PASSWORD_VERIFIER:
        outcome = await call.accounts.sign_in.finish_srp(
            username=_parameter(responses, "USERNAME"),
            secret_block=_parameter(responses, "PASSWORD_CLAIM_SECRET_BLOCK"),
            timestamp=_parameter(responses, "TIMESTAMP"),
            signature=_parameter(responses, "PASSWORD_CLAIM_SIGNATURE"),
            address=call.address,
            client_id=call.client_id,
        )
        return _outcome(outcome)
    if name == NEW_PASSWORD_REQUIRED:
        prefix = "userAttributes."
        answer = NewPassword(
            password=_parameter(responses, "NEW_PASSWORD"),
            attributes={k[len(prefix) :]: v for k, v in responses.items() if k.startswith(prefix)},
        )
        result = await call.accounts.sign_in.set_new_password(
            call.text("Session"), _parameter(responses, "USERNAME"), answer, call.client_id
        )
        return _outcome(result)
    raise InvalidParameterException(
        f"ChallengeName {name} is not supported by chatserver ({PASSWORD_VERIFIER}, {NEW_PASSWORD_REQUIRED})"
    )


async def get_tokens_from_refresh_token(call: Call) -> dict[str, Any]:
    call.own_client()
    tokens = await call.accounts.sessions.refresh(call.text("RefreshToken"))
    return {"AuthenticationResult": _result(tokens, None)}


async def revoke_token(call: Call) -> dict[str, Any]:
    call.own_client()
    await call.accounts.sessions.revoke(call.text("Token"))
    return {}


# --- the signed-in user's own account (access token) ---


async def get_user(call: Call) -> dict[str, Any]:
    record = await call.accounts.user(call.text("AccessToken"))
    return {
        "Username": record.username,
        "UserAttributes": [{"Name": k, "Value": v} for k, v in _user_attributes(record).items()],
        "MFAOptions": [],
        "UserMFASettingList": [],
    }


async def update_user_attributes(call: Call) -> dict[str, Any]:
    attributes = call.attributes("UserAttributes")
    if not attributes:
        raise InvalidParameterException("Missing required parameter UserAttributes")
    await call.accounts.update_attributes(call.text("AccessToken"), attributes)
    return {"CodeDeliveryDetailsList": []}


async def change_password(call: Call) -> dict[str, Any]:
    await call.accounts.change_password(
        call.text("AccessToken"), call.text("PreviousPassword"), call.text("ProposedPassword")
    )
    return {}


async def global_sign_out(call: Call) -> dict[str, Any]:
    await call.accounts.global_sign_out(call.text("AccessToken"))
    return {}


async def delete_user(call: Call) -> dict[str, Any]:
    await call.accounts.delete_user(call.text("AccessToken"))
    return {}


OPERATIONS: dict[str, Operation] = {
    "SignUp": sign_up,
    "ConfirmSignUp": confirm_sign_up,
    "ResendConfirmationCode": resend_confirmation_code,
    "ForgotPassword": forgot_password,
    "ConfirmForgotPassword": confirm_forgot_password,
    "InitiateAuth": initiate_auth,
    "RespondToAuthChallenge": respond_to_auth_challenge,
    "GetTokensFromRefreshToken": get_tokens_from_refresh_token,
    "RevokeToken": revoke_token,
    "GetUser": get_user,
    "UpdateUserAttributes": update_user_attributes,
    "ChangePassword": change_password,
    "GlobalSignOut": global_sign_out,
    "DeleteUser": delete_user,
}


# --- the endpoint ---


def cognito_routes() -> list[BaseRoute]:
    return [Route("/", cognito_endpoint, methods=["POST"])]


async def cognito_endpoint(request: Request) -> Response:
    try:
        operation, body = await _decode(request)
        services = request.app.state.services
        call = Call(
            body=body,
            accounts=services.accounts,
            client_id=services.settings.client_id,
            address=request.client.host if request.client else None,
        )
        return JSONResponse(await operation(call), media_type=RESPONSE_CONTENT_TYPE)
    except AuthError as exc:
        return error_response(exc.type_name, exc.message, exc.http_status)
    except Exception:
        request_id = current_request_id() or new_request_id()
        log.exception("Cognito API request %s failed", request_id)
        return error_response("InternalErrorException", f"Internal error (request id {request_id})", 500)


def error_response(type_name: str, message: str, status: int = 400) -> Response:
    return JSONResponse(
        {"__type": type_name, "message": message},
        status_code=status,
        media_type=RESPONSE_CONTENT_TYPE,
        headers={"x-amzn-ErrorType": type_name},
    )


async def _decode(request: Request) -> tuple[Operation, dict[str, Any]]:
    target = request.headers.get("x-amz-target", "")
    if not target.startswith(TARGET_PREFIX):
        raise InvalidParameterException(
            f"Missing or unknown X-Amz-Target: expected {TARGET_PREFIX}<Operation> (the Cognito user-pool API)"
        )
    name = target[len(TARGET_PREFIX) :]
    operation = OPERATIONS.get(name)
    if operation is None:
        raise InvalidParameterException(f"Operation {name[:100]} is not supported by chatserver")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in CONTENT_TYPES:
        raise InvalidParameterException("Content-Type must be application/x-amz-json-1.1")
    try:
        raw = await read_body(request, MAX_BODY_BYTES)
    except BodyTooLarge as error:
        raise InvalidParameterException(str(error)) from None
    try:
        body = loads_strict(raw) if raw.strip() else {}
    except ValueError:  # UnicodeDecodeError is one
        raise SerializationException("The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise SerializationException("The request body must be a JSON object")
    return operation, body


def _parameter(parameters: dict[str, str], name: str) -> str:
    value = parameters.get(name)
    if not value:
        raise InvalidParameterException(f"Missing required parameter {name}")
    return value


def _outcome(outcome: SignInResult | Challenge) -> dict[str, Any]:
    if isinstance(outcome, SignInResult):
        return {
            "AuthenticationResult": _result(outcome.tokens, outcome.refresh_token),
            "ChallengeParameters": {},
        }
    body: dict[str, Any] = {"ChallengeName": outcome.name, "ChallengeParameters": outcome.parameters}
    if outcome.session is not None:
        body["Session"] = outcome.session
    return body


def _result(tokens: IssuedTokens, refresh_token: str | None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "AccessToken": tokens.access_token,
        "ExpiresIn": tokens.expires_in,
        "TokenType": "Bearer",
        "IdToken": tokens.id_token,
    }
    if refresh_token is not None:
        result["RefreshToken"] = refresh_token
    return result


def _delivery(delivery: CodeDelivery) -> dict[str, str]:
    return {
        "Destination": delivery.destination,
        "DeliveryMedium": delivery.medium,
        "AttributeName": delivery.attribute,
    }


def _user_attributes(record: AccountRecord) -> dict[str, str]:
    attributes = {"sub": record.sub, "email": record.email, "email_verified": "true"}
    if record.given_name:
        attributes["given_name"] = record.given_name
    if record.family_name:
        attributes["family_name"] = record.family_name
    return attributes
