"""The Amazon Pay redirect flow in test mode, through stripe-python and a plain HTTP buyer."""

from __future__ import annotations

import httpx
import pytest
import stripe

from amazon_pay_helpers import RETURN_URL, buttons, confirm, new_confirmed, outcome, page_url, press
from test_auth import new_account


@pytest.fixture
def fresh(server):
    """A client on an account of its own (its test clock moves only for this test)."""
    return server.client(new_account(server)["secret_test"])


def advance(client, seconds: int):
    return client.raw_request("post", "/v1/test_helpers/clock/advance", seconds=seconds)


def test_confirm_answers_a_redirect(client, server):
    intent = new_confirmed(client)
    assert intent.status == "requires_action"
    redirect = intent.next_action.redirect_to_url
    assert redirect.return_url == RETURN_URL
    assert redirect.url.startswith(server.url + "/amazon_pay/test/")
    assert intent.payment_method.startswith("pm_")
    method = client.v1.payment_methods.retrieve(intent.payment_method)
    assert method.type == "amazon_pay" and method.amazon_pay.to_dict() == {}


def test_test_page_shows_merchant_amount_and_two_buttons(client):
    page = httpx.get(page_url(new_confirmed(client, amount=123456)))
    assert page.status_code == 200
    assert "$1,234.56" in page.text
    assert "kassa demo merchant" in page.text
    assert buttons(page.text) == ["Authorize test payment", "Fail test payment"]
    assert "<script" not in page.text
    headers = page.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY" and headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"


def test_an_account_outside_the_us_confirms_by_its_own_country(server, client):
    """Confirm checks the currency against the confirming account's country (a US account would
    refuse eur): a German account's euro intent goes on to the page, which shows euros."""
    german = server.client(new_account(server, "DE")["secret_test"])
    intent = confirm(german, german.v1.payment_intents.create(params={"amount": 2500, "currency": "eur"}).id)
    page = httpx.get(page_url(intent))
    assert page.status_code == 200 and "€25.00" in page.text
    assert outcome(press(page_url(intent), "authorize"))["redirect_status"] == "succeeded"
    assert german.v1.payment_intents.retrieve(intent.id).status == "succeeded"
    with pytest.raises(stripe.InvalidRequestError) as info:  # the same currency, a US account
        client.v1.payment_intents.create(params={"amount": 2500, "currency": "eur",
                                                 "payment_method_types": ["amazon_pay"]})
    assert info.value.code == "payment_intent_invalid_currency"


def test_approve_with_automatic_capture(client):
    intent = new_confirmed(client)
    back = press(page_url(intent), "authorize")
    params = outcome(back)
    assert params == {"order": "42", "payment_intent": intent.id,
                      "payment_intent_client_secret": intent.client_secret, "redirect_status": "succeeded"}
    assert back.headers["location"].startswith("https://shop.example/checkout/complete?order=42&")
    assert back.headers["location"].endswith("#summary")
    done = client.v1.payment_intents.retrieve(intent.id)
    assert done.status == "succeeded"
    assert done.amount_received == 1099 and done.amount_capturable == 0
    assert done.next_action is None
    charge = client.v1.charges.retrieve(done.latest_charge)
    assert charge.id.startswith("ch_")
    assert charge.amount == 1099 and charge.captured is True and charge.paid is True
    assert charge.payment_intent == intent.id and charge.status == "succeeded"
    assert charge.payment_method_details.type == "amazon_pay"
    assert charge.payment_method_details.amazon_pay.transaction_id
    listed = client.v1.charges.list(params={"payment_intent": intent.id})
    assert [c.id for c in listed.data] == [charge.id]
    expanded = client.v1.payment_intents.retrieve(intent.id, params={"expand": ["latest_charge", "payment_method"]})
    assert expanded.latest_charge.id == charge.id and expanded.payment_method.type == "amazon_pay"


