"""Strict JSON decoding for every transport: hostile input becomes one ValueError, never a crash later. And the
GraphQL response encoder: orjson, byte for byte what Starlette's JSONResponse writes, several times faster."""

from __future__ import annotations

import json
from typing import Any

import orjson
from starlette.responses import JSONResponse


def loads_strict(raw: bytes | str) -> Any:
    """`json.loads` that also refuses nesting too deep to decode and unpaired surrogates (`"\\ud800"`),
    which no later layer (SQLite, the JSON encoder) could handle. Raises ValueError for all of them."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if (b"\\u" if isinstance(raw, bytes) else "\\u") in raw:
        try:
            json.dumps(value, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            raise ValueError("JSON contains an unpaired surrogate") from None
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
    return value


def dumps_response(content: Any) -> bytes:
    """`content` as Starlette's JSONResponse encodes it (compact, UTF-8, no ASCII escaping). What orjson cannot
    encode (integers past 64 bits, non-string keys, lone surrogates) goes to the stdlib encoder, which answers or
    raises exactly as before."""
    try:
        return orjson.dumps(content)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(
            content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
        ).encode()


class GraphQLJSONResponse(JSONResponse):
    """A JSONResponse rendered with `dumps_response`: GraphQL results can hold a thousand list items."""

    def render(self, content: Any) -> bytes:
        return dumps_response(content)
