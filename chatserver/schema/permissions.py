"""Field rules from `@aws_cognito_user_pools(cognito_groups:)`, read from the very directive objects printed in SDL."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.permission import BasePermission
from strawberry.types import Info

from chatserver.errors import FieldUnauthorized
from chatserver.schema.directives import AwsCognitoUserPools, find_directive


class CognitoGroups(BasePermission):
    """Allows the field only to members of the groups its `@aws_cognito_user_pools` directive names."""

    message = "Not Authorized"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        rule = find_directive(info._field.directives, AwsCognitoUserPools)
        groups = rule.cognito_groups if rule is not None else None
        if groups is None or info.context.identity.in_any_group(groups):
            return True
        raise FieldUnauthorized.for_field(info.field_name, info._raw_info.parent_type.name)


def group_mutation(groups: list[str], **kwargs: Any) -> Any:
    """A mutation only members of `groups` may call: `@aws_cognito_user_pools(cognito_groups: groups)`."""
    return strawberry.mutation(
        directives=[AwsCognitoUserPools(cognito_groups=groups)],
        permission_classes=[CognitoGroups],
        **kwargs,
    )
