"""The Dashboard over HTTP against real `kassa serve` processes (SQLite and PostgreSQL): its actions
write the same events as the API's, once per form; viewers and forms without a CSRF token are
refused by the server; one account's or mode's objects are not seen from another; sessions are
kept hashed; cookies and headers."""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
import ssl
import subprocess
import time

import httpx
import pytest

from test_auth import new_account
from support import kassa_command, self_signed, start_server


def make_user(database: str, role: str = "admin", account: str | None = None) -> tuple[str, str]:
    email = f"{role}-{secrets.token_hex(4)}@example.com"
    password = secrets.token_urlsafe(12)
    command = [*kassa_command(), "users", "create", "--email", email, "--role", role, "--password-stdin",
               "--database", database, *(["--account", account] if account else [])]
    done = subprocess.run(command, input=password + "\n", capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return email, password


class Dashboard:
    """A signed-in browser, as plain HTTP."""

    def __init__(self, url: str, email: str, password: str, verify=True):
        self.http = httpx.Client(base_url=url, verify=verify, timeout=20)
        login = self.http.get("/dashboard/login")
        self.login_response = self.http.post("/dashboard/login", data={
            "email": email, "password": password, "csrf_token": field(login.text, "csrf_token"),
            "next": "/dashboard/test/payments"})
        assert self.login_response.status_code == 303, self.login_response.text

    def form(self, path: str, action: str) -> dict[str, str]:
        """The CSRF token and the form key of the form posting to `action` on the page at `path`."""
        page = self.http.get(path)
        assert page.status_code == 200, page.text
        found = re.search(rf'action="{re.escape(action)}".*?name="csrf_token" value="([^"]+)".*?'
                          r'name="form_key" value="([^"]+)"', page.text, re.S)
        assert found, f"no form to {action} on {path}"
        return {"csrf_token": found.group(1), "form_key": found.group(2)}

    def act(self, intent_id: str, action: str, mode: str = "/dashboard/test", **fields) -> httpx.Response:
        target = f"{mode}/payments/{intent_id}/{action}"
        return self.http.post(target, data={**self.form(f"{mode}/payments/{intent_id}", target), **fields})


def field(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]+)"', html).group(1)


def paid(client, *, manual: bool = False, **extra):
    return client.v1.payment_intents.create(params={
        "amount": 2500, "currency": "usd", "payment_method_types": ["card"], "payment_method": "pm_card_visa",
        "confirm": True, **({"capture_method": "manual"} if manual else {}), **extra})


def event_types(client, intent_id: str) -> list[str]:
    """The types of the events about an intent (its own, its charge's, its refunds'), oldest first."""
    found = []
    for event in client.v1.events.list(params={"limit": 100}).data:
        obj = event.data.object.to_dict()
        if obj.get("id") == intent_id or obj.get("payment_intent") == intent_id:
            found.append(event.type)
    return sorted(found)


@pytest.fixture(scope="module")
def admin(server):
    email, password = make_user(server.database)
    return Dashboard(server.url, email, password)


def test_refund_capture_and_cancel_write_the_same_events_as_the_api(server, client, admin):
    by_api, by_dashboard = paid(client), paid(client)
    client.v1.refunds.create(params={"payment_intent": by_api.id, "amount": 1000})
    assert admin.act(by_dashboard.id, "refund", amount="10.00").status_code == 303
    client.v1.refunds.create(params={"payment_intent": by_api.id})
    assert admin.act(by_dashboard.id, "refund", amount="15.00", reason="duplicate").status_code == 303
    assert event_types(client, by_dashboard.id) == event_types(client, by_api.id)
    assert event_types(client, by_dashboard.id).count("refund.created") == 2
    charge = client.v1.charges.retrieve(client.v1.payment_intents.retrieve(by_dashboard.id).latest_charge)
    assert charge.amount_refunded == 2500 and charge.refunded

    held_api, held_dashboard = paid(client, manual=True), paid(client, manual=True)
    client.v1.payment_intents.capture(held_api.id, params={"amount_to_capture": 2000})
    assert admin.act(held_dashboard.id, "capture", amount="20.00").status_code == 303
    assert client.v1.payment_intents.retrieve(held_dashboard.id).amount_received == 2000
    assert event_types(client, held_dashboard.id) == event_types(client, held_api.id)

    open_api, open_dashboard = paid(client, manual=True), paid(client, manual=True)
    client.v1.payment_intents.cancel(open_api.id, params={"cancellation_reason": "abandoned"})
    assert admin.act(open_dashboard.id, "cancel", reason="abandoned").status_code == 303
    assert client.v1.payment_intents.retrieve(open_dashboard.id).status == "canceled"
    assert event_types(client, open_dashboard.id) == event_types(client, open_api.id)