def test_pressing_twice_or_reloading_changes_nothing_twice(client):
    intent = new_confirmed(client)
    url = page_url(intent)
    first = press(url, "authorize")
    second = press(url, "authorize")
    third = press(url, "fail")
    assert first.headers["location"] == second.headers["location"] == third.headers["location"]
    reload = httpx.get(url)
    assert reload.status_code == 200 and "already authorized" in reload.text
    assert "Authorize test payment" not in reload.text
    assert len(client.v1.charges.list(params={"payment_intent": intent.id}).data) == 1
    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"


def test_decline_then_retry_succeeds(client):
    intent = new_confirmed(client)
    failed_method = intent.payment_method
    assert outcome(press(page_url(intent), "fail"))["redirect_status"] == "failed"
    declined = client.v1.payment_intents.retrieve(intent.id)
    assert declined.status == "requires_payment_method"
    assert declined.payment_method is None
    error = declined.last_payment_error
    assert error.code == "payment_intent_payment_attempt_failed"
    assert "declined" in error.message
    assert error.payment_method.id == failed_method and error.payment_method.type == "amazon_pay"
    assert client.v1.charges.list(params={"payment_intent": intent.id}).data == []
    retried = confirm(client, intent.id)
    assert retried.last_payment_error is None and retried.payment_method != failed_method
    assert page_url(retried) != page_url(intent)
    press(page_url(retried), "authorize")
    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"
    # the first attempt's page is spent: it changes nothing
    again = press(page_url(intent), "authorize")
    assert outcome(again)["redirect_status"] == "failed"
    assert len(client.v1.charges.list(params={"payment_intent": intent.id}).data) == 1


def test_timeout_after_ten_minutes(fresh):
    intent = new_confirmed(fresh)
    advance(fresh, 590)  # wall-clock seconds also pass during the test: a margin on either side
    assert fresh.v1.payment_intents.retrieve(intent.id).status == "requires_action"
    advance(fresh, 11)
    expired = fresh.v1.payment_intents.retrieve(intent.id)
    assert expired.status == "requires_payment_method"
    assert expired.payment_method is None
    assert expired.last_payment_error.code == "payment_intent_payment_attempt_failed"
    assert "expired" in expired.last_payment_error.message
    page = httpx.get(page_url(intent))
    assert "expired" in page.text.lower() and "Authorize test payment" not in page.text
    assert "https://shop.example/checkout/complete?order=42&amp;payment_intent=" in page.text
    assert outcome(press(page_url(intent), "authorize"))["redirect_status"] == "failed"
    assert fresh.v1.charges.list(params={"payment_intent": intent.id}).data == []


def test_timeout_is_applied_by_the_sweep_without_reads(server, fresh):
    intent = new_confirmed(fresh)
    advance(fresh, 601)  # the sweep runs before the clock call answers
    listed = fresh.v1.payment_intents.list(params={"limit": 1})  # a list reads rows as stored
    assert listed.data[0].id == intent.id
    assert listed.data[0].status == "requires_payment_method"


def test_manual_capture_full(client):
    intent = new_confirmed(client, capture_method="manual")
    press(page_url(intent), "authorize")
    held = client.v1.payment_intents.retrieve(intent.id)
    assert held.status == "requires_capture"
    assert held.amount_capturable == 1099 and held.amount_received == 0
    assert client.v1.charges.retrieve(held.latest_charge).captured is False
    captured = client.v1.payment_intents.capture(intent.id)
    assert captured.status == "succeeded"
    assert captured.amount_received == 1099 and captured.amount_capturable == 0
    charge = client.v1.charges.retrieve(captured.latest_charge)
    assert charge.captured is True and charge.amount_captured == 1099 and charge.amount_refunded == 0


