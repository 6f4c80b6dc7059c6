"""AppSync's schema directives. The printed SDL and the runtime rules both come from these objects."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

import strawberry
from strawberry.schema_directive import Location


@strawberry.schema_directive(locations=[Location.FIELD_DEFINITION], name="aws_subscribe")
class AwsSubscribe:
    """`@aws_subscribe(mutations: [...])`: any listed mutation's result is delivered to this subscription."""

    mutations: list[str]


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION, Location.OBJECT], name="aws_cognito_user_pools"
)
class AwsCognitoUserPools:
    """`@aws_cognito_user_pools(cognito_groups: [...])`: only members of these groups may use the field."""

    cognito_groups: list[str] | None = strawberry.directive_field(name="cognito_groups", default=None)


T = TypeVar("T")


def find_directive(directives: Iterable[object], kind: type[T]) -> T | None:
    for directive in directives:
        if isinstance(directive, kind):
            return directive
    return None
