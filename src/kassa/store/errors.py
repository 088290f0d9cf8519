"""The store's errors, the same on every backend (the backends and the services import them here)."""

from __future__ import annotations


class UniqueViolation(Exception):
    """A write broke a unique constraint (the same on every backend)."""


class StoreUnavailable(Exception):
    """The database cannot be reached for now (restarting, connection lost, locked too long).
    Nothing was acknowledged; the request may be retried (with its Idempotency-Key)."""
