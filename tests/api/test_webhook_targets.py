"""Where webhooks may go: live endpoints on public addresses only (checked when set and again at
every delivery, after name resolution), test mode on loopback too (for `kassa listen`); redirects
not followed."""

from __future__ import annotations

import http.server
import threading
import time

import httpx
import pytest
import stripe

from live_support import run_sql, wait_for
from receiver import Receiver
from support import fresh_database, start_server
from test_auth import new_account

REFUSED = [
    ("https://127.0.0.1/hook", "loopback"),
    ("https://10.0.0.5/hook", "private"),
    ("https://192.168.1.20/hook", "private"),
    ("https://169.254.169.254/latest/meta-data", "link-local"),
    ("https://[::1]/hook", "loopback"),
    ("https://[fd12:3456::1]/hook", "unique-local"),
    ("https://224.0.0.1/hook", "multicast"),
    ("https://localhost/hook", "loopback"),
]


def attempts_of(server, key: str, event_id: str) -> list:
    """Every attempt of every delivery of an event (kassa's /deliveries view)."""
    response = httpx.get(f"{server.url}/v1/events/{event_id}/deliveries", auth=(key, ""))
    assert response.status_code == 200, response.text
    return [attempt for delivery in response.json()["data"] for attempt in delivery["attempts"]]


@pytest.fixture
def live_client(server):
    return server.client(new_account(server)["secret_live"])


@pytest.mark.parametrize("url, why", REFUSED, ids=[why + "-" + url.split("/")[2] for url, why in REFUSED])
def test_live_endpoints_on_non_public_addresses_are_refused(live_client, url, why):
    with pytest.raises(stripe.InvalidRequestError) as info:
        live_client.v1.webhook_endpoints.create(params={"url": url, "enabled_events": ["*"]})
    assert info.value.http_status == 400 and info.value.param == "url"
    assert why in info.value.user_message and "KASSA_WEBHOOK_ALLOW_PRIVATE" in info.value.user_message
    assert live_client.v1.webhook_endpoints.list().data == []


def test_a_live_endpoint_cannot_be_moved_to_a_private_address(live_client):
    hook = live_client.v1.webhook_endpoints.create(params={"url": "https://93.184.216.34/hook",
                                                           "enabled_events": ["*"]})
    with pytest.raises(stripe.InvalidRequestError) as info:
        live_client.v1.webhook_endpoints.update(hook.id, params={"url": "https://10.1.1.1/hook"})
    assert info.value.param == "url" and "private" in info.value.user_message
    assert live_client.v1.webhook_endpoints.retrieve(hook.id).url == "https://93.184.216.34/hook"


def test_test_mode_keeps_loopback(server):
    client = server.client(new_account(server)["secret_test"])
    hook = client.v1.webhook_endpoints.create(params={"url": "http://127.0.0.1:9/hook", "enabled_events": ["*"]})
    assert hook.url == "http://127.0.0.1:9/hook"


def test_a_name_that_resolves_privately_at_delivery_gets_nothing(server):
    """Checked when set (then public), the name resolves to loopback when a delivery is sent."""
    receiver = Receiver()
    try:
        key = new_account(server)["secret_live"]
        client = server.client(key)
        hook = client.v1.webhook_endpoints.create(params={"url": "https://93.184.216.34/hook",
                                                          "enabled_events": ["payment_intent.created"]})
        port = receiver.url.split(":")[2].split("/")[0]
        moved = f"http://localhost:{port}/webhooks"
        if server.database.startswith("sqlite:///"):
            run_sql(server.database, "UPDATE webhook_endpoints SET data = json_set(data, '$.url', %s) WHERE id = %s",
                    moved, hook.id)
        else:
            run_sql(server.database, "UPDATE webhook_endpoints SET data = jsonb_set(data::jsonb, '{url}', "
                                     "to_jsonb(%s::text))::text WHERE id = %s", moved, hook.id)
        intent = client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"})
        event = client.v1.events.list(params={"type": "payment_intent.created", "limit": 1}).data[0]
        assert event.data.object.id == intent.id

        attempt = wait_for(lambda: attempts_of(server, key, event.id))[0]
        assert attempt["status_code"] is None
        assert attempt["error"].startswith("refused: localhost resolves to")
        assert "loopback" in attempt["error"] and len(attempt["error"]) <= 200
        time.sleep(0.5)
        assert receiver.received == []  # nothing was sent
    finally:
        receiver.close()


def test_the_operator_may_allow_private_addresses(tmp_path):
    server = start_server(fresh_database("sqlite", tmp_path), tmp_path, env={"KASSA_WEBHOOK_ALLOW_PRIVATE": "1"})
    try:
        client = server.client(new_account(server)["secret_live"])
        hook = client.v1.webhook_endpoints.create(params={"url": "https://10.0.0.5/hook", "enabled_events": ["*"]})
        assert hook.url == "https://10.0.0.5/hook"
    finally:
        server.stop()


def test_redirects_are_not_followed(server):
    target = Receiver()

    class Redirecting(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(307)
            self.send_header("Location", target.url)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    redirecting = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    threading.Thread(target=redirecting.serve_forever, daemon=True).start()
    try:
        key = new_account(server)["secret_test"]
        client = server.client(key)
        client.v1.webhook_endpoints.create(params={
            "url": f"http://127.0.0.1:{redirecting.server_address[1]}/hook", "enabled_events": ["*"]})
        client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"})
        event = client.v1.events.list(params={"limit": 1}).data[0]
        found = wait_for(lambda: attempts_of(server, key, event.id))
        assert found[0]["status_code"] == 307 and found[0]["error"] == "HTTP 307"
        time.sleep(0.5)
        assert target.received == []
    finally:
        redirecting.shutdown()
        target.close()
