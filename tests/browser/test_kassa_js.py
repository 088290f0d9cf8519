"""kassa.js and the Payment Element on a merchant's page served by the test itself (on an origin of
its own): redirect handling, errors, appearance, origin checks; CORS from the shop; headers."""

from __future__ import annotations

import json

import httpx
import pytest

from browser_harness import client_secret, open_checkout, pay_and_decide



def new_intent(demo):
    return demo.client().v1.payment_intents.create(
        params={"amount": 1099, "currency": "usd", "payment_method_types": ["amazon_pay"]})


def merchant_page(page, demo, site, secret: str, appearance: dict | None = None, loaded="ready") -> str:
    """A merchant's page that mounts the Payment Element and exposes confirm(); returns its URL
    once the element has loaded (`loaded`: 'ready', or the loaderror's error)."""
    html = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Merchant test page</title>
<script src="{demo.kassa_url}/v3/kassa.js"></script></head>
<body><div id="payment-element"></div><script>
const stripe = Stripe({json.dumps(demo.publishable_key)});
const elements = stripe.elements({{clientSecret: {json.dumps(secret)}, appearance: {json.dumps(appearance or {})}}});
const element = elements.create('payment', {{layout: 'accordion'}});
window.loaded = new Promise((resolve) => {{
  element.on('ready', () => resolve('ready'));
  element.on('loaderror', (event) => resolve(event.error));
}});
element.mount('#payment-element');
window.confirm = (confirmParams, redirect) => stripe.confirmPayment({{elements, confirmParams, redirect}});
window.handleNextAction = (clientSecret) => stripe.handleNextAction({{clientSecret}});
</script></body></html>"""
    url = site.publish(f"/merchant-{secret[-12:]}", html)
    page.goto(url)
    assert page.evaluate("window.loaded") == loaded
    return url


def test_if_required_redirects_when_amazon_pay_needs_it(page, demo, merchant_site):
    intent = new_intent(demo)
    merchant_page(page, demo, merchant_site, intent.client_secret)
    page.evaluate("""returnUrl => { window.confirm({return_url: returnUrl}, 'if_required')
                                      .then((result) => { window.settled = result; }); }""",
                  demo.shop_url + "/complete")
    page.wait_for_url(demo.kassa_url + "/amazon_pay/test/**")
    assert demo.client().v1.payment_intents.retrieve(intent.id).status == "requires_action"


def test_if_required_resolves_with_the_intent_when_no_redirect_is_needed(page, demo, merchant_site):
    intent = new_intent(demo)
    url = merchant_page(page, demo, merchant_site, intent.client_secret)
    # An intent that needs no redirect (e.g. a method paid at once): kassa.js must not navigate.
    reduced = httpx.get(f"{demo.kassa_url}/v1/payment_intents/{intent.id}",
                        params={"client_secret": intent.client_secret},
                        headers={"Authorization": f"Bearer {demo.publishable_key}"}).json()
    paid = {**reduced, "status": "succeeded", "next_action": None}
    page.route("**/v1/payment_intents/*/confirm", lambda route: route.fulfill(
        json=paid, headers={"Access-Control-Allow-Origin": "*"}))
    result = page.evaluate("returnUrl => window.confirm({return_url: returnUrl}, 'if_required')",
                           demo.shop_url + "/complete")
    assert set(result) == {"paymentIntent"}
    assert (result["paymentIntent"]["id"], result["paymentIntent"]["status"]) == (intent.id, "succeeded")
    assert page.url == url


def test_confirm_without_return_url_gives_the_api_error(page, demo, merchant_site):
    intent = new_intent(demo)
    url = merchant_page(page, demo, merchant_site, intent.client_secret)
    result = page.evaluate("() => window.confirm({}, 'always')")
    error = result["error"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "payment_intent_redirect_confirmation_without_return_url"
    assert error["param"] == "return_url"
    assert error["payment_intent"]["id"] == intent.id  # the object, as Stripe.js gives it
    assert error["message"]
    assert page.url == url


def test_handle_next_action_sends_the_buyer_to_amazon_pay(page, demo, merchant_site):
    intent = new_intent(demo)
    merchant_page(page, demo, merchant_site, intent.client_secret)
    demo.client().v1.payment_intents.confirm(intent.id, params={
        "payment_method_data": {"type": "amazon_pay"}, "return_url": demo.shop_url + "/complete"})
    page.evaluate("secret => { window.handleNextAction(secret); }", intent.client_secret)
    page.wait_for_url(demo.kassa_url + "/amazon_pay/test/**")
    assert page.get_by_role("button", name="Authorize test payment").is_visible()


def test_a_paid_intent_is_refused_by_the_api(page, demo, merchant_site, expect):
    open_checkout(page, demo)
    secret = client_secret(page)
    pay_and_decide(page, demo, "Authorize test payment")
    merchant_page(page, demo, merchant_site, secret)
    frame = page.wait_for_selector("#payment-element iframe").content_frame()
    expect(frame.locator("#notice")).to_have_text("This payment is already complete.")
    expect(frame.get_by_role("radio", name="Amazon Pay")).to_be_disabled()
    error = page.evaluate("returnUrl => window.confirm({return_url: returnUrl})", demo.shop_url + "/complete")["error"]
    assert (error["type"], error["code"]) == ("invalid_request_error", "payment_intent_unexpected_state")
    assert error["payment_intent"]["status"] == "succeeded"


def test_a_wrong_client_secret_is_a_load_error(page, demo, merchant_site):
    intent = new_intent(demo)
    wrong = f"{intent.id}_secret_wrongWrongWrong"
    merchant_page(page, demo, merchant_site, wrong, loaded={
        "type": "invalid_request_error", "code": "payment_intent_invalid_parameter",
        "message": "The client_secret provided does not match the client_secret associated with the PaymentIntent."})
    frame = page.wait_for_selector("#payment-element iframe").content_frame()
    assert "could not be loaded" in frame.inner_text("#errors")
    error = page.evaluate("returnUrl => window.confirm({return_url: returnUrl})", demo.shop_url + "/complete")["error"]
    assert error["code"] == "payment_intent_invalid_parameter"


def test_retrieve_payment_intent(page, demo):
    intent = new_intent(demo)
    open_checkout(page, demo)  # any page that loaded kassa.js
    retrieve = "async ([key, secret]) => Stripe(key).retrievePaymentIntent(secret)"

    wrong = page.evaluate(retrieve, [demo.publishable_key, f"{intent.id}_secret_notTheRightOne"])
    assert set(wrong) == {"error"}
    assert wrong["error"]["type"] == "invalid_request_error"
    assert wrong["error"]["param"] == "client_secret"

    right = page.evaluate(retrieve, [demo.publishable_key, intent.client_secret])
    assert set(right) == {"paymentIntent"}
    assert right["paymentIntent"]["id"] == intent.id
    assert "metadata" not in right["paymentIntent"]  # the publishable-key view

    with pytest.raises(Exception, match="IntegrationError"):
        page.evaluate(retrieve, [demo.publishable_key, "not a client secret"])


def test_appearance_is_applied_inside_the_frame(page, demo, merchant_site):
    appearance = {"theme": "night", "variables": {
        "colorPrimary": "#ff5733", "colorBackground": "#102030", "colorText": "#fafafa",
        "fontFamily": "Georgia, serif", "borderRadius": "14px"}}
    merchant_page(page, demo, merchant_site, new_intent(demo).client_secret, appearance)
    frame = page.wait_for_selector("#payment-element iframe").content_frame()
    style = frame.evaluate("""() => {
        const option = getComputedStyle(document.querySelector('label.method'));
        const body = getComputedStyle(document.body);
        return {theme: document.documentElement.dataset.theme, background: option.backgroundColor,
                border: option.borderTopColor, radius: option.borderTopLeftRadius, color: body.color,
                font: body.fontFamily};
    }""")
    assert style == {"theme": "night", "background": "rgb(16, 32, 48)", "border": "rgb(255, 87, 51)",
                     "radius": "14px", "color": "rgb(250, 250, 250)", "font": "Georgia, serif"}
    # The frame is as tall as its content (it reports its height to the page).
    content = frame.evaluate("document.documentElement.getBoundingClientRect().height")
    assert abs(page.evaluate("document.querySelector('#payment-element iframe').offsetHeight") - content) <= 1


def test_messages_are_checked_by_origin_on_both_sides(page, demo, merchant_site, expect):
    secret = new_intent(demo).client_secret
    merchant_page(page, demo, merchant_site, secret)
    iframe = "document.querySelector('#payment-element iframe')"
    # The page ignores a message that does not come from kassa's frame, even with the right tag and id.
    before = page.evaluate(f"{iframe}.offsetHeight")
    page.evaluate(f"""() => {{ const id = {iframe}.name.replace('kassa-payment-', '');
        window.postMessage({{tag: 'kassa:payment-element', id, type: 'resize', height: 999}}, '*'); }}""")
    page.wait_for_timeout(200)
    assert page.evaluate(f"{iframe}.offsetHeight") == before != 999

    # A frame told that its parent is another origin neither reports to nor obeys this page.
    page.evaluate("""([base, key, secret]) => {
        window.got = [];
        addEventListener('message', (event) => window.got.push(event.data));
        const settings = new URLSearchParams({key, clientSecret: secret, origin: 'http://127.0.0.1:9', id: 'x'});
        const frame = document.createElement('iframe');
        frame.id = 'lone';
        frame.src = `${base}/v3/elements/payment#${settings}`;
        document.body.append(frame);
    }""", [demo.kassa_url, demo.publishable_key, secret])
    lone = page.wait_for_selector("#lone").content_frame()
    expect(lone.get_by_role("radio", name="Amazon Pay")).to_be_checked()  # it loaded, on its own
    page.evaluate("""() => document.querySelector('#lone').contentWindow.postMessage(
        {tag: 'kassa:payment-element', id: 'x', type: 'collect', requestId: 1}, '*')""")
    page.wait_for_timeout(300)
    assert page.evaluate("window.got") == []


def test_cors_preflight_from_the_shop_origin(page, demo):
    open_checkout(page, demo)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    preflights = []
    cdp.on("Network.requestWillBeSent",
           lambda event: preflights.append(event["request"]) if event["request"]["method"] == "OPTIONS" else None)
    result = page.evaluate("""async ([base, key]) => {
        const response = await fetch(`${base}/v1/payment_methods`, {method: 'POST', body: 'type=amazon_pay',
            headers: {Authorization: `Bearer ${key}`, 'Content-Type': 'application/x-www-form-urlencoded',
                      'Idempotency-Key': crypto.randomUUID()}});
        return {status: response.status, body: await response.json()};
    }""", [demo.kassa_url, demo.publishable_key])
    assert result["status"] == 200 and result["body"]["object"] == "payment_method"
    assert [request["url"] for request in preflights] == [demo.kassa_url + "/v1/payment_methods"]
    assert preflights[0]["headers"]["Origin"] == demo.shop_url

    answer = httpx.options(demo.kassa_url + "/v1/payment_intents/pi_x/confirm", headers={
        "Origin": demo.shop_url, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    assert answer.status_code == 204
    assert answer.headers["access-control-allow-origin"] in ("*", demo.shop_url)
    assert "authorization" in answer.headers["access-control-allow-headers"].lower()
    assert "POST" in answer.headers["access-control-allow-methods"]


def mount_on_http(page, demo, site, key: str) -> dict:
    """A merchant's page on http that mounts the Payment Element with `key`: what mount() did."""
    html = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Merchant http page</title>
