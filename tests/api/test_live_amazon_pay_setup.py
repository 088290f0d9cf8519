"""Live SetupIntents for Amazon Pay end to end: stripe-python and a buyer against `kassa serve` over
HTTPS, Amazon played by the local double of its API v2 and checkout.js.

Saving Amazon Pay with no payment is Amazon's saved wallet (a ``PaymentMethodOnFile`` Charge
Permission, ``setupOnly``, ``paymentIntent: Confirm``, no amount), started from kassa's checkout
page as a payment is; the Charge Permission Complete leaves is kept on the method's mandate and
charged later, with no buyer present, by Create Charge.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import stripe

from amazon_pay_helpers import RETURN_URL, outcome
from live_support import (button_of, due_now, in_thread, new_account, reset_double, sql_value, start_checkout,
                          trusted_live_kassa, verify, wait_for)


class LiveSetup:
    """One kassa server talking to one Amazon Pay double, a live account set up for it, and a buyer."""

    def __init__(self, server, double, account):
        self.server, self.double, self.account = server, double, account
        self.client = server.client(account["secret_live"])
        self.tls = verify(server)

    def customer(self) -> str:
        return self.client.v1.customers.create(params={"email": "saver@example.com"}).id

    def setup(self, customer: str | None = None, **params) -> stripe.SetupIntent:
        """A confirmed live SetupIntent for Amazon Pay, waiting for the buyer on kassa's checkout page."""
        params = {"customer": customer or self.customer(), "payment_method_types": ["amazon_pay"],
                  "usage": "off_session", "confirm": True, "payment_method_data": {"type": "amazon_pay"},
                  "return_url": RETURN_URL, **params}
        setup = self.client.v1.setup_intents.create(params=params)
        assert setup.status == "requires_action" and setup.livemode is True
        assert setup.next_action.redirect_to_url.url.startswith(self.server.url + "/amazon_pay/checkout/tok_")
        assert setup.next_action.redirect_to_url.return_url == RETURN_URL
        return setup

    def get(self, url: str, **options) -> httpx.Response:
        return httpx.get(url, verify=self.tls, follow_redirects=False, **options)

    def payload(self, setup) -> dict:
        page = self.get(setup.next_action.redirect_to_url.url)
        assert page.status_code == 200, page.text
        return json.loads(button_of(page.text)["createCheckoutSessionConfig"]["payloadJSON"])

    def to_amazon(self, setup) -> str:
        """The buyer opens kassa's page; checkout.js starts Amazon's checkout: the session's id."""
        approval = start_checkout(self.server, self.double, setup.next_action.redirect_to_url.url)
        page = httpx.get(approval)
        assert page.status_code == 200 and "Save Amazon Pay" in page.text
        return parse_qs(urlsplit(approval).query)["amazonCheckoutSessionId"][0]

    def at_amazon(self, setup, answer: str = "approve") -> str:
        """The buyer presses a button on Amazon's page; where Amazon sends them (back to kassa)."""
        session_id = self.to_amazon(setup)
        response = httpx.post(f"{self.double.base_url}/checkout/{answer}", data={"session": session_id})
        assert response.status_code == 303, response.text
        return response.headers["location"]

    def back_at_kassa(self, url: str) -> dict[str, str]:
        response = self.get(url)
        assert response.status_code == 303, response.text
        assert response.headers["location"].startswith("https://shop.example/checkout/complete?order=42&")
        return outcome(response)

    def retrieve(self, setup_id: str, **params) -> stripe.SetupIntent:
        return self.client.v1.setup_intents.retrieve(setup_id, params=params)

    def calls(self, suffix: str, method: str = "POST") -> list:
        return [r for r in self.double.requests if r.method == method and r.path.endswith(suffix)]

    def events(self, object_id: str, kind: str) -> list:
        found = self.client.v1.events.list(params={"type": kind, "limit": 100}).data
        return [e for e in found if e.data.object.id == object_id]

    def session_of(self, setup) -> dict:
        found = [s for s in self.double.sessions.values() if s["merchantMetadata"]["merchantReferenceId"] == setup.id]
        assert len(found) == 1, found
        return found[0]

    def permissions_of(self, setup) -> list[dict]:
        return [p for p in self.double.permissions.values()
                if p["merchantMetadata"]["merchantReferenceId"] == setup.id]

    def mandate_permission(self, mandate_id: str) -> str | None:
        return sql_value(self.server.database, "SELECT external_id FROM mandates WHERE id = %s", mandate_id)

    def off_session(self, customer: str, method: str, options: dict | None = None, **params):
        return self.client.v1.payment_intents.create(params={
            "amount": 2500, "currency": "usd", "customer": customer, "payment_method": method, "confirm": True,
            "off_session": True, **params}, options=options or {})


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(request, tmp_path_factory):
    with trusted_live_kassa(request.param, tmp_path_factory.mktemp(f"live-setup-{request.param}")) as running_kassa:
        yield LiveSetup(running_kassa.server, running_kassa.double, running_kassa.account)


