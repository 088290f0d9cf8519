"""Stripe-style integrations of kassa's other Elements, in Chromium against `kassa demo` and the
sample pages of examples/samples/ (their server side through the official stripe package): the
Payment Element with the Link Authentication and Address Elements, an Element kassa does not have
beside them, deferred intents (mode, update, submit, confirmPayment with a clientSecret) and their
mismatches, and the Express Checkout Element with Amazon Pay. Each pays on kassa's Amazon Pay test
page, approved or declined, and the intent's shipping, receipt_email and the PaymentMethod's
billing_details are read back through the API."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from samples_harness import start_samples


@pytest.fixture(scope="module")
def samples(demo, tmp_path_factory):
    running = start_samples(demo, tmp_path_factory.mktemp("samples"))
    yield running
    running.stop()


def frame_of(page, selector: str):
    return page.wait_for_selector(f"{selector} iframe").content_frame()


def returned_intent(page) -> str:
    return parse_qs(urlsplit(page.url).query)["payment_intent"][0]


def decide(page, demo, samples, decision: str) -> str:
    """On kassa's Amazon Pay test page: press `decision`; back on the sample's return page."""
    page.wait_for_url(demo.kassa_url + "/amazon_pay/test/**")
    page.get_by_role("button", name=decision).click()
    page.wait_for_url(samples.url + "/complete?**")
    return returned_intent(page)


def fill_shipping(frame, expect, *, name="Ada Lovelace", line1="1 Main Street", city="Springfield", state="IL",
                  postal="62701", phone="+1 217 555 0100"):
    frame.get_by_label("Full name").fill(name)
    expect(frame.get_by_label("Country or region")).to_have_value("US")
    frame.get_by_label("Address line 1").fill(line1)
    frame.get_by_label("City").fill(city)
    frame.get_by_label("State").select_option(state)
    frame.get_by_label("ZIP").fill(postal)
    frame.get_by_label("Phone number").fill(phone)


def open_vanilla(page, samples):
    page.goto(samples.url + "/")
    page.wait_for_selector("#submit:enabled")
    return frame_of(page, "#link-authentication-element"), frame_of(page, "#address-element"), frame_of(page, "#payment-element")


def test_vanilla_page_pays_with_email_and_shipping(page, demo, samples, expect):
    email_frame, address_frame, payment = open_vanilla(page, samples)
    # The Element kassa does not have answered with a load error; the others mounted.
    error = page.evaluate("window.messagingError")
    assert error["elementType"] == "paymentMethodMessaging"
    assert error["error"]["type"] == "invalid_request_error"
    assert "paymentMethodMessaging" in error["error"]["message"]
    assert page.locator("#messaging-element iframe").count() == 0

    email_frame.get_by_label("Email").fill("ada@example.com")
    page.wait_for_function("window.lastEmailChange && window.lastEmailChange.complete")
    assert page.evaluate("window.lastEmailChange") == {
        "elementType": "linkAuthentication", "empty": False, "complete": True, "value": {"email": "ada@example.com"}}
    fill_shipping(address_frame, expect)
    page.wait_for_function("window.lastAddressChange && window.lastAddressChange.complete")
    change = page.evaluate("window.lastAddressChange")
    assert (change["elementType"], change["elementMode"], change["empty"]) == ("address", "shipping", False)
    assert change["value"] == {"name": "Ada Lovelace", "phone": "+1 217 555 0100", "address": {
        "line1": "1 Main Street", "line2": None, "city": "Springfield", "state": "IL", "postal_code": "62701",
        "country": "US"}}
    expect(payment.get_by_role("radio", name="Amazon Pay")).to_be_checked()

    page.get_by_role("button", name="Pay now").click()
    intent_id = decide(page, demo, samples, "Authorize test payment")
    expect(page.locator("#status")).to_have_text("Payment succeeded")

    client = demo.client()
    intent = client.v1.payment_intents.retrieve(intent_id)
    assert intent.status == "succeeded"
    assert intent.receipt_email == "ada@example.com"
    assert intent.shipping.name == "Ada Lovelace"
    assert intent.shipping.phone == "+1 217 555 0100"
    assert (intent.shipping.address.line1, intent.shipping.address.city, intent.shipping.address.state,
            intent.shipping.address.postal_code, intent.shipping.address.country) == (
        "1 Main Street", "Springfield", "IL", "62701", "US")
    method = client.v1.payment_methods.retrieve(intent.payment_method)
    assert method.type == "amazon_pay"
    assert method.billing_details.email == "ada@example.com"
