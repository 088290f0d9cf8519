"""Webhook rules: which events an endpoint takes, how a delivery is signed, when it is retried."""

from __future__ import annotations

import hashlib
import hmac
import random

from .errors import InvalidRequest

EVENT_TYPES = frozenset({
    "payment_intent.created", "payment_intent.requires_action", "payment_intent.processing",
    "payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled",
    "payment_intent.amount_capturable_updated", "charge.succeeded", "charge.captured", "charge.refunded",
    "charge.expired", "charge.failed", "refund.created", "refund.updated", "refund.failed", "payment_method.attached",
    "payment_method.detached", "payment_method.updated", "customer.created", "customer.updated", "customer.deleted",
    "setup_intent.created", "setup_intent.requires_action", "setup_intent.succeeded", "setup_intent.setup_failed",
    "setup_intent.canceled", "mandate.updated",
})

RETRY_WINDOW_SECONDS = 3 * 24 * 3600
MAX_BACKOFF_SECONDS = 12 * 3600
TIMEOUT_SECONDS = 10.0


def check_enabled_events(events: list[str], param: str = "enabled_events") -> list[str]:
    if not events:
        raise InvalidRequest("enabled_events must list at least one event type, or '*'.",
                             code="missing_required_parameter", param=param)
    for index, name in enumerate(events):
        if name != "*" and name not in EVENT_TYPES:
            raise InvalidRequest(f"Invalid {param}[{index}]: '{name[:80]}' is not an event type kassa sends. "
                                 f"Use '*' or one of: {', '.join(sorted(EVENT_TYPES))}.",
                                 code="parameter_invalid_string", param=f"{param}[{index}]")
    return list(dict.fromkeys(events))


def wants(enabled_events: list[str], event_type: str) -> bool:
    return "*" in enabled_events or event_type in enabled_events


def type_matches(pattern: str, event_type: str) -> bool:
    """``type`` filter of the events list: exact, or a ``*`` wildcard such as ``payment_intent.*``."""
    if "*" not in pattern:
        return pattern == event_type
    prefix, _, suffix = pattern.partition("*")
    return event_type.startswith(prefix) and event_type.endswith(suffix)


def signature_header(secret: str, payload: bytes, timestamp: int) -> str:
    """``Stripe-Signature: t=…,v1=…``: HMAC-SHA256 with the endpoint's secret over ``"{t}.{payload}"``."""
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def next_attempt_delay(attempts: int, base_seconds: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter after `attempts` failed tries: base·2^(n-1), ×0.5–1.5, capped."""
    rng = rng or random
    delay = min(base_seconds * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)
    return delay * (0.5 + rng.random())


def gives_up(created: float, now: float, window_seconds: float = RETRY_WINDOW_SECONDS) -> bool:
    """A delivery failing past its retry window (3 days from the event) is marked failed."""
    return now - created >= window_seconds
