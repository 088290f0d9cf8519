"""Cards in the Payment Element, in a real browser against `kassa demo`: typing a test card and
paying, Stripe's messages for invalid input, a decline followed by Amazon Pay in the same Element,
3D Secure by redirect and in a modal, `redirect: 'if_required'`, a purchase by keyboard alone, and
the merchant's page never seeing the card number."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from browser_harness import client_secret, open_checkout, pay_and_decide, payment_frame

VISA = "4242424242424242"
DECLINED = "4000000000000002"
THREE_D_SECURE = "4000002760003184"
FUTURE = "12 / 34"
FAILED = "Payment failed. Please try another payment method."


def returned_with(page) -> dict[str, str]:
    return {key: values[-1] for key, values in parse_qs(urlsplit(page.url).query).items()}


def choose_card(frame, expect):
    frame.get_by_role("radio", name="Card").check()
    expect(frame.get_by_label("Card number")).to_be_visible()


def fill_card(frame, number=VISA, expiry=FUTURE, cvc="123", postal="10001"):
    """Types the card as a buyer does (key by key, so that the fields format as they go)."""
    frame.get_by_label("Card number").press_sequentially(number)
    frame.get_by_label("Expiration date").press_sequentially(expiry.replace(" / ", ""))
    frame.get_by_label("Security code").press_sequentially(cvc)
    if postal is not None:
        frame.get_by_label("ZIP").press_sequentially(postal)


def card_checkout(page, demo, expect):
    frame = open_checkout(page, demo)
    choose_card(frame, expect)
    return frame


def field_error(frame, name: str):
    return frame.locator(f"#card-{name}-error")


def test_the_element_offers_card_and_amazon_pay(page, demo, expect):
    frame = open_checkout(page, demo)
    intent = demo.client().v1.payment_intents.retrieve(client_secret(page).split("_secret_")[0])
    assert set(intent.payment_method_types) == {"card", "amazon_pay"}
    expect(frame.get_by_role("radio")).to_have_count(2)
    assert frame.locator("label.method .name").all_inner_texts() == ["Amazon Pay", "Card"]
    expect(frame.get_by_role("radio", name="Amazon Pay")).to_be_checked()
    expect(frame.get_by_label("Card number")).to_be_hidden()  # the fields show with the Card option

    choose_card(frame, expect)
    for label in ("Card number", "Expiration date", "Security code", "Country", "ZIP"):
        expect(frame.get_by_label(label, exact=True)).to_be_visible()
    expect(frame.get_by_label("Expiration date")).to_have_attribute("placeholder", "MM / YY")
    expect(frame.get_by_label("Country")).to_have_value("US")
    # Another country: no ZIP; the UK's postal code.
    frame.get_by_label("Country").select_option("FR")
    expect(frame.get_by_label("ZIP")).to_be_hidden()
    expect(frame.get_by_label("Postal code")).to_be_hidden()
    frame.get_by_label("Country").select_option("GB")
    expect(frame.get_by_label("Postal code")).to_be_visible()


def test_a_card_payment_succeeds(page, demo, expect):
    frame = card_checkout(page, demo, expect)
    number = frame.get_by_label("Card number")
    number.press_sequentially(VISA)
    expect(number).to_have_value("4242 4242 4242 4242")
    expect(frame.locator("#card-brand")).to_have_attribute("data-brand", "visa")
    expect(frame.get_by_label("Expiration date")).to_be_focused()  # a complete number moves on
    frame.get_by_label("Expiration date").press_sequentially("1234")
    expect(frame.get_by_label("Expiration date")).to_have_value("12 / 34")
    frame.get_by_label("Security code").press_sequentially("123")
    frame.get_by_label("ZIP").press_sequentially("10001")

    page.get_by_role("button", name="Pay now").click()
    page.wait_for_url(demo.shop_url + "/complete?**")  # straight back: no page in between
    expect(page.locator("#status-heading")).to_have_text("Payment succeeded")
    back = returned_with(page)
    assert back["redirect_status"] == "succeeded"
    intent = demo.client().v1.payment_intents.retrieve(back["payment_intent"], params={"expand": ["payment_method"]})
    assert (intent.status, intent.amount_received) == ("succeeded", 1099)
    card = intent.payment_method.card
    assert (intent.payment_method.type, card.brand, card.last4, card.exp_month, card.exp_year) == (
        "card", "visa", "4242", 12, 2034)
    assert intent.payment_method.billing_details.address.postal_code == "10001"
    assert intent.payment_method.billing_details.address.country == "US"


def test_brands_and_grouping_as_typed(page, demo, expect):
    frame = card_checkout(page, demo, expect)
    number = frame.get_by_label("Card number")
    cases = [
        ("4242424242424242", "4242 4242 4242 4242", "visa"),
        ("5555555555554444", "5555 5555 5555 4444", "mastercard"),
        ("2223003122003222", "2223 0031 2200 3222", "mastercard"),
        ("378282246310005", "3782 822463 10005", "amex"),
        ("6011111111111117", "6011 1111 1111 1117", "discover"),
        ("36227206271667", "3622 720627 1667", "diners"),
        ("3056930009020004", "3056 9300 0902 0004", "diners"),
        ("3566002020360505", "3566 0020 2036 0505", "jcb"),
        ("6205500000000000004", "6205 5000 0000 0000 004", "unionpay"),
    ]
    for typed, shown, brand in cases:
        number.fill("")
        number.press_sequentially(typed)
        expect(number).to_have_value(shown)
        expect(frame.locator("#card-brand")).to_have_attribute("data-brand", brand)
        expect(frame.locator("#card-brand-name")).not_to_have_text("")
    number.fill("")
    number.press_sequentially("42424242424242429999")  # more digits than a Visa has
    expect(number).to_have_value("4242 4242 4242 4242")
    # An American Express security code has four digits; three is incomplete.
    number.fill("")
    number.press_sequentially("378282246310005")
    frame.get_by_label("Security code").press_sequentially("123")
    frame.get_by_label("Security code").blur()
    expect(field_error(frame, "cvc")).to_have_text("Your card's security code is incomplete.")
    frame.get_by_label("Security code").press_sequentially("4")
    expect(field_error(frame, "cvc")).to_have_text("")


def test_invalid_input_shows_stripes_messages_under_the_fields(page, demo, expect):
    frame = card_checkout(page, demo, expect)
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    number = frame.get_by_label("Card number")

    number.press_sequentially("4242 4242")
    expect(field_error(frame, "number")).to_have_text("")  # not while typing
    frame.get_by_label("Security code").focus()
    expect(field_error(frame, "number")).to_have_text("Your card number is incomplete.")
    expect(number).to_have_attribute("aria-invalid", "true")
    assert "card-number-error" in number.get_attribute("aria-describedby")

    number.fill("")
    number.press_sequentially("4242424242424241")  # fails the Luhn check: said at once
    expect(field_error(frame, "number")).to_have_text("Your card number is invalid.")

    expiry = frame.get_by_label("Expiration date")
    expiry.press_sequentially("1220")
    expect(expiry).to_have_value("12 / 20")
    expect(field_error(frame, "expiry")).to_have_text("Your card's expiration year is in the past.")
    expiry.fill("")
    expiry.press_sequentially("3")
    expect(expiry).to_have_value("03 / ")  # a month that can only be 03
    expiry.blur()
    expect(field_error(frame, "expiry")).to_have_text("Your card's expiration date is incomplete.")

    cvc = frame.get_by_label("Security code")
    cvc.press_sequentially("12")
    frame.get_by_label("ZIP").press_sequentially("123")
    expect(field_error(frame, "cvc")).to_have_text("Your card's security code is incomplete.")
    frame.get_by_label("Country").focus()
    expect(field_error(frame, "postal")).to_have_text("Your ZIP is incomplete.")

    # Pay now with all of this: nothing is sent, the buyer is on the first field in error.
    page.get_by_role("button", name="Pay now").click()
    expect(page.locator("#payment-message")).to_have_text("Your card number is invalid.")
    expect(number).to_be_focused()
    assert not [url for url in requests if "/v1/payment_methods" in url or url.endswith("/confirm")]
    assert page.url.startswith(demo.shop_url + "/")  # still on the checkout

    # Fixing the fields clears their messages.
    number.fill("")
    number.press_sequentially(VISA)
    expect(field_error(frame, "number")).to_have_text("")
    expect(number).to_have_attribute("aria-invalid", "false")


def test_change_events_say_when_the_card_is_complete(page, demo, merchant_site, expect):
    secret = checkout_intent(demo)
    merchant_page(page, demo, merchant_site, secret)
    frame = payment_frame(page)
    choose_card(frame, expect)
    page.wait_for_function("window.changes.length > 0")
    assert page.evaluate("window.changes.at(-1)") == {
        "elementType": "payment", "complete": False, "empty": True, "collapsed": False, "value": {"type": "card"}}
    fill_card(frame)
    page.wait_for_function("window.changes.at(-1).complete")
    assert page.evaluate("window.changes.at(-1)") == {
        "elementType": "payment", "complete": True, "empty": False, "collapsed": False, "value": {"type": "card"}}
    frame.get_by_role("radio", name="Amazon Pay").check()
    page.wait_for_function("window.changes.at(-1).value.type === 'amazon_pay'")
    assert page.evaluate("window.changes.at(-1).complete") is True
    assert page.evaluate("elements.submit()") == {"selectedPaymentMethod": "amazon_pay"}  # as Stripe.js answers


def test_a_decline_then_amazon_pay_in_the_same_element(page, demo, expect):
    frame = card_checkout(page, demo, expect)
    secret = client_secret(page)
    fill_card(frame, DECLINED)
    page.get_by_role("button", name="Pay now").click()

    expect(frame.locator("#errors")).to_have_text("Your card was declined.")
    expect(page.locator("#payment-message")).to_have_text("Your card was declined.")
    assert page.url.startswith(demo.shop_url + "/") and "/complete" not in page.url
    intent = demo.client().v1.payment_intents.retrieve(secret.split("_secret_")[0])
    assert intent.status == "requires_payment_method"
    assert (intent.last_payment_error.code, intent.last_payment_error.decline_code) == ("card_declined",
                                                                                     "generic_decline")

    frame.get_by_role("radio", name="Amazon Pay").check()
    expect(frame.get_by_label("Card number")).to_be_hidden()
    pay_and_decide(page, demo, "Authorize test payment")
    expect(page.locator("#status-heading")).to_have_text("Payment succeeded")
    back = returned_with(page)
    assert secret.startswith(back["payment_intent"] + "_secret_")  # the same order
    intent = demo.client().v1.payment_intents.retrieve(back["payment_intent"], params={"expand": ["payment_method"]})
    assert (intent.status, intent.payment_method.type) == ("succeeded", "amazon_pay")


def test_after_an_amazon_pay_decline_the_card_is_offered(page, demo, expect):
    open_checkout(page, demo)
    pay_and_decide(page, demo, "Fail test payment")
    expect(page.locator("#status-heading")).to_have_text(FAILED)
    page.get_by_role("link", name="Try again").click()
    frame = payment_frame(page)
    page.wait_for_selector("#submit:enabled")
    expect(frame.locator("#errors")).to_contain_text("try again or use another payment method")
    choose_card(frame, expect)
    fill_card(frame)
    page.get_by_role("button", name="Pay now").click()
    page.wait_for_url(demo.shop_url + "/complete?**")
    expect(page.locator("#status-heading")).to_have_text("Payment succeeded")


def authenticate_by_redirect(page, demo, expect, button: str):
    frame = card_checkout(page, demo, expect)
    secret = client_secret(page)
    fill_card(frame, THREE_D_SECURE)
    page.get_by_role("button", name="Pay now").click()
    page.wait_for_url(demo.kassa_url + "/**")  # kassa's test authentication page
    expect(page.get_by_text("4242")).to_have_count(0)
    expect(page.get_by_text("3184").first).to_be_visible()  # the card's last4
    page.get_by_role("button", name=button).click()
    page.wait_for_url(demo.shop_url + "/complete?**")
    return secret


def test_3d_secure_completed_by_redirect(page, demo, expect):
    secret = authenticate_by_redirect(page, demo, expect, "Complete authentication")
    expect(page.locator("#status-heading")).to_have_text("Payment succeeded")
    back = returned_with(page)
    assert back["redirect_status"] == "succeeded"
    assert secret.startswith(back["payment_intent"] + "_secret_")
    assert demo.client().v1.payment_intents.retrieve(back["payment_intent"]).status == "succeeded"


def test_3d_secure_failed_by_redirect(page, demo, expect):
    authenticate_by_redirect(page, demo, expect, "Fail authentication")
    expect(page.locator("#status-heading")).to_have_text(FAILED)
    back = returned_with(page)
    assert back["redirect_status"] == "failed"
    intent = demo.client().v1.payment_intents.retrieve(back["payment_intent"])
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error.code == "payment_intent_authentication_failure"

    page.get_by_role("link", name="Try again").click()
    frame = payment_frame(page)
    expect(frame.locator("#errors")).to_contain_text("try again or use another payment method")


# ---- on a merchant page of the test's own, calling confirmPayment itself ----------------------

def checkout_intent(demo) -> str:
    return demo.client().v1.payment_intents.create(params={
        "amount": 2500, "currency": "usd", "automatic_payment_methods": {"enabled": True}}).client_secret


def merchant_page(page, demo, site, secret: str) -> str:
    """A merchant's page with the Payment Element; records every message and change it receives."""
    html = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Merchant card page</title>
