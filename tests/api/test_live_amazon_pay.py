"""Live mode end to end: stripe-python and a buyer against `kassa serve` over HTTPS, Amazon Pay
played by the local double of its API v2 and checkout.js (which verifies every request's
signature, and the signature of the button payload kassa's page hands checkout.js).

The buyer is a plain HTTP client following the redirects: kassa's checkout page → what
checkout.js does with the signed payload (Amazon creates the session) → Amazon's page (the
double's) → kassa's return route → the merchant's return_url. Amazon's notifications are the
double's signed SNS messages, posted to kassa as SNS would.
"""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import stripe

from amazon_pay_helpers import RETURN_URL, outcome
from doubles.amazon_pay_api import AmazonPayDouble
from live_support import (PEM, button_of, configure, due_now, in_thread, new_account, reset_double, run_sql,
                          start_checkout, trusted_live_kassa, verify, wait_for)


class Live:
    """One kassa server talking to one Amazon Pay double, and a live-mode account set up for it."""

    def __init__(self, server, double, account):
        self.server, self.double, self.account = server, double, account
        self.client = server.client(account["secret_live"])
        self.tls = verify(server)

    def intent(self, **params) -> stripe.PaymentIntent:
        """A confirmed live intent, waiting for the buyer on kassa's checkout page."""
        params = {"amount": 1099, "currency": "usd", "confirm": True, "return_url": RETURN_URL,
                  "payment_method_data": {"type": "amazon_pay"}, **params}
        intent = self.client.v1.payment_intents.create(params=params)
        assert intent.status == "requires_action" and intent.livemode is True
        assert intent.next_action.redirect_to_url.url.startswith(self.server.url + "/amazon_pay/checkout/tok_")
        return intent

    def get(self, url: str, **options) -> httpx.Response:
        return httpx.get(url, verify=self.tls, follow_redirects=False, **options)

    def to_amazon(self, intent) -> str:
        """The buyer opens kassa's page; checkout.js starts Amazon's checkout: the session's id."""
        approval = start_checkout(self.server, self.double, intent.next_action.redirect_to_url.url)
        assert httpx.get(approval).status_code == 200
        return parse_qs(urlsplit(approval).query)["amazonCheckoutSessionId"][0]

    def at_amazon(self, intent, answer: str = "approve") -> str:
        """The buyer on Amazon's page presses a button; where Amazon sends them (back to kassa)."""
        session_id = self.to_amazon(intent)
        response = httpx.post(f"{self.double.base_url}/checkout/{answer}", data={"session": session_id})
        assert response.status_code == 303, response.text
        back = response.headers["location"]
        assert back.startswith(self.server.url + ("/amazon_pay/return/tok_" if answer == "approve"
                                                  else "/amazon_pay/checkout/tok_"))
        return back

    def back_at_kassa(self, url: str) -> httpx.Response:
        response = self.get(url)
        assert response.status_code == 303, response.text
        assert response.headers["location"].startswith("https://shop.example/checkout/complete?order=42&")
        assert response.headers["location"].endswith("#summary")
        return response

    def buy(self, intent, answer: str = "approve") -> dict[str, str]:
        return outcome(self.back_at_kassa(self.at_amazon(intent, answer)))

    def notify(self, body: str) -> httpx.Response:
        return httpx.post(self.server.url + "/amazon_pay/notifications", content=body, verify=self.tls,
                          headers={"content-type": "text/plain; charset=UTF-8"})

    def retrieve(self, intent_id: str) -> stripe.PaymentIntent:
        return self.client.v1.payment_intents.retrieve(intent_id)

    def calls(self, suffix: str, method: str = "POST") -> list:
        return [r for r in self.double.requests if r.method == method and r.path.endswith(suffix)]

    def events(self, intent_id: str, kind: str) -> list:
        found = self.client.v1.events.list(params={"type": kind, "limit": 100}).data
        return [e for e in found if intent_id in (e.data.object.to_dict().get("payment_intent"), e.data.object.id)]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(request, tmp_path_factory):
    with trusted_live_kassa(request.param, tmp_path_factory.mktemp(f"live-{request.param}")) as running_kassa:
        yield Live(running_kassa.server, running_kassa.double, running_kassa.account)


@pytest.fixture(autouse=True)
def _reset(request):
    if "live" in request.fixturenames:
        reset_double(request.getfixturevalue("live").double)


def _only_charge(live, intent) -> dict:
    found = [c for c in live.double.charges.values() if c["merchantMetadata"]["merchantReferenceId"] == intent.id]
    assert len(found) == 1, found
    return found[0]


