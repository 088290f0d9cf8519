"""Live mode end to end: stripe-python and a buyer against `kassa serve`, Amazon Pay played by the
local double of its API v2 (which verifies every request's signature).

The buyer is a plain HTTP client following the redirects: kassa → Amazon's page (the double's) →
kassa's return route → the merchant's return_url. Amazon's notifications are the double's signed
SNS messages, posted to kassa as SNS would.
"""

from __future__ import annotations

import threading
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import stripe

from amazon_pay_helpers import RETURN_URL, outcome
from doubles.amazon_pay_api import AmazonPayDouble
from live_support import PEM, configure, live_kassa, new_account
from support import fresh_database


class Live:
    """One kassa server talking to one Amazon Pay double, and a live-mode account set up for it."""

    def __init__(self, server, double, account):
        self.server, self.double, self.account = server, double, account
        self.client = server.client(account["secret_live"])

    def intent(self, **params) -> stripe.PaymentIntent:
        """A confirmed live intent, waiting for the buyer at Amazon Pay."""
        params = {"amount": 1099, "currency": "usd", "confirm": True, "return_url": RETURN_URL,
                  "payment_method_data": {"type": "amazon_pay"}, **params}
        intent = self.client.v1.payment_intents.create(params=params)
        assert intent.status == "requires_action" and intent.livemode is True
        return intent

    def at_amazon(self, intent, answer: str = "approve") -> str:
        """The buyer on Amazon's page presses a button; where Amazon sends them (kassa's return)."""
        url = intent.next_action.redirect_to_url.url
        assert url.startswith(self.double.base_url + "/checkout?amazonCheckoutSessionId=")
        session_id = parse_qs(urlsplit(url).query)["amazonCheckoutSessionId"][0]
        assert httpx.get(url).status_code == 200
        response = httpx.post(f"{self.double.base_url}/checkout/{answer}", data={"session": session_id})
        assert response.status_code == 303, response.text
        back = response.headers["location"]
        assert back.startswith(self.server.url + "/amazon_pay/return/tok_")
        return back

    def back_at_kassa(self, url: str) -> httpx.Response:
        response = httpx.get(url, follow_redirects=False)
        assert response.status_code == 303, response.text
        assert response.headers["location"].startswith("https://shop.example/checkout/complete?order=42&")
        assert response.headers["location"].endswith("#summary")
        return response

    def buy(self, intent, answer: str = "approve") -> dict[str, str]:
        return outcome(self.back_at_kassa(self.at_amazon(intent, answer)))

    def notify(self, body: str) -> httpx.Response:
        return httpx.post(self.server.url + "/amazon_pay/notifications", content=body,
                          headers={"content-type": "text/plain; charset=UTF-8"})

    def retrieve(self, intent_id: str) -> stripe.PaymentIntent:
        return self.client.v1.payment_intents.retrieve(intent_id)

    def calls(self, suffix: str, method: str = "POST") -> list:
        return [r for r in self.double.requests if r.method == method and r.path.endswith(suffix)]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(request, tmp_path_factory):
    workdir = tmp_path_factory.mktemp(f"live-{request.param}")
    with live_kassa(fresh_database(request.param, workdir), workdir) as running_kassa:
        yield Live(running_kassa.server, running_kassa.double, running_kassa.account)


@pytest.fixture(autouse=True)
def _reset(request):
    if "live" in request.fixturenames:
        double = request.getfixturevalue("live").double
        double.authorization, double.decline_reason = "approve", "HardDeclined"


def _only_charge(live, intent) -> dict:
    found = [c for c in live.double.charges.values() if c["merchantMetadata"]["merchantReferenceId"] == intent.id]
    assert len(found) == 1, found
    return found[0]


def test_approved_payment_is_captured_and_the_buyer_sent_back(live):
    intent = live.intent()
    session = live.double.sessions[parse_qs(urlsplit(intent.next_action.redirect_to_url.url).query)
                                   ["amazonCheckoutSessionId"][0]]
    assert session["paymentDetails"]["paymentIntent"] == "AuthorizeWithCapture"
    assert session["paymentDetails"]["chargeAmount"] == {"amount": "10.99", "currencyCode": "USD"}
    assert session["webCheckoutDetails"]["checkoutResultReturnUrl"].startswith(live.server.url + "/amazon_pay/return/")
    back = live.at_amazon(intent)
    answer = outcome(live.back_at_kassa(back))
    assert answer["redirect_status"] == "succeeded" and answer["payment_intent"] == intent.id
    assert answer["payment_intent_client_secret"] == intent.client_secret
    paid = live.retrieve(intent.id)
    assert (paid.status, paid.amount_received, paid.payment_method, paid.next_action) == ("succeeded", 1099,
                                                                                         intent.payment_method, None)
    assert _only_charge(live, intent)["statusDetails"]["state"] == "Captured"
    # Coming back again (a reload) asks Amazon nothing and changes nothing.
    completes = len(live.calls("/complete"))
    assert outcome(live.back_at_kassa(back))["redirect_status"] == "succeeded"
    assert len(live.calls("/complete")) == completes
    assert live.retrieve(intent.id).status == "succeeded"


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
    assert live.buy(intent, "cancel")["redirect_status"] == "failed"
    canceled = live.retrieve(intent.id)
    assert canceled.status == "requires_payment_method"
    assert "canceled the payment on Amazon Pay" in canceled.last_payment_error.message


