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
    page.wait_for_function("() => window.lastEmailChange && window.lastEmailChange.complete")
    assert page.evaluate("window.lastEmailChange") == {
        "elementType": "linkAuthentication", "empty": False, "complete": True, "value": {"email": "ada@example.com"}}
    fill_shipping(address_frame, expect)
    page.wait_for_function("() => window.lastAddressChange && window.lastAddressChange.complete")
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


def test_vanilla_page_decline_then_incomplete_fields_are_shown(page, demo, samples, expect):
    email_frame, address_frame, payment = open_vanilla(page, samples)
    # Nothing filled in: confirmPayment stops at the first incomplete Element, shown in its frame.
    page.get_by_role("button", name="Pay now").click()
    page.wait_for_function("() => window.lastError")
    assert page.evaluate("window.lastError") == {
        "type": "validation_error", "code": "incomplete_email", "message": "Your email is incomplete."}
    expect(email_frame.locator("#email-error")).to_have_text("Your email is incomplete.")
    email_frame.get_by_label("Email").fill("grace@example")
    email_frame.get_by_label("Email").blur()
    expect(email_frame.locator("#email-error")).to_have_text("Your email is incomplete.")
    email_frame.get_by_label("Email").fill("grace@example.com")
    page.evaluate("window.lastError = null")
    page.get_by_role("button", name="Pay now").click()
    page.wait_for_function("() => window.lastError")
    assert page.evaluate("window.lastError.type") == "validation_error"
    expect(address_frame.locator("#address-name-error")).to_have_text("This field is incomplete.")
    fill_shipping(address_frame, expect, postal="6270")
    page.evaluate("window.lastError = null")
    page.get_by_role("button", name="Pay now").click()
    page.wait_for_function("() => window.lastError")
    assert page.evaluate("window.lastError") == {
        "type": "validation_error", "code": "invalid_postal_code", "message": "Your ZIP is invalid."}
    address_frame.get_by_label("ZIP").fill("62701")

    page.get_by_role("button", name="Pay now").click()
    intent_id = decide(page, demo, samples, "Fail test payment")
    expect(page.locator("#status")).to_have_text("Payment failed, please try again")
    intent = demo.client().v1.payment_intents.retrieve(intent_id)
    assert intent.status == "requires_payment_method"
    # What was sent with the confirmation stays on the intent after the decline.
    assert intent.receipt_email == "grace@example.com"
    assert intent.shipping.address.postal_code == "62701"


def test_address_layout_follows_the_country(page, samples, expect):
    _, address_frame, _ = open_vanilla(page, samples)
    labels = "() => [...document.querySelectorAll('#fields label')].map((label) => label.textContent)"
    assert address_frame.evaluate(labels) == ["Full name", "Country or region", "Address line 1",
                                              "Address line 2 (optional)", "City", "State", "ZIP",
                                              "Phone number (optional)"]
    expected = {
        "CA": ["City", "Province", "Postal code"],
        "GB": ["Town or city", "Postcode"],
        "DE": ["Postal code", "City"],
        "FR": ["Postal code", "City"],
        "JP": ["Postal code", "Prefecture", "City", "Address line 1"],
    }
    for country, order in expected.items():
        address_frame.get_by_label("Country or region").select_option(country)
        shown = [label for label in address_frame.evaluate(labels)
                 if label in {"City", "Town or city", "Province", "Prefecture", "Postal code", "Postcode", "Address line 1"}]
        if country == "JP":
            assert shown == order, country
        else:
            assert shown == ["Address line 1", *order], country
    address_frame.get_by_label("Country or region").select_option("GB")
    address_frame.get_by_label("Full name").fill("Alan Turing")
    address_frame.get_by_label("Address line 1").fill("10 Downing Street")
    address_frame.get_by_label("Town or city").fill("London")
    address_frame.get_by_label("Postcode").fill("sw1a 2aa")
    address_frame.get_by_label("Phone number").fill("+44 20 7946 0000")
    value = page.evaluate("elements.getElement('address', {mode: 'shipping'}).getValue()")
    assert value == {"complete": True, "isNewAddress": True, "value": {
        "name": "Alan Turing", "phone": "+44 20 7946 0000", "address": {
            "line1": "10 Downing Street", "line2": None, "city": "London", "state": "", "postal_code": "SW1A 2AA",
            "country": "GB"}}}


