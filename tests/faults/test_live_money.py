"""No money moves at Amazon Pay without a record at kassa, whatever fails in between.

kassa is killed with kill -9 after Amazon Pay answered a refund (or a capture) and before kassa
recorded the answer; PostgreSQL stops while a capture is on its way. After the restart each is
settled exactly once at Amazon Pay and recorded once in kassa, with its events.
"""

from __future__ import annotations

import os
import subprocess
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import stripe

from live_support import due_now, in_thread, live_kassa, start_checkout, verify, wait_for
from support import fresh_database, require_postgres

RETURN_URL = "https://shop.example/done?order=7"


def pg_ctl(action: str) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[0]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action], check=True,
                   capture_output=True, timeout=60)
    if action != "stop":
        for _ in range(60):
            if subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"]).returncode == 0:
                return
            time.sleep(0.5)


class Shop:
    """A merchant and its buyer against one live kassa (restarted in place) and the double."""

    def __init__(self, kassa):
        self.kassa, self.server, self.double = kassa, kassa.server, kassa.double

    @property
    def client(self) -> stripe.StripeClient:
        return self.server.client(self.kassa.account["secret_live"])

    def paid_intent(self, **params) -> stripe.PaymentIntent:
        intent = self.client.v1.payment_intents.create(params={
            "amount": 1099, "currency": "usd", "confirm": True, "return_url": RETURN_URL,
            "payment_method_data": {"type": "amazon_pay"}, **params})
        approval = start_checkout(self.server, self.double, intent.next_action.redirect_to_url.url)
        session_id = parse_qs(urlsplit(approval).query)["amazonCheckoutSessionId"][0]
        back = httpx.post(f"{self.double.base_url}/checkout/approve", data={"session": session_id})
        done = httpx.get(back.headers["location"], verify=verify(self.server), follow_redirects=False)
        assert done.status_code == 303 and "redirect_status=succeeded" in done.headers["location"], done.text
        return self.client.v1.payment_intents.retrieve(intent.id)

    def charge_of(self, intent) -> dict:
        found = [c for c in self.double.charges.values()
                 if c["merchantMetadata"]["merchantReferenceId"] == intent.id]
        assert len(found) == 1, found
        return found[0]

    def events(self, kind: str, object_id: str) -> list:
        data = self.client.v1.events.list(params={"type": kind, "limit": 100}).data
        return [e for e in data if e.data.object.id == object_id]

    def restart(self) -> None:
        self.server = self.kassa.server = self.server.restart()


@pytest.fixture(params=["sqlite", "postgresql"])
def shop(request, tmp_path):
    if request.param == "postgresql":
        require_postgres()
    saved = stripe.ca_bundle_path
    with live_kassa(fresh_database(request.param, tmp_path), tmp_path) as kassa:
        stripe.ca_bundle_path = str(kassa.server.tls[0])
        shop = Shop(kassa)
        try:
            yield shop
        finally:
            stripe.ca_bundle_path = saved
            shop.server.stop()


def test_kill_after_amazon_refunded_and_before_kassa_recorded_it(shop):
    intent = shop.paid_intent()
    charge_id = shop.charge_of(intent)["chargeId"]
    hold = shop.double.hold_next("POST", "/v2/refunds")
    thread, box = in_thread(lambda: shop.client.v1.refunds.create(params={
        "payment_intent": intent.id, "amount": 400}))
    assert hold.arrived.wait(15)  # Amazon made the refund; its answer is on its way
    shop.server.kill(9)
    hold.release.set()
    thread.join(30)
    assert "value" in box or isinstance(box["error"], stripe.APIConnectionError), box
    assert len([r for r in shop.double.refunds.values() if r["chargeId"] == charge_id]) == 1

    shop.restart()
    refunds = shop.client.v1.refunds.list(params={"payment_intent": intent.id}).data
    assert len(refunds) == 1 and refunds[0].status == "pending" and refunds[0].amount == 400  # recorded first
    due_now(shop.server.database)  # its grace time ends
    sent = wait_for(lambda: [r for r in shop.double.requests if r.path.endswith("/v2/refunds") and r.replayed])
    assert sent[0].status == 201  # sent again with the same key: Amazon answered the same refund
    at_amazon = [r for r in shop.double.refunds.values() if r["chargeId"] == charge_id]
    assert len(at_amazon) == 1  # refunded once at Amazon
    shop.double.settle_refund(at_amazon[0]["refundId"])
    wait_for(lambda: shop.client.v1.refunds.retrieve(refunds[0].id).status == "succeeded")
    assert len(shop.client.v1.refunds.list(params={"payment_intent": intent.id}).data) == 1  # recorded once
    assert len(shop.events("refund.created", refunds[0].id)) == 1
    assert [e.data.object.status for e in shop.events("refund.updated", refunds[0].id)] == ["succeeded"]
    assert shop.client.v1.charges.retrieve(intent.latest_charge).amount_refunded == 400


