"""The API request log: noted without I/O, errors always kept, successes kept up to a budget per
flush, rows written with the request id, the idempotency key and the error type."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import orjson

from kassa.services import request_logs
from kassa.services.request_logs import RequestLogs


class FakeDb:
    def __init__(self):
        self.rows = []

    async def write(self, unit):
        class Tx:
            async def run_many(_, sql, rows):
                self.rows.extend(rows)
        return await unit(Tx())


def request(path="/v1/payment_intents", key=None, owner=("acct_1", False)):
    headers = [(b"idempotency-key", key.encode())] if key else []
    scope = {"path": path, "headers": headers, **({"kassa.owner": owner} if owner else {})}
    return SimpleNamespace(scope=scope, method="POST")


def response(status=200, body=b"{}", request_id="req_abc"):
    return SimpleNamespace(status_code=status, body=body, raw_headers=[(b"request-id", request_id.encode())])


def test_rows_carry_what_the_logs_page_shows():
    db = FakeDb()
    logs = RequestLogs(db)
    logs.record(request(key="order-1"), response(), 100.0)
    error = orjson.dumps({"error": {"type": "card_error"}})
    logs.record(request("/v1/payment_intents/pi_1/confirm"), response(402, error, "req_err"), 101.0)
    logs.record(request(owner=None), response(401), 102.0)  # no key: no account to show it to
    assert asyncio.run(logs.flush()) == 2
    first, second = db.rows
    assert (first["account_id"], first["livemode"], first["idempotency_key"], first["request_id"]) == \
        ("acct_1", False, "order-1", "req_abc")
    assert (second["status"], second["error_type"], second["path"]) == (402, "card_error", "/v1/payment_intents/pi_1/confirm")
    assert first["error_type"] is None and first["duration_ms"] >= 0


def test_a_flood_of_successes_is_counted_and_errors_still_kept(monkeypatch):
    monkeypatch.setattr(request_logs, "KEEP_SUCCESSES_PER_FLUSH", 3)
    db = FakeDb()
    logs = RequestLogs(db)
    for _ in range(10):
        logs.record(request(), response(), 1.0)
    logs.record(request(), response(500, b"not json"), 1.0)
    assert asyncio.run(logs.flush()) == 4 and logs.not_kept == 7
    assert db.rows[-1]["error_type"] == "unknown"
    logs.record(request(), response(), 2.0)  # a new second, a new budget
    assert asyncio.run(logs.flush()) == 1