def test_a_form_sent_twice_refunds_once_and_the_audit_log_shows_it(server, client, admin):
    intent = paid(client)
    target = f"/dashboard/test/payments/{intent.id}/refund"
    form = admin.form(f"/dashboard/test/payments/{intent.id}", target)
    first = admin.http.post(target, data={**form, "amount": "5.00"})
    second = admin.http.post(target, data={**form, "amount": "5.00"})
    assert first.headers["location"].endswith("done=refunded")
    assert second.headers["location"].endswith("done=already")
    assert len(client.v1.refunds.list(params={"payment_intent": intent.id}).data) == 1
    page = admin.http.get(f"/dashboard/test/payments/{intent.id}").text
    assert page.count("<td>refund</td>") == 1 and "charge.refunded" in page


def test_a_refund_over_the_amount_is_refused_with_the_reason(server, client, admin):
    intent = paid(client)
    answer = admin.act(intent.id, "refund", amount="99.00")
    assert answer.status_code == 400 and "refund" in answer.text.lower()
    assert client.v1.refunds.list(params={"payment_intent": intent.id}).data == []
    assert admin.act(intent.id, "refund", amount="abc").status_code == 400


def test_a_viewer_sees_but_the_server_refuses_their_changes(server, client, admin):
    intent = paid(client, metadata={"order": "1"})
    viewer = Dashboard(server.url, *make_user(server.database, "viewer"))
    page = viewer.http.get(f"/dashboard/test/payments/{intent.id}")
    assert page.status_code == 200 and intent.id in page.text and "/refund" not in page.text
    csrf = field(page.text, "csrf_token")  # the sign-out form's: the viewer's own valid token
    refused = viewer.http.post(f"/dashboard/test/payments/{intent.id}/refund",
                               data={"csrf_token": csrf, "form_key": "dash_" + "a" * 24, "amount": "1.00"})
    assert refused.status_code == 403
    assert client.v1.refunds.list(params={"payment_intent": intent.id}).data == []
    endpoint = client.v1.webhook_endpoints.create(params={"url": "https://example.com/h", "enabled_events": ["*"]})
    secret = viewer.http.post(f"/dashboard/test/webhooks/{endpoint.id}/reveal", data={"csrf_token": csrf})
    assert secret.status_code == 403 and "whsec_" + endpoint.secret[6:] not in secret.text
    assert "refused" in admin.http.get(f"/dashboard/test/payments/{intent.id}").text


def test_a_form_without_its_csrf_token_is_refused(server, client, admin):
    intent = paid(client)
    form = admin.form(f"/dashboard/test/payments/{intent.id}", f"/dashboard/test/payments/{intent.id}/refund")
    for token in (None, "0" * 64):
        data = {"form_key": form["form_key"], "amount": "1.00", **({"csrf_token": token} if token else {})}
        assert admin.http.post(f"/dashboard/test/payments/{intent.id}/refund", data=data).status_code == 403
    assert client.v1.refunds.list(params={"payment_intent": intent.id}).data == []


