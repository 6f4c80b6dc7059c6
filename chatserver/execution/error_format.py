"""GraphQL errors in AppSync's shape: path, data, errorType, errorInfo, locations, message."""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError

from chatserver.errors import ChatServerError

log = logging.getLogger("chatserver.errors")

AppSyncError = dict[str, Any]


def appsync_error(
    message: str,
    *,
    error_type: str | None = None,
    path: list[str | int] | None = None,
    locations: list[dict[str, Any]] | None = None,
    error_info: dict[str, Any] | None = None,
) -> AppSyncError:
    return {
        "path": path,
        "data": None,
        "errorType": error_type,
        "errorInfo": error_info,
        "locations": locations,
        "message": message,
    }


def from_graphql_error(error: GraphQLError, request_id: str) -> AppSyncError:
    """Translate one graphql-core error; anything unexpected becomes InternalFailure, details to the log only."""
    locations = (
        [{"line": loc.line, "column": loc.column, "sourceName": None} for loc in error.locations]
        if error.locations
        else None
    )
    path = list(error.path) if error.path else None
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        error_type = None
        if isinstance(original, GraphQLError) and isinstance(original.original_error, ChatServerError):
            error_type = original.original_error.error_type
        return appsync_error(error.message, error_type=error_type, path=path, locations=locations)
    if isinstance(original, ChatServerError):
        return appsync_error(
            original.message,
            error_type=original.error_type,
            path=path,
            locations=locations,
            error_info=original.error_info,
        )
    log.error("request %s: unexpected error at %s", request_id, path, exc_info=original)
    return appsync_error(
        f"An internal error occurred. Request ID: {request_id}",
        error_type="InternalFailure",
        path=path,
        locations=locations,
    )


def from_domain_error(error: ChatServerError) -> AppSyncError:
    return appsync_error(error.message, error_type=error.error_type, error_info=error.error_info)
