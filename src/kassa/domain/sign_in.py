"""Rules of Dashboard sign-in: how long failed attempts make the next one wait, and CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac

# Failures kept per email and per client address. An address is shared by many people behind one
# NAT, so it is allowed more failures before it is slowed down.
FREE_FAILURES = {"email": 3, "address": 10}
FIRST_DELAY_SECONDS = 5.0
MAX_DELAY_SECONDS = 900.0
FORGET_AFTER_SECONDS = 3600.0  # a count whose last failure is this old starts again


def delay_after(failures: int, free: int) -> float:
    """Seconds to wait after the last failure before trying again: none for the first `free`
    failures, then 5 s doubling with each further failure, at most 15 minutes."""
    if failures < free:
        return 0.0
    return min(FIRST_DELAY_SECONDS * 2 ** (failures - free), MAX_DELAY_SECONDS)


def wait_seconds(counts: list[tuple[str, int, float]], now: float) -> float:
    """How long a sign-in must still wait, given (kind, failures, last failure time) of its keys."""
    waits = [last + delay_after(count, FREE_FAILURES[kind]) - now for kind, count, last in counts
             if now - last < FORGET_AFTER_SECONDS]
    return max([0.0, *waits])


def token_hash(token: str) -> str:
    """What is stored of a session token: its SHA-256 (the token itself is only in the cookie)."""
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(session_token: str) -> str:
    """The CSRF token of a session: derived from the session's secret token, so nothing more is stored."""
    return hmac.new(session_token.encode(), b"kassa dashboard csrf", hashlib.sha256).hexdigest()


def csrf_valid(session_token: str, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(csrf_token(session_token), sent)
