"""Settings, from the environment (the CLI sets the same variables from its flags)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATABASE = "sqlite:///" + str(Path("kassa-data") / "kassa.sqlite3")


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    durable: bool
    secret_key: str | None
    publishable_key: str | None
    public_url: str | None
    webhook_retry_base: float = 60.0  # seconds before the first retry; doubles each time
    webhook_timeout: float = 10.0
    webhook_allow_private: bool = False  # live webhooks to loopback, private or link-local addresses
    amazon_pay_api_base: str | None = None  # instead of Amazon's regional host (a proxy, a local double)
    amazon_pay_checkout_js_url: str | None = None  # instead of Amazon's regional checkout.js (tests only)
    sns_certificate_dir: str | None = None  # SNS signing certificates kept on disk instead of fetched
    amazon_pay_poll_seconds: int = 60  # how often a pending live authorization or refund is asked about
    database_pool_size: int = 8  # PostgreSQL connections per process
    access_log: bool = False  # one JSON line per API request on standard output
    rate_limit: str | None = None  # requests a second per key (KASSA_RATE_LIMIT), off when unset
    metrics: bool = True  # GET /metrics (KASSA_METRICS=off turns it off)
    metrics_token: str | None = None  # lets a scraper outside loopback in (Authorization: Bearer …)

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=os.environ.get("KASSA_DATABASE_URL") or DEFAULT_DATABASE,
            durable=os.environ.get("KASSA_SQLITE_SYNCHRONOUS", "full").lower() != "normal",
            secret_key=os.environ.get("KASSA_SECRET_KEY") or None,
            publishable_key=os.environ.get("KASSA_PUBLISHABLE_KEY") or None,
            public_url=os.environ.get("KASSA_PUBLIC_URL") or None,
            webhook_retry_base=float(os.environ.get("KASSA_WEBHOOK_RETRY_BASE", "60")),
            webhook_timeout=float(os.environ.get("KASSA_WEBHOOK_TIMEOUT", "10")),
            webhook_allow_private=os.environ.get("KASSA_WEBHOOK_ALLOW_PRIVATE", "") in ("1", "true", "yes"),
            amazon_pay_api_base=os.environ.get("KASSA_AMAZON_PAY_API_BASE") or None,
            amazon_pay_checkout_js_url=os.environ.get("KASSA_AMAZON_PAY_CHECKOUT_JS_URL") or None,
            sns_certificate_dir=os.environ.get("KASSA_AMAZON_PAY_SNS_CERTIFICATES") or None,
            amazon_pay_poll_seconds=max(1, int(os.environ.get("KASSA_AMAZON_PAY_POLL_SECONDS", "60"))),
            database_pool_size=_count("KASSA_DATABASE_POOL_SIZE", 8),
            access_log=os.environ.get("KASSA_ACCESS_LOG", "").lower() in ("1", "true", "yes", "on"),
            rate_limit=os.environ.get("KASSA_RATE_LIMIT") or None,
            metrics=os.environ.get("KASSA_METRICS", "on").lower() not in ("0", "off", "false", "no"),
            metrics_token=os.environ.get("KASSA_METRICS_TOKEN") or None,
        )


def _count(name: str, default: int) -> int:
    raw = os.environ.get(name) or str(default)
    if not raw.isdigit() or not 1 <= int(raw) <= 1000:
        raise ValueError(f"{name} must be a whole number from 1 to 1000, not {raw!r}")
    return int(raw)