@pytest.fixture(autouse=True)
def _reset(request):
    if "live" in request.fixturenames:
        reset_double(request.getfixturevalue("live").double)


def _saved(live, **params) -> tuple[str, stripe.SetupIntent, str]:
    """A live customer who saved Amazon Pay through a SetupIntent: (customer, setup, permission)."""
    customer = live.customer()
    setup = live.setup(customer, **params)
    answer = live.back_at_kassa(live.at_amazon(setup))
    assert answer["redirect_status"] == "succeeded" and answer["setup_intent"] == setup.id
    done = live.retrieve(setup.id)
    assert done.status == "succeeded"
    [permission] = live.permissions_of(setup)
    return customer, done, permission["chargePermissionId"]


# ---- the checkout page's payload ------------------------------------------------------------------

def test_the_signed_payload_is_amazons_saved_wallet_with_no_amount(live):
    before = len(live.double.requests)
    setup = live.setup()
    assert len(live.double.requests) == before  # confirming asks Amazon nothing
    page = live.get(setup.next_action.redirect_to_url.url)
    assert page.status_code == 200 and "Save Amazon Pay" in page.text and "Nothing is charged now" in page.text
    assert "$" not in page.text and "frame-ancestors 'none'" in page.headers["content-security-policy"]
    options = button_of(page.text)
    assert (options["productType"], options["ledgerCurrency"]) == ("PayOnly", "USD")
    payload = json.loads(options["createCheckoutSessionConfig"]["payloadJSON"])
    token = setup.next_action.redirect_to_url.url.rsplit("/", 1)[-1]
    assert payload["chargePermissionType"] == "PaymentMethodOnFile"
    assert payload["paymentMethodOnFileMetadata"] == {"setupOnly": True}
    assert payload["paymentDetails"] == {"paymentIntent": "Confirm"}  # no chargeAmount: nothing is paid
    assert "chargeAmount" not in options["createCheckoutSessionConfig"]["payloadJSON"]
    assert "recurringMetadata" not in payload and "addressDetails" not in payload
    assert payload["webCheckoutDetails"] == {
        "checkoutMode": "ProcessOrder", "checkoutResultReturnUrl": f"{live.server.url}/amazon_pay/return/{token}",
        "checkoutCancelUrl": f"{live.server.url}/amazon_pay/checkout/{token}/cancel"}
    assert payload["storeId"] == "amzn1.application-oa2-client.kassa"
    assert payload["merchantMetadata"]["merchantReferenceId"] == setup.id
    assert len(live.double.requests) == before and not live.calls("/v2/checkoutSessions")


def test_automatic_payment_methods_save_amazon_pay_the_same_way(live):
    customer = live.customer()
    setup = live.client.v1.setup_intents.create(params={"customer": customer, "automatic_payment_methods": {
        "enabled": True}})
    assert "amazon_pay" in setup.payment_method_types
    confirmed = live.client.v1.setup_intents.confirm(setup.id, params={
        "payment_method_data": {"type": "amazon_pay"}, "return_url": RETURN_URL})
    assert confirmed.status == "requires_action"
    assert live.payload(confirmed)["chargePermissionType"] == "PaymentMethodOnFile"


