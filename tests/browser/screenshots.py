"""Takes the README's screenshots (docs/images/) with a real `kassa demo` and Chromium:

    .venv/bin/python tests/browser/screenshots.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser_harness import launch, missing_browser, open_checkout, start_demo  # noqa: E402

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


def main() -> None:
    reason = missing_browser()
    if reason:
        sys.exit(f"cannot take screenshots: {reason}")
    from playwright.sync_api import sync_playwright

    IMAGES.mkdir(parents=True, exist_ok=True)
    demo = start_demo(Path(tempfile.mkdtemp(prefix="kassa-screenshots-")))
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            page = browser.new_page(viewport={"width": 720, "height": 640}, device_scale_factor=1)
            frame = open_checkout(page, demo)
            page.screenshot(path=str(IMAGES / "checkout.png"), full_page=True)
            frame.get_by_role("radio", name="Card").check()
            frame.get_by_label("Card number").press_sequentially("4242424242424242")
            frame.get_by_label("Expiration date").press_sequentially("1234")
            frame.get_by_label("Security code").press_sequentially("123")
            frame.get_by_label("ZIP").press_sequentially("10001")
            frame.get_by_label("ZIP").blur()
            page.wait_for_timeout(200)  # the frame's new height reaches the page
            page.screenshot(path=str(IMAGES / "checkout-card.png"), full_page=True)
            open_checkout(page, demo)  # the same order again, Amazon Pay chosen
            page.get_by_role("button", name="Pay now").click()
            page.wait_for_url(demo.kassa_url + "/amazon_pay/test/**")
            page.screenshot(path=str(IMAGES / "test-authorization.png"), full_page=True)
            browser.close()
    finally:
        demo.stop()
    for name in ("checkout.png", "checkout-card.png", "test-authorization.png"):
        print(f"wrote {IMAGES / name}")


if __name__ == "__main__":
    main()