def test_unknown_and_invalid_element_types(page, samples):
    open_vanilla(page, samples)
    # An Element of Stripe.js that kassa does not have never throws; a name Stripe.js does not know
    # throws Stripe.js's IntegrationError, as Stripe.js does.
    result = page.evaluate("""() => {
        const card = elements.create('card');
        card.mount('#messaging-element');
        let thrown = null;
        try { elements.create('notAnElement'); } catch (error) { thrown = {name: error.name, message: error.message}; }
        return new Promise((resolve) => card.on('loaderror', (event) => resolve({event, thrown})));
    }""")
    assert result["event"]["elementType"] == "card"
    assert result["event"]["error"]["type"] == "invalid_request_error"
    assert result["thrown"]["name"] == "IntegrationError"
    assert result["thrown"]["message"].startswith("A valid Element name must be provided.")
    assert result["thrown"]["message"].endswith("you passed: notAnElement.")


def open_deferred(page, samples):
    page.goto(samples.url + "/deferred")
    page.wait_for_selector("#submit:enabled")
    return frame_of(page, "#address-element"), frame_of(page, "#payment-element")


def fill_billing(frame, expect):
    frame.get_by_label("Full name").fill("Katherine Johnson")
    frame.get_by_label("Country or region").select_option("CA")
    frame.get_by_label("Address line 1").fill("100 Queen Street")
    frame.get_by_label("City").fill("Ottawa")
    frame.get_by_label("Province").select_option("ON")
    frame.get_by_label("Postal code").fill("k1a 0b1")


def test_deferred_intent_pays_the_updated_amount(page, demo, samples, expect):
    address_frame, payment = open_deferred(page, samples)
    expect(payment.get_by_role("radio", name="Amazon Pay")).to_be_checked()
    expect(payment.get_by_role("radio", name="Card")).to_be_visible()
    fill_billing(address_frame, expect)
    page.select_option("#quantity", "2")
    expect(page.locator("#total")).to_have_text("$21.98")
    page.get_by_role("button", name="Pay now").click()
    intent_id = decide(page, demo, samples, "Authorize test payment")
    expect(page.locator("#status")).to_have_text("Payment succeeded")

    client = demo.client()
    intent = client.v1.payment_intents.retrieve(intent_id)
    assert (intent.status, intent.amount, intent.currency) == ("succeeded", 2198, "usd")
    assert intent.shipping is None and intent.receipt_email is None
    method = client.v1.payment_methods.retrieve(intent.payment_method)
    assert method.type == "amazon_pay"
    assert method.billing_details.name == "Katherine Johnson"
    assert (method.billing_details.address.line1, method.billing_details.address.city,
            method.billing_details.address.state, method.billing_details.address.postal_code,
            method.billing_details.address.country) == ("100 Queen Street", "Ottawa", "ON", "K1A 0B1", "CA")


def test_deferred_intent_decline_by_card(page, demo, samples, expect):
    address_frame, payment = open_deferred(page, samples)
    fill_billing(address_frame, expect)
    payment.get_by_role("radio", name="Card").check()
    # The billing Address Element has the country and postal code: the card asks for neither.
    expect(payment.locator("#card-country")).to_be_hidden()
    expect(payment.locator("#card-postal")).to_be_hidden()
    payment.get_by_label("Card number").fill("4000000000000002")
    payment.get_by_label("Expiration date").fill("12 / 34")
    payment.get_by_label("Security code").fill("123")
    page.get_by_role("button", name="Pay now").click()
    page.wait_for_function("() => window.lastError")
    error = page.evaluate("window.lastError")
    assert (error["type"], error["code"], error["decline_code"]) == ("card_error", "card_declined", "generic_decline")
    expect(page.locator("#payment-message")).to_have_text(error["message"])
    method = demo.client().v1.payment_methods.retrieve(error["payment_method"]["id"])
    assert method.billing_details.name == "Katherine Johnson"
    assert method.billing_details.address.country == "CA"
    assert method.billing_details.address.postal_code == "K1A 0B1"


