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


@strawberry.schema_directive(locations=[Location.FIELD_DEFINITION, Location.OBJECT], name="aws_api_key")
class AwsApiKey:
    """`@aws_api_key`: callers with an API key (mode API_KEY) may use the field or type."""


@strawberry.schema_directive(locations=[Location.FIELD_DEFINITION, Location.OBJECT], name="aws_oidc")
class AwsOidc:
    """`@aws_oidc`: callers with a token of the configured OpenID Connect issuer may use the field or type."""


# The auth mode each auth directive admits (AppSync: a field or type with any of these admits exactly those).
DIRECTIVE_MODES: dict[type, str] = {
    AwsApiKey: "API_KEY",
    AwsCognitoUserPools: "USER_POOL",
    AwsOidc: "OPENID_CONNECT",
}


def signed_in() -> list[object]:
    """Directives of what users of either token issuer may use (the built-in pool, the OIDC issuer)."""
    return [AwsCognitoUserPools(cognito_groups=strawberry.UNSET), AwsOidc()]


def every_mode() -> list[object]:
    """Directives of what API-key callers may use too: reads of rooms and messages, and subscriptions."""
    return [AwsApiKey(), AwsCognitoUserPools(cognito_groups=strawberry.UNSET), AwsOidc()]


def auth_modes_of(directives: Iterable[object]) -> frozenset[str] | None:
    """The modes the auth directives among `directives` admit, or None when there are none."""
    modes = frozenset(DIRECTIVE_MODES[type(d)] for d in directives if type(d) in DIRECTIVE_MODES)
    return modes or None


def group_rule(directives: Iterable[object]) -> list[str] | None:
    """`cognito_groups` of the `@aws_cognito_user_pools` among `directives`; None when there is no group rule
    (no directive, or one without `cognito_groups`, which only names the mode)."""
    rule = find_directive(directives, AwsCognitoUserPools)
    groups = rule.cognito_groups if rule is not None else None
    return list(groups) if isinstance(groups, list) else None


T = TypeVar("T")


def find_directive(directives: Iterable[object], kind: type[T]) -> T | None:
    for directive in directives:
        if isinstance(directive, kind):
            return directive
    return None
