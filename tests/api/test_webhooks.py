"""Events and signed webhooks, through stripe-python and a real receiver in the test process."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
import stripe

from amazon_pay_helpers import new_confirmed, page_url, press
from support import free_port, kassa_command, start_server
from receiver import Receiver
from test_auth import new_account


@pytest.fixture
def receiver():
    rec = Receiver()
    yield rec
    rec.close()


@pytest.fixture
def fresh(server):
    return server.client(new_account(server)["secret_test"])


def endpoint(client, url, events=("*",)):
    return client.v1.webhook_endpoints.create(params={"url": url, "enabled_events": list(events)})


def test_a_whole_flow_arrives_signed(fresh, receiver):
    hook = endpoint(fresh, receiver.url)
    assert hook.secret.startswith("whsec_") and hook.status == "enabled"
    intent = new_confirmed(fresh)
    press(page_url(intent), "authorize")
    expected = ["payment_intent.created", "payment_method.attached", "payment_intent.requires_action",
                "charge.succeeded", "payment_intent.succeeded"]
    receiver.wait_for(lambda: len(receiver.received) >= len(expected))
    events = receiver.events(hook.secret)
    assert sorted(e.type for e in events) == sorted(expected)
    succeeded = next(e for e in events if e.type == "payment_intent.succeeded")
    assert succeeded.data.object.id == intent.id and succeeded.data.object.status == "succeeded"
    assert "previous_attributes" not in succeeded.data  # Stripe sends them with *.updated events only
    assert succeeded.livemode is False and succeeded.api_version
    charge = next(e for e in events if e.type == "charge.succeeded")
    assert charge.data.object.payment_intent == intent.id
    stored = fresh.v1.events.retrieve(succeeded.id)
    assert stored.type == "payment_intent.succeeded"
    receiver.wait_for(lambda: fresh.v1.events.retrieve(succeeded.id).pending_webhooks == 0)


def test_a_tampered_secret_or_body_fails_verification(fresh, receiver):
    hook = endpoint(fresh, receiver.url)
    fresh.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
    receiver.wait_for(lambda: len(receiver.received) >= 1)
    body, headers = receiver.received[0]
    assert stripe.Webhook.construct_event(body, headers["stripe-signature"], hook.secret).type
    with pytest.raises(stripe.SignatureVerificationError):
        tampered = hook.secret[:-1] + ("x" if hook.secret[-1] != "x" else "y")
        stripe.Webhook.construct_event(body, headers["stripe-signature"], tampered)
    assert b'"amount":1099' in body
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body.replace(b'"amount":1099', b'"amount":9999'),
                                       headers["stripe-signature"], hook.secret)


def test_enabled_events_filter(fresh, receiver):
    hook = endpoint(fresh, receiver.url, ["payment_intent.succeeded"])
    intent = new_confirmed(fresh)
    press(page_url(intent), "authorize")
    receiver.wait_for(lambda: len(receiver.received) >= 1)
    time.sleep(1.0)  # anything else would have arrived by now
    assert [e.type for e in receiver.events(hook.secret)] == ["payment_intent.succeeded"]


def test_fails_twice_then_succeeds_on_the_third_attempt(fresh):
    answers = iter([500, 503])
    rec = Receiver(lambda body, headers: next(answers, 200))
    try:
        hook = endpoint(fresh, rec.url, ["payment_intent.created"])
        fresh.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
        rec.wait_for(lambda: len(rec.received) >= 3)
        events = rec.events(hook.secret)
        assert len({e.id for e in events}) == 1
        deliveries = fresh.raw_request("get", f"/v1/events/{events[0].id}/deliveries")
        body = json.loads(deliveries.body if hasattr(deliveries, "body") else deliveries)
        rec.wait_for(lambda: json.loads(fresh.raw_request("get", f"/v1/events/{events[0].id}/deliveries").body)
                     ["data"][0]["status"] == "succeeded")
        body = json.loads(fresh.raw_request("get", f"/v1/events/{events[0].id}/deliveries").body)
        attempts = body["data"][0]["attempts"]
        assert [a["status_code"] for a in attempts] == [500, 503, 200]
        gaps = [attempts[i + 1]["attempted_at"] - attempts[i]["attempted_at"] for i in range(2)]
        assert gaps[0] >= 0.09 and gaps[1] >= 0.19, gaps  # backoff: base 0.2 s × 2^(n-1) × (0.5–1.5)
    finally:
        rec.close()


def test_an_unreachable_endpoint_is_held_back_then_gets_everything(fresh):
    port = free_port()
    hook = endpoint(fresh, f"http://127.0.0.1:{port}/later", ["payment_intent.created"])
    started = time.monotonic()
    created = [fresh.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"}).id for _ in range(10)]
    assert time.monotonic() - started < 5  # the API does not wait for webhooks
    first = fresh.v1.events.list(params={"limit": 100}).data[-1]
    time.sleep(1.0)
    body = json.loads(fresh.raw_request("get", f"/v1/events/{first.id}/deliveries").body)
    delivery = body["data"][0]
    assert delivery["status"] == "pending" and len(delivery["attempts"]) >= 1
    assert "Connect" in delivery["attempts"][0]["error"]
    # The endpoint comes back: every event reaches it, none lost.
    alive = Receiver(port=port)
    try:
        alive.wait_for(lambda: len({e.id for e in alive.events(hook.secret)}) >= 10, timeout=20)
        assert {e.data.object.id for e in alive.events(hook.secret)} == set(created)
    finally:
        alive.close()


def test_events_api(fresh):
    intent = fresh.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
    fresh.v1.payment_intents.cancel(intent.id)
    listed = fresh.v1.events.list()
    assert [e.type for e in listed.data] == ["payment_intent.canceled", "payment_intent.created"]
    assert listed.data[0].data.object.status == "canceled"
    assert "previous_attributes" not in listed.data[0].data  # *.updated events only, as Stripe
    assert listed.data[0].request.id.startswith("req_")
    assert [e.type for e in fresh.v1.events.list(params={"type": "payment_intent.created"}).data] == [
        "payment_intent.created"]
    assert len(fresh.v1.events.list(params={"type": "payment_intent.*"}).data) == 2
    assert len(fresh.v1.events.list(params={"types": ["payment_intent.canceled", "charge.succeeded"]}).data) == 1
    created = listed.data[1].created
    assert len(fresh.v1.events.list(params={"created": {"gte": created}}).data) == 2
    assert fresh.v1.events.list(params={"created": {"gt": created + 100}}).data == []
    page = fresh.v1.events.list(params={"limit": 1})
    assert page.has_more is True
    assert fresh.v1.events.list(params={"limit": 1, "starting_after": page.data[0].id}).data[0].type == \
        "payment_intent.created"
    with pytest.raises(stripe.InvalidRequestError) as info:
        fresh.v1.events.retrieve("evt_nope")
    assert info.value.http_status == 404
    key = "idem-" + intent.id
    fresh.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"}, options={"idempotency_key": key})
    assert fresh.v1.events.list(params={"limit": 1}).data[0].request.idempotency_key == key


def test_webhook_endpoint_crud(fresh, receiver):
    hook = endpoint(fresh, receiver.url, ["payment_intent.created"])
    fetched = fresh.v1.webhook_endpoints.retrieve(hook.id)
    assert fetched.url == receiver.url and "secret" not in fetched
    assert fetched.enabled_events == ["payment_intent.created"]
    updated = fresh.v1.webhook_endpoints.update(hook.id, params={"disabled": True, "enabled_events": ["*"]})
    assert updated.status == "disabled" and updated.enabled_events == ["*"]
    fresh.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
    time.sleep(1.0)
    assert receiver.received == []
    assert [w.id for w in fresh.v1.webhook_endpoints.list().data] == [hook.id]
    deleted = fresh.v1.webhook_endpoints.delete(hook.id)
    assert deleted.deleted is True
    with pytest.raises(stripe.InvalidRequestError):
        fresh.v1.webhook_endpoints.retrieve(hook.id)


@pytest.mark.parametrize("params, param", [
    ({"enabled_events": ["*"]}, "url"),
    ({"url": "not a url", "enabled_events": ["*"]}, "url"),
    ({"url": "https://x.example/h", "enabled_events": ["payment_intent.exploded"]}, "enabled_events[0]"),
    ({"url": "https://x.example/h"}, "enabled_events"),
])
def test_webhook_endpoint_errors(client, params, param):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.webhook_endpoints.create(params=params)
    assert info.value.param == param


def test_resend(server, fresh, receiver):
    hook = endpoint(fresh, receiver.url, ["payment_intent.created"])
    fresh.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
    receiver.wait_for(lambda: len(receiver.received) == 1)
    event_id = receiver.events(hook.secret)[0].id
    out = subprocess.run([*kassa_command(), "events", "resend", event_id, "--database", server.database],
                         capture_output=True, text=True, check=True)
    assert "queued" in out.stdout
    receiver.wait_for(lambda: len(receiver.received) == 2)
    assert [e.id for e in receiver.events(hook.secret)] == [event_id, event_id]
    missing = subprocess.run([*kassa_command(), "events", "resend", "evt_nope", "--database", server.database],
                             capture_output=True, text=True)
    assert missing.returncode == 1 and "No such event" in missing.stderr


def test_listen_forwards_a_flows_events(server, receiver):
    account = new_account(server)
    client = server.client(account["secret_test"])
    secret = "whsec_listenTestSecret000000000000"
    listener = subprocess.Popen([*kassa_command(), "listen", "--forward-to", receiver.url, "--api-base", server.url,
                                 "--api-key", account["secret_test"], "--secret", secret,
                                 "--events", "payment_intent.*"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert "Ready!" in listener.stdout.readline()
        intent = new_confirmed(client)
        press(page_url(intent), "authorize")
        receiver.wait_for(lambda: len(receiver.received) >= 3)
        types = [e.type for e in receiver.events(secret)]
        assert types == ["payment_intent.created", "payment_intent.requires_action", "payment_intent.succeeded"]
        lines = [listener.stdout.readline() for _ in range(6)]
        assert any("--> payment_intent.created" in line and intent.id in line for line in lines)
        assert any("<--  [200] POST" in line for line in lines)
    finally:
        listener.terminate()
        listener.wait(10)


def test_kill_9_mid_delivery_loses_nothing(tmp_path):
    slow = Receiver(delay=2.5)
    database = f"sqlite:///{tmp_path / 'kassa.sqlite3'}"
    srv = start_server(database, tmp_path, env={"KASSA_WEBHOOK_TIMEOUT": "1", "KASSA_WEBHOOK_RETRY_BASE": "0.2"})
    try:
        client = srv.client()
        hook = endpoint(client, slow.url, ["payment_intent.created"])
        intent = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
        slow.wait_for(lambda: len(slow.received) >= 1)  # the delivery is under way...
        srv.kill(9)  # ...and the process dies before it learns the outcome
        slow.delay = 0
        srv = srv.restart()
        slow.wait_for(lambda: len(slow.received) >= 2, timeout=30)
        events = slow.events(hook.secret)
        assert {e.data.object.id for e in events} == {intent.id}
        event_id = events[0].id
        slow.wait_for(lambda: json.loads(srv.client().raw_request(
            "get", f"/v1/events/{event_id}/deliveries").body)["data"][0]["status"] == "succeeded", timeout=30)
    finally:
        srv.stop()
        slow.close()


def test_a_slow_endpoint_does_not_hold_up_the_others(fresh, receiver):
    slow = Receiver(delay=10.0)
    try:
        slow_hook = endpoint(fresh, slow.url, ["payment_intent.created"])
        hook = endpoint(fresh, receiver.url, ["payment_intent.created"])
        for _ in range(30):
            fresh.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
        receiver.wait_for(lambda: len(receiver.received) >= 30, timeout=8)
        events = receiver.events(hook.secret)
        assert len({e.id for e in events}) == 30
        # ...while the slow endpoint has not answered yet: its deliveries are still pending.
        body = json.loads(fresh.raw_request("get", f"/v1/events/{events[-1].id}/deliveries").body)
        status = {d["webhook_endpoint"]: d["status"] for d in body["data"]}
        assert status == {hook.id: "succeeded", slow_hook.id: "pending"}
    finally:
        slow.close()