def test_deferred_intent_mismatches_give_errors(page, demo, samples, expect):
    address_frame, _ = open_deferred(page, samples)
    fill_billing(address_frame, expect)
    # Without elements.submit() first: Stripe.js's IntegrationError.
    secret = demo.client().v1.payment_intents.create(params={"amount": 1099, "currency": "usd"}).client_secret
    thrown = page.evaluate("""secret => sample.stripe.confirmPayment({elements: sample.elements, clientSecret: secret,
            confirmParams: {return_url: location.origin + '/complete'}}).then(() => null, (error) => ({
            name: error.name, message: error.message}))""", secret)
    assert thrown["name"] == "IntegrationError"
    assert thrown["message"].startswith("elements.submit() must be called before stripe.confirmPayment()")

    # The page shows 3 shirts; the server creates the intent for 1: the amounts differ.
    page.select_option("#quantity", "3")
    page.evaluate("window.serverQuantity = 1")
    page.get_by_role("button", name="Pay now").click()
    page.wait_for_function("() => window.lastError")
    error = page.evaluate("window.lastError")
    assert (error["type"], error["param"]) == ("invalid_request_error", "amount")
    assert "amount (1099)" in error["message"] and "(3297)" in error["message"]
    intent = demo.client().v1.payment_intents.retrieve(error["payment_intent"]["id"])
    assert intent.status == "requires_payment_method"  # never confirmed

    # A currency or capture method of its own: the same kind of error.
    for params, name in (({"amount": 3297, "currency": "eur"}, "currency"),
                         ({"amount": 3297, "currency": "usd", "capture_method": "manual"}, "capture_method")):
        other = demo.client().v1.payment_intents.create(params=params).client_secret
        result = page.evaluate("""async (secret) => {
            const {error: submitError} = await sample.elements.submit();
            if (submitError) return {submitError};
            return sample.stripe.confirmPayment({elements: sample.elements, clientSecret: secret,
                                                 confirmParams: {return_url: location.origin + '/complete'}});
        }""", other)
        assert result["error"]["param"] == name, result


def test_deferred_options_are_checked(page, samples):
    open_deferred(page, samples)
    errors = page.evaluate("""() => {
        const attempts = [{mode: 'payment', currency: 'usd'}, {mode: 'payment', amount: 100},
                          {mode: 'donation', amount: 1, currency: 'usd'},
                          {mode: 'payment', amount: 1, currency: 'usd', captureMethod: 'later'}];
        return attempts.map((options) => { try { Stripe(document.body.dataset.publishableKey).elements(options); return null; }
                                           catch (error) { return error.name; } });
    }""")
    assert errors == ["IntegrationError"] * 4


def open_express(page, samples):
    page.goto(samples.url + "/express")
    page.wait_for_function("() => window.sample.events.some((event) => event.type === 'ready')")
    return frame_of(page, "#express-checkout-element")


def test_express_checkout_amazon_pay_approve(page, demo, samples, expect):
    frame = open_express(page, samples)
    assert page.evaluate("sample.events[0]") == {"type": "ready", "availablePaymentMethods": {
        "amazonPay": True, "applePay": False, "googlePay": False, "link": False, "paypal": False, "klarna": False}}
    button = frame.get_by_role("button", name="Pay with Amazon Pay")
    expect(button).to_have_css("height", "48px")
    # Only Amazon Pay: kassa has no card wallet.
    assert frame.locator("button").count() == 1
    button.click()
    intent_id = decide(page, demo, samples, "Authorize test payment")
    expect(page.locator("#status")).to_have_text("Payment succeeded")

    client = demo.client()
    intent = client.v1.payment_intents.retrieve(intent_id)
    assert (intent.status, intent.amount) == ("succeeded", 1099)
    assert intent.receipt_email == "buyer@example.com"
    assert (intent.shipping.name, intent.shipping.address.city, intent.shipping.address.country) == (
        "Mary Jackson", "Paris", "FR")
    method = client.v1.payment_methods.retrieve(intent.payment_method)
    assert method.type == "amazon_pay"
    assert (method.billing_details.name, method.billing_details.email) == ("Mary Jackson", "buyer@example.com")


def test_express_checkout_decline_and_events(page, demo, samples, expect):
    frame = open_express(page, samples)
    # The click handler rejects: 'cancel', no confirm, the button is usable again.
    page.evaluate("window.rejectClick = true")
    frame.get_by_role("button", name="Pay with Amazon Pay").click()
    page.wait_for_function("() => window.sample.events.some((event) => event.type === 'cancel')")
    assert [event["type"] for event in page.evaluate("sample.events")] == ["ready", "click", "cancel"]
    expect(frame.get_by_role("button", name="Pay with Amazon Pay")).to_be_enabled()

    page.evaluate("window.rejectClick = false")
    frame.get_by_role("button", name="Pay with Amazon Pay").click()
    intent_id = decide(page, demo, samples, "Fail test payment")
    expect(page.locator("#status")).to_have_text("Payment failed, please try again")
    intent = demo.client().v1.payment_intents.retrieve(intent_id)
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error is not None