def test_manual_capture_partial_and_cancel(live):
    intent = live.intent(capture_method="manual")
    assert live.buy(intent)["redirect_status"] == "succeeded"
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


def test_notification_before_the_buyer_returns(live):
    intent = live.intent()
    back = live.at_amazon(intent)  # Amazon authorized; the buyer has not reached kassa yet
    response = live.notify(live.double.notifications[-1])
    assert (response.status_code, response.text) == (200, "ok")
    assert live.retrieve(intent.id).status == "succeeded"
    completes = len(live.calls("/complete"))
    assert outcome(live.back_at_kassa(back))["redirect_status"] == "succeeded"
    assert len(live.calls("/complete")) == completes  # the return found the outcome: no second complete
    assert len([c for c in live.double.charges.values()
                if c["merchantMetadata"]["merchantReferenceId"] == intent.id]) == 1


def test_pending_authorization_processing_then_notified(live):
    live.double.authorization = "async"
    intent = live.intent()
    assert live.buy(intent)["redirect_status"] == "processing"
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


def wait_for(check, seconds: float = 15.0):
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.2)
    return found


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


def test_retried_checkout_session_is_created_once(live):
    before = len(live.double.sessions)
    live.double.drop_next("POST", "/v2/checkoutSessions")
    intent = live.intent()
    assert len(live.double.sessions) == before + 1
    assert live.buy(intent)["redirect_status"] == "succeeded"


def test_amazon_unreachable_on_confirm_changes_nothing(live):
    intent = live.client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
    for _ in range(3):  # every attempt of kassa's client is lost before Amazon sees it
        live.double.drop_next("POST", "/v2/checkoutSessions", after=False)
    with pytest.raises(stripe.APIError) as info:
        live.client.v1.payment_intents.confirm(intent.id, params={
            "payment_method_data": {"type": "amazon_pay"}, "return_url": RETURN_URL})
    assert info.value.http_status == 502
    assert live.retrieve(intent.id).status == "requires_payment_method"
    again = live.client.v1.payment_intents.confirm(intent.id, params={
        "payment_method_data": {"type": "amazon_pay"}, "return_url": RETURN_URL})
    assert again.status == "requires_action"


