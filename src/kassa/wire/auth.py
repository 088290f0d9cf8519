"""API keys: recognising a key, hashing it for storage, and telling secret from publishable."""

from __future__ import annotations

import base64
import hmac
from dataclasses import dataclass

from ..domain.errors import AuthenticationError, PermissionDenied


@dataclass(frozen=True, slots=True)
class KeyRecord:
    key_hash: bytes
    account_id: str
    livemode: bool
    kind: str  # 'secret' | 'publishable'
    country: str
    account_name: str
    amazon_pay_enabled: bool
    expires_at: int | None = None  # a rolled key stops working then


MISSING = ("You did not provide an API key. You need to provide your API key in the Authorization header, "
           "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').")


def key_from_header(header: str | None) -> str:
    """The key in ``Authorization: Bearer KEY`` or ``Basic base64(KEY:)``."""
    if not header:
        raise AuthenticationError(MISSING)
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return value
    if scheme.lower() == "basic" and value:
        try:
            user = base64.b64decode(value, validate=True).decode().partition(":")[0]
        except ValueError:
            raise AuthenticationError("Invalid API Key provided: the Basic credentials are not base64.") from None
        if user:
            return user
    raise AuthenticationError(MISSING)


def invalid_key(key: str) -> AuthenticationError:
    shown = key[:8] + "*" * max(len(key) - 12, 0) + key[-4:] if len(key) > 12 else "****"
    return AuthenticationError(f"Invalid API Key provided: {shown}")


def expired_key(key: str) -> AuthenticationError:
    shown = key[:8] + "*" * max(len(key) - 12, 0) + key[-4:] if len(key) > 12 else "****"
    return AuthenticationError(f"Expired API Key provided: {shown}. It was rolled; use the account's new key.",
                               code="api_key_expired")


def same_hash(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


def publishable_not_allowed() -> PermissionDenied:
    return PermissionDenied(
        "This API call cannot be made with a publishable API key. Please use a secret API key. "
        "Publishable keys can only retrieve or confirm a PaymentIntent with its client_secret, and "
        "create PaymentMethods.")
