"""API keys: their shape (``sk_test_…``, ``pk_live_…``), how a fresh one is made, and the digest
under which it is stored (never the key itself)."""

from __future__ import annotations

from .ids import digest, random_base62

KEY_PREFIXES = {("sk", False): "sk_test_", ("sk", True): "sk_live_",
                ("pk", False): "pk_test_", ("pk", True): "pk_live_"}


def hash_key(key: str) -> bytes:
    """Keys are stored as SHA-256 digests: a leaked database shows no usable key."""
    return digest(key)


def redact(key: str) -> str:
    return key[:8] + "*" * 4 + key[-4:]


def new_key(kind: str, livemode: bool) -> str:
    """A fresh ``sk_test_…`` / ``pk_live_…`` key with 160 bits of randomness."""
    return KEY_PREFIXES[(kind, livemode)] + random_base62(48)