def _session_of(live, intent) -> dict:
    found = [s for s in live.double.sessions.values() if s["merchantMetadata"]["merchantReferenceId"] == intent.id]
    assert len(found) == 1, found
    return found[0]


def test_checkout_starts_from_kassas_page_with_a_signed_payload(live):
    creates, before = len(live.calls("/v2/checkoutSessions")), len(live.double.requests)
    intent = live.intent()
    assert len(live.double.requests) == before  # confirming sends nothing to Amazon
    page = live.get(intent.next_action.redirect_to_url.url)
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert f"script-src 'self' {live.double.base_url} https://*.payments-amazon.com" in csp
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    assert page.headers["referrer-policy"] == "no-referrer" and page.headers["x-frame-options"] == "DENY"
    assert f'<script src="{live.double.base_url}/checkout.js"></script>' in page.text
    assert "$10.99" in page.text and "Cancel and return to" in page.text
    options = button_of(page.text)
    assert (options["merchantId"], options["ledgerCurrency"], options["sandbox"], options["productType"]) == (
        "A1KASSADOUBLE", "USD", True, "PayOnly")
    config = options["createCheckoutSessionConfig"]
    assert config["algorithm"] == "AMZN-PAY-RSASSA-PSS-V2" and config["publicKeyId"] == "AFVX7ULWSGBZ5535PCUQOY7B"
    payload = json.loads(config["payloadJSON"])
    token = intent.next_action.redirect_to_url.url.rsplit("/", 1)[-1]
    assert payload["webCheckoutDetails"] == {
        "checkoutMode": "ProcessOrder", "checkoutResultReturnUrl": f"{live.server.url}/amazon_pay/return/{token}",
        "checkoutCancelUrl": f"{live.server.url}/amazon_pay/checkout/{token}/cancel"}
    assert payload["paymentDetails"] == {"paymentIntent": "AuthorizeWithCapture", "canHandlePendingAuthorization": True,
                                         "chargeAmount": {"amount": "10.99", "currencyCode": "USD"},
                                         "presentmentCurrency": "USD"}
    assert payload["merchantMetadata"]["merchantReferenceId"] == intent.id
    assert payload["storeId"] == "amzn1.application-oa2-client.kassa" and "addressDetails" not in payload
    # A payload altered on the way is refused by Amazon: the signature covers it.
    tampered = config["payloadJSON"].replace("10.99", "0.99")
    response = httpx.get(f"{live.double.base_url}/checkout/start", params={
        "payloadJSON": tampered, "signature": config["signature"], "publicKeyId": config["publicKeyId"],
        "algorithm": config["algorithm"], "merchantId": "A1KASSADOUBLE", "ledgerCurrency": "USD", "sandbox": "true",
        "productType": "PayOnly"})
    assert response.status_code == 403 and "InvalidRequestSignature" in response.text
    assert len(live.calls("/v2/checkoutSessions")) == creates  # kassa never creates a session itself


def test_approved_payment_is_captured_and_the_buyer_sent_back(live):
    creates = len(live.calls("/v2/checkoutSessions"))
    intent = live.intent()
    back = live.at_amazon(intent)
    session = _session_of(live, intent)
    assert session["checkoutSessionId"] in live.double.checkouts  # made by checkout.js, from the button
    answer = outcome(live.back_at_kassa(back))
    assert answer["redirect_status"] == "succeeded" and answer["payment_intent"] == intent.id
    assert answer["payment_intent_client_secret"] == intent.client_secret
    paid = live.retrieve(intent.id)
    assert (paid.status, paid.amount_received, paid.payment_method, paid.next_action) == ("succeeded", 1099,
                                                                                         intent.payment_method, None)
    charge = _only_charge(live, intent)
    assert charge["statusDetails"]["state"] == "Captured"
    assert live.client.v1.charges.retrieve(paid.latest_charge).amount_captured == 1099
    assert [r.status for r in live.calls(f"/checkoutSessions/{session['checkoutSessionId']}/complete")] == [200]
    # Coming back again (a reload) asks Amazon nothing and changes nothing.
    requests = len(live.double.requests)
    assert outcome(live.back_at_kassa(back))["redirect_status"] == "succeeded"
    assert len(live.double.requests) == requests
    assert len(live.calls("/v2/checkoutSessions")) == creates  # no server-side Create in the whole flow
    assert len(live.events(intent.id, "payment_intent.succeeded")) == 1