def test_a_live_setup_needs_an_https_return_url_and_the_account_set_up(live):
    customer = live.customer()
    for params, param in (({}, "return_url"), ({"return_url": "http://shop.example/saved"}, "return_url")):
        with pytest.raises(stripe.InvalidRequestError) as info:
            live.client.v1.setup_intents.create(params={
                "customer": customer, "payment_method_types": ["amazon_pay"], "confirm": True,
                "payment_method_data": {"type": "amazon_pay"}, **params})
        assert info.value.http_status == 400 and info.value.param == param
    other = live.server.client(new_account(live.server)["secret_live"])
    stranger = other.v1.customers.create(params={"email": "x@example.com"}).id
    with pytest.raises(stripe.InvalidRequestError) as info:
        other.v1.setup_intents.create(params={
            "customer": stranger, "payment_method_types": ["amazon_pay"], "confirm": True,
            "payment_method_data": {"type": "amazon_pay"}, "return_url": RETURN_URL})
    assert info.value.code == "payment_method_unactivated" and "configure-amazon-pay" in info.value.user_message


# ---- the buyer's return -----------------------------------------------------------------------------

def test_approved_setup_saves_the_method_with_its_permission_and_charges_it_off_session(live):
    customer = live.customer()
    setup = live.setup(customer)
    back = live.at_amazon(setup)
    session = live.session_of(setup)
    assert session["checkoutSessionId"] in live.double.checkouts  # made by checkout.js from kassa's payload
    answer = live.back_at_kassa(back)
    assert answer == {"order": "42", "setup_intent": setup.id, "setup_intent_client_secret": setup.client_secret,
                      "redirect_status": "succeeded"}
    done = live.retrieve(setup.id, expand=["mandate", "payment_method"])
    assert (done.status, done.next_action, done.last_setup_error) == ("succeeded", None, None)
    assert done.payment_method.type == "amazon_pay" and done.payment_method.customer == customer
    assert done.mandate.status == "active" and done.mandate.type == "multi_use"
    assert done.mandate.payment_method_details.type == "amazon_pay"
    # Amazon kept a saved-wallet Charge Permission and made no Charge; the mandate stands for it.
    [permission] = live.permissions_of(setup)
    assert (permission["chargePermissionType"], permission["statusDetails"]["state"]) == (
        "PaymentMethodOnFile", "Chargeable")
    assert session["chargePermissionId"] == permission["chargePermissionId"] and session["chargeId"] is None
    assert not [c for c in live.double.charges.values() if c["chargePermissionId"] == permission["chargePermissionId"]]
    assert live.mandate_permission(done.mandate.id) == permission["chargePermissionId"]
    assert [r.status for r in live.calls(f"/checkoutSessions/{session['checkoutSessionId']}/complete")] == [200]
    assert len(live.events(setup.id, "setup_intent.succeeded")) == 1
    assert len(live.events(done.payment_method.id, "payment_method.attached")) == 1
    types = [e.type for e in live.client.v1.events.list(params={"type": "setup_intent.*", "limit": 100}).data
             if e.data.object.id == setup.id]
    assert types == ["setup_intent.succeeded", "setup_intent.requires_action", "setup_intent.created"]
    # Coming back again asks Amazon nothing and changes nothing.
    before = len(live.double.requests)
    assert live.back_at_kassa(back)["redirect_status"] == "succeeded"
    assert len(live.double.requests) == before
    # Later, with no buyer present: Create Charge on that permission, recorded and answered once.
    creates = len(live.calls("/v2/charges"))
    paid = live.off_session(customer, done.payment_method.id, options={"idempotency_key": f"later-{setup.id}"})
    assert (paid.status, paid.amount_received, paid.payment_method) == ("succeeded", 2500, done.payment_method.id)
    assert [(r.status, r.replayed) for r in live.calls("/v2/charges")[creates:]] == [(201, False)]
    [charge] = [c for c in live.double.charges.values() if c["chargePermissionId"] == permission["chargePermissionId"]]
    assert charge["captureAmount"] == {"amount": "25.00", "currencyCode": "USD"}
    assert live.client.v1.charges.retrieve(paid.latest_charge).customer == customer
    again = live.off_session(customer, done.payment_method.id, options={"idempotency_key": f"later-{setup.id}"})
    assert again.id == paid.id and len(live.calls("/v2/charges")) == creates + 1
    held = live.off_session(customer, done.payment_method.id, amount=700, capture_method="manual")
    assert (held.status, held.amount_capturable) == ("requires_capture", 700)
    assert live.client.v1.payment_intents.capture(held.id).status == "succeeded"