<script src="{demo.kassa_url}/v3/kassa.js"></script></head>
<body><div id="payment-element"></div><script>
window.messages = [];
addEventListener('message', (event) => window.messages.push(JSON.stringify(event.data)));
window.changes = [];
const stripe = Stripe({json.dumps(demo.publishable_key)});
const elements = stripe.elements({{clientSecret: {json.dumps(secret)}}});
const element = elements.create('payment');
element.on('change', (event) => window.changes.push(event));
window.loaded = new Promise((resolve) => element.on('ready', () => resolve('ready')));
element.mount('#payment-element');
window.confirm = (confirmParams, redirect) => stripe.confirmPayment({{elements, confirmParams, redirect}});
window.handleNextAction = (clientSecret) => stripe.handleNextAction({{clientSecret}});
</script></body></html>"""
    url = site.publish(f"/cards-{secret[-12:]}", html)
    page.goto(url)
    assert page.evaluate("window.loaded") == "ready"
    return url


def test_if_required_resolves_with_the_intent_for_a_card(page, demo, merchant_site, expect):
    secret = checkout_intent(demo)
    url = merchant_page(page, demo, merchant_site, secret)
    frame = payment_frame(page)
    choose_card(frame, expect)
    fill_card(frame)
    result = page.evaluate("returnUrl => window.confirm({return_url: returnUrl}, 'if_required')",
                           demo.shop_url + "/complete")
    assert set(result) == {"paymentIntent"}
    assert (result["paymentIntent"]["id"], result["paymentIntent"]["status"]) == (secret.split("_secret_")[0],
                                                                                  "succeeded")
    assert result["paymentIntent"]["payment_method"].startswith("pm_")
    assert page.url == url


def test_a_decline_resolves_with_the_card_error(page, demo, merchant_site, expect):
    secret = checkout_intent(demo)
    url = merchant_page(page, demo, merchant_site, secret)
    frame = payment_frame(page)
    choose_card(frame, expect)
    fill_card(frame, "4000000000009995")
    error = page.evaluate("returnUrl => window.confirm({return_url: returnUrl})", demo.shop_url + "/complete")["error"]
    assert (error["type"], error["code"], error["decline_code"]) == ("card_error", "card_declined",
                                                                    "insufficient_funds")
    assert error["message"] == "Your card has insufficient funds."
    assert error["payment_intent"]["id"] == secret.split("_secret_")[0]
    assert error["payment_intent"]["status"] == "requires_payment_method"
    expect(frame.locator("#errors")).to_have_text("Your card has insufficient funds.")
    assert page.url == url


def test_a_real_card_number_is_refused_by_the_api_and_shown_in_the_element(page, demo, merchant_site, expect):
    """A number the frame finds valid but the API refuses in test mode (not a test card): the
    API's card_error reaches confirmPayment and the Element, and nothing is confirmed."""
    secret = checkout_intent(demo)
    merchant_page(page, demo, merchant_site, secret)
    frame = payment_frame(page)
    choose_card(frame, expect)
    fill_card(frame, "4111111111111111")  # a valid number, but not one of the test cards
    error = page.evaluate("returnUrl => window.confirm({return_url: returnUrl})", demo.shop_url + "/complete")["error"]
    assert error["type"] == "card_error"
    assert "payment_intent" not in error  # refused before the intent was touched
    shown = frame.locator("#errors").inner_text() + field_error(frame, "number").inner_text()
    assert error["message"] in shown
    assert "4111" not in json.dumps(error)


