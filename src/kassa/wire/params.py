"""Typed reading of decoded form parameters, with Stripe's messages for every kind of bad value.

A `Params` wraps one decoded hash. Every getter marks its key as used; `finish()` rejects what
nobody asked for, so an unknown parameter is always a 400 naming it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..domain.errors import InvalidRequest, missing_param
from ..domain.metadata import KEY_MAX_LENGTH as METADATA_KEY_MAX, MAX_KEYS as METADATA_MAX_KEYS, VALUE_MAX_LENGTH as METADATA_VALUE_MAX
from .forms import as_list

_INT = re.compile(r"-?[0-9]{1,19}\Z")
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)



class Params:
    """Decoded parameters of one hash; `prefix` is how Stripe names it in errors (``a[b]``)."""

    def __init__(self, data: dict | None, prefix: str = ""):
        self.data = data or {}
        self.prefix = prefix
        self.used: set[str] = set()
        self.children: list[Params] = []

    def name(self, key: str) -> str:
        return f"{self.prefix}[{key}]" if self.prefix else key

    def has(self, key: str) -> bool:
        return key in self.data

    def _take(self, key: str, required: bool):
        self.used.add(key)
        value = self.data.get(key)
        if value is None and required:
            raise missing_param(self.name(key))
        return value

    def _scalar(self, key: str, value) -> str:
        if not isinstance(value, str):
            raise InvalidRequest(
                f"Invalid {self.name(key)}: expected a single value, not a hash or a list.",
                code="parameter_invalid_string", param=self.name(key))
        return value

    def str(self, key: str, *, required: bool = False, max_length: int = 5000) -> str | None:
        """A string; an empty value reads as None (Stripe's way to unset a field)."""
        value = self._take(key, required)
        if value is None:
            return None
        value = self._scalar(key, value)
        if value == "":
            if required:
                raise InvalidRequest(
                    f"You passed an empty string for '{self.name(key)}'. We assume empty values are an "
                    "attempt to unset a parameter; however '" + self.name(key) + "' cannot be unset. "
                    "You should remove '" + self.name(key) + "' from your request or supply a non-empty value.",
                    code="parameter_invalid_empty", param=self.name(key))
            return None
        if len(value) > max_length:
            raise InvalidRequest(
                f"Invalid {self.name(key)}: must be at most {max_length} characters",
                code="parameter_invalid_string", param=self.name(key))
        return value

    def int(self, key: str, *, required: bool = False, minimum: int | None = None,
            maximum: int = INT64_MAX) -> int | None:
        value = self.str(key, required=required)
        if value is None:
            return None
        if not _INT.match(value) or not INT64_MIN <= int(value) <= maximum:
            raise InvalidRequest(f"Invalid integer: {value[:100]}", code="parameter_invalid_integer",
                                 param=self.name(key))
        number = int(value)
        if minimum is not None and number < minimum:
            raise InvalidRequest(
                f"This value must be greater than or equal to {minimum}.",
                code="parameter_invalid_integer", param=self.name(key))
        return number

    def bool(self, key: str, *, required: bool = False) -> bool | None:
        value = self.str(key, required=required)
        if value is None:
            return None
        if value not in ("true", "false"):
            raise InvalidRequest(f"Invalid boolean: {value[:100]}", code="parameter_invalid_string",
                                 param=self.name(key))
        return value == "true"

    def enum(self, key: str, choices: Iterable[str], *, required: bool = False) -> str | None:
        value = self.str(key, required=required)
        if value is None:
            return None
        choices = tuple(choices)
        if value not in choices:
            listed = ", ".join(choices[:-1]) + (f", or {choices[-1]}" if len(choices) > 1 else choices[0])
            raise InvalidRequest(f"Invalid {self.name(key)}: must be one of {listed}",
                                 code="parameter_invalid_string", param=self.name(key))
        return value

    def str_list(self, key: str, *, required: bool = False, max_items: int = 100) -> list[str] | None:
        """A list of strings, sent as ``k[]=a`` or ``k[0]=a``; an empty value unsets it."""
        value = self._take(key, required)
        if value is None or value == "":
            if required:
                raise missing_param(self.name(key))
            return None if value is None else []
        items = as_list(value)
        if items is None or not all(isinstance(item, str) for item in items):
            raise InvalidRequest(f"Invalid array: {self.name(key)} must be a list of strings.",
                                 code="parameter_invalid_string", param=self.name(key))
        if len(items) > max_items:
            raise InvalidRequest(f"Invalid array: {self.name(key)} has more than {max_items} items.",
                                 param=self.name(key))
        return items

    def hash(self, key: str, *, required: bool = False) -> Params | None:
        """A nested hash as its own `Params`, checked for unknown keys by `finish()`."""
        value = self._take(key, required)
        if value is None:
            return None
        if value == "":
            child = Params({}, self.name(key))
            self.children.append(child)
            return child
        if not isinstance(value, dict):
            raise InvalidRequest(f"Invalid object: {self.name(key)} must be a hash.",
                                 code="parameter_invalid_string", param=self.name(key))
        child = Params(value, self.name(key))
        self.children.append(child)
        return child

    def metadata(self, key: str = "metadata") -> dict[str, str | None] | None:
        """Metadata changes: a value of None (sent empty) removes that key; ``metadata=`` clears all."""
        value = self._take(key, False)
        if value is None:
            return None
        if value == "":
            return {}
        if not isinstance(value, dict):
            raise InvalidRequest("Invalid metadata: must be a hash of keys and values.",
                                 code="parameter_invalid_string", param=self.name(key))
        if len(value) > METADATA_MAX_KEYS:
            raise InvalidRequest(f"Invalid metadata: metadata can have at most {METADATA_MAX_KEYS} keys.",
                                 param=self.name(key))
        changes: dict[str, str | None] = {}
        for meta_key, meta_value in value.items():
            param = f"{self.name(key)}[{meta_key}]"
            if not isinstance(meta_value, str):
                raise InvalidRequest(f"Invalid value for {param}: metadata values must be strings.",
                                     param=param)
            if len(meta_key) > METADATA_KEY_MAX:
                raise InvalidRequest(
                    f"Metadata keys can have up to {METADATA_KEY_MAX} characters; '{meta_key[:60]}' has "
                    f"{len(meta_key)}.", param=param)
            if len(meta_value) > METADATA_VALUE_MAX:
                raise InvalidRequest(
                    f"Metadata values can have up to {METADATA_VALUE_MAX} characters, but you passed in a "
                    f"value that is {len(meta_value)} characters. Invalid value: {meta_value[:60]}…", param=param)
            changes[meta_key] = meta_value or None
        return changes

    def expand(self) -> list[str]:
        return self.str_list("expand") or []

    def finish(self) -> None:
        """Reject every parameter that no getter asked for, naming it as Stripe does."""
        for key in self.data:
            if key not in self.used:
                raise InvalidRequest(f"Received unknown parameter: {self.name(key)}",
                                     code="parameter_unknown", param=self.name(key))
        for child in self.children:
            child.finish()