def _in_thread(call):
    """Run `call` in a thread; (thread, box): box gets "value" or "error" once it ends."""
    box: dict = {}

    def run():
        try:
            box["value"] = call()
        except Exception as error:  # noqa: BLE001 - handed to the test
            box["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    return thread, box


def test_intent_changed_while_amazon_sets_up_is_refused_and_nothing_confirmed(live):
    intent = live.client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
    hold = live.double.hold_next("POST", "/v2/checkoutSessions")
    key = f"confirm-{intent.id}"
    thread, box = _in_thread(lambda: live.client.v1.payment_intents.confirm(intent.id, params={
        "payment_method_data": {"type": "amazon_pay"}, "return_url": RETURN_URL}, options={"idempotency_key": key}))
    assert hold.arrived.wait(10)  # Amazon made the session; kassa waits for its answer
    live.client.v1.payment_intents.update(intent.id, params={"amount": 2500})
    hold.release.set()
    thread.join(30)
    error = box["error"]
    assert isinstance(error, stripe.RateLimitError), box  # as Stripe answers lock_timeout: a 429 to retry
    assert (error.http_status, error.error.code, error.error.type) == (429, "lock_timeout", "invalid_request_error")
    assert error.headers["stripe-should-retry"] == "true"
    after = live.retrieve(intent.id)
    assert (after.status, after.amount, after.next_action, after.payment_method) == (
        "requires_payment_method", 2500, None, None)
    # The retry, as stripe-python sends it (same Idempotency-Key): the conflict was not stored.
    again = live.client.v1.payment_intents.confirm(intent.id, params={
        "payment_method_data": {"type": "amazon_pay"}, "return_url": RETURN_URL}, options={"idempotency_key": key})
    assert again.status == "requires_action"
    session_id = parse_qs(urlsplit(again.next_action.redirect_to_url.url).query)["amazonCheckoutSessionId"][0]
    assert live.double.sessions[session_id]["paymentDetails"]["chargeAmount"]["amount"] == "25.00"
    assert live.buy(again)["redirect_status"] == "succeeded"
    assert live.retrieve(intent.id).amount_received == 2500


def test_stripe_python_retries_the_conflict_by_itself(live):
    retrying = live.server.client(live.account["secret_live"], max_network_retries=2)
    intent = retrying.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
    hold = live.double.hold_next("POST", "/v2/checkoutSessions")
    thread, box = _in_thread(lambda: retrying.v1.payment_intents.confirm(intent.id, params={
        "payment_method_data": {"type": "amazon_pay"}, "return_url": RETURN_URL}))
    assert hold.arrived.wait(10)
    retrying.v1.payment_intents.update(intent.id, params={"amount": 1500})
    hold.release.set()
    thread.join(30)
    confirmed = box.get("value")  # the 429 was retried: the merchant's call just succeeds
    assert confirmed is not None, box
    assert (confirmed.status, confirmed.amount) == ("requires_action", 1500)


def test_authorization_for_an_attempt_closed_meanwhile_is_given_back(live):
    intent = live.intent()
    back = live.at_amazon(intent)  # the buyer approved at Amazon
    hold = live.double.hold_next("POST", "/complete")
    thread, box = _in_thread(lambda: httpx.get(back, follow_redirects=False, timeout=30))
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
    reversals = [r for r in live.calls("/v2/refunds") if r.status < 300]
    assert any(refund["chargeId"] == charge["chargeId"] and refund["refundAmount"]["amount"] == "10.99"
               for refund in live.double.refunds.values()), live.double.refunds
    assert reversals


def test_buyer_back_before_finishing_changes_nothing(live):
    intent = live.intent()
    session_id = parse_qs(urlsplit(intent.next_action.redirect_to_url.url).query)["amazonCheckoutSessionId"][0]
    token_url = live.double.sessions[session_id]["webCheckoutDetails"]["checkoutResultReturnUrl"]
    answer = outcome(live.back_at_kassa(token_url + "?amazonCheckoutSessionId=" + session_id))
    assert answer["redirect_status"] == "failed"
    assert live.retrieve(intent.id).status == "requires_action"  # the buyer can still pay at Amazon
    assert live.buy(intent)["redirect_status"] == "succeeded"


def test_live_tokens_never_open_the_test_page(live):
    intent = live.intent()
    session_id = parse_qs(urlsplit(intent.next_action.redirect_to_url.url).query)["amazonCheckoutSessionId"][0]
    token = live.double.sessions[session_id]["webCheckoutDetails"]["checkoutResultReturnUrl"].rsplit("/", 1)[-1]
    page = f"{live.server.url}/amazon_pay/test/{token}"
    assert httpx.get(page).status_code == 404
    assert httpx.post(page, data={"decision": "authorize"}).status_code == 404
    assert live.retrieve(intent.id).status == "requires_action"


def test_forged_and_foreign_notifications(live):
    intent = live.intent()
    live.at_amazon(intent)
    genuine = live.double.notifications[-1]
    forged = genuine.replace('"Signature": "', '"Signature": "AAAA')
    response = live.notify(forged)
    assert response.status_code == 400
    assert live.retrieve(intent.id).status == "requires_action"
    not_json = live.notify("hello")
    assert not_json.status_code == 400
    foreign = AmazonPayDouble({}, merchant_id="A2SOMEONEELSE")
    foreign._sns_key, foreign.certificate_pem = live.double._sns_key, live.double.certificate_pem
    response = live.notify(foreign.notification("CHARGE", "S01-0000000-0000000-C000000"))
    assert (response.status_code, response.text) == (200, "nothing to do")


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
        import sqlite3

        with sqlite3.connect(database.removeprefix("sqlite:///"), timeout=30) as connection:
            connection.execute("UPDATE payment_intents SET deadline = 1, data = json_set(data, '$.deadline', 1) "
                               "WHERE id = ?", (intent_id,))
    else:
        import psycopg

        with psycopg.connect(database, autocommit=True) as connection:
            connection.execute("UPDATE payment_intents SET deadline = 1, data = jsonb_set(data::jsonb, "
                               "'{deadline}', '1')::text WHERE id = %s", (intent_id,))


def test_uncaptured_hold_ends_released_at_amazon(live):
    intent = live.intent(capture_method="manual")
    live.buy(intent)
    assert live.retrieve(intent.id).status == "requires_capture"
    age_hold(live.server.database, intent.id)
    ended = wait_for(lambda: (found := live.retrieve(intent.id)).status == "canceled" and found)
    assert ended.cancellation_reason == "automatic" and ended.amount_capturable == 0
    assert _only_charge(live, intent)["statusDetails"]["state"] == "Canceled"
