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
            open_checkout(page, demo)
            page.screenshot(path=str(IMAGES / "checkout.png"), full_page=True)
            page.get_by_role("button", name="Pay now").click()
            page.wait_for_url(demo.kassa_url + "/amazon_pay/test/**")
            page.screenshot(path=str(IMAGES / "test-authorization.png"), full_page=True)
            browser.close()
    finally:
        demo.stop()
    print(f"wrote {IMAGES / 'checkout.png'} and {IMAGES / 'test-authorization.png'}")


if __name__ == "__main__":
    main()