def test_objects_of_another_mode_or_account_are_not_seen(server, client, admin):
    intent = paid(client, receipt_email="mode-check@example.com")
    assert admin.http.get(f"/dashboard/payments/{intent.id}").status_code == 404  # live mode
    assert intent.id not in admin.http.get("/dashboard/payments?q=mode-check@example.com").text
    made = subprocess.run([*kassa_command(), "accounts", "create", "--json", "--database", server.database],
                          capture_output=True, text=True, timeout=60)
    other_account = re.search(r'"id": "(acct_\w+)"', made.stdout).group(1)
    other = Dashboard(server.url, *make_user(server.database, "admin", other_account))
    assert other.http.get(f"/dashboard/test/payments/{intent.id}").status_code == 404
    assert intent.id not in other.http.get("/dashboard/test/payments?q=mode-check@example.com").text
    refused = other.http.post(f"/dashboard/test/payments/{intent.id}/refund", data={
        "csrf_token": field(other.http.get("/dashboard/test/payments").text, "csrf_token"),
        "form_key": "dash_" + "b" * 24, "amount": "1.00"})
    assert refused.status_code == 404
    assert client.v1.refunds.list(params={"payment_intent": intent.id}).data == []


def test_search_by_email_id_and_query_language(server, client, admin):
    email = f"buyer_{secrets.token_hex(3)}@Example.com"
    intent = paid(client, receipt_email=email, metadata={"order_id": "A-1"})
    found = admin.http.get("/dashboard/test/payments", params={"q": email.lower()}).text
    assert intent.id in found and found.count("/dashboard/test/payments/pi_") == 1
    by_id = admin.http.get("/dashboard/test/payments", params={"q": intent.id})
    assert by_id.status_code == 303 and by_id.headers["location"].endswith(intent.id)
    by_query = admin.http.get("/dashboard/test/payments", params={"q": "metadata['order_id']:'A-1'"}).text
    assert intent.id in by_query
    bad = admin.http.get("/dashboard/test/payments", params={"q": "amount>>"})
    assert bad.status_code == 400 and "search" in bad.text.lower()
    # A payment with no receipt email is found by its customer's email.
    customer_email = f"regular_{secrets.token_hex(3)}@example.com"
    customer = client.v1.customers.create(params={"email": customer_email})
    theirs = client.v1.payment_intents.create(params={"amount": 900, "currency": "usd", "customer": customer.id})
    by_customer = admin.http.get("/dashboard/test/payments", params={"q": customer_email}).text
    assert theirs.id in by_customer and by_customer.count("/dashboard/test/payments/pi_") == 1
    assert intent.id not in by_customer


def test_pages_carry_a_strict_policy_and_html_is_escaped(server, client, admin):
    intent = paid(client, description="<b>bold</b>", metadata={"note": "<img src=x onerror=alert(1)>"})
    page = admin.http.get(f"/dashboard/test/payments/{intent.id}")
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "<b>bold</b>" not in page.text and "&lt;b&gt;bold&lt;/b&gt;" in page.text
    assert "<img src=x" not in page.text


def test_developers_logs_show_the_api_requests(server):
    account = new_account(server)  # an account of its own: other tests' errors are not in its logs
    client = server.client(account["secret_test"])
    admin = Dashboard(server.url, *make_user(server.database, account=account["id"]))
    intent = client.v1.payment_intents.create(params={"amount": 700, "currency": "usd"},
                                              options={"idempotency_key": "logs-" + secrets.token_hex(4)})
    with pytest.raises(Exception):
        client.v1.payment_intents.retrieve("pi_doesNotExist")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        page = admin.http.get("/dashboard/test/developers").text
        if "/v1/payment_intents/pi_doesNotExist" in page:
            break
        time.sleep(0.3)
    assert "/v1/payment_intents/pi_doesNotExist" in page and "invalid_request_error" in page
    assert intent.id not in page  # paths and ids of requests, never their bodies
    errors = admin.http.get("/dashboard/test/developers?errors=1").text
    assert "pi_doesNotExist" in errors and "<td>POST</td>" not in errors


