"""Takes the README's pictures of the Dashboard (docs/images/dashboard-*.png) with a real
`kassa demo`, a few payments made through the API, and Chromium:

    .venv/bin/python tests/browser/dashboard_screenshots.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser_harness import launch, missing_browser, start_demo  # noqa: E402
from test_dashboard_pages import demo_login, sign_in  # noqa: E402

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
ORDERS = [(1099, "ada@example.com", "Espresso beans, 250 g", False), (4999, "grace@example.com", "Pour-over kit", False),
          (2500, "alan@example.com", "Gift card", True), (12900, "barbara@example.com", "Grinder", False),
          (899, "edsger@example.com", "Filter papers", False)]


def seed(demo) -> str:
    client = demo.client()
    made = []
    for amount, email, description, manual in ORDERS:
        made.append(client.v1.payment_intents.create(params={
            "amount": amount, "currency": "usd", "payment_method_types": ["card"], "receipt_email": email,
            "payment_method": "pm_card_visa", "confirm": True, "description": description,
            "metadata": {"order_id": f"A-{1000 + len(made)}"}, **({"capture_method": "manual"} if manual else {})}))
    client.v1.payment_intents.create(params={"amount": 3200, "currency": "usd", "receipt_email": "ken@example.com",
                                             "payment_method_types": ["card"], "description": "Mug"})
    client.v1.webhook_endpoints.create(params={"url": demo.shop_url + "/webhook", "enabled_events": ["*"],
                                               "description": "The shop"})
    return made[1].id


def main() -> None:
    reason = missing_browser()
    if reason:
        sys.exit(f"cannot take screenshots: {reason}")
    from playwright.sync_api import sync_playwright

    IMAGES.mkdir(parents=True, exist_ok=True)
    demo = start_demo(Path(tempfile.mkdtemp(prefix="kassa-dashboard-screenshots-")))
    try:
        featured = seed(demo)
        with sync_playwright() as playwright:
            browser = launch(playwright)
            page = browser.new_page(viewport={"width": 1200, "height": 720}, device_scale_factor=1)
            sign_in(page, demo, *demo_login(demo))
            page.screenshot(path=str(IMAGES / "dashboard-payments.png"))
            page.goto(f"{demo.kassa_url}/dashboard/test/payments/{featured}")
            page.locator("#refund-action summary").click()
            page.get_by_label("Refund amount (USD)").fill("10.00")
            page.get_by_label("Reason").select_option("requested_by_customer")
            page.locator("#refund-action").get_by_role("button", name="Refund").click()
            page.wait_for_selector(".notice")
            page.locator("#refund-action summary").click()
            page.screenshot(path=str(IMAGES / "dashboard-payment.png"))
            browser.close()
    finally:
        demo.stop()
    for name in ("dashboard-payments.png", "dashboard-payment.png"):
        print(f"wrote {IMAGES / name}")


if __name__ == "__main__":
    main()