def test_manual_capture_partial_and_limits(client):
    intent = new_confirmed(client, payment_method_options={"amazon_pay": {"capture_method": "manual"}})
    press(page_url(intent), "authorize")
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 1100})
    assert info.value.param == "amount_to_capture"
    captured = client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 600})
    assert captured.amount_received == 600 and captured.status == "succeeded"
    charge = client.v1.charges.retrieve(captured.latest_charge)
    assert charge.amount_captured == 600 and charge.amount_refunded == 499
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.capture(intent.id)
    assert info.value.code == "payment_intent_unexpected_state"
    refund = client.v1.refunds.create(params={"payment_intent": intent.id})
    assert refund.amount == 600


def test_capture_requires_requires_capture(client):
    intent = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.capture(intent.id)
    assert info.value.code == "payment_intent_unexpected_state"


def test_uncaptured_after_seven_days_is_canceled(fresh):
    intent = new_confirmed(fresh, capture_method="manual")
    press(page_url(intent), "authorize")
    advance(fresh, 7 * 24 * 3600 - 10)
    assert fresh.v1.payment_intents.retrieve(intent.id).status == "requires_capture"
    advance(fresh, 20)
    canceled = fresh.v1.payment_intents.retrieve(intent.id)
    assert canceled.status == "canceled"
    assert canceled.cancellation_reason == "automatic"
    assert canceled.amount_capturable == 0
    charge = fresh.v1.charges.retrieve(canceled.latest_charge)
    assert charge.captured is False and charge.amount_refunded == 1099 and charge.refunded is True
    with pytest.raises(stripe.InvalidRequestError):
        fresh.v1.payment_intents.capture(intent.id)


def test_cancel_during_requires_action_voids_the_page(client):
    intent = new_confirmed(client)
    canceled = client.v1.payment_intents.cancel(intent.id)
    assert canceled.status == "canceled" and canceled.next_action is None
    page = httpx.get(page_url(intent))
    assert "no longer valid" in page.text and "Authorize test payment" not in page.text
    assert outcome(press(page_url(intent), "authorize"))["redirect_status"] == "failed"
    assert client.v1.payment_intents.retrieve(intent.id).status == "canceled"
    assert client.v1.charges.list(params={"payment_intent": intent.id}).data == []


def test_cancel_a_held_payment_releases_it(client):
    intent = new_confirmed(client, capture_method="manual")
    press(page_url(intent), "authorize")
    canceled = client.v1.payment_intents.cancel(intent.id)
    assert canceled.status == "canceled" and canceled.amount_capturable == 0
    charge = client.v1.charges.retrieve(canceled.latest_charge)
    assert charge.amount_refunded == 1099 and charge.captured is False


def test_cannot_cancel_a_succeeded_payment(client):
    intent = new_confirmed(client)
    press(page_url(intent), "authorize")
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.cancel(intent.id)
    assert info.value.code == "payment_intent_unexpected_state"


def test_create_with_confirm_true_and_automatic_payment_methods(client):
    intent = client.v1.payment_intents.create(params={
        "amount": 2000, "currency": "usd", "automatic_payment_methods": {"enabled": True}, "confirm": True,
        "return_url": RETURN_URL, "payment_method_data": {"type": "amazon_pay",
                                                          "billing_details": {"email": "b@example.com"}}})
    assert intent.status == "requires_action"
    assert client.v1.payment_methods.retrieve(intent.payment_method).billing_details.email == "b@example.com"
    press(page_url(intent), "authorize")
    assert client.v1.payment_intents.retrieve(intent.id).amount_received == 2000


def test_confirm_with_a_created_payment_method_and_publishable_key(server, client, public_client):
    method = public_client.v1.payment_methods.create(params={"type": "amazon_pay"})
    assert method.id.startswith("pm_") and method.type == "amazon_pay"
    intent = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
    confirmed = public_client.v1.payment_intents.confirm(intent.id, params={
        "payment_method": method.id, "return_url": RETURN_URL, "client_secret": intent.client_secret})
    assert confirmed.status == "requires_action" and confirmed.payment_method == method.id
    assert "metadata" not in confirmed  # the publishable view
    with pytest.raises(stripe.InvalidRequestError) as info:
        public_client.v1.payment_intents.confirm(intent.id, params={
            "payment_method": method.id, "return_url": RETURN_URL, "client_secret": "pi_x_secret_y"})
    assert info.value.param == "client_secret"