def test_buyer_cancel_on_amazon_fails_the_setup(live):
    customer = live.customer()
    setup = live.setup(customer)
    back = live.at_amazon(setup, "cancel")
    assert back == setup.next_action.redirect_to_url.url + "/cancel"  # Amazon's checkoutCancelUrl: kassa's
    answer = live.back_at_kassa(back)
    assert (answer["setup_intent"], answer["redirect_status"]) == (setup.id, "failed")
    failed = live.retrieve(setup.id)
    assert (failed.status, failed.payment_method, failed.next_action) == ("requires_payment_method", None, None)
    assert failed.last_setup_error.code == "setup_intent_authentication_failure"
    assert "refused to save Amazon Pay" in failed.last_setup_error.message
    assert len(live.events(setup.id, "setup_intent.setup_failed")) == 1
    assert live.client.v1.customers.payment_methods.list(customer).data == []
    assert live.calls(f"/checkoutSessions/{live.session_of(setup)['checkoutSessionId']}/complete") == []
    assert live.permissions_of(setup) == []
    # The setup can be confirmed again, and saved this time.
    again = live.client.v1.setup_intents.confirm(setup.id, params={"payment_method_data": {"type": "amazon_pay"}})
    assert again.status == "requires_action"
    assert live.back_at_kassa(live.at_amazon(again))["redirect_status"] == "succeeded"
    assert live.retrieve(setup.id).status == "succeeded"


def test_amazon_declining_the_wallet_fails_the_setup(live):
    live.double.authorization = "decline"
    customer = live.customer()
    setup = live.setup(customer)
    answer = live.back_at_kassa(live.at_amazon(setup))  # Amazon refused on its page, then sends the buyer back
    assert answer["redirect_status"] == "failed"
    failed = live.retrieve(setup.id)
    assert failed.status == "requires_payment_method" and failed.last_setup_error is not None
    assert live.client.v1.customers.payment_methods.list(customer).data == []
    assert live.permissions_of(setup) == [] and len(live.events(setup.id, "setup_intent.setup_failed")) == 1


def test_the_pages_way_back_fails_the_setup(live):
    setup = live.setup()
    url = setup.next_action.redirect_to_url.url
    response = httpx.post(url + "/cancel", verify=live.tls, follow_redirects=False)
    assert response.status_code == 303 and outcome(response)["redirect_status"] == "failed"
    assert outcome(response)["setup_intent"] == setup.id
    assert live.retrieve(setup.id).status == "requires_payment_method"
    closed = live.get(url)  # the page no longer starts a checkout
    assert closed.status_code == 200 and "amazon-pay-button" not in closed.text and "Setup failed" in closed.text


def test_a_session_of_another_attempt_changes_nothing(live):
    first, second = live.setup(), live.setup()
    back = live.at_amazon(first)  # approved for the first setup
    session_id = parse_qs(urlsplit(back).query)["amazonCheckoutSessionId"][0]
    second_token = second.next_action.redirect_to_url.url.rsplit("/", 1)[-1]
    forged = f"{live.server.url}/amazon_pay/return/{second_token}?amazonCheckoutSessionId={session_id}"
    response = live.get(forged)
    assert response.status_code == 400 and "does not belong to this setup, so nothing was saved" in response.text
    assert "setup_intent=" + second.id in response.text
    assert live.retrieve(second.id).status == "requires_action"
    assert live.double.sessions[session_id]["statusDetails"]["state"] == "Open"  # not completed
    assert live.permissions_of(first) == []
    # A payment's session is no setup's either: its amount is not a setup's, whatever the token.
    intent = live.client.v1.payment_intents.create(params={
        "amount": 1099, "currency": "usd", "confirm": True, "return_url": RETURN_URL,
        "payment_method_data": {"type": "amazon_pay"}})
    paying = start_checkout(live.server, live.double, intent.next_action.redirect_to_url.url)
    payment_session = parse_qs(urlsplit(paying).query)["amazonCheckoutSessionId"][0]
    crossed = f"{live.server.url}/amazon_pay/return/{second_token}?amazonCheckoutSessionId={payment_session}"
    assert live.get(crossed).status_code == 400
    assert live.retrieve(second.id).status == "requires_action"
    assert live.back_at_kassa(back)["redirect_status"] == "succeeded"  # its own attempt still works
    assert live.retrieve(first.id).status == "succeeded" and live.retrieve(second.id).status == "requires_action"


