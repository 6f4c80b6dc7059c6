"""The AppSync auth header object: lenient base64, raw query strings, protocol choice (no server needed)."""

from __future__ import annotations

import base64
import json

import pytest

from chatserver.transport.appsync_realtime import (
    connection_header,
    decode_header_object,
    raw_query_param,
    wants_appsync,
)

HEADER = {"Authorization": "eyJ.ab+c/d?~", "host": "example.com:8000"}
RAW = json.dumps(HEADER).encode()


@pytest.mark.parametrize(
    "encoded",
    [
        base64.b64encode(RAW).decode(),
        base64.b64encode(RAW).decode().rstrip("="),
        base64.urlsafe_b64encode(RAW).decode(),
        base64.urlsafe_b64encode(RAW).decode().rstrip("="),
        base64.encodebytes(RAW).decode(),  # Android's Base64.DEFAULT: line breaks every 76 chars
        " " + base64.b64encode(RAW).decode() + "\n",
    ],
)
def test_ws_appsync_header_lenient_base64(encoded: str) -> None:
    assert decode_header_object(encoded) == HEADER


@pytest.mark.parametrize("encoded", ["", "!!!", base64.b64encode(b"[1,2]").decode(), "e30"])
def test_ws_appsync_header_garbage_or_non_object_is_none(encoded: str) -> None:
    assert decode_header_object(encoded) in (None, {})


def test_ws_appsync_header_plus_in_query_string_is_never_a_space() -> None:
    query = b"header=ab+cd/ef==&payload=e30=&x-extra=1"
    assert raw_query_param(query, "header") == "ab+cd/ef=="
    assert raw_query_param(b"header=ab%2Bcd%3D", "header") == "ab+cd="
    assert raw_query_param(query, "missing") is None


def test_ws_appsync_header_sources_in_order() -> None:
    encoded = base64.b64encode(RAW).decode()
    assert connection_header(f"header={encoded}".encode(), [], None) == (True, HEADER)
    sub = "header-" + base64.urlsafe_b64encode(RAW).decode().rstrip("=")
    assert connection_header(b"", ["graphql-ws", sub], None) == (True, HEADER)
    assert connection_header(b"", ["graphql-ws"], "tok") == (True, {"Authorization": "tok"})
    assert connection_header(b"", ["graphql-ws"], None) == (False, None)
    assert connection_header(b"header=%%%", [], None) == (True, None)


def test_ws_appsync_header_protocol_choice() -> None:
    assert wants_appsync("/graphql/realtime", b"", [])
    assert wants_appsync("/graphql", b"header=abc&payload=e30=", ["graphql-ws"])
    assert wants_appsync("/graphql", b"", ["graphql-ws", "header-abc"])
    assert not wants_appsync("/graphql", b"", ["graphql-ws"])
    assert not wants_appsync("/graphql", b"", ["graphql-transport-ws"])