def test_a_complete_whose_answer_was_lost_is_read_back_not_repeated(live):
    intent = live.intent()
    back = live.at_amazon(intent)
    for _ in range(3):  # Amazon completes, every answer is lost: kassa's client gives up
        live.double.drop_next("POST", "/complete")
    response = live.get(back)
    assert response.status_code == 200 and "Try again" in response.text and "did not answer" in response.text
    assert live.retrieve(intent.id).status == "requires_action"
    assert _only_charge(live, intent)["statusDetails"]["state"] == "Captured"  # money moved at Amazon
    # The reload: Complete answers InvalidCheckoutSessionStatus; kassa reads the session and applies it once.
    assert outcome(live.back_at_kassa(back))["redirect_status"] == "succeeded"
    codes = [r.reason_code for r in live.calls("/complete")[-4:]]
    assert codes[-1] == "InvalidCheckoutSessionStatus"
    paid = live.retrieve(intent.id)
    assert (paid.status, paid.amount_received) == ("succeeded", 1099)
    assert len(live.double.charges) == len({c["chargeId"] for c in live.double.charges.values()})
    assert len([c for c in live.double.charges.values()
                if c["merchantMetadata"]["merchantReferenceId"] == intent.id]) == 1


def test_a_complete_lost_before_kassa_recorded_it_is_settled_by_the_sweep(live):
    intent = live.intent()
    back = live.at_amazon(intent)
    for _ in range(3):
        live.double.drop_next("POST", "/complete")
    assert "Try again" in live.get(back).text
    # Nobody reloads: the recorded request is asked about by the sweep (after its grace time).
    due_now(live.server.database)
    paid = wait_for(lambda: (found := live.retrieve(intent.id)).status == "succeeded" and found)
    assert paid.amount_received == 1099
    assert len(live.events(intent.id, "payment_intent.succeeded")) == 1


def test_decline_then_retry_succeeds(live):
    live.double.authorization, live.double.decline_reason = "decline", "SoftDeclined"
    intent = live.intent()
    assert live.buy(intent)["redirect_status"] == "failed"
    failed = live.retrieve(intent.id)
    assert failed.status == "requires_payment_method" and failed.payment_method is None
    error = failed.last_payment_error
    assert error.code == "payment_intent_payment_attempt_failed" and error.decline_code == "try_again_later"
    assert error.payment_method.type == "amazon_pay"
    live.double.authorization = "approve"
    again = live.client.v1.payment_intents.confirm(intent.id, params={
        "payment_method_data": {"type": "amazon_pay"}, "return_url": RETURN_URL})
    assert again.status == "requires_action"
    assert live.buy(again)["redirect_status"] == "succeeded"
    assert live.retrieve(intent.id).status == "succeeded"


def test_buyer_cancel_on_amazon(live):
    intent = live.intent()
    back = live.at_amazon(intent, "cancel")
    assert back.endswith("/cancel")  # Amazon's checkoutCancelUrl: kassa's
    assert outcome(live.back_at_kassa(back))["redirect_status"] == "failed"
    canceled = live.retrieve(intent.id)
    assert canceled.status == "requires_payment_method" and canceled.payment_method is None
    assert "canceled the payment on Amazon Pay" in canceled.last_payment_error.message
    assert live.calls(f"/checkoutSessions/{_session_of(live, intent)['checkoutSessionId']}/complete") == []


def test_the_pages_way_back_fails_the_attempt_as_a_cancel(live):
    intent = live.intent()
    url = intent.next_action.redirect_to_url.url
    response = httpx.post(url + "/cancel", verify=live.tls, follow_redirects=False)
    assert response.status_code == 303
    assert outcome(response)["redirect_status"] == "failed"
    assert live.retrieve(intent.id).status == "requires_payment_method"
    closed = live.get(url)  # the page no longer starts a checkout
    assert closed.status_code == 200 and "amazon-pay-button" not in closed.text and "Return to" in closed.text


def test_manual_capture_partial_and_cancel(live):
    intent = live.intent(capture_method="manual")
    assert button_of(live.get(intent.next_action.redirect_to_url.url).text)["createCheckoutSessionConfig"]
    assert live.buy(intent)["redirect_status"] == "succeeded"
    assert _session_of(live, intent)["paymentDetails"]["paymentIntent"] == "Authorize"
    held = live.retrieve(intent.id)
    assert (held.status, held.amount_capturable) == ("requires_capture", 1099)
    assert _only_charge(live, intent)["statusDetails"]["state"] == "Authorized"
    captured = live.client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 600})
    assert (captured.status, captured.amount_received) == ("succeeded", 600)
    assert _only_charge(live, intent)["captureAmount"] == {"amount": "6.00", "currencyCode": "USD"}

    other = live.intent(capture_method="manual")
    live.buy(other)
    canceled = live.client.v1.payment_intents.cancel(other.id)
    assert canceled.status == "canceled"
    assert _only_charge(live, other)["statusDetails"]["state"] == "Canceled"


