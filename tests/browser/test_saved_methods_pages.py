"""Saving a payment method in a real browser against `kassa demo`: the demo shop's returning-buyer
page mounts the Payment Element in setup mode (a SetupIntent), saves a card through 3D Secure or
Amazon Pay through kassa's setup page with confirmSetup, then buys again in one click (an
off-session payment); and setup mode from Elements made with mode 'setup'."""

from __future__ import annotations

from browser_harness import payment_frame
from test_cards import choose_card, fill_card

AUTHENTICATE_ON_SETUP = "4000002500003155"


def open_account(page, demo, expect):
    """A new buyer's account page (a fresh browser context: a new Customer), Element ready."""
    page.goto(demo.shop_url + "/account")
    page.wait_for_selector("#submit:enabled")
    return payment_frame(page)


def buy_again(page, demo, expect, described: str):
    expect(page.locator("#saved-method")).to_have_text(described)
    page.get_by_role("button", name="Buy again in one click").click()
    expect(page.locator("#bought")).to_contain_text("Paid with your saved payment method")
    intent_id = page.locator("#bought").inner_text().split("(")[1].rstrip(").")
    intent = demo.client().v1.payment_intents.retrieve(intent_id)
    assert intent.status == "succeeded" and intent.amount_received == 1099 and intent.customer
    return intent


def test_save_a_card_with_3d_secure_then_buy_in_one_click(page, demo, expect):
    frame = open_account(page, demo, expect)
    choose_card(frame, expect)
    expect(frame.locator("#save-field")).to_be_hidden()  # a setup saves: nothing to choose
    fill_card(frame, AUTHENTICATE_ON_SETUP)
    page.get_by_role("button", name="Save payment method").click()
    page.wait_for_url(demo.kassa_url + "/three_d_secure/test/setup/**")
    expect(page.get_by_text("3155").first).to_be_visible()
    page.get_by_role("button", name="Complete authentication").click()
    page.wait_for_url(demo.shop_url + "/account?**")
    intent = buy_again(page, demo, expect, "Visa ending in 3155")
    method = demo.client().v1.payment_methods.retrieve(intent.payment_method)
    assert method.customer == intent.customer and method.card.last4 == "3155"


def test_save_amazon_pay_then_buy_in_one_click(page, demo, expect):
    frame = open_account(page, demo, expect)
    expect(frame.get_by_role("radio", name="Amazon Pay")).to_be_checked()
    page.get_by_role("button", name="Save payment method").click()
    page.wait_for_url(demo.kassa_url + "/amazon_pay/test/setup/**")
    expect(page.get_by_role("button", name="Fail test setup")).to_be_visible()
    page.get_by_role("button", name="Authorize future payments").click()
    page.wait_for_url(demo.shop_url + "/account?**")
    assert "redirect_status=succeeded" in page.url
    intent = buy_again(page, demo, expect, "Amazon Pay")
    charge = demo.client().v1.charges.retrieve(intent.latest_charge)
    assert charge.payment_method_details.type == "amazon_pay"


def test_amazon_pay_setup_refused_comes_back_unsaved(page, demo, expect):
    open_account(page, demo, expect)
    page.get_by_role("button", name="Save payment method").click()
    page.wait_for_url(demo.kassa_url + "/amazon_pay/test/setup/**")
    page.get_by_role("button", name="Fail test setup").click()
    page.wait_for_url(demo.shop_url + "/account?**")
    assert "redirect_status=failed" in page.url
    expect(page.get_by_role("button", name="Save payment method")).to_be_visible()


def test_setup_mode_elements_and_confirm_setup_with_3d_secure_in_a_modal(page, demo, expect):
    """elements({mode: 'setup', currency}), elements.submit(), then the server's SetupIntent:
    confirmSetup with redirect 'if_required' authenticates over the page and answers setupIntent;
    retrieveSetupIntent reads it."""
    client = demo.client()
    customer = client.v1.customers.create(params={"name": "Modal buyer"})
    setup = client.v1.setup_intents.create(params={"customer": customer.id, "payment_method_types": ["card"]})
    page.goto(demo.shop_url + "/account")  # any page of the shop that loads kassa.js
    page.wait_for_function("typeof Stripe === 'function'")
    page.evaluate("""(key) => {
        document.body.insertAdjacentHTML('beforeend', '<div id="setup-element"></div>');
        window.kassaTest = Stripe(key);
        window.kassaElements = kassaTest.elements({mode: 'setup', currency: 'usd', paymentMethodTypes: ['card']});
        window.kassaElements.create('payment').mount('#setup-element');
    }""", demo.publishable_key)
    frame = page.wait_for_selector("#setup-element iframe").content_frame()
    fill_card(frame, AUTHENTICATE_ON_SETUP)
    page.evaluate("""async (secret) => {
        const submitted = await kassaElements.submit();
        if (submitted.error) throw new Error(submitted.error.message);
        window.kassaResult = kassaTest.confirmSetup({elements: kassaElements, clientSecret: secret,
                                                     redirect: 'if_required'});
    }""", setup.client_secret)
    modal = page.frame_locator("[data-kassa-authentication] iframe")
    modal.get_by_role("button", name="Complete authentication").click()
    result = page.evaluate("async () => { const r = await window.kassaResult; return r.setupIntent || r.error; }")
    assert result["id"] == setup.id and result["status"] == "succeeded"
    read = page.evaluate("async (s) => (await kassaTest.retrieveSetupIntent(s)).setupIntent.status",
                         setup.client_secret)
    assert read == "succeeded"
    assert client.v1.customers.payment_methods.list(customer.id).data[0].card.last4 == "3155"


def test_save_for_future_payments_while_paying(page, demo, expect):
    """The Payment Element offers "Save for future payments" when the page asks for it and the intent
    does not save already; checked, the payment saves its card for the intent's customer."""
    client = demo.client()
    customer = client.v1.customers.create(params={"name": "Saving buyer"})
    intent = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd", "customer": customer.id})
    page.goto(demo.shop_url + "/account")
    page.wait_for_function("typeof Stripe === 'function'")
    page.evaluate("""([key, secret]) => {
        document.body.insertAdjacentHTML('beforeend', '<div id="pay-element"></div>');
        window.kassaTest = Stripe(key);
        window.kassaElements = kassaTest.elements({clientSecret: secret});
        window.kassaElements.create('payment', {savePaymentMethod: true}).mount('#pay-element');
    }""", [demo.publishable_key, intent.client_secret])
    frame = page.wait_for_selector("#pay-element iframe").content_frame()
    choose_card(frame, expect)
    frame.get_by_label("Save for future payments").check()
    fill_card(frame)
    result = page.evaluate("""async () => {
        const r = await kassaTest.confirmPayment({elements: kassaElements, redirect: 'if_required'});
        return r.paymentIntent || r.error; }""")
    assert result["status"] == "succeeded" and result["setup_future_usage"] == "off_session"
    saved = client.v1.customers.payment_methods.list(customer.id).data
    assert [m.id for m in saved] == [result["payment_method"]]
