"""Prometheus metrics (``GET /metrics``, with ``prometheus-client``): API requests by route and
status with their latency, Amazon Pay calls by outcome, and what is measured when scraped (the
webhook outbox, the sweep's lag, the database pool).

Each process counts its own requests; with ``--workers`` a scrape reaches one of them.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

registry = CollectorRegistry()

REQUESTS = Counter("kassa_api_requests", "API requests answered, by route, method and status.",
                   ["route", "method", "status"], registry=registry)
LATENCY = Histogram("kassa_api_request_duration_seconds", "Time to answer an API request, by route.", ["route"],
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
                    registry=registry)
AMAZON_PAY_CALLS = Counter("kassa_amazon_pay_calls", "Calls to Amazon Pay API v2 (each attempt), by operation "
                           "and outcome (2xx, 4xx, 5xx, network_error).", ["operation", "outcome"], registry=registry)
OUTBOX_DEPTH = Gauge("kassa_webhook_outbox_pending", "Webhook deliveries waiting to be sent.", registry=registry)
OUTBOX_OLDEST = Gauge("kassa_webhook_outbox_oldest_seconds", "Age of the oldest pending webhook delivery.",
                      registry=registry)
SWEEP_LAG = Gauge("kassa_sweep_lag_seconds", "How long the oldest due background job (a deadline, a refund "
                  "to settle, a processor request) has been waiting.", registry=registry)
POOL_IN_USE = Gauge("kassa_database_connections_in_use", "PostgreSQL connections lent out (0 on SQLite).",
                    registry=registry)


def observe(request, response, started: float) -> None:
    """Count one answered API request (wire.api calls it for each; no I/O)."""
    route = request.scope.get("kassa.route", "unknown")
    REQUESTS.labels(route, request.method, str(response.status_code)).inc()
    LATENCY.labels(route).observe(time.time() - started)


def amazon_pay_call(operation: str, status: int) -> None:
    AMAZON_PAY_CALLS.labels(operation, f"{status // 100}xx" if status else "network_error").inc()


async def exposition(db) -> bytes:
    """The text format, with the gauges measured now."""

    async def read(tx):
        now = time.time()
        outbox = await tx.one("SELECT COUNT(*) AS n, MIN(created) AS oldest FROM webhook_deliveries "
                              "WHERE status = 'pending'")
        due = []
        for sql in ("SELECT MIN(deadline) AS t FROM payment_intents WHERE deadline IS NOT NULL AND livemode",
                    "SELECT MIN(settle_at) AS t FROM refunds WHERE settle_at IS NOT NULL AND livemode",
                    "SELECT MIN(next_try_at) AS t FROM processor_requests WHERE status = 'pending'"):
            row = await tx.one(sql)
            if row and row["t"] is not None and row["t"] <= now:
                due.append(now - row["t"])
        return outbox, max(due, default=0.0), now

    outbox, lag, now = await db.read(read)
    OUTBOX_DEPTH.set(outbox["n"] or 0)
    OUTBOX_OLDEST.set(now - outbox["oldest"] if outbox["oldest"] else 0)
    SWEEP_LAG.set(lag)
    in_use = getattr(db, "connections_in_use", None)
    POOL_IN_USE.set(in_use() if in_use else 0)
    return generate_latest(registry)
