"""The React sample (examples/samples/react/): @stripe/react-stripe-js and @stripe/stripe-js from npm,
unchanged, bundled with esbuild at test time; the page loads kassa.js by script tag, so that
loadStripe() resolves to kassa's Stripe. It pays with the Payment, Link Authentication and
Address Elements, and with the Express Checkout Element (approve and decline).

The npm packages are installed into a cache folder (~/.cache/kassa-tests/react-sample/<digest of
package.json>) and the bundle is built into the test's temporary folder. Without npm or the
registry the test is skipped with the reason, except under CI, where it fails."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from samples_harness import start_samples
from test_elements import decide, frame_of

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "samples" / "react"


def unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"the React sample cannot be built: {reason}")
    pytest.skip(reason)


def build_bundle(out: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        unavailable("npm is not installed")
    manifest = (SAMPLE / "package.json").read_bytes()
    cache = Path.home() / ".cache" / "kassa-tests" / "react-sample" / hashlib.sha256(manifest).hexdigest()[:16]
    if not (cache / "node_modules" / ".bin" / "esbuild").exists():
        cache.mkdir(parents=True, exist_ok=True)
        (cache / "package.json").write_bytes(manifest)
        try:
            installed = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=cache,
                                       capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            unavailable("npm install did not finish within 5 minutes (is the registry reachable?)")
        if installed.returncode != 0:
            unavailable(f"npm install failed (is the registry reachable?): {installed.stderr.strip()[-500:]}")
    out.mkdir(parents=True, exist_ok=True)
    built = subprocess.run(
        [str(cache / "node_modules" / ".bin" / "esbuild"), str(SAMPLE / "src" / "index.jsx"), "--bundle", "--minify",
         "--format=iife", '--define:process.env.NODE_ENV="production"', f"--outfile={out / 'react.js'}"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "NODE_PATH": str(cache / "node_modules")},
        cwd=cache)
    assert built.returncode == 0, built.stderr
    return out


@pytest.fixture(scope="module")
def react_samples(demo, tmp_path_factory):
    bundle = build_bundle(tmp_path_factory.mktemp("react-bundle"))
    running = start_samples(demo, tmp_path_factory.mktemp("react-samples"), react_bundle=bundle)
    yield running
    running.stop()


def open_react(page, samples):
    warnings = []
    page.on("console", lambda message: warnings.append(message.text))
    page.goto(samples.url + "/react")
    page.wait_for_selector("#submit:enabled")
    return warnings


def test_react_checkout_pays_with_the_elements(page, demo, react_samples, expect):
    warnings = open_react(page, react_samples)
    # loadStripe() found kassa's Stripe: no request went to js.stripe.com, and the elements are kassa's frames.
    assert page.evaluate("[...document.scripts].every((script) => !script.src.includes('js.stripe.com'))")
    for selector in ("#link-authentication-element", "#address-element", "#payment-element", "#express-checkout-element"):
        assert page.locator(f"{selector} iframe").get_attribute("src").startswith(demo.kassa_url + "/v3/elements/")
    assert not [text for text in warnings if "Invalid prop" in text]

    frame_of(page, "#link-authentication-element").get_by_label("Email").fill("react@example.com")
    address = frame_of(page, "#address-element")
    address.get_by_label("Full name").fill("Dorothy Vaughan")
    address.get_by_label("Address line 1").fill("2 Elm Street")
    address.get_by_label("City").fill("Hampton")
    address.get_by_label("State").select_option("VA")
    address.get_by_label("ZIP").fill("23669")
    page.select_option("#quantity", "3")  # <Elements options> change: elements.update({amount})
    expect(page.locator("#total")).to_have_text("$32.97")
    page.get_by_role("button", name="Pay now").click()
    intent_id = decide(page, demo, react_samples, "Authorize test payment")
    expect(page.locator("#status")).to_have_text("Payment succeeded")

    client = demo.client()
    intent = client.v1.payment_intents.retrieve(intent_id)
    assert (intent.status, intent.amount) == ("succeeded", 3297)
    assert intent.receipt_email == "react@example.com"
    assert (intent.shipping.name, intent.shipping.address.line1, intent.shipping.address.state,
            intent.shipping.address.postal_code) == ("Dorothy Vaughan", "2 Elm Street", "VA", "23669")
    method = client.v1.payment_methods.retrieve(intent.payment_method)
    assert method.billing_details.email == "react@example.com"


def test_react_express_checkout_decline(page, demo, react_samples, expect):
    open_react(page, react_samples)
    express = frame_of(page, "#express-checkout-element")
    express.get_by_role("button", name="Pay with Amazon Pay").click()
    intent_id = decide(page, demo, react_samples, "Fail test payment")
    expect(page.locator("#status")).to_have_text("Payment failed, please try again")
    intent = demo.client().v1.payment_intents.retrieve(intent_id)
    assert (intent.status, intent.amount) == ("requires_payment_method", 1099)
    assert intent.last_payment_error is not None
