"""Strawberry's GraphQL names for Python names, each worked out once."""

from __future__ import annotations

from strawberry.schema.name_converter import NameConverter


class CachedNameConverter(NameConverter):
    """Strawberry's own naming (snake_case to camelCase), memoized: converting a mutation's input arguments asks
    for the GraphQL name of every field of every input type again on every request."""

    def __init__(self) -> None:
        super().__init__(auto_camel_case=True)
        self._names: dict[str, str] = {}  # the schema's Python names: a fixed set

    def apply_naming_config(self, name: str) -> str:
        converted = self._names.get(name)
        if converted is None:
            converted = self._names[name] = super().apply_naming_config(name)
        return converted