def test_3d_secure_in_a_modal_with_if_required(page, demo, merchant_site, expect):
    for button, expected in (("Fail authentication", "error"), ("Complete authentication", "paymentIntent")):
        secret = checkout_intent(demo)
        url = merchant_page(page, demo, merchant_site, secret)
        frame = payment_frame(page)
        choose_card(frame, expect)
        fill_card(frame, THREE_D_SECURE)
        page.evaluate("""returnUrl => { window.result = null;
            window.confirm({return_url: returnUrl}, 'if_required').then((r) => { window.result = r; }); }""",
                      demo.shop_url + "/complete")
        dialog = page.get_by_role("dialog", name="Card authentication")
        expect(dialog).to_be_visible()
        challenge = page.frame_locator("[data-kassa-authentication] iframe")
        challenge.get_by_role("button", name=button).click()
        page.wait_for_function("window.result !== null", timeout=10_000)
        result = page.evaluate("window.result")
        expect(dialog).to_have_count(0)
        assert page.url == url
        assert set(result) == {expected}
        if expected == "error":
            assert result["error"]["code"] == "payment_intent_authentication_failure"
            assert result["error"]["payment_intent"]["status"] == "requires_payment_method"
            expect(frame.locator("#errors")).not_to_have_text("")
        else:
            assert result["paymentIntent"]["status"] == "succeeded"


