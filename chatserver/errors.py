"""Domain errors, each carrying its AppSync errorType. Every transport translates them in one place."""

from __future__ import annotations

from typing import Any, ClassVar


class ChatServerError(Exception):
    """Base of every error a client may see. `error_type` is AppSync's `errorType`."""

    error_type: ClassVar[str] = "InternalFailure"
    http_status: ClassVar[int] = 200

    def __init__(self, message: str, *, error_info: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.error_info = error_info


class UnauthorizedException(ChatServerError):
    """No, bad, expired or revoked token: the whole request is refused (HTTP 401, WS 4401)."""

    error_type = "UnauthorizedException"
    http_status = 401

    MISSING = "Missing authorization header"
    INVALID = "Valid authorization header not provided."
    EXPIRED = "Token has expired."
    UNPARSABLE = "Unable to parse JWT token."
    API_KEY_INVALID = "You are not authorized to make this call."  # unknown, deleted or malformed API key
    API_KEY_EXPIRED = "API key has expired."


class FieldUnauthorized(ChatServerError):
    """The caller may not use this field: the field is null, the request goes on."""

    error_type = "Unauthorized"

    @classmethod
    def for_field(cls, field_name: str, type_name: str) -> FieldUnauthorized:
        return cls(f"Not Authorized to access {field_name} on type {type_name}")


class ConditionalCheckFailed(ChatServerError):
    """Update or delete of a missing or foreign item: what DynamoDB says for a failed condition."""

    error_type = "DynamoDB:ConditionalCheckFailedException"


class NotFound(ChatServerError):
    error_type = "NotFound"


class ValidationFailed(ChatServerError):
    error_type = "ValidationException"


class InvalidNextToken(ChatServerError):
    error_type = "InvalidNextToken"


class QueryDepthLimitReached(ChatServerError):
    error_type = "QueryDepthLimitReached"


class QueryComplexityLimitReached(ChatServerError):
    error_type = "QueryComplexityLimitReached"


class ResolverExecutionLimitReached(ChatServerError):
    """The request would read more list items than one request may (AppSync bounds resolver executions)."""

    error_type = "ResolverExecutionLimitReached"


class MalformedHttpRequest(ChatServerError):
    error_type = "MalformedHttpRequestException"
    http_status = 400


class PayloadTooLarge(ChatServerError):
    error_type = "PayloadTooLargeException"
    http_status = 413


class ExecutionTimeout(ChatServerError):
    error_type = "ExecutionTimeout"


class InternalFailure(ChatServerError):
    error_type = "InternalFailure"


# errorType table in one place: the names clients match on, for docs and for transports that need a list.
ERROR_TYPES: dict[str, type[ChatServerError]] = {
    cls.error_type: cls
    for cls in (
        UnauthorizedException,
        FieldUnauthorized,
        ConditionalCheckFailed,
        NotFound,
        ValidationFailed,
        InvalidNextToken,
        QueryDepthLimitReached,
        QueryComplexityLimitReached,
        ResolverExecutionLimitReached,
        MalformedHttpRequest,
        PayloadTooLarge,
        ExecutionTimeout,
        InternalFailure,
    )
}
