"""What an operator sees: the JSON access log (no key, client secret or card number in it), the
Prometheus metrics (loopback or token only), and the optional per-key rate limit."""

from __future__ import annotations

import json
import re

import httpx
import pytest
import stripe

from support import TEST_PUBLISHABLE, fresh_database, start_server
from test_auth import new_account

CARD = "4242424242424242"


def test_one_json_line_per_request_and_no_secrets_in_it(tmp_path):
    server = start_server(fresh_database("sqlite", tmp_path), tmp_path, extra_args=("--access-log",))
    try:
        client = server.client()
        intent = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"},
                                                  options={"idempotency_key": "order-77"})
        public = server.client(TEST_PUBLISHABLE)
        public.v1.payment_intents.retrieve(intent.id, params={"client_secret": intent.client_secret})
        method = public.v1.payment_methods.create(params={"type": "card", "card": {
            "number": CARD, "exp_month": 12, "exp_year": 2034, "cvc": "314"}})
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.payment_intents.retrieve("pi_missing")
        server.stop()
        text = server.log()
        lines = [json.loads(line) for line in text.splitlines() if line.startswith('{"time"')]
        assert len(lines) == 4, text
        created, read, made, missing = lines
        assert set(created) == {"time", "request_id", "method", "path", "status", "duration_ms", "account", "mode",
                                "idempotency_key"}
        assert (created["method"], created["path"], created["status"], created["mode"], created["idempotency_key"]) == (
            "POST", "/v1/payment_intents", 200, "test", "order-77")
        assert created["request_id"].startswith("req_") and created["account"].startswith("acct_")
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", created["time"]) and created["duration_ms"] >= 0
        assert read["path"] == f"/v1/payment_intents/{intent.id}" and "?" not in read["path"]
        assert made["path"] == "/v1/payment_methods" and method.card.last4 == "4242"
        assert (missing["status"], missing["idempotency_key"]) == (404, None)
        served = text.split("kassa listening on", 1)[1]  # before it, a new database's keys are shown once
        for secret in (server.secret_key, TEST_PUBLISHABLE, intent.client_secret, CARD):
            assert secret not in served
        assert "cvc" not in served.lower() and "card[" not in served  # nothing of the body either
    finally:
        server.stop()


def test_metrics_for_loopback_or_with_the_token(tmp_path):
    server = start_server(fresh_database("sqlite", tmp_path), tmp_path,
                          extra_args=("--proxy-headers", "--forwarded-allow-ips", "127.0.0.1"),
                          env={"KASSA_METRICS_TOKEN": "scrape-me-7"})
    try:
        client = server.client()
        for _ in range(3):
            client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.payment_intents.retrieve("pi_missing")
        page = httpx.get(server.url + "/metrics")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/plain")
        text = page.text
        created = re.search(r'^kassa_api_requests_total\{method="POST",route="create",status="200"\} (\S+)$', text,
                            re.M)
        assert created and float(created.group(1)) == 3.0
        assert re.search(r'^kassa_api_requests_total\{method="GET",route="\w+",status="404"\} 1\.0$', text, re.M)
        assert 'kassa_api_request_duration_seconds_bucket{le="0.1",route="create"}' in text
        for gauge in ("kassa_webhook_outbox_pending", "kassa_webhook_outbox_oldest_seconds", "kassa_sweep_lag_seconds",
                      "kassa_database_connections_in_use"):
            assert re.search(rf"^{gauge} \S+$", text, re.M), gauge
        outside = {"X-Forwarded-For": "203.0.113.9"}  # as a trusted proxy forwards a scraper from elsewhere
        assert httpx.get(server.url + "/metrics", headers=outside).status_code == 403
        assert httpx.get(server.url + "/metrics", headers={**outside, "Authorization": "Bearer wrong"}).status_code == 403
        allowed = httpx.get(server.url + "/metrics", headers={**outside, "Authorization": "Bearer scrape-me-7"})
        assert allowed.status_code == 200 and "kassa_api_requests_total" in allowed.text
    finally:
        server.stop()


def test_the_rate_limit_answers_stripes_error_per_key(tmp_path):
    server = start_server(fresh_database("sqlite", tmp_path), tmp_path, env={"KASSA_RATE_LIMIT": "5"})
    try:
        client = server.client()
        outcomes = []
        for _ in range(20):
            try:
                client.v1.payment_intents.list(params={"limit": 1})
                outcomes.append("ok")
            except stripe.RateLimitError as error:
                assert (error.http_status, error.error.code, error.error.type) == (429, "rate_limit",
                                                                                   "invalid_request_error")
                outcomes.append("limited")
        assert outcomes[:5] == ["ok"] * 5 and "limited" in outcomes
        other = server.client(new_account(server)["secret_test"])
        assert other.v1.payment_intents.list().object == "list"  # another key has its own allowance
    finally:
        server.stop()


def test_without_the_setting_there_is_no_limit(server):
    client = server.client()
    for _ in range(40):
        client.v1.payment_intents.list(params={"limit": 1})
