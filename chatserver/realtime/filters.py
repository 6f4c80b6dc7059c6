"""Argument filters: supplied arguments must equal the same-named top-level fields of the mutation response."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def freeze(value: Any) -> Any:
    """A hashable twin of a JSON value, so filter values and payload fields can key a dict."""
    if isinstance(value, list | tuple):
        return tuple(freeze(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted((key, freeze(item)) for key, item in value.items()))
    return value


@dataclass(frozen=True, slots=True)
class Filter:
    """Supplied arguments, sorted by name: omitted ones are absent (wildcards), an explicit null is `None`."""

    items: tuple[tuple[str, Any], ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.items)

    @property
    def values(self) -> tuple[Any, ...]:
        return tuple(value for _, value in self.items)

    def matches(self, payload: dict[str, Any]) -> bool:
        """True when every supplied argument equals the payload's field; an unselected field never matches."""
        for name, expected in self.items:
            if name not in payload or freeze(payload[name]) != expected:
                return False
        return True


def payload_key(names: tuple[str, ...], payload: dict[str, Any]) -> tuple[Any, ...] | None:
    """The values of `names` in `payload`, frozen; None when the mutation did not select one of them."""
    try:
        return tuple(freeze(payload[name]) for name in names)
    except KeyError:
        return None