def test_handle_next_action_opens_the_authentication_modal(page, demo, merchant_site, expect):
    secret = checkout_intent(demo)
    intent_id = secret.split("_secret_")[0]
    merchant_page(page, demo, merchant_site, secret)
    # The merchant's server confirmed without a return_url: the action is kassa.js's to handle.
    confirmed = demo.client().v1.payment_intents.confirm(intent_id, params={"payment_method": "pm_card_authenticationRequired"})
    assert (confirmed.status, confirmed.next_action.type) == ("requires_action", "use_stripe_sdk")
    page.evaluate("secret => { window.result = null; window.handleNextAction(secret).then((r) => { window.result = r; }); }",
                  secret)
    challenge = page.frame_locator("[data-kassa-authentication] iframe")
    expect(challenge.get_by_text("3184").first).to_be_visible()
    challenge.get_by_role("button", name="Complete authentication").click()
    page.wait_for_function("window.result !== null")
    result = page.evaluate("window.result")
    assert set(result) == {"paymentIntent"}
    assert (result["paymentIntent"]["id"], result["paymentIntent"]["status"]) == (intent_id, "succeeded")
    expect(page.get_by_role("dialog")).to_have_count(0)


def test_closing_the_authentication_modal_gives_up(page, demo, merchant_site, expect):
    secret = checkout_intent(demo)
    merchant_page(page, demo, merchant_site, secret)
    frame = payment_frame(page)
    choose_card(frame, expect)
    fill_card(frame, THREE_D_SECURE)
    page.evaluate("""returnUrl => { window.result = null;
        window.confirm({return_url: returnUrl}, 'if_required').then((r) => { window.result = r; }); }""",
                  demo.shop_url + "/complete")
    expect(page.frame_locator("[data-kassa-authentication] iframe").get_by_role(
        "button", name="Complete authentication")).to_be_visible()
    page.get_by_role("button", name="Close authentication").click()
    page.wait_for_function("window.result !== null")
    error = page.evaluate("window.result")["error"]
    assert error["code"] == "payment_intent_authentication_failure"
    assert error["payment_intent"]["status"] == "requires_action"
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(frame.locator("#errors")).to_have_text(error["message"])


