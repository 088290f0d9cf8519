"""The Dashboard in Chromium against `kassa demo`: sign in with the printed login, find a payment by
email, refund it partly then fully, capture a held one, resend a webhook, switch test/live; a
viewer's refund refused by the server; a form without its CSRF token refused; HTML shown escaped;
cookie flags; sign-in slowed after failures."""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


def demo_login(demo) -> tuple[str, str]:
    text = demo.log_path.read_text()
    email = re.search(r"^\s+email:\s+(\S+)$", text, re.M).group(1)
    password = re.search(r"^\s+password:\s+(\S+)$", text, re.M).group(1)
    return email, password


def add_user(demo, role: str) -> tuple[str, str]:
    email, password = f"{role}-{secrets.token_hex(3)}@example.com", secrets.token_urlsafe(12)
    database = f"sqlite:///{demo.log_path.parent / 'kassa.sqlite3'}"
    done = subprocess.run([sys.executable, "-m", "kassa.cli", "users", "create", "--email", email, "--role", role,
                           "--password-stdin", "--database", database], input=password + "\n", text=True,
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return email, password


def sign_in(page, demo, email: str, password: str) -> None:
    page.goto(demo.kassa_url + "/dashboard/test/payments")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dashboard/test/payments")


def paid(demo, *, manual: bool = False, **extra):
    return demo.client().v1.payment_intents.create(params={
        "amount": 4200, "currency": "usd", "payment_method_types": ["card"], "payment_method": "pm_card_visa",
        "confirm": True, **({"capture_method": "manual"} if manual else {}), **extra})


@pytest.fixture
def admin_page(page, demo):
    sign_in(page, demo, *demo_login(demo))
    return page


def test_find_by_email_then_refund_partly_and_fully(admin_page, demo, expect):
    page = admin_page
    email = f"shopper-{secrets.token_hex(3)}@example.com"
    intent = paid(demo, receipt_email=email)
    page.get_by_label("Search payments").fill(email)
    page.get_by_label("Search payments").press("Enter")
    rows = page.locator("table.list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("$42.00")
    expect(rows.first).to_contain_text("Visa •••• 4242")
    rows.first.get_by_role("link").click()
    page.wait_for_url(f"**/payments/{intent.id}")

    page.locator("#refund-action summary").click()
    amount = page.get_by_label("Refund amount (USD)")
    expect(amount).to_be_focused()
    expect(amount).to_have_value("42.00")
    amount.fill("12.00")
    page.get_by_label("Reason").select_option("requested_by_customer")
    page.locator("#refund-action").get_by_role("button", name="Refund").click()
    expect(page.get_by_role("status")).to_have_text("Refund created.")
    expect(page.locator("#refunds-h + table")).to_contain_text("$12.00")
    expect(page.locator(".timeline")).to_contain_text("charge.refunded")

    page.locator("#refund-action summary").click()
    expect(page.get_by_label("Refund amount (USD)")).to_have_value("30.00")
    page.locator("#refund-action").get_by_role("button", name="Refund").click()
    expect(page.get_by_role("status")).to_have_text("Refund created.")
    expect(page.locator("#refund-action")).to_have_count(0)  # nothing left to refund
    expect(page.locator("table.audit tbody tr")).to_have_count(2)
    charge = demo.client().v1.charges.retrieve(demo.client().v1.payment_intents.retrieve(intent.id).latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (4200, True)

    # The demo shop's endpoint (made by `kassa demo`) got charge.refunded, signed and accepted.
    page.get_by_role("link", name="Webhooks").click()
    page.get_by_role("link", name=demo.shop_url + "/webhook").click()
    delivered = page.locator("table.deliveries tbody tr", has_text="charge.refunded").filter(has_text="200")
    deadline = time.monotonic() + 15
    while delivered.count() < 2 and time.monotonic() < deadline:
        page.wait_for_timeout(300)
        page.reload()
    assert delivered.count() >= 2  # one per refund


def test_capture_a_held_payment(admin_page, demo, expect):
    page = admin_page
    intent = paid(demo, manual=True)
    page.goto(f"{demo.kassa_url}/dashboard/test/payments?status=requires_capture")
    page.locator(f"a[href$='{intent.id}']").click()
    page.locator("#capture-action summary").click()
    page.get_by_label("Amount to capture (USD)").fill("40.00")
    page.locator("#capture-action").get_by_role("button", name="Capture").click()
    expect(page.get_by_role("status")).to_have_text("Payment captured.")
    expect(page.locator("h1 .badge")).to_have_text("Succeeded")
    assert demo.client().v1.payment_intents.retrieve(intent.id).amount_received == 4000


class Receiver:
    """A webhook endpoint of the test's own: answers 200 and counts what it was sent."""

    def __init__(self):
        self.bodies: list[bytes] = []
        bodies = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server name
                bodies.append(self.rfile.read(int(self.headers.get("content-length", 0))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self, needle: str) -> int:
        return sum(needle.encode() in body for body in self.bodies)


def test_resend_a_webhook_and_see_its_attempts(admin_page, demo, expect):
    page = admin_page
    receiver = Receiver()
    try:
        endpoint = demo.client().v1.webhook_endpoints.create(params={"url": receiver.url,
                                                                     "enabled_events": ["charge.succeeded"]})
        intent = paid(demo)
        event = next(e for e in demo.client().v1.events.list(params={"type": "charge.succeeded", "limit": 5}).data
                     if e.data.object.to_dict()["payment_intent"] == intent.id)
        deadline = time.monotonic() + 10
        while receiver.count(event.id) < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        page.goto(f"{demo.kassa_url}/dashboard/test/events/{event.id}")
        page.get_by_label("Send to").select_option(endpoint.id)
        page.get_by_role("button", name="Resend").click()
        expect(page.get_by_role("status")).to_have_text("Queued for delivery again.")
        deadline = time.monotonic() + 10
        while receiver.count(event.id) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert receiver.count(event.id) == 2
        page.goto(f"{demo.kassa_url}/dashboard/test/webhooks/{endpoint.id}")
        expect(page.locator("table.deliveries")).to_contain_text("200")
        expect(page.locator("table.deliveries tbody tr")).to_have_count(2)
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


def test_switch_between_test_and_live(admin_page, demo, expect):
    page = admin_page
    expect(page.get_by_text("You are viewing test mode")).to_be_visible()
    switch = page.get_by_role("switch", name="Test mode")
    expect(switch).to_have_attribute("aria-checked", "true")
    switch.click()
    page.wait_for_url(demo.kassa_url + "/dashboard/payments")
    expect(page.get_by_text("You are viewing test mode")).to_have_count(0)
    expect(page.get_by_role("switch", name="Test mode")).to_have_attribute("aria-checked", "false")
    page.get_by_role("link", name="Events").click()
    page.get_by_role("switch", name="Test mode").click()
    page.wait_for_url(demo.kassa_url + "/dashboard/test/events")


def test_a_viewers_refund_is_refused_by_the_server(page, demo, expect):
    intent = paid(demo)
    sign_in(page, demo, *add_user(demo, "viewer"))
    page.goto(f"{demo.kassa_url}/dashboard/test/payments/{intent.id}")
    expect(page.get_by_role("heading", name=re.compile(r"\$42\.00"))).to_be_visible()
    expect(page.locator("#refund-action")).to_have_count(0)
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value")
    answer = page.request.post(f"{demo.kassa_url}/dashboard/test/payments/{intent.id}/refund",
                               form={"csrf_token": csrf, "form_key": "dash_" + "v" * 24, "amount": "42.00"},
                               max_redirects=0)
    assert answer.status == 403 and "viewer" in answer.text()
    assert demo.client().v1.refunds.list(params={"payment_intent": intent.id}).data == []


def test_a_form_posted_without_its_csrf_token_is_refused(admin_page, demo, expect):
    page = admin_page
    intent = paid(demo)
    page.goto(f"{demo.kassa_url}/dashboard/test/payments/{intent.id}")
    page.locator("#refund-action summary").click()
    page.locator("#refund-action input[name=csrf_token]").evaluate("input => input.remove()")
    page.locator("#refund-action").get_by_role("button", name="Refund").click()
    expect(page.get_by_role("alert")).to_contain_text("CSRF")
    assert demo.client().v1.refunds.list(params={"payment_intent": intent.id}).data == []


def test_html_in_metadata_and_description_is_shown_escaped(admin_page, demo, expect):
    page = admin_page
    alerts: list[str] = []
    page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
    intent = paid(demo, description="<b>bold</b> <script>alert('d')</script>",
                  metadata={"note": "<img src=x onerror=alert('m')>"})
    page.goto(f"{demo.kassa_url}/dashboard/test/payments/{intent.id}")
    expect(page.locator("dl.facts dd", has_text="<b>bold</b>")).to_be_visible()
    expect(page.locator("dl.metadata dd")).to_have_text("<img src=x onerror=alert('m')>")
    assert page.locator("main img, main b, main script").count() == 0
    page.goto(f"{demo.kassa_url}/dashboard/test/payments")
    expect(page.locator("table.list")).to_contain_text("<b>bold</b>")
    assert alerts == []


def test_the_session_cookie_flags_and_page_headers(page, demo):
    response = page.goto(demo.kassa_url + "/dashboard/login")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    sign_in(page, demo, *demo_login(demo))
    cookie = next(c for c in page.context.cookies() if c["name"] == "kassa_session")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax"
    assert cookie["secure"] is False  # plain http here; tests/api/test_dashboard.py checks https
    assert cookie["expires"] == -1  # ends with the browser; the server ends it after 30 idle minutes
    assert page.evaluate("document.cookie").find("kassa_session") == -1


def test_sign_in_is_slowed_after_failures(page, demo, expect):
    email, password = add_user(demo, "admin")
    page.goto(demo.kassa_url + "/dashboard/login")
    for attempt in range(3):
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(f"wrong password {attempt}")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_have_text("The email or the password is not right.")
    page.get_by_label("Password").fill(password)  # even the right one waits now
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Too many failed sign-ins. Try again in")
    assert "/dashboard/login" in page.url
