"""AWS scalars with AppSync's formats (APPSYNC.md section 6)."""

from __future__ import annotations

import re
from typing import NewType

import strawberry

_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}(:\d{2})?)$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*$")


def _check(pattern: re.Pattern[str], name: str):
    def parse(value: object) -> str:
        if not isinstance(value, str) or not pattern.match(value):
            raise ValueError(f"Invalid {name} value: {value!r}")
        return value

    return parse


def _parse_url(value: object) -> str:
    text = _check(_URL, "AWSURL")(value)
    if "//" in text.split(":", 1)[1][2:]:
        # AppSync's documented quirk: URLs containing double slashes (past the scheme's) are invalid.
        raise ValueError(f"Invalid AWSURL value: {value!r}")
    return text


AWSDateTime = NewType("AWSDateTime", str)
AWSEmail = NewType("AWSEmail", str)
AWSURL = NewType("AWSURL", str)

# Given to StrawberryConfig(scalar_map=...) by build_schema.
SCALAR_MAP = {
    AWSDateTime: strawberry.scalar(
        name="AWSDateTime",
        description="ISO 8601 date and time with a mandatory offset, e.g. 2022-08-11T17:32:11.123Z",
        serialize=str,
        parse_value=_check(_DATETIME, "AWSDateTime"),
    ),
    AWSEmail: strawberry.scalar(
        name="AWSEmail",
        description="An email address (RFC 822)",
        serialize=str,
        parse_value=_check(_EMAIL, "AWSEmail"),
    ),
    AWSURL: strawberry.scalar(
        name="AWSURL",
        description="A URL with a scheme",
        serialize=str,
        parse_value=_parse_url,
    ),
}