def test_the_merchant_page_never_sees_the_card_number(page, demo, merchant_site, expect):
    secret = checkout_intent(demo)
    top_requests = []
    frame_requests = []

    def record(request):
        entry = (request.url, request.post_data or "")
        (top_requests if request.frame == page.main_frame else frame_requests).append(entry)

    page.on("request", record)
    merchant_page(page, demo, merchant_site, secret)
    frame = payment_frame(page)
    choose_card(frame, expect)
    fill_card(frame, VISA, cvc="987")
    result = page.evaluate("returnUrl => window.confirm({return_url: returnUrl}, 'if_required')",
                           demo.shop_url + "/complete")
    assert result["paymentIntent"]["status"] == "succeeded"

    secrets = (VISA, "4242 4242 4242 4242", "987")
    top = page.evaluate("""() => document.documentElement.outerHTML + JSON.stringify(window.messages) +
        JSON.stringify(window.changes) + JSON.stringify(localStorage) + JSON.stringify(sessionStorage)""")
    for text in secrets:
        assert text not in top
        for url, body in top_requests:
            assert text not in url and text not in body
    assert any(url.endswith("/confirm") for url, _ in top_requests)
    assert not any("/v1/payment_methods" in url for url, _ in top_requests)
    # The number went once, in the body of the frame's own request to kassa, never in a URL.
    created = [(url, body) for url, body in frame_requests if url.endswith("/v1/payment_methods")]
    assert len(created) == 1 and f"card%5Bnumber%5D={VISA}" in created[0][1]
    assert all(VISA not in url for url, _ in frame_requests)
    assert frame.evaluate("localStorage.length + sessionStorage.length") == 0


