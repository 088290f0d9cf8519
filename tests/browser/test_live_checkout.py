"""Live mode in a real browser: the demo shop over HTTPS with live keys, kassa over HTTPS, and the
local double of Amazon Pay: the merchant's page → kassa's checkout page → the stand-in checkout.js
(which hands the signed payload to Amazon) → Amazon's page, where the buyer approves or cancels →
kassa → the merchant's return_url. No request of the flow creates a Checkout Session server-side."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest
import stripe
import uvicorn

from live_support import live_kassa
from support import fresh_database, free_port, self_signed

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "shop"))
import app as shop_app  # noqa: E402 - the demo shop, as a merchant would run it


@pytest.fixture(scope="module")
def live_shop(browser_available, tmp_path_factory):
    """kassa (HTTPS, live keys, Amazon Pay double) and the demo shop (HTTPS) in front of it."""
    workdir = tmp_path_factory.mktemp("live-browser")
    cert, key = self_signed(workdir)
    saved_ca = stripe.ca_bundle_path
    stripe.ca_bundle_path = str(cert)  # the shop's stripe client trusts kassa's certificate
    try:
        with live_kassa(fresh_database("sqlite", workdir), workdir, tls=(cert, key)) as kassa:
            config = shop_app.Config(kassa.server.url, kassa.account["secret_live"], kassa.account["publishable_live"])
            port = free_port()
            server = uvicorn.Server(uvicorn.Config(shop_app.create_app(config), host="127.0.0.1", port=port,
                                                   ssl_certfile=str(cert), ssl_keyfile=str(key),
                                                   log_level="warning", lifespan="off"))
            thread = threading.Thread(target=server.run, daemon=True)
            thread.start()
            deadline = time.monotonic() + 10
            while not server.started:
                assert thread.is_alive() and time.monotonic() < deadline, "the shop did not start"
                time.sleep(0.05)
            yield kassa, f"https://127.0.0.1:{port}"
            server.should_exit = True
            thread.join(10)
    finally:
        stripe.ca_bundle_path = saved_ca


@pytest.fixture
def buyer(browser, live_shop):
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 820, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []

    def on_console(message):
        where = message.location.get("url", "")
        if message.type == "error" and not where.endswith("/favicon.ico"):  # browsers ask every host for one
            errors.append(f"{message.text} ({where})")

    page.on("console", on_console)
    page.errors = errors
    yield page
    context.close()


def pay_with_amazon(page, shop_url: str):
    page.goto(shop_url + "/")
    page.wait_for_selector("#submit:enabled")
    amazon = page.frame_locator("iframe").get_by_role("radio", name="Amazon Pay")
    if amazon.count():  # the Element offers more than one method: choose Amazon Pay
        amazon.check()
    page.get_by_role("button", name="Pay now").click()


def checkout(page, shop_url: str):
    """The buyer pays with Amazon Pay: kassa's page starts Amazon's checkout at once."""
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    pay_with_amazon(page, shop_url)
    page.wait_for_url("http://127.0.0.1:*/checkout?amazonCheckoutSessionId=*")  # Amazon Pay's page
    return seen


def test_live_payment_approved_at_amazon(buyer, live_shop, expect):
    kassa, shop_url = live_shop
    creates = [r for r in kassa.double.requests if r.path.endswith("/v2/checkoutSessions")]
    seen = checkout(buyer, shop_url)
    assert any("/amazon_pay/checkout/tok_" in url for url in seen)  # kassa's page
    assert any(url == kassa.double.base_url + "/checkout.js" for url in seen)  # Amazon's script
    assert any(url.startswith(kassa.double.base_url + "/checkout/start?") for url in seen)  # initCheckout
    intent_id = buyer.context.cookies(shop_url)[0]["value"]
    buyer.get_by_role("button", name="Pay now").click()  # on Amazon's page
    buyer.wait_for_url(shop_url + "/complete?**")
    expect(buyer.locator("#status-heading")).to_have_text("Payment succeeded")
    assert "redirect_status=succeeded" in buyer.url and f"payment_intent={intent_id}" in buyer.url
    intent = kassa.server.client(kassa.account["secret_live"]).v1.payment_intents.retrieve(intent_id)
    assert (intent.status, intent.livemode, intent.amount_received) == ("succeeded", True, 1099)
    assert [r for r in kassa.double.requests if r.path.endswith("/v2/checkoutSessions")] == creates  # none made
    assert any(r.path.endswith("/complete") and r.status == 200 for r in kassa.double.requests)
    assert buyer.errors == [], "\n".join(buyer.errors)


def test_amazons_script_does_not_load(buyer, live_shop, expect):
    kassa, shop_url = live_shop
    buyer.route(kassa.double.base_url + "/checkout.js", lambda route: route.abort())
    pay_with_amazon(buyer, shop_url)
    buyer.wait_for_url("**/amazon_pay/checkout/tok_*")
    expect(buyer.get_by_role("alert")).to_contain_text("Amazon Pay could not be loaded")
    buyer.errors.clear()  # the blocked script is reported on the console, as it should be
    buyer.get_by_role("button", name="Cancel and return to").click()
    buyer.wait_for_url(shop_url + "/complete?**")
    assert "redirect_status=failed" in buyer.url
    intent_id = buyer.context.cookies(shop_url)[0]["value"]
    intent = kassa.server.client(kassa.account["secret_live"]).v1.payment_intents.retrieve(intent_id)
    assert intent.status == "requires_payment_method"
    assert "canceled the payment on Amazon Pay" in intent.last_payment_error.message


def test_live_payment_canceled_at_amazon(buyer, live_shop, expect):
    kassa, shop_url = live_shop
    checkout(buyer, shop_url)
    buyer.get_by_role("button", name="Cancel").click()
    buyer.wait_for_url(shop_url + "/complete?**")
    expect(buyer.locator("#status-heading")).to_have_text("Payment failed. Please try another payment method.")
    assert "redirect_status=failed" in buyer.url


def test_live_amazon_pay_saved_then_bought_again_in_one_click(buyer, live_shop, expect):
    """The returning buyer's page in live mode: the Payment Element in setup mode saves Amazon Pay
    through kassa's checkout page and Amazon's (a saved-wallet session, nothing to pay), then Buy
    again charges the saved wallet off-session."""
    kassa, shop_url = live_shop
    before = len(kassa.double.requests)
    buyer.goto(shop_url + "/account")
    buyer.wait_for_selector("#submit:enabled")
    frame = buyer.frame_locator("#payment-element iframe")
    expect(frame.get_by_role("radio", name="Amazon Pay")).to_be_checked()
    expect(frame.get_by_role("radio", name="Card")).to_have_count(0)  # live mode has no card processor
    buyer.get_by_role("button", name="Save payment method").click()
    buyer.wait_for_url("**/amazon_pay/checkout/tok_*")  # kassa's page, which starts Amazon's checkout
    buyer.wait_for_url("http://127.0.0.1:*/checkout?amazonCheckoutSessionId=*")
    expect(buyer.get_by_text("Save Amazon Pay for future payments")).to_be_visible()
    buyer.get_by_role("button", name="Save").click()
    buyer.wait_for_url(shop_url + "/account?**")
    assert "redirect_status=succeeded" in buyer.url
    client = kassa.server.client(kassa.account["secret_live"])
    customer_id = buyer.context.cookies(shop_url)[0]["value"]
    methods = client.v1.customers.payment_methods.list(customer_id).data
    assert [(method.type, method.livemode) for method in methods] == [("amazon_pay", True)]
    expect(buyer.locator("#saved-method")).to_have_text("Amazon Pay")

    buyer.get_by_role("button", name="Buy again in one click").click()
    expect(buyer.locator("#bought")).to_contain_text("Paid with your saved payment method")
    intent_id = buyer.locator("#bought").inner_text().split("(")[1].rstrip(").")
    intent = client.v1.payment_intents.retrieve(intent_id)
    assert (intent.status, intent.livemode, intent.amount_received) == ("succeeded", True, 1099)
    assert (intent.customer, intent.payment_method) == (customer_id, methods[0].id)
    asked = [(r.method, r.path.split("/v2/")[-1].split("/")[0], r.status) for r in kassa.double.requests[before:]
             if "/v2/" in r.path]
    assert ("POST", "checkoutSessions", 200) in asked  # the setup's Complete
    assert ("POST", "charges", 201) in asked  # the off-session charge of the saved wallet
    assert not any(kind == "checkoutSessions" and method == "POST" and status == 201
                   for method, kind, status in asked)  # no session made server-side
    assert buyer.errors == [], "\n".join(buyer.errors)
