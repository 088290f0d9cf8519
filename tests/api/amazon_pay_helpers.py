"""Helpers for the Amazon Pay flow tests: a buyer following redirects with a plain HTTP client."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx

RETURN_URL = "https://shop.example/checkout/complete?order=42#summary"


def confirm(client, intent_id: str, return_url: str = RETURN_URL, **params):
    params.setdefault("payment_method_data", {"type": "amazon_pay"})
    return client.v1.payment_intents.confirm(intent_id, params={"return_url": return_url, **params})


def new_confirmed(client, return_url: str = RETURN_URL, **create):
    intent = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd", **create})
    return confirm(client, intent.id, return_url)


def page_url(intent) -> str:
    assert intent.status == "requires_action"
    assert intent.next_action.type == "redirect_to_url"
    return intent.next_action.redirect_to_url.url


def press(url: str, decision: str) -> httpx.Response:
    """Press a button of the test authorization page; returns the 303 (not followed)."""
    response = httpx.post(url, data={"decision": decision}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response


def outcome(response: httpx.Response) -> dict[str, str]:
    """The query parameters the buyer comes back to the merchant with."""
    location = response.headers["location"]
    return {key: values[-1] for key, values in parse_qs(urlsplit(location).query).items()}


def buttons(html: str) -> list[str]:
    return [label.strip() for label in re.findall(r"<button[^>]*>([^<]+)</button>", html)]