def test_express_checkout_confirms_only_the_amount_shown(page, demo, samples, expect):
    frame = open_express(page, samples)
    page.evaluate("window.serverQuantity = 2")  # the server would charge twice what the buyer saw
    frame.get_by_role("button", name="Pay with Amazon Pay").click()
    page.wait_for_function("() => window.lastError")
    error = page.evaluate("window.lastError")
    assert (error["type"], error["param"]) == ("invalid_request_error", "amount")
    assert demo.client().v1.payment_intents.retrieve(error["payment_intent"]["id"]).status == "requires_payment_method"
    assert [event["type"] for event in page.evaluate("sample.events")] == ["ready", "click", "confirm"]
    # paymentFailed: the button says so and can be pressed again.
    expect(frame.locator("#message")).not_to_be_empty()
    expect(frame.get_by_role("button", name="Pay with Amazon Pay")).to_be_enabled()


def test_demo_shop_express_checkout_button_above_the_payment_element(page, demo, expect):
    page.goto(demo.shop_url + "/")
    page.wait_for_selector("#submit:enabled")
    express = frame_of(page, "#express-checkout-element")
    button = express.get_by_role("button", name="Pay with Amazon Pay")
    expect(button).to_be_visible()
    express_box = page.locator("#express-checkout-element iframe").bounding_box()
    payment_box = page.locator("#payment-element iframe").bounding_box()
    assert express_box["y"] + express_box["height"] <= payment_box["y"]
    secret = page.get_attribute("#payment-form", "data-client-secret")
    button.click()
    page.wait_for_url(demo.kassa_url + "/amazon_pay/test/**")
    page.get_by_role("button", name="Authorize test payment").click()
    page.wait_for_url(demo.shop_url + "/complete?**")
    expect(page.locator("#status-heading")).to_have_text("Payment succeeded")
    intent = demo.client().v1.payment_intents.retrieve(returned_intent(page))
    assert secret.startswith(intent.id + "_secret_")
    assert intent.status == "succeeded"
    assert demo.client().v1.payment_methods.retrieve(intent.payment_method).type == "amazon_pay"


def test_new_frames_headers_and_origin_checks(page, demo, samples, expect):
    import httpx

    for name in ("link-authentication", "address", "express-checkout"):
        frame = httpx.get(f"{demo.kassa_url}/v3/elements/{name}")
        policy = frame.headers["content-security-policy"]
        assert frame.status_code == 200
        assert "script-src 'self'" in policy and "default-src 'none'" in policy and "unsafe-inline" not in policy
        assert "<script>" not in frame.text  # no inline script: only kassa's files
    open_vanilla(page, samples)
    # A message with the right tag and id but not from the frame changes nothing on the page.
    page.evaluate("""() => { const frame = document.querySelector('#address-element iframe');
        const id = frame.name.replace('kassa-address-', '');
        window.lastAddressChange = null;
        window.postMessage({tag: 'kassa:address-element', id, type: 'change',
                            event: {complete: true, value: {name: 'forged'}}}, '*'); }""")
    page.wait_for_timeout(200)
    assert page.evaluate("window.lastAddressChange") is None
    # A frame told that its parent is another origin neither reports to nor obeys this page.
    page.evaluate("""([base, key]) => {
        window.got = [];
        addEventListener('message', (event) => window.got.push(event.data));
        const settings = new URLSearchParams({key, origin: 'http://127.0.0.1:9', id: 'x',
                                              options: JSON.stringify({mode: 'shipping'})});
        const frame = document.createElement('iframe');
        frame.id = 'lone';
        frame.src = `${base}/v3/elements/address#${settings}`;
        document.body.append(frame);
    }""", [demo.kassa_url, demo.publishable_key])
    lone = page.wait_for_selector("#lone").content_frame()
    expect(lone.get_by_label("Full name")).to_be_visible()
    page.evaluate("""() => document.querySelector('#lone').contentWindow.postMessage(
        {tag: 'kassa:address-element', id: 'x', type: 'value', requestId: 1}, '*')""")
    page.wait_for_timeout(300)
    assert page.evaluate("window.got") == []