def test_kill_after_amazon_captured_and_before_kassa_recorded_it(shop):
    intent = shop.paid_intent(capture_method="manual")
    charge_id = shop.charge_of(intent)["chargeId"]
    hold = shop.double.hold_next("POST", "/capture")
    thread, box = in_thread(lambda: shop.client.v1.payment_intents.capture(intent.id))
    assert hold.arrived.wait(15)
    shop.server.kill(9)
    hold.release.set()
    thread.join(30)
    assert isinstance(box.get("error"), stripe.APIConnectionError), box
    assert shop.charge_of(intent)["statusDetails"]["state"] == "Captured"

    shop.restart()
    assert shop.client.v1.payment_intents.retrieve(intent.id).status == "requires_capture"
    due_now(shop.server.database)
    done = wait_for(lambda: (found := shop.client.v1.payment_intents.retrieve(intent.id)).status == "succeeded"
                    and found)
    assert done.amount_received == 1099
    captures = [r for r in shop.double.requests if r.path.endswith(f"/charges/{charge_id}/capture")]
    assert len([r for r in captures if not r.replayed]) == 1 and captures[-1].replayed  # captured once
    assert len(shop.events("payment_intent.succeeded", intent.id)) == 1
    assert len(shop.events("charge.captured", intent.latest_charge)) == 1


@pytest.mark.exclusive  # stops PostgreSQL: no other test may be using it meanwhile
def test_postgresql_stops_during_a_capture(tmp_path):
    require_postgres()
    saved = stripe.ca_bundle_path
    with live_kassa(fresh_database("postgresql", tmp_path), tmp_path) as kassa:
        stripe.ca_bundle_path = str(kassa.server.tls[0])
        shop = Shop(kassa)
        try:
            intent = shop.paid_intent(capture_method="manual")
            charge_id = shop.charge_of(intent)["chargeId"]
            hold = shop.double.hold_next("POST", "/capture")
            thread, box = in_thread(lambda: shop.client.v1.payment_intents.capture(intent.id))
            assert hold.arrived.wait(15)  # the capture was recorded and sent; Amazon captured
            pg_ctl("stop")
            try:
                hold.release.set()
                thread.join(60)
                assert isinstance(box.get("error"), stripe.StripeError), box  # kassa could not record the answer
                assert box["error"].http_status in (500, 503)
            finally:
                pg_ctl("start")
            due_now(shop.server.database)
            done = wait_for(lambda: (found := shop.client.v1.payment_intents.retrieve(intent.id)).status
                            == "succeeded" and found, seconds=60)
            assert done.amount_received == 1099
            captures = [r for r in shop.double.requests if r.path.endswith(f"/charges/{charge_id}/capture")]
            assert len([r for r in captures if not r.replayed]) == 1
            assert len(shop.events("payment_intent.succeeded", intent.id)) == 1
            assert len(shop.events("charge.captured", intent.latest_charge)) == 1
        finally:
            stripe.ca_bundle_path = saved
            shop.server.stop()
