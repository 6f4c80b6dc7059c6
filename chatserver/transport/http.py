"""GraphQL over HTTP: POST (JSON, also under application/graphql) and GET, with AppSync's status codes."""

from __future__ import annotations

from typing import Any

from graphql import OperationType
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chatserver.errors import (
    ChatServerError,
    MalformedHttpRequest,
    PayloadTooLarge,
    UnauthorizedException,
)
from chatserver.metrics import count_error, current_request_id, new_request_id
from chatserver.transport.bodies import BodyTooLarge, check_declared_length, read_body
from chatserver.transport.json_codec import GraphQLJSONResponse, loads_strict
from chatserver.transport.mqtt.handshake import mqtt_handshake
from chatserver.transport.playground import playground_response

EMPTY_BODY = "Request body is empty."
UNPARSABLE = "Unable to parse GraphQL query."


async def graphql_endpoint(request: Request) -> Response:
    """`POST /graphql` and `GET /graphql` (a browser asking for HTML gets the playground)."""
    request_id = current_request_id() or new_request_id()
    if (
        request.method == "GET"
        and "query" not in request.query_params
        and "text/html" in request.headers.get("accept", "")
    ):
        return playground_response()
    services = request.app.state.services
    limit = services.settings.max_body_bytes
    try:
        if request.method == "POST":
            check_declared_length(request, limit)  # refuse before even checking the token
        identity = await services.credentials.resolve_headers(request.headers)
        if request.method == "POST":
            body = await read_body(request, limit)
            query, variables, operation_name = _parse_post(body, request.headers.get("content-type", ""))
        else:
            query, variables, operation_name = _parse_get(request)
            _refuse_get_mutation(services.executor, query, operation_name)
    except BodyTooLarge:
        return error_response(
            PayloadTooLarge(f"Request body is over the limit of {limit} bytes."), request_id
        )
    except ChatServerError as error:
        return error_response(error, request_id)
    if _is_subscription(services.executor, query, operation_name):  # aws-appsync 1.x: the MQTT handshake
        request_body = {"query": query, "variables": variables, "operationName": operation_name}
        answer = mqtt_handshake(request.app, request_body, identity)
        return JSONResponse(answer, headers={"x-amzn-RequestId": request_id})
    result = await services.executor.execute(
        query, variables, operation_name, identity, request_id=request_id
    )
    return GraphQLJSONResponse(result, headers={"x-amzn-RequestId": request_id})


def error_response(error: ChatServerError, request_id: str) -> JSONResponse:
    """A request refused before execution: AppSync's status code, body and headers."""
    headers = {"x-amzn-RequestId": request_id}
    count_error(error.error_type)
    if isinstance(error, UnauthorizedException):
        headers["x-amzn-ErrorType"] = error.error_type
    body = {"errors": [{"errorType": error.error_type, "message": error.message}]}
    status = error.http_status if error.http_status != 200 else 400
    return JSONResponse(body, status_code=status, headers=headers)


def _parse_post(body: bytes, content_type: str) -> tuple[str, dict[str, Any] | None, str | None]:
    if not body.strip():
        raise MalformedHttpRequest(EMPTY_BODY)
    try:
        payload = loads_strict(body)
    except ValueError:
        if content_type.startswith("application/graphql"):
            try:
                return body.decode(), None, None  # a bare document, as GraphQL-over-HTTP allows
            except UnicodeDecodeError:
                raise MalformedHttpRequest(UNPARSABLE) from None
        raise MalformedHttpRequest(UNPARSABLE) from None
    return _operation_parts(payload)


def _parse_get(request: Request) -> tuple[str, dict[str, Any] | None, str | None]:
    params = request.query_params
    variables: Any = None
    if params.get("variables"):
        try:
            variables = loads_strict(params["variables"])
        except ValueError:
            raise MalformedHttpRequest("variables must be a JSON object.") from None
    return _operation_parts(
        {"query": params.get("query"), "variables": variables, "operationName": params.get("operationName")}
    )


def _operation_parts(payload: Any) -> tuple[str, dict[str, Any] | None, str | None]:
    if not isinstance(payload, dict):
        raise MalformedHttpRequest(UNPARSABLE)
    query = payload.get("query")
    if not isinstance(query, str) or not query.strip():
        raise MalformedHttpRequest(UNPARSABLE)
    variables = payload.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise MalformedHttpRequest("variables must be a JSON object.")
    operation_name = payload.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise MalformedHttpRequest("operationName must be a string.")
    return query, variables, operation_name or None


def _is_subscription(executor: Any, query: str, operation_name: str | None) -> bool:
    # cached: execute compiles it again for free
    operation = executor.compile(query).operation(operation_name)
    return operation is not None and operation.operation == OperationType.SUBSCRIPTION


def _refuse_get_mutation(executor: Any, query: str, operation_name: str | None) -> None:
    operation = executor.compile(query).operation(operation_name)
    if operation is not None and operation.operation != OperationType.QUERY:
        raise MalformedHttpRequest("Only queries can be sent with GET; send mutations with POST.")