def test_shipping_makes_a_pay_and_ship_checkout(live):
    shipping = {"name": "Jenny Rosen", "phone": "+15555550100",
                "address": {"line1": "1 Main St", "city": "Seattle", "state": "WA", "postal_code": "98101",
                            "country": "US"}}
    intent = live.intent(shipping=shipping)
    options = button_of(live.get(intent.next_action.redirect_to_url.url).text)
    assert options["productType"] == "PayAndShip"
    assert json.loads(options["createCheckoutSessionConfig"]["payloadJSON"])["addressDetails"] == {
        "name": "Jenny Rosen", "addressLine1": "1 Main St", "city": "Seattle", "stateOrRegion": "WA",
        "postalCode": "98101", "countryCode": "US", "phoneNumber": "+15555550100"}
    assert live.buy(intent)["redirect_status"] == "succeeded"
    assert _session_of(live, intent)["shippingAddress"]["addressLine1"] == "1 Main St"


def test_refunds_settle_on_notification(live):
    intent = live.intent()
    live.buy(intent)
    refund = live.client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 500})
    assert refund.status == "pending"
    with pytest.raises(stripe.InvalidRequestError) as info:
        live.client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 600})
    assert info.value.code == "amount_too_large"
    charge_id = _only_charge(live, intent)["chargeId"]
    at_amazon = [r for r in live.double.refunds.values() if r["chargeId"] == charge_id]
    assert len(at_amazon) == 1 and at_amazon[0]["refundAmount"] == {"amount": "5.00", "currencyCode": "USD"}
    live.double.settle_refund(at_amazon[0]["refundId"])
    response = live.notify(live.double.notifications[-1])
    assert (response.status_code, response.text) == (200, "ok")
    assert live.client.v1.refunds.retrieve(refund.id).status == "succeeded"
    # A refund Amazon declines gives the money back to the charge's refundable amount.
    rest = live.client.v1.refunds.create(params={"payment_intent": intent.id})
    assert rest.amount == 599
    second = [r for r in live.double.refunds.values() if r["chargeId"] == charge_id and r["refundId"] !=
              at_amazon[0]["refundId"]][0]
    live.double.settle_refund(second["refundId"], "Declined", "AmazonRejected")
    assert live.notify(live.double.notifications[-1]).status_code == 200
    assert live.client.v1.refunds.retrieve(rest.id).status == "failed"
    assert live.client.v1.charges.retrieve(live.retrieve(intent.id).latest_charge).amount_refunded == 500


def test_retried_refund_request_refunds_once(live):
    intent = live.intent()
    live.buy(intent)
    charge_id = _only_charge(live, intent)["chargeId"]
    live.double.drop_next("POST", "/v2/refunds")  # Amazon refunds, the answer is lost: kassa retries
    refund = live.client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 300},
                                           options={"idempotency_key": f"refund-{intent.id}"})
    assert refund.status == "pending"
    assert len([r for r in live.double.refunds.values() if r["chargeId"] == charge_id]) == 1
    assert [r.replayed for r in live.calls("/v2/refunds")][-2:] == [False, True]
    again = live.client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 300},
                                          options={"idempotency_key": f"refund-{intent.id}"})
    assert again.id == refund.id
    assert len([r for r in live.double.refunds.values() if r["chargeId"] == charge_id]) == 1


def test_refund_amazon_does_not_answer_is_sent_by_the_sweep(live):
    intent = live.intent()
    live.buy(intent)
    charge_id = _only_charge(live, intent)["chargeId"]
    for _ in range(3):  # lost before Amazon sees it, every time
        live.double.drop_next("POST", "/v2/refunds", after=False)
    refund = live.client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 250})
    assert refund.status == "pending"  # recorded: kassa owes the merchant this refund
    assert [r for r in live.double.refunds.values() if r["chargeId"] == charge_id] == []
    due_now(live.server.database)
    at_amazon = wait_for(lambda: [r for r in live.double.refunds.values() if r["chargeId"] == charge_id])
    assert len(at_amazon) == 1 and at_amazon[0]["refundAmount"]["amount"] == "2.50"
    live.double.settle_refund(at_amazon[0]["refundId"])
    wait_for(lambda: live.client.v1.refunds.retrieve(refund.id).status == "succeeded")


