"""Helpers for the card tests: paying with Stripe's test cards through the official stripe package."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import stripe

FUTURE = {"exp_month": "12", "exp_year": "2034"}


def pay(client, payment_method: str, **params):
    """Create and confirm in one request; the intent, or the CardError raised."""
    return client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd", "confirm": True,
                                                    "payment_method": payment_method, **params})


def declined(client, payment_method: str, **params) -> stripe.CardError:
    with pytest.raises(stripe.CardError) as info:
        pay(client, payment_method, **params)
    return info.value


def card_method(client, number: str, cvc: str | None = "123", **card):
    details = {"number": number, **FUTURE, **card}
    if cvc is not None:
        details["cvc"] = cvc
    return client.v1.payment_methods.create(params={"type": "card", "card": details})


def events_of(client, intent_id: str, limit: int = 100) -> list:
    """The types of the events about `intent_id` (the intent, its charges), oldest first."""
    found = []
    for event in client.v1.events.list(params={"limit": limit}).data:
        obj = event.data.object.to_dict()
        if obj.get("id") == intent_id or obj.get("payment_intent") == intent_id:
            found.append(event.type)
    return list(reversed(found))


def advance(client, seconds: int):
    return client.raw_request("post", "/v1/test_helpers/clock/advance", seconds=seconds)


def authentication_page(intent) -> str:
    assert intent.status == "requires_action"
    action = intent.next_action
    if action.type == "redirect_to_url":
        return action.redirect_to_url.url
    assert action.type == "use_stripe_sdk"
    assert action.use_stripe_sdk.type == "three_d_secure_redirect"
    return action.use_stripe_sdk.stripe_js


def authenticate(url: str, decision: str) -> httpx.Response:
    """Press a button of the 3D Secure page, following the 303s to the end."""
    return httpx.post(url, data={"decision": decision}, follow_redirects=True)


def returned_with(response: httpx.Response) -> dict[str, str]:
    """The query parameters the buyer came back to the merchant with (the last redirect)."""
    assert response.history and response.history[0].status_code == 303
    query = urlsplit(str(response.url)).query
    return {key: values[-1] for key, values in parse_qs(query).items()}