<script src="{demo.kassa_url}/v3/kassa.js"></script></head>
<body><div id="payment-element"></div><script>
const elements = Stripe({json.dumps(key)}).elements({{clientSecret: {json.dumps(new_intent(demo).client_secret)}}});
try {{
  elements.create('payment').mount('#payment-element');
  window.mounted = {{thrown: null}};
}} catch (error) {{
  window.mounted = {{thrown: {{name: error.name, message: error.message}}}};
}}
</script></body></html>"""
    page.goto(site.publish(f"/http-{key[:8]}", html))
    assert page.url.startswith("http://")
    return page.evaluate("window.mounted")


def test_live_mode_refuses_to_mount_on_an_http_page(page, demo, merchant_site):
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    mounted = mount_on_http(page, demo, merchant_site, "pk_live_" + "x" * 24)
    expected = ("kassa.js: live mode requires HTTPS: the Payment Element cannot be mounted on http:// pages. "
                "Serve this page over https.")
    assert mounted["thrown"] == {"name": "IntegrationError", "message": expected}
    assert [text for text in errors if "kassa.js" in text] == [expected]  # a favicon 404 may be there too
    assert page.eval_on_selector("#payment-element", "node => node.children.length") == 0
    assert page.locator("iframe").count() == 0

    # The same page in test mode mounts (as every merchant page above does, all on http).
    assert mount_on_http(page, demo, merchant_site, demo.publishable_key) == {"thrown": None}
    page.wait_for_selector("#payment-element iframe")


def test_script_and_frame_headers(demo):
    for path in ("/v3/kassa.js", "/v3/"):
        script = httpx.get(demo.kassa_url + path)
        assert script.headers["content-type"] == "text/javascript; charset=utf-8"
        assert "max-age=" in script.headers["cache-control"]
        assert script.headers["x-content-type-options"] == "nosniff"
        assert httpx.get(demo.kassa_url + path, headers={"If-None-Match": script.headers["etag"]}).status_code == 304
    frame = httpx.get(demo.kassa_url + "/v3/elements/payment")
    policy = frame.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors *" in policy and "default-src 'none'" in policy
    assert "unsafe-inline" not in policy
    assert frame.headers["x-content-type-options"] == "nosniff"
    assert frame.headers["referrer-policy"] == "no-referrer"
    assert "x-frame-options" not in frame.headers