def test_pending_authorization_processing_then_notified(live):
    live.double.authorization = "async"
    intent = live.intent()
    notes = len(live.double.notifications)
    assert live.buy(intent)["redirect_status"] == "processing"
    assert [r.status for r in live.calls("/complete")][-1] == 202
    assert len(live.double.notifications) == notes  # nothing is notified before the outcome
    assert live.retrieve(intent.id).status == "processing"
    charge = _only_charge(live, intent)
    live.double.settle_charge(charge["chargeId"], "Authorized")
    assert live.notify(live.double.notifications[-1]).status_code == 200
    paid = live.retrieve(intent.id)
    assert (paid.status, paid.amount_received) == ("succeeded", 1099)

    declined = live.intent()
    assert live.buy(declined)["redirect_status"] == "processing"
    live.double.settle_charge(_only_charge(live, declined)["chargeId"], "Declined", "AmazonRejected")
    assert live.notify(live.double.notifications[-1]).status_code == 200
    failed = live.retrieve(declined.id)
    assert failed.status == "requires_payment_method" and failed.last_payment_error.decline_code == "do_not_honor"


def test_pending_authorization_and_refund_resolved_by_polling(live):
    """No notification at all: the sweep asks Amazon Pay (every second here, every minute by default)."""
    live.double.authorization = "async"
    intent = live.intent()
    assert live.buy(intent)["redirect_status"] == "processing"
    time.sleep(1.5)
    assert live.retrieve(intent.id).status == "processing"  # asked, and still pending
    live.double.settle_charge(_only_charge(live, intent)["chargeId"], "Authorized")
    paid = wait_for(lambda: (found := live.retrieve(intent.id)).status == "succeeded" and found)
    assert paid.amount_received == 1099
    refund = live.client.v1.refunds.create(params={"payment_intent": intent.id})
    charge_id = _only_charge(live, intent)["chargeId"]
    live.double.settle_refund([r for r in live.double.refunds.values() if r["chargeId"] == charge_id][0]["refundId"])
    wait_for(lambda: live.client.v1.refunds.retrieve(refund.id).status == "succeeded")


def test_retried_capture_timeout_charges_once(live):
    intent = live.intent(capture_method="manual")
    live.buy(intent)
    live.double.drop_next("POST", "/capture")  # captured at Amazon, the answer lost on the way back
    captured = live.client.v1.payment_intents.capture(intent.id)
    assert captured.status == "succeeded" and captured.amount_received == 1099
    attempts = live.calls("/capture")[-2:]
    assert [a.replayed for a in attempts] == [False, True]
    assert attempts[0].idempotency_key == attempts[1].idempotency_key


def test_capture_amazon_does_not_answer_is_finished_by_the_sweep(live):
    intent = live.intent(capture_method="manual")
    live.buy(intent)
    for _ in range(3):  # Amazon captures; every answer is lost
        live.double.drop_next("POST", "/capture")
    with pytest.raises(stripe.APIError) as info:
        live.client.v1.payment_intents.capture(intent.id)
    assert info.value.http_status == 502 and "recorded" in info.value.user_message
    assert live.retrieve(intent.id).status == "requires_capture"
    assert _only_charge(live, intent)["statusDetails"]["state"] == "Captured"
    with pytest.raises(stripe.RateLimitError) as busy:  # another amount while that one is unsettled
        live.client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 500})
    assert busy.value.error.code == "lock_timeout" and busy.value.headers["stripe-should-retry"] == "true"
    due_now(live.server.database)
    done = wait_for(lambda: (found := live.retrieve(intent.id)).status == "succeeded" and found)
    assert done.amount_received == 1099
    captures = live.calls(f"/charges/{_only_charge(live, intent)['chargeId']}/capture")
    assert [a.replayed for a in captures if a.status == 200][0] is False
    assert len([a for a in captures if not a.replayed]) == 1  # captured once at Amazon, then replayed
    assert len(live.events(intent.id, "payment_intent.succeeded")) == 1


def test_confirm_asks_amazon_nothing_and_a_retried_create_is_one_intent(live):
    before = len(live.double.requests)
    params = {"amount": 1099, "currency": "usd", "confirm": True, "return_url": RETURN_URL,
              "payment_method_data": {"type": "amazon_pay"}}
    first = live.client.v1.payment_intents.create(params=params, options={"idempotency_key": "create-once"})
    again = live.client.v1.payment_intents.create(params=params, options={"idempotency_key": "create-once"})
    assert first.id == again.id and first.next_action.redirect_to_url.url == again.next_action.redirect_to_url.url
    assert len(live.double.requests) == before
    assert len(live.client.v1.payment_intents.list(params={"limit": 100}).data) == len(
        {i.id for i in live.client.v1.payment_intents.list(params={"limit": 100}).data})