def test_a_complete_whose_answer_was_lost_is_settled_by_the_sweep(live):
    setup = live.setup()
    back = live.at_amazon(setup)
    for _ in range(3):  # Amazon completes the setup; every answer is lost, kassa's client gives up
        live.double.drop_next("POST", "/complete")
    response = live.get(back)
    assert response.status_code == 200 and "Try again" in response.text
    assert live.retrieve(setup.id).status == "requires_action"  # recorded, not applied
    [permission] = live.permissions_of(setup)  # the permission exists at Amazon
    assert live.session_of(setup)["statusDetails"]["state"] == "Completed"
    # Nobody reloads: the sweep asks again (after its grace time) and applies Amazon's answer once.
    due_now(live.server.database)
    done = wait_for(lambda: (found := live.retrieve(setup.id)).status == "succeeded" and found)
    assert live.mandate_permission(done.mandate) == permission["chargePermissionId"]
    assert len(live.permissions_of(setup)) == 1 and len(live.events(setup.id, "setup_intent.succeeded")) == 1
    codes = [r.reason_code for r in live.calls("/complete")[-4:]]
    assert codes[-1] == "InvalidCheckoutSessionStatus"  # the repeated Complete: read back, not done twice
    assert live.back_at_kassa(back)["redirect_status"] == "succeeded"  # the buyer's reload shows the outcome


def test_a_permission_for_a_setup_canceled_meanwhile_is_closed_at_amazon(live):
    setup = live.setup()
    back = live.at_amazon(setup)
    hold = live.double.hold_next("POST", "/complete")
    thread, box = in_thread(lambda: live.get(back, timeout=30))
    assert hold.arrived.wait(10)  # Amazon made the permission; kassa waits for its answer
    assert live.client.v1.setup_intents.cancel(setup.id).status == "canceled"
    hold.release.set()
    thread.join(30)
    assert box["value"].status_code == 303, box
    assert outcome(box["value"])["redirect_status"] == "failed"
    assert live.retrieve(setup.id).status == "canceled"
    [permission] = live.permissions_of(setup)
    assert permission["statusDetails"]["state"] == "Closed"  # nobody will charge it: closed, by kassa
    assert len(live.calls(f"/chargePermissions/{permission['chargePermissionId']}/close", "DELETE")) == 1


def test_a_permission_amazon_closes_detaches_the_saved_method(live):
    customer, done, permission = _saved(live)
    live.double.close_permission(permission)
    response = httpx.post(live.server.url + "/amazon_pay/notifications", content=live.double.notifications[-1],
                          verify=live.tls, headers={"content-type": "text/plain; charset=UTF-8"})
    assert (response.status_code, response.text) == (200, "ok")
    assert live.client.v1.payment_methods.retrieve(done.payment_method).customer is None
    assert live.client.v1.mandates.retrieve(done.mandate).status == "inactive"
    with pytest.raises(stripe.InvalidRequestError) as info:
        live.off_session(customer, done.payment_method)
    assert info.value.http_status == 400 and "may not be used again" in info.value.user_message
    assert len(live.events(done.payment_method, "payment_method.detached")) == 1


def test_a_saved_wallet_declined_off_session_keeps_the_intent_waiting(live):
    customer, done, _ = _saved(live)
    live.double.saved_charges = "HardDeclined"
    with pytest.raises(stripe.CardError) as info:
        live.off_session(customer, done.payment_method)
    assert info.value.http_status == 402 and info.value.code == "payment_intent_payment_attempt_failed"
    intent = live.client.v1.payment_intents.retrieve(info.value.error.payment_intent.id)
    assert intent.status == "requires_payment_method" and intent.last_payment_error.decline_code == "generic_decline"
