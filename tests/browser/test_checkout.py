"""The demo shop's Amazon Pay checkout in a real browser: approve, decline and retry, timeout,
and the whole purchase by keyboard alone."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from browser_harness import client_secret, open_checkout, pay_and_decide, payment_frame

FAILED = "Payment failed. Please try another payment method."


def returned_with(page) -> dict[str, str]:
    return {key: values[-1] for key, values in parse_qs(urlsplit(page.url).query).items()}


def test_approve_shows_payment_succeeded(page, demo, expect):
    frame = open_checkout(page, demo)
    expect(frame.get_by_role("radio", name="Amazon Pay")).to_be_checked()
    pay_and_decide(page, demo, "Authorize test payment")

    expect(page.locator("#status-heading")).to_have_text("Payment succeeded")
    back = returned_with(page)
    assert back["redirect_status"] == "succeeded"
    intent = demo.client().v1.payment_intents.retrieve(back["payment_intent"])
    assert (intent.status, intent.amount_received, intent.currency) == ("succeeded", 1099, "usd")


def test_decline_shows_the_error_and_a_second_attempt_succeeds(page, demo, expect):
    open_checkout(page, demo)
    first_secret = client_secret(page)
    pay_and_decide(page, demo, "Fail test payment")
    expect(page.locator("#status-heading")).to_have_text(FAILED)
    assert returned_with(page)["redirect_status"] == "failed"

    page.get_by_role("link", name="Try again").click()
    frame = payment_frame(page)
    page.wait_for_selector("#submit:enabled")
    assert client_secret(page) == first_secret  # the same, unpaid intent
    expect(frame.locator("#errors")).to_contain_text("try again or use another payment method")
    assert frame.locator("#errors").get_attribute("aria-live") == "assertive"

    pay_and_decide(page, demo, "Authorize test payment")
    expect(page.locator("#status-heading")).to_have_text("Payment succeeded")
    intent_id = returned_with(page)["payment_intent"]
    assert first_secret.startswith(intent_id + "_secret_")
    assert demo.client().v1.payment_intents.retrieve(intent_id).status == "succeeded"


def test_authorization_window_expires_with_the_test_clock(page, demo, expect):
    open_checkout(page, demo)
    page.get_by_role("button", name="Pay now").click()
    page.wait_for_url(demo.kassa_url + "/amazon_pay/test/**")
    expect(page.get_by_role("button", name="Authorize test payment")).to_be_visible()

    demo.advance_clock(601)  # stripe-python, secret key: the 10-minute window is over
    page.reload()
    expect(page.get_by_role("heading")).to_have_text("Authorization window expired")
    expect(page.get_by_role("button", name="Authorize test payment")).to_have_count(0)

    page.get_by_role("link", name="Return to").click()
    page.wait_for_url(demo.shop_url + "/complete?**")
    expect(page.locator("#status-heading")).to_have_text(FAILED)
    intent = demo.client().v1.payment_intents.retrieve(returned_with(page)["payment_intent"])
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error.code == "payment_intent_payment_attempt_failed"
    assert "expired" in intent.last_payment_error.message


def tab_until(page, check, limit: int = 8) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if check():
            return
    raise AssertionError(f"focus never got there; it is on {page.evaluate('document.activeElement.outerHTML')}")


def test_whole_purchase_by_keyboard(page, demo, expect):
    frame = open_checkout(page, demo)
    page.evaluate("() => document.activeElement.blur()")

    # Tab into the Payment Element: focus lands on the Amazon Pay radio inside the iframe.
    tab_until(page, lambda: frame.evaluate("document.hasFocus() && document.activeElement.name === 'method'"))
    assert frame.evaluate("document.activeElement.value") == "amazon_pay"
    label = frame.locator("label.method", has=frame.locator("input[value='amazon_pay']"))
    expect(label).to_have_css("outline-style", "solid")  # a visible focus style
    page.keyboard.press("Space")
    assert frame.evaluate("document.activeElement.checked") is True

    # Out of the frame to Pay now, and Enter.
    tab_until(page, lambda: page.evaluate("document.activeElement.id") == "submit")
    page.keyboard.press("Enter")
    page.wait_for_url(demo.kassa_url + "/amazon_pay/test/**")

    # On the test authorization page: Tab to "Authorize test payment", Enter.
    tab_until(page, lambda: page.evaluate("document.activeElement.textContent.trim()") == "Authorize test payment")
    page.keyboard.press("Enter")
    page.wait_for_url(demo.shop_url + "/complete?**")
    expect(page.locator("#status-heading")).to_have_text("Payment succeeded")