def test_changing_the_amount_ends_the_open_attempt(live):
    intent = live.intent()
    old_page = intent.next_action.redirect_to_url.url
    session_id = live.to_amazon(intent)  # the buyer is at Amazon with the old amount
    updated = live.client.v1.payment_intents.update(intent.id, params={"amount": 2500})
    assert (updated.status, updated.next_action, updated.amount) == ("requires_confirmation", None, 2500)
    back = httpx.post(f"{live.double.base_url}/checkout/approve", data={"session": session_id}).headers["location"]
    assert outcome(live.back_at_kassa(back))["redirect_status"] == "failed"
    assert live.double.sessions[session_id]["statusDetails"]["state"] == "Open"  # never completed
    assert "amazon-pay-button" not in live.get(old_page).text
    again = live.client.v1.payment_intents.confirm(intent.id, params={"return_url": RETURN_URL})
    options = button_of(live.get(again.next_action.redirect_to_url.url).text)
    assert json.loads(options["createCheckoutSessionConfig"]["payloadJSON"])["paymentDetails"]["chargeAmount"] == {
        "amount": "25.00", "currencyCode": "USD"}
    assert live.buy(again)["redirect_status"] == "succeeded"
    assert live.retrieve(intent.id).amount_received == 2500


def test_authorization_for_an_attempt_closed_meanwhile_is_given_back(live):
    intent = live.intent()
    back = live.at_amazon(intent)  # the buyer approved at Amazon
    hold = live.double.hold_next("POST", "/complete")
    thread, box = in_thread(lambda: live.get(back, timeout=30))
    assert hold.arrived.wait(10)  # Amazon authorized and captured; kassa waits for its answer
    canceled = live.client.v1.payment_intents.cancel(intent.id)
    assert canceled.status == "canceled"
    hold.release.set()
    thread.join(30)
    assert box["value"].status_code == 303, box
    assert outcome(box["value"])["redirect_status"] == "failed"
    after = live.retrieve(intent.id)
    assert (after.status, after.amount_received, after.latest_charge) == ("canceled", 0, None)
    charge = _only_charge(live, intent)
    assert any(refund["chargeId"] == charge["chargeId"] and refund["refundAmount"]["amount"] == "10.99"
               for refund in live.double.refunds.values()), live.double.refunds


def test_buyer_back_before_finishing_changes_nothing(live):
    intent = live.intent()
    session_id = live.to_amazon(intent)  # Amazon made the session; the buyer has not approved
    token_url = live.double.sessions[session_id]["webCheckoutDetails"]["checkoutResultReturnUrl"]
    answer = outcome(live.back_at_kassa(token_url + "?amazonCheckoutSessionId=" + session_id))
    assert answer["redirect_status"] == "failed"
    assert live.retrieve(intent.id).status == "requires_action"  # the buyer can still pay at Amazon
    back = httpx.post(f"{live.double.base_url}/checkout/approve", data={"session": session_id}).headers["location"]
    assert outcome(live.back_at_kassa(back))["redirect_status"] == "succeeded"


def test_a_session_of_another_attempt_changes_nothing(live):
    first, second = live.intent(), live.intent()
    back = live.at_amazon(first)  # approved for the first intent
    session_id = parse_qs(urlsplit(back).query)["amazonCheckoutSessionId"][0]
    second_token = second.next_action.redirect_to_url.url.rsplit("/", 1)[-1]
    forged = f"{live.server.url}/amazon_pay/return/{second_token}?amazonCheckoutSessionId={session_id}"
    response = live.get(forged)
    assert response.status_code == 400 and "does not belong to this payment" in response.text
    assert live.retrieve(second.id).status == "requires_action"
    assert live.double.sessions[session_id]["statusDetails"]["state"] == "Open"  # not completed
    assert live.get(f"{live.server.url}/amazon_pay/return/{second_token}?amazonCheckoutSessionId=../charges/x"
                    ).status_code == 400
    assert outcome(live.back_at_kassa(back))["redirect_status"] == "succeeded"  # its own attempt still works
    assert live.retrieve(second.id).status == "requires_action"


def test_a_session_whose_amount_differs_is_not_completed(live):
    intent = live.intent()
    back = live.at_amazon(intent)
    session_id = parse_qs(urlsplit(back).query)["amazonCheckoutSessionId"][0]
    live.double.sessions[session_id]["paymentDetails"]["chargeAmount"] = {"amount": "1.00", "currencyCode": "USD"}
    response = live.get(back)
    assert response.status_code == 400
    assert live.double.sessions[session_id]["statusDetails"]["state"] == "Open"
    assert live.retrieve(intent.id).status == "requires_action"


def test_live_tokens_never_open_the_test_page(live):
    intent = live.intent()
    token = intent.next_action.redirect_to_url.url.rsplit("/", 1)[-1]
    page = f"{live.server.url}/amazon_pay/test/{token}"
    assert live.get(page).status_code == 404
    assert httpx.post(page, data={"decision": "authorize"}, verify=live.tls).status_code == 404
    assert live.retrieve(intent.id).status == "requires_action"