# ---- keyboard ------------------------------------------------------------------------------------

def tab_until(page, check, limit: int = 12) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if check():
            return
    raise AssertionError(f"focus never got there; it is on {page.evaluate('document.activeElement.outerHTML')}")


def test_whole_card_purchase_by_keyboard(page, demo, expect):
    frame = open_checkout(page, demo)
    page.evaluate("() => document.activeElement.blur()")
    active = "document.activeElement"

    tab_until(page, lambda: frame.evaluate(f"document.hasFocus() && {active}.name === 'method'"))
    assert frame.evaluate(f"{active}.value") == "amazon_pay"
    page.keyboard.press("ArrowRight")  # the radio group: arrows choose
    assert frame.evaluate(f"[{active}.value, {active}.checked]") == ["card", True]
    expect(frame.get_by_label("Card number")).to_be_visible()

    page.keyboard.press("Tab")
    assert frame.evaluate(f"{active}.id") == "card-number"
    page.keyboard.type(VISA)  # a complete number moves on to the expiry
    assert frame.evaluate(f"{active}.id") == "card-expiry"
    page.keyboard.type("1234")
    assert frame.evaluate(f"{active}.id") == "card-cvc"
    page.keyboard.type("123")
    page.keyboard.press("Tab")
    assert frame.evaluate(f"{active}.id") == "card-country"
    page.keyboard.press("Tab")
    assert frame.evaluate(f"{active}.id") == "card-postal"
    page.keyboard.type("10001")
    expect(frame.get_by_label("Card number")).to_have_value("4242 4242 4242 4242")

    tab_until(page, lambda: page.evaluate(f"{active}.id") == "submit")
    page.keyboard.press("Enter")
    page.wait_for_url(demo.shop_url + "/complete?**")
    expect(page.locator("#status-heading")).to_have_text("Payment succeeded")
