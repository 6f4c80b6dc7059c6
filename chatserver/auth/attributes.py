"""What a username, e-mail address and name may be (checked at sign-up and by the CLI)."""

from __future__ import annotations

from chatserver.auth.errors import InvalidParameterException

MAX_USERNAME_LENGTH = 128
MAX_EMAIL_LENGTH = 320
MAX_NAME_LENGTH = 256


def is_username(value: str) -> bool:
    """1 to 128 characters, none of them whitespace or control characters (case-sensitive)."""
    return 0 < len(value) <= MAX_USERNAME_LENGTH and all(c.isprintable() and not c.isspace() for c in value)


def is_email(value: str) -> bool:
    """Loosely: something@domain.tld, no whitespace or control characters."""
    local, at, domain = value.rpartition("@")
    return (
        bool(at and local and domain)
        and len(value) <= MAX_EMAIL_LENGTH
        and "." in domain.strip(".")
        and not any(c.isspace() or not c.isprintable() for c in value)
    )


def check_new_account(
    username: str,
    email: str,
    given_name: str | None,
    family_name: str | None,
    *,
    names_required: bool = False,
) -> None:
    """Valid username, e-mail and names; sign-up also requires the names (the pool's required attributes)."""
    if not is_username(username):
        raise InvalidParameterException(
            f"Username must be 1 to {MAX_USERNAME_LENGTH} characters without spaces or control characters"
        )
    if not is_email(email):
        raise InvalidParameterException("Invalid email address format.")
    for label, value in (("givenName", given_name), ("familyName", family_name)):
        if value is not None and len(value) > MAX_NAME_LENGTH:
            raise InvalidParameterException(f"{label} must be at most {MAX_NAME_LENGTH} characters")
    if names_required:
        for name, value in (("given_name", given_name), ("family_name", family_name)):
            if not value:
                raise InvalidParameterException(
                    f"Attributes did not conform to the schema: {name}: The attribute is required"
                )


PROFILE_ATTRIBUTES = ("email", "given_name", "family_name")


def check_profile_attributes(attributes: dict[str, str]) -> None:
    """UpdateUserAttributes: only the pool's own attributes, each valid, none of the required ones emptied."""
    for name, value in attributes.items():
        if name not in PROFILE_ATTRIBUTES:
            raise InvalidParameterException(
                f"Attribute {name} cannot be changed (only {', '.join(PROFILE_ATTRIBUTES)})"
            )
        if not value:
            raise InvalidParameterException(f"{name}: The attribute is required")
        if name == "email" and not is_email(value):
            raise InvalidParameterException("Invalid email address format.")
        if len(value) > MAX_NAME_LENGTH:
            raise InvalidParameterException(f"{name} must be at most {MAX_NAME_LENGTH} characters")