def test_forged_and_foreign_notifications(live):
    live.double.authorization = "async"
    intent = live.intent()
    live.buy(intent)
    live.double.settle_charge(_only_charge(live, intent)["chargeId"], "Authorized")
    genuine = live.double.notifications[-1]
    forged = genuine.replace('"Signature": "', '"Signature": "AAAA')
    response = live.notify(forged)
    assert response.status_code == 400
    assert live.retrieve(intent.id).status == "processing"
    not_json = live.notify("hello")
    assert not_json.status_code == 400
    foreign = AmazonPayDouble({}, merchant_id="A2SOMEONEELSE")
    foreign._sns_key, foreign.certificate_pem = live.double._sns_key, live.double.certificate_pem
    response = live.notify(foreign.notification("CHARGE", "S01-0000000-0000000-C000000"))
    assert (response.status_code, response.text) == (200, "nothing to do")
    assert live.notify(genuine).status_code == 200
    assert live.retrieve(intent.id).status == "succeeded"


def test_live_payments_need_the_account_set_up(live):
    other = new_account(live.server)
    client = live.server.client(other["secret_live"])
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.create(params={
            "amount": 1099, "currency": "usd", "confirm": True, "return_url": RETURN_URL,
            "payment_method_data": {"type": "amazon_pay"}})
    assert info.value.code == "payment_method_unactivated"
    assert "configure-amazon-pay" in info.value.user_message
    # Test mode of the same account is not affected.
    test_intent = live.server.client(other["secret_test"]).v1.payment_intents.create(params={
        "amount": 1099, "currency": "usd", "confirm": True, "return_url": RETURN_URL,
        "payment_method_data": {"type": "amazon_pay"}})
    assert test_intent.next_action.redirect_to_url.url.startswith(live.server.url + "/amazon_pay/test/")


def test_configure_amazon_pay_refuses_bad_settings(live, tmp_path):
    key_file = tmp_path / "key.pem"
    key_file.write_text("not a key")
    bad_key = configure(live.server, live.account["id"], key_file)
    assert bad_key.returncode != 0 and "private key" in bad_key.stderr
    missing = configure(live.server, "acct_missing", tmp_path / "nope.pem")
    assert missing.returncode != 0 and "nope.pem" in missing.stderr
    key_file.write_text(PEM)
    no_account = configure(live.server, "acct_missing", key_file)
    assert no_account.returncode != 0 and "no account acct_missing" in no_account.stderr
    stored = configure(live.server, live.account["id"], key_file, "--store-private-key")
    assert stored.returncode != 0 and "KASSA_ENCRYPTION_KEY" in stored.stderr


def age_hold(database: str, intent_id: str) -> None:
    """Move a held intent's capture deadline into the past, as 7 days would (live mode has no test clock)."""
    if database.startswith("sqlite:///"):
        run_sql(database, "UPDATE payment_intents SET deadline = 1, data = json_set(data, '$.deadline', 1) "
                          "WHERE id = %s", intent_id)
    else:
        run_sql(database, "UPDATE payment_intents SET deadline = 1, data = jsonb_set(data::jsonb, '{deadline}', "
                          "'1')::text WHERE id = %s", intent_id)


def test_uncaptured_hold_ends_released_at_amazon(live):
    intent = live.intent(capture_method="manual")
    live.buy(intent)
    assert live.retrieve(intent.id).status == "requires_capture"
    age_hold(live.server.database, intent.id)
    ended = wait_for(lambda: (found := live.retrieve(intent.id)).status == "canceled" and found)
    assert ended.cancellation_reason == "automatic" and ended.amount_capturable == 0
    assert _only_charge(live, intent)["statusDetails"]["state"] == "Canceled"


# ---- saved Amazon Pay: a Recurring Charge Permission, charged with no buyer present ------------

def _saved(live) -> tuple[str, str, str]:
    """A live customer who paid once with setup_future_usage=off_session: (customer, method, permission)."""
    customer = live.client.v1.customers.create(params={"email": "returning@example.com"})
    intent = live.intent(customer=customer.id, setup_future_usage="off_session")
    options = button_of(live.get(intent.next_action.redirect_to_url.url).text)
    payload = json.loads(options["createCheckoutSessionConfig"]["payloadJSON"])
    assert payload["chargePermissionType"] == "Recurring"
    assert payload["recurringMetadata"] == {"frequency": {"unit": "Variable", "value": "0"}}
    assert live.buy(intent)["redirect_status"] == "succeeded"
    paid = live.retrieve(intent.id)
    method = live.client.v1.payment_methods.retrieve(paid.payment_method)
    assert method.customer == customer.id
    permission = _only_charge(live, intent)["chargePermissionId"]
    assert live.double.permissions[permission]["statusDetails"]["state"] == "Chargeable"
    return customer.id, method.id, permission