@pytest.mark.parametrize("params, code, param", [
    ({"payment_method_data": {"type": "amazon_pay"}}, "payment_intent_redirect_confirmation_without_return_url",
     "return_url"),
    ({"return_url": RETURN_URL}, "missing_required_parameter", "payment_method"),
    ({"return_url": "/relative", "payment_method_data": {"type": "amazon_pay"}}, "url_invalid", "return_url"),
    ({"return_url": "javascript:alert(1)", "payment_method_data": {"type": "amazon_pay"}}, "url_invalid",
     "return_url"),
    ({"return_url": "ftp://shop.example/x", "payment_method_data": {"type": "amazon_pay"}}, "url_invalid",
     "return_url"),
    ({"return_url": "https://user:pw@shop.example/", "payment_method_data": {"type": "amazon_pay"}},
     "url_invalid", "return_url"),
    ({"return_url": RETURN_URL, "payment_method_data": {"type": "klarna"}}, "parameter_invalid_string",
     "payment_method_data[type]"),
    ({"return_url": RETURN_URL, "payment_method_data": {"billing_details": {"name": "A"}}}, "missing_required_parameter",
     "payment_method_data[type]"),
    ({"return_url": RETURN_URL, "payment_method_data": {"type": "amazon_pay", "colour": "x"}},
     "parameter_unknown", "payment_method_data[colour]"),
])
def test_confirm_errors(client, params, code, param):
    intent = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.confirm(intent.id, params=params)
    assert info.value.http_status == 400
    assert (info.value.code, info.value.param) == (code, param)
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"
    if code == "payment_intent_redirect_confirmation_without_return_url":
        assert info.value.error.payment_intent.id == intent.id


def test_confirm_with_unknown_payment_method(client):
    intent = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_nope", "return_url": RETURN_URL})
    assert info.value.http_status == 404 and info.value.code == "resource_missing"


def test_live_mode_needs_https_return_urls(server):
    live = server.client(new_account(server)["secret_live"])
    intent = live.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError) as info:
        confirm(live, intent.id, return_url="http://shop.example/done")
    assert info.value.param == "return_url"


def test_test_clock_is_test_mode_only(server, client):
    live = server.client(new_account(server)["secret_live"])
    with pytest.raises(stripe.InvalidRequestError) as info:
        advance(live, 60)
    assert info.value.http_status == 404
    with pytest.raises(stripe.PermissionError):
        advance(server.client(server.publishable_key), 60)
    with pytest.raises(stripe.InvalidRequestError) as info:
        advance(client, -5)
    assert info.value.param == "seconds"


def test_unknown_page_token(server):
    page = httpx.get(server.url + "/amazon_pay/test/tok_doesnotexist")
    assert page.status_code == 404
    response = httpx.post(server.url + "/amazon_pay/test/tok_doesnotexist", data={"decision": "authorize"})
    assert response.status_code == 404


def test_changing_the_amount_voids_the_page_the_buyer_is_on(client):
    intent = new_confirmed(client)
    updated = client.v1.payment_intents.update(intent.id, params={"amount": 2000})
    assert (updated.status, updated.next_action, updated.amount) == ("requires_confirmation", None, 2000)
    page = httpx.get(page_url(intent))
    assert "no longer valid" in page.text and "Authorize test payment" not in page.text
    assert outcome(press(page_url(intent), "authorize"))["redirect_status"] == "failed"
    assert client.v1.charges.list(params={"payment_intent": intent.id}).data == []
    again = confirm(client, intent.id)  # the new amount is what the buyer approves
    assert outcome(press(page_url(again), "authorize"))["redirect_status"] == "succeeded"
    assert client.v1.payment_intents.retrieve(intent.id).amount_received == 2000
