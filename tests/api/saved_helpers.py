"""Helpers for the saved-method tests: customers, methods saved through SetupIntents, off-session payments."""

from __future__ import annotations

import httpx

from amazon_pay_helpers import RETURN_URL


def new_customer(client, **params):
    return client.v1.customers.create(params={"email": "buyer@example.com", "name": "Ada Buyer", **params})


def saved_card(client, customer_id: str, test_method: str = "pm_card_visa"):
    """A card attached to the customer (Stripe's test id becomes a new PaymentMethod)."""
    return client.v1.payment_methods.attach(test_method, params={"customer": customer_id})


def setup_amazon_pay(client, customer_id: str, decision: str = "authorize", **params):
    """Save Amazon Pay through a SetupIntent and the setup page; the SetupIntent afterwards."""
    setup = client.v1.setup_intents.create(params={
        "customer": customer_id, "payment_method_types": ["amazon_pay"], "confirm": True,
        "payment_method_data": {"type": "amazon_pay"}, "return_url": RETURN_URL, **params})
    assert setup.status == "requires_action" and setup.next_action.type == "redirect_to_url"
    press(setup.next_action.redirect_to_url.url, decision)
    return client.v1.setup_intents.retrieve(setup.id)


def press(url: str, decision: str) -> httpx.Response:
    response = httpx.post(url, data={"decision": decision}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response


def off_session(client, customer_id: str, method_id: str, amount: int = 1500, **options):
    return client.v1.payment_intents.create(params={
        "amount": amount, "currency": "usd", "customer": customer_id, "payment_method": method_id,
        "confirm": True, "off_session": True, **options})
