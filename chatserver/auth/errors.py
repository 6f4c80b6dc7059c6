"""Errors of the /auth endpoints, named and worded as Cognito's (HTTP 400, `{"__type", "message"}`)."""

from __future__ import annotations

from typing import ClassVar


class AuthError(Exception):
    """A Cognito-shaped error. `type_name` is Cognito's `__type`."""

    type_name: ClassVar[str] = "InternalErrorException"
    http_status: ClassVar[int] = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidParameterException(AuthError):
    type_name = "InvalidParameterException"


class InvalidPasswordException(AuthError):
    type_name = "InvalidPasswordException"


class UsernameExistsException(AuthError):
    type_name = "UsernameExistsException"


class CodeMismatchException(AuthError):
    type_name = "CodeMismatchException"


class ExpiredCodeException(AuthError):
    type_name = "ExpiredCodeException"


class CodeDeliveryFailureException(AuthError):
    type_name = "CodeDeliveryFailureException"


class UserNotConfirmedException(AuthError):
    type_name = "UserNotConfirmedException"


class UserNotFoundException(AuthError):
    type_name = "UserNotFoundException"


class ResourceNotFoundException(AuthError):
    type_name = "ResourceNotFoundException"


class NotAuthorizedException(AuthError):
    type_name = "NotAuthorizedException"


class LimitExceededException(AuthError):
    type_name = "LimitExceededException"


class TooManyRequestsException(AuthError):
    type_name = "TooManyRequestsException"


class UnsupportedTokenTypeException(AuthError):
    type_name = "UnsupportedTokenTypeException"


class PasswordResetRequiredException(AuthError):
    type_name = "PasswordResetRequiredException"


# Messages clients match on, worded as Cognito's.
INCORRECT_CREDENTIALS = "Incorrect username or password."
ATTEMPT_LIMIT = "Attempt limit exceeded, please try after some time."
CODE_MISMATCH = "Invalid verification code provided, please try again."
CODE_EXPIRED = "Invalid code provided, please request a code again."
INVALID_SESSION = "Invalid session for the user, session is expired."