def test_sessions_are_stored_as_hashes_and_end_on_sign_out(server, admin, tmp_path):
    if not server.database.startswith("sqlite"):
        pytest.skip("read from the SQLite file; the code is the same on PostgreSQL")
    email, password = make_user(server.database)
    session = Dashboard(server.url, email, password)
    token = session.http.cookies["kassa_session"]
    with sqlite3.connect(server.database.removeprefix("sqlite:///")) as db:
        rows = db.execute("SELECT token_hash FROM dashboard_sessions").fetchall()
    assert (hashlib.sha256(token.encode()).hexdigest(),) in rows and all(token not in row[0] for row in rows)
    csrf = field(session.http.get("/dashboard/test/payments").text, "csrf_token")
    session.http.post("/dashboard/logout", data={"csrf_token": csrf})
    session.http.cookies.set("kassa_session", token, path="/dashboard")  # the old token, replayed
    assert session.http.get("/dashboard/test/payments").status_code == 303


def test_the_session_cookie_is_secure_over_https(tmp_path):
    tls = self_signed(tmp_path)
    database = f"sqlite:///{tmp_path / 'tls.sqlite3'}"
    srv = start_server(database, tmp_path, tls=tls)
    try:
        session = Dashboard(srv.url, *make_user(database), verify=ssl.create_default_context(cafile=str(tls[0])))
        cookie = session.login_response.headers["set-cookie"]
        assert "kassa_session=" in cookie and "Secure" in cookie and "HttpOnly" in cookie
        assert "samesite=lax" in cookie.lower()
    finally:
        srv.stop()


def test_an_admin_rolls_a_key_shown_once_and_a_viewer_cannot(server):
    account = new_account(server)
    old = account["secret_test"]
    admin = Dashboard(server.url, *make_user(server.database, account=account["id"]))
    target = "/dashboard/test/developers/keys"
    form = admin.form("/dashboard/test/developers", target)
    rolled = admin.http.post(target, data={**form, "kind": "secret", "expire_old_in": "0"})
    assert rolled.status_code == 200
    new = re.search(r"<code>(sk_test_[A-Za-z0-9]+)</code>", rolled.text).group(1)
    assert new != old and "shown only now" in rolled.text
    assert server.client(new).v1.payment_intents.list().object == "list"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # every process reads the key again within seconds
        try:
            server.client(old).v1.payment_intents.list()
        except Exception as error:  # noqa: BLE001 - the refusal is checked below
            assert getattr(error, "http_status", None) == 401
            break
        time.sleep(0.25)
    else:
        raise AssertionError("the old key still works")
    again = admin.http.post(target, data={**form, "kind": "secret", "expire_old_in": "0"})  # sent twice
    assert "sent already" in again.text and new not in again.text
    assert server.client(new).v1.payment_intents.list().object == "list"  # rolled once: the new key stands
    page = admin.http.get("/dashboard/test/developers").text
    assert new not in page and new[-4:] in page  # afterwards only its prefix and last four
    viewer = Dashboard(server.url, *make_user(server.database, "viewer", account=account["id"]))
    csrf = field(viewer.http.get("/dashboard/test/developers").text, "csrf_token")
    refused = viewer.http.post(target, data={"csrf_token": csrf, "form_key": "dash_" + "v" * 24, "kind": "secret",
                                             "expire_old_in": "0"})
    assert refused.status_code == 403
    assert server.client(new).v1.payment_intents.list().object == "list"
    if server.database.startswith("sqlite"):
        with sqlite3.connect(server.database.removeprefix("sqlite:///")) as db:
            stored = " ".join(str(row) for row in db.execute("SELECT * FROM idempotency_keys"))
            audit = db.execute("SELECT action, outcome FROM dashboard_audit WHERE action = 'roll_key'").fetchall()
        assert new not in stored and old not in stored  # no key at rest
        assert ("roll_key", "done") in audit and ("roll_key", "refused") in audit
