"""Fixtures for the browser tests: one `kassa demo` and one Chromium for the session, a fresh
browser context per test, and on failure a screenshot and the console log under test-artifacts/.

Without /usr/bin/chromium or the playwright package the tests are skipped with the reason, except
when CI is set: there they fail."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from browser_harness import MerchantSite, launch, missing_browser, start_demo

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="session")
def browser_available():
    reason = missing_browser()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def browser(browser_available):
    """Chromium for one test module. Module-scoped on purpose: Playwright's sync API keeps an
    event loop running in this thread while it is open, which later asyncio.run() calls (other
    test folders) must not find."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def demo(browser_available, tmp_path_factory):
    running = start_demo(tmp_path_factory.mktemp("demo"))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def merchant_site(browser_available):
    site = MerchantSite()
    yield site
    site.close()


@pytest.fixture
def expect():
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=10_000)
    return playwright_expect


@pytest.fixture
def page(browser, demo, request):
    context = browser.new_context(viewport={"width": 820, "height": 900})
    context.set_default_timeout(10_000)
    opened = context.new_page()
    console: list[str] = []
    opened.on("console", lambda message: console.append(f"[{message.type}] {message.text}  ({opened.url})"))
    opened.on("pageerror", lambda error: console.append(f"[pageerror] {error}  ({opened.url})"))
    yield opened
    report = getattr(request.node, "report_call", None)
    if report is None or report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        try:
            opened.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        except Exception as error:  # noqa: BLE001 - the log still matters
            console.append(f"[screenshot failed] {error}")
        demo_log = demo.log_path.read_text(errors="replace")[-4000:]
        (ARTIFACTS / f"{name}.console.log").write_text(
            "\n".join(console + [f"last URL: {opened.url}", "--- kassa demo output (end) ---", demo_log]) + "\n")
    context.close()
