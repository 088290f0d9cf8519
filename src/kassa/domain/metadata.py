"""Metadata: the merchant's own key-value pairs on an object, and how updates merge into them."""

from __future__ import annotations

from .errors import InvalidRequest

MAX_KEYS = 50
KEY_MAX_LENGTH = 40
VALUE_MAX_LENGTH = 500


def apply_metadata(current: dict[str, str], changes: dict[str, str | None] | None) -> dict[str, str]:
    """Metadata after an update: ``{}`` clears it, a None value removes that key."""
    if changes is None:
        return current
    if not changes:
        return {}
    merged = dict(current)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    if len(merged) > MAX_KEYS:
        raise InvalidRequest(f"Invalid metadata: metadata can have at most {MAX_KEYS} keys.",
                             param="metadata")
    return merged
