"""Saved payment methods, SetupIntents, mandates and off-session payments through the official
stripe package: Stripe's test cards for saved and off-session use, Amazon Pay setups approved and
refused on kassa's page, saving while paying, detach ending the mandate, and the errors."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import stripe

from amazon_pay_helpers import RETURN_URL, buttons, outcome
from card_helpers import authenticate, authentication_page
from receiver import Receiver
from saved_helpers import new_customer, off_session, press, saved_card, setup_amazon_pay
from test_auth import new_account


@pytest.fixture
def fresh(server):
    return server.client(new_account(server)["secret_test"])


# ---- attach, detach, list, update ---------------------------------------------------------------

def test_attach_list_update_detach(fresh):
    customer = new_customer(fresh)
    card = saved_card(fresh, customer.id)
    assert card.id.startswith("pm_") and card.id != "pm_card_visa" and card.customer == customer.id
    amazon = fresh.v1.payment_methods.create(params={"type": "amazon_pay"})
    attached = fresh.v1.payment_methods.attach(amazon.id, params={"customer": customer.id})
    assert attached.customer == customer.id
    assert fresh.v1.payment_methods.attach(amazon.id, params={"customer": customer.id}).customer == customer.id
    listed = fresh.v1.customers.payment_methods.list(customer.id)
    assert [m.id for m in listed.data] == [amazon.id, card.id]
    assert [m.id for m in fresh.v1.customers.payment_methods.list(customer.id, params={"type": "card"}).data] == [
        card.id]
    assert [m.id for m in fresh.v1.payment_methods.list(params={"customer": customer.id, "type": "amazon_pay"}).data] \
        == [amazon.id]
    assert fresh.v1.customers.payment_methods.retrieve(customer.id, card.id).id == card.id
    updated = fresh.v1.payment_methods.update(card.id, params={
        "billing_details": {"name": "Ada Buyer", "address": {"postal_code": "94107"}}, "metadata": {"k": "v"}})
    assert updated.billing_details.name == "Ada Buyer" and updated.billing_details.address.postal_code == "94107"
    assert updated.metadata.to_dict() == {"k": "v"}
    detached = fresh.v1.payment_methods.detach(card.id)
    assert detached.customer is None
    assert [m.id for m in fresh.v1.customers.payment_methods.list(customer.id).data] == [amazon.id]
    types = [e.type for e in fresh.v1.events.list(params={"type": "payment_method.*"}).data]
    assert types == ["payment_method.detached", "payment_method.updated", "payment_method.attached",
                     "payment_method.attached"]


def test_attach_and_detach_errors(fresh):
    customer, other = new_customer(fresh), new_customer(fresh)
    card = saved_card(fresh, customer.id)
    with pytest.raises(stripe.InvalidRequestError) as info:
        fresh.v1.payment_methods.attach(card.id, params={"customer": other.id})
    assert info.value.code == "payment_method_unexpected_state"
    with pytest.raises(stripe.InvalidRequestError) as info:
        fresh.v1.payment_methods.attach("pm_card_visa", params={"customer": "cus_missing"})
    assert info.value.http_status == 404 and info.value.param == "customer"
    with pytest.raises(stripe.InvalidRequestError) as info:
        fresh.v1.payment_methods.attach("pm_missing", params={"customer": customer.id})
    assert info.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError) as info:
        fresh.v1.payment_methods.attach(card.id, params={})
    assert info.value.param == "customer"
    loose = fresh.v1.payment_methods.create(params={"type": "amazon_pay"})
    with pytest.raises(stripe.InvalidRequestError) as info:
        fresh.v1.payment_methods.detach(loose.id)
    assert info.value.code == "payment_method_unexpected_state"
    with pytest.raises(stripe.InvalidRequestError) as info:
        fresh.v1.payment_methods.update(loose.id, params={"metadata": {"k": "v"}})
    assert "save this PaymentMethod to a customer" in info.value.user_message
    fresh.v1.payment_methods.detach(card.id)
    with pytest.raises(stripe.InvalidRequestError) as info:  # a detached method is spent
        fresh.v1.payment_methods.attach(card.id, params={"customer": customer.id})
    assert "may not be used again" in info.value.user_message


@pytest.mark.parametrize("test_method, decline_code", [
    ("pm_card_chargeDeclined", "generic_decline"),
    ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
    ("pm_card_chargeDeclinedLostCard", "lost_card"),
    ("pm_card_visa_chargeDeclinedExpiredCard", "expired_card"),
])
def test_declining_cards_are_refused_at_attach(fresh, test_method, decline_code):
    customer = new_customer(fresh)
    with pytest.raises(stripe.CardError) as info:
        fresh.v1.payment_methods.attach(test_method, params={"customer": customer.id})
    assert info.value.http_status == 402 and info.value.error.decline_code == decline_code
    assert fresh.v1.customers.payment_methods.list(customer.id).data == []


def test_charge_customer_fail_attaches_then_declines(fresh):
    customer = new_customer(fresh)
    card = fresh.v1.payment_methods.create(params={"type": "card", "card": {"token": "tok_chargeCustomerFail"}})
    attached = fresh.v1.payment_methods.attach(card.id, params={"customer": customer.id})
    assert attached.customer == customer.id
    with pytest.raises(stripe.CardError) as info:
        off_session(fresh, customer.id, card.id)
    assert info.value.code == "card_declined"
    intent = fresh.v1.payment_intents.retrieve(info.value.error.payment_intent.id)
    assert intent.status == "requires_payment_method"


# ---- off-session cards ------------------------------------------------------------------------

def test_off_session_with_a_saved_card(fresh):
    customer = new_customer(fresh)
    card = saved_card(fresh, customer.id)
    intent = off_session(fresh, customer.id, card.id)
    assert intent.status == "succeeded" and intent.customer == customer.id and intent.payment_method == card.id
    assert fresh.v1.charges.retrieve(intent.latest_charge).customer == customer.id


def test_authentication_required_on_setup_succeeds_off_session_once_set_up(fresh):
    customer = new_customer(fresh)
    setup = fresh.v1.setup_intents.create(params={
        "customer": customer.id, "payment_method_types": ["card"], "confirm": True,
        "payment_method": "pm_card_authenticationRequiredOnSetup", "return_url": RETURN_URL})
    assert setup.status == "requires_action" and setup.next_action.type == "redirect_to_url"
    page = httpx.get(setup.next_action.redirect_to_url.url)
    assert "Complete authentication" in page.text and "3155" in page.text
    back = press(setup.next_action.redirect_to_url.url, "complete")
    assert outcome(back)["redirect_status"] == "succeeded" and outcome(back)["setup_intent"] == setup.id
    done = fresh.v1.setup_intents.retrieve(setup.id)
    assert done.status == "succeeded" and done.mandate and done.payment_method
    mandate = fresh.v1.mandates.retrieve(done.mandate)
    assert mandate.status == "active" and mandate.payment_method == done.payment_method
    assert mandate.payment_method_details.type == "card" and mandate.type == "multi_use"
    intent = off_session(fresh, customer.id, done.payment_method)
    assert intent.status == "succeeded"
    # Not set up: the same card asks for authentication off session.
    unsaved = saved_card(fresh, customer.id, "pm_card_authenticationRequiredOnSetup")
    with pytest.raises(stripe.CardError) as info:
        off_session(fresh, customer.id, unsaved.id)
    assert info.value.code == "authentication_required"


def test_authentication_required_answers_402_and_the_intent_waits(fresh):
    customer = new_customer(fresh)
    card = saved_card(fresh, customer.id, "pm_card_authenticationRequired")
    with pytest.raises(stripe.CardError) as info:
        off_session(fresh, customer.id, card.id)
    error = info.value.error
    assert info.value.http_status == 402 and error.code == "authentication_required"
    assert error.decline_code == "authentication_required" and error.payment_method.id == card.id
    intent = fresh.v1.payment_intents.retrieve(error.payment_intent.id)
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error.payment_method.id == card.id
    # The buyer comes back on session and authenticates the same saved card.
    confirmed = fresh.v1.payment_intents.confirm(intent.id, params={"payment_method": card.id})
    assert confirmed.status == "requires_action"
    authenticate(authentication_page(confirmed), "complete")
    assert fresh.v1.payment_intents.retrieve(intent.id).status == "succeeded"


def test_setup_declines_with_a_declining_card(fresh):
    customer = new_customer(fresh)
    with pytest.raises(stripe.CardError) as info:
        fresh.v1.setup_intents.create(params={"customer": customer.id, "payment_method_types": ["card"],
                                              "confirm": True, "payment_method": "pm_card_chargeDeclined"})
    assert info.value.code == "card_declined"
    setup = info.value.error.setup_intent
    assert setup.status == "requires_payment_method" and setup.last_setup_error.code == "card_declined"
    types = [e.type for e in fresh.v1.events.list(params={"type": "setup_intent.*"}).data]
    assert types == ["setup_intent.setup_failed", "setup_intent.created"]


def test_setup_3ds_failed_then_retried(fresh):
    customer = new_customer(fresh)
    setup = fresh.v1.setup_intents.create(params={"customer": customer.id, "payment_method_types": ["card"]})
    assert setup.status == "requires_payment_method" and setup.usage == "off_session"
    confirmed = fresh.v1.setup_intents.confirm(setup.id, params={"payment_method": "pm_card_threeDSecure2Required",
                                                                  "return_url": RETURN_URL})
    press(confirmed.next_action.redirect_to_url.url, "fail")
    failed = fresh.v1.setup_intents.retrieve(setup.id)
    assert failed.status == "requires_payment_method"
    assert failed.last_setup_error.code == "setup_intent_authentication_failure"
    ok = fresh.v1.setup_intents.confirm(setup.id, params={"payment_method": "pm_card_visa"})
    assert ok.status == "succeeded"
    assert fresh.v1.customers.payment_methods.list(customer.id).data[0].id == ok.payment_method


# ---- SetupIntents: endpoints and errors -----------------------------------------------------------

def test_setup_intent_endpoints(server):
    keys = new_account(server)
    fresh, public = server.client(keys["secret_test"]), server.client(keys["publishable_test"])
    customer = new_customer(fresh)
    setup = fresh.v1.setup_intents.create(params={"customer": customer.id, "usage": "on_session",
                                                  "metadata": {"order": "7"}, "description": "save"})
    assert setup.object == "setup_intent" and setup.client_secret.startswith(setup.id + "_secret_")
    assert setup.payment_method_types == ["card", "amazon_pay"] and setup.usage == "on_session"
    assert fresh.v1.setup_intents.retrieve(setup.id).metadata.to_dict() == {"order": "7"}
    updated = fresh.v1.setup_intents.update(setup.id, params={"metadata": {"order": "8"}})
    assert updated.metadata.to_dict() == {"order": "8"}
    seen = public.v1.setup_intents.retrieve(setup.id, params={"client_secret": setup.client_secret})
    assert seen.status == "requires_payment_method" and "customer" not in seen.to_dict()
    with pytest.raises(stripe.InvalidRequestError):
        public.v1.setup_intents.retrieve(setup.id, params={"client_secret": setup.id + "_secret_wrong"})
    listed = fresh.v1.setup_intents.list(params={"customer": customer.id})
    assert [s.id for s in listed.data] == [setup.id]
    canceled = fresh.v1.setup_intents.cancel(setup.id, params={"cancellation_reason": "abandoned"})
    assert canceled.status == "canceled" and canceled.cancellation_reason == "abandoned"
    with pytest.raises(stripe.InvalidRequestError) as info:
        fresh.v1.setup_intents.confirm(setup.id, params={"payment_method": "pm_card_visa"})
    assert info.value.code == "setup_intent_unexpected_state"
    with pytest.raises(stripe.InvalidRequestError) as info:
        fresh.v1.setup_intents.cancel(setup.id)
    assert info.value.code == "setup_intent_unexpected_state"
    with pytest.raises(stripe.InvalidRequestError) as info:
        fresh.v1.setup_intents.create(params={"usage": "sometimes"})
    assert info.value.param == "usage"
    with pytest.raises(stripe.InvalidRequestError) as info:
        fresh.v1.setup_intents.create(params={"customer": "cus_missing"})
    assert info.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError) as info:
        fresh.v1.setup_intents.retrieve("seti_missing")
    assert info.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError) as info:
        fresh.v1.mandates.retrieve("mandate_missing")
    assert info.value.http_status == 404
    amazon = fresh.v1.setup_intents.create(params={"customer": customer.id, "payment_method_types": ["amazon_pay"]})
    with pytest.raises(stripe.InvalidRequestError) as info:  # a redirect needs somewhere to come back to
        fresh.v1.setup_intents.confirm(amazon.id, params={"payment_method_data": {"type": "amazon_pay"}})
    assert info.value.param == "return_url"
    with pytest.raises(stripe.InvalidRequestError) as info:
        fresh.v1.setup_intents.confirm(amazon.id, params={"payment_method": "pm_card_visa"})
    assert "not allowed" in info.value.user_message


def test_publishable_key_confirms_with_the_client_secret(server):
    keys = new_account(server)
    fresh, public = server.client(keys["secret_test"]), server.client(keys["publishable_test"])
    customer = new_customer(fresh)
    setup = fresh.v1.setup_intents.create(params={"customer": customer.id, "payment_method_types": ["card"]})
    method = public.v1.payment_methods.create(params={"type": "card", "card": {"token": "tok_visa"}})
    done = public.v1.setup_intents.confirm(setup.id, params={"payment_method": method.id,
                                                             "client_secret": setup.client_secret})
    assert done.status == "succeeded"
    assert fresh.v1.payment_methods.retrieve(method.id).customer == customer.id


# ---- Amazon Pay ---------------------------------------------------------------------------------

def test_amazon_pay_setup_approved_then_charged_off_session(fresh):
    customer = new_customer(fresh)
    setup = fresh.v1.setup_intents.create(params={
        "customer": customer.id, "payment_method_types": ["amazon_pay"], "confirm": True,
        "payment_method_data": {"type": "amazon_pay"}, "return_url": RETURN_URL,
        "mandate_data": {"customer_acceptance": {"type": "online", "online": {"ip_address": "203.0.113.7",
                                                                              "user_agent": "Mozilla/5.0"}}}})
    url = setup.next_action.redirect_to_url.url
    page = httpx.get(url)
    labels = buttons(page.text)
    assert labels[0].startswith("Authorize") and labels[1].startswith("Fail") and "future payments" in page.text
    back = press(url, "authorize")
    params = outcome(back)
    assert params["setup_intent"] == setup.id and params["redirect_status"] == "succeeded"
    assert params["setup_intent_client_secret"] == setup.client_secret
    done = fresh.v1.setup_intents.retrieve(setup.id, params={"expand": ["mandate", "payment_method"]})
    assert done.status == "succeeded" and done.payment_method.customer == customer.id
    assert done.mandate.status == "active" and done.mandate.payment_method_details.type == "amazon_pay"
    assert done.mandate.customer_acceptance.online.ip_address == "203.0.113.7"
    intent = off_session(fresh, customer.id, done.payment_method.id, amount=2500)
    assert intent.status == "succeeded" and intent.amount_received == 2500
    charge = fresh.v1.charges.retrieve(intent.latest_charge)
    assert charge.payment_method_details.type == "amazon_pay" and charge.customer == customer.id
    held = off_session(fresh, customer.id, done.payment_method.id, capture_method="manual")
    assert held.status == "requires_capture"
    assert fresh.v1.payment_intents.capture(held.id).status == "succeeded"
    types = [e.type for e in fresh.v1.events.list(params={"type": "setup_intent.*"}).data]
    assert types == ["setup_intent.succeeded", "setup_intent.requires_action", "setup_intent.created"]


def test_amazon_pay_setup_refused(fresh):
    customer = new_customer(fresh)
    done = setup_amazon_pay(fresh, customer.id, "fail")
    assert done.status == "requires_payment_method" and done.payment_method is None
    assert done.last_setup_error.code == "setup_intent_authentication_failure"
    assert fresh.v1.customers.payment_methods.list(customer.id).data == []
    assert fresh.v1.events.list(params={"type": "setup_intent.setup_failed"}).data


def test_detach_ends_the_mandate_and_off_session_is_refused(fresh):
    customer = new_customer(fresh)
    done = setup_amazon_pay(fresh, customer.id)
    fresh.v1.payment_methods.detach(done.payment_method)
    assert fresh.v1.mandates.retrieve(done.mandate).status == "inactive"
    with pytest.raises(stripe.InvalidRequestError) as info:
        off_session(fresh, customer.id, done.payment_method)
    assert info.value.param == "payment_method" and "may not be used again" in info.value.user_message
    card = saved_card(fresh, customer.id)
    fresh.v1.payment_methods.detach(card.id)
    with pytest.raises(stripe.InvalidRequestError) as info:
        off_session(fresh, customer.id, card.id)
    assert "may not be used again" in info.value.user_message
    types = [e.type for e in fresh.v1.events.list(params={"limit": 5}).data]
    assert "mandate.updated" in types and "payment_method.detached" in types


def test_off_session_amazon_pay_needs_a_saved_method(fresh):
    customer = new_customer(fresh)
    loose = fresh.v1.payment_methods.create(params={"type": "amazon_pay"})
    with pytest.raises(stripe.InvalidRequestError) as info:
        off_session(fresh, customer.id, loose.id)
    assert info.value.code == "payment_method_unexpected_state"
    other = new_customer(fresh)
    done = setup_amazon_pay(fresh, customer.id)
    with pytest.raises(stripe.InvalidRequestError) as info:  # another customer's method
        off_session(fresh, other.id, done.payment_method)
    assert info.value.param == "payment_method"
    with pytest.raises(stripe.InvalidRequestError) as info:  # no customer at all
        fresh.v1.payment_intents.create(params={"amount": 100, "currency": "usd", "confirm": True,
                                                "off_session": True, "payment_method": done.payment_method})
    assert info.value.param == "customer"


# ---- saving while paying --------------------------------------------------------------------------

def test_saving_a_card_while_paying(fresh):
    customer = new_customer(fresh)
    intent = fresh.v1.payment_intents.create(params={
        "amount": 1000, "currency": "usd", "customer": customer.id, "setup_future_usage": "off_session",
        "payment_method": "pm_card_authenticationRequiredOnSetup", "confirm": True})
    authenticate(authentication_page(intent), "complete")
    paid = fresh.v1.payment_intents.retrieve(intent.id)
    assert paid.status == "succeeded"
    method = fresh.v1.payment_methods.retrieve(paid.payment_method)
    assert method.customer == customer.id
    again = off_session(fresh, customer.id, method.id)
    assert again.status == "succeeded"


def test_saving_amazon_pay_while_paying(fresh):
    customer = new_customer(fresh)
    intent = fresh.v1.payment_intents.create(params={
        "amount": 1000, "currency": "usd", "customer": customer.id, "payment_method_types": ["amazon_pay"],
        "setup_future_usage": "off_session", "confirm": True, "payment_method_data": {"type": "amazon_pay"},
        "return_url": RETURN_URL})
    press(intent.next_action.redirect_to_url.url, "authorize")
    paid = fresh.v1.payment_intents.retrieve(intent.id)
    assert paid.status == "succeeded"
    assert fresh.v1.payment_methods.retrieve(paid.payment_method).customer == customer.id
    assert off_session(fresh, customer.id, paid.payment_method).status == "succeeded"
    with pytest.raises(stripe.InvalidRequestError) as info:
        fresh.v1.payment_intents.create(params={
            "amount": 1000, "currency": "usd", "customer": customer.id, "payment_method_types": ["amazon_pay"],
            "setup_future_usage": "on_session", "confirm": True, "payment_method_data": {"type": "amazon_pay"},
            "return_url": RETURN_URL})
    assert info.value.param == "setup_future_usage"


def test_nothing_saved_without_setup_future_usage_or_when_declined(fresh):
    customer = new_customer(fresh)
    intent = fresh.v1.payment_intents.create(params={"amount": 1000, "currency": "usd", "customer": customer.id,
                                                     "payment_method": "pm_card_visa", "confirm": True})
    assert fresh.v1.payment_methods.retrieve(intent.payment_method).customer is None
    with pytest.raises(stripe.CardError):
        fresh.v1.payment_intents.create(params={"amount": 1000, "currency": "usd", "customer": customer.id,
                                                "setup_future_usage": "off_session", "confirm": True,
                                                "payment_method": "pm_card_chargeDeclined"})
    assert fresh.v1.customers.payment_methods.list(customer.id).data == []


# ---- races and idempotency -----------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["card", "amazon_pay"])
def test_off_session_race(server, kind):
    """Two off-session payments of one saved method at once, with different keys: both succeed,
    each charged once. The same key sent twice at once charges once (the second waits for, or
    replays, the first); sent again later, it answers the same intent."""
    client = server.client(new_account(server)["secret_test"], max_network_retries=5)
    customer = new_customer(client)
    if kind == "card":
        method_id = saved_card(client, customer.id).id
    else:
        method_id = setup_amazon_pay(client, customer.id).payment_method
    keys = [str(uuid.uuid4()), str(uuid.uuid4())]
    start = threading.Barrier(4)

    def pay(key):
        start.wait()
        return client.v1.payment_intents.create(
            params={"amount": 700, "currency": "usd", "customer": customer.id, "payment_method": method_id,
                    "confirm": True, "off_session": True}, options={"idempotency_key": key})

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(pay, [keys[0], keys[1], keys[0], keys[1]]))
    assert all(r.status == "succeeded" for r in results)
    assert results[0].id == results[2].id and results[1].id == results[3].id and results[0].id != results[1].id
    start = threading.Barrier(1)
    assert pay(keys[0]).id == results[0].id
    charges = [c for c in client.v1.charges.list(params={"limit": 100}).data if c.payment_method == method_id]
    assert sorted(c.payment_intent for c in charges) == sorted({results[0].id, results[1].id})


# ---- webhooks ---------------------------------------------------------------------------------------

def test_webhooks_of_a_setup_are_signed(server):
    keys = new_account(server)
    client = server.client(keys["secret_test"])
    receiver = Receiver()
    try:
        endpoint = client.v1.webhook_endpoints.create(params={
            "url": receiver.url, "enabled_events": ["setup_intent.succeeded", "payment_method.attached",
                                                    "customer.created", "mandate.updated"]})
        customer = new_customer(client)
        done = setup_amazon_pay(client, customer.id)
        client.v1.payment_methods.detach(done.payment_method)
        receiver.wait_for(lambda: len(receiver.received) >= 4)
        events = receiver.events(endpoint.secret)  # each verified with stripe.Webhook.construct_event
        assert sorted(e.type for e in events) == ["customer.created", "mandate.updated", "payment_method.attached",
                                                  "setup_intent.succeeded"]
        mandate = next(e for e in events if e.type == "mandate.updated").data.object
        assert mandate.id == done.mandate and mandate.status == "inactive"
    finally:
        receiver.close()