def _off_session(live, customer: str, method: str, **options):
    return live.client.v1.payment_intents.create(params={
        "amount": 2500, "currency": "usd", "customer": customer, "payment_method": method, "confirm": True,
        "off_session": True}, options=options)


def test_a_saved_amazon_pay_method_is_charged_off_session_once(live):
    customer, method, permission = _saved(live)
    creates = len(live.calls("/v2/charges"))
    paid = _off_session(live, customer, method, idempotency_key=f"again-{method}")
    assert (paid.status, paid.amount_received, paid.payment_method, paid.next_action) == ("succeeded", 2500, method,
                                                                                          None)
    made = live.calls("/v2/charges")[creates:]
    assert [(r.status, r.replayed) for r in made] == [(201, False)]
    charge = live.client.v1.charges.retrieve(paid.latest_charge)
    assert charge.amount_captured == 2500 and charge.customer == customer
    at_amazon = [c for c in live.double.charges.values() if c["chargePermissionId"] == permission]
    assert {c["captureAmount"]["amount"] for c in at_amazon if c["captureAmount"]} == {"10.99", "25.00"}
    again = _off_session(live, customer, method, idempotency_key=f"again-{method}")  # the same request again
    assert again.id == paid.id and len(live.calls("/v2/charges")) == creates + 1
    held = live.client.v1.payment_intents.create(params={
        "amount": 700, "currency": "usd", "customer": customer, "payment_method": method, "confirm": True,
        "off_session": True, "capture_method": "manual"})
    assert (held.status, held.amount_capturable) == ("requires_capture", 700)
    assert live.client.v1.payment_intents.capture(held.id).status == "succeeded"


def test_an_off_session_decline_keeps_the_intent_waiting_for_another_method(live):
    customer, method, _ = _saved(live)
    live.double.saved_charges = "HardDeclined"
    with pytest.raises(stripe.CardError) as info:
        _off_session(live, customer, method)
    assert info.value.http_status == 402 and info.value.code == "payment_intent_payment_attempt_failed"
    intent = live.retrieve(info.value.error.payment_intent.id)
    assert intent.status == "requires_payment_method" and intent.payment_method is None
    assert intent.last_payment_error.decline_code == "generic_decline"


def test_a_charge_amazon_never_answered_is_settled_by_the_sweep(live):
    customer, method, permission = _saved(live)
    before = len(live.calls("/v2/charges"))
    for _ in range(3):  # Amazon charges; every answer is lost
        live.double.drop_next("POST", "/v2/charges")
    with pytest.raises(stripe.APIError) as info:
        _off_session(live, customer, method)
    assert info.value.http_status == 502 and "recorded" in info.value.user_message
    intents = live.client.v1.payment_intents.list(params={"customer": customer, "limit": 1}).data
    assert intents[0].status == "requires_payment_method" and intents[0].amount == 2500  # recorded, not applied
    due_now(live.server.database)
    done = wait_for(lambda: (found := live.retrieve(intents[0].id)).status == "succeeded" and found)
    assert done.amount_received == 2500
    made = live.calls("/v2/charges")[before:]
    assert len([r for r in made if not r.replayed]) == 1 and made[-1].replayed  # charged once, then read back
    assert len([c for c in live.double.charges.values() if c["chargePermissionId"] == permission]) == 2


def test_a_permission_amazon_closes_ends_the_mandate_and_detaches_the_method(live):
    customer, method, permission = _saved(live)
    live.double.close_permission(permission)
    response = live.notify(live.double.notifications[-1])
    assert (response.status_code, response.text) == (200, "ok")
    assert live.client.v1.payment_methods.retrieve(method).customer is None
    with pytest.raises(stripe.InvalidRequestError) as info:
        _off_session(live, customer, method)
    assert info.value.http_status == 400 and "may not be used again" in info.value.user_message
    assert len(live.events(method, "payment_method.detached")) == 1


def test_a_permission_closed_without_a_notification_is_found_when_charged(live):
    customer, method, permission = _saved(live)
    live.double.close_permission(permission)  # its notification never reaches kassa
    with pytest.raises(stripe.CardError) as info:
        _off_session(live, customer, method)
    assert info.value.code == "payment_intent_payment_attempt_failed"
    assert live.client.v1.payment_methods.retrieve(method).customer is None  # detached: its mandate ended
