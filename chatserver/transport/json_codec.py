"""Strict JSON decoding for every transport: hostile input becomes one ValueError, never a crash later."""

from __future__ import annotations

import json
from typing import Any


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
