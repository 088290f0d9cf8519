"""An optional per-key rate limit (``KASSA_RATE_LIMIT`` requests a second; off by default).

A token bucket per API key in each process: a key may burst up to one second's worth, then gets
Stripe's ``rate_limit`` error (429) until its bucket refills. With several processes each keeps
its own buckets, so the limit is per process.
"""

from __future__ import annotations

import time

from ..domain.errors import KassaError


class RateLimited(KassaError):
    status = 429
    type = "invalid_request_error"

    def __init__(self) -> None:
        super().__init__("Too many requests hit the API too quickly with this key. Slow down, and retry with an "
                         "exponential backoff.", code="rate_limit")


class RateLimiter:
    def __init__(self, per_second: float, *, clock=time.monotonic):
        if per_second <= 0:
            raise ValueError("the rate limit must be positive")
        self.rate = per_second
        self.burst = max(1.0, per_second)
        self.clock = clock
        self._buckets: dict[bytes, tuple[float, float]] = {}  # key digest -> (tokens, when counted)

    def take(self, key: bytes) -> None:
        """Spend one request of this key's allowance, or raise RateLimited."""
        now = self.clock()
        tokens, then = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - then) * self.rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            raise RateLimited()
        self._buckets[key] = (tokens - 1.0, now)
        if len(self._buckets) > 100_000:  # keys seen once long ago need no bucket
            self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < 60}


def from_setting(value: str | None) -> RateLimiter | None:
    """``KASSA_RATE_LIMIT``: requests per second per key; empty, 0 or off for none."""
    if not value or value.strip().lower() in ("0", "off", "none"):
        return None
    try:
        return RateLimiter(float(value))
    except ValueError:
        raise ValueError(f"KASSA_RATE_LIMIT must be a number of requests per second, not {value!r}") from None
