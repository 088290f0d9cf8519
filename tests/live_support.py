"""Live mode in tests: `kassa serve` (over HTTPS, as Amazon requires of its return addresses)
talking to the local double of Amazon Pay API v2 and its checkout.js, with an account set up for it
by `kassa accounts configure-amazon-pay`; and a buyer doing what Amazon's checkout.js does."""

from __future__ import annotations

import html
import json
import re
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx

from doubles.amazon_pay_api import CERT_URL, AmazonPayDouble, generate_key_pair, running
from support import Server, fresh_database, kassa_command, self_signed, start_server

KEY_ID = "AFVX7ULWSGBZ5535PCUQOY7B"
MERCHANT_ID = "A1KASSADOUBLE"
PEM, PUBLIC = generate_key_pair()


@dataclass
class LiveKassa:
    server: Server
    double: AmazonPayDouble
    account: dict  # the live-mode account: id, secret_live, publishable_live, …
    key_file: Path


def new_account(server: Server, country: str = "US") -> dict:
    out = subprocess.run([*kassa_command(), "accounts", "create", "--country", country, "--json",
                          "--database", server.database], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def configure(server: Server, account_id: str, key_file: Path, *extra: str) -> subprocess.CompletedProcess:
    """`kassa accounts configure-amazon-pay` for the double's merchant."""
    return subprocess.run(
        [*kassa_command(), "accounts", "configure-amazon-pay", account_id, "--public-key-id", KEY_ID,
         "--private-key", str(key_file), "--store-id", "amzn1.application-oa2-client.kassa", "--merchant-id",
         MERCHANT_ID, "--region", "na", "--sandbox", "--database", server.database, *extra],
        capture_output=True, text=True)


def live_env(double: AmazonPayDouble, certificates: Path) -> dict[str, str]:
    """kassa's settings for the double: its API, its checkout.js, its SNS certificate; pending
    work asked about every second."""
    return {"KASSA_AMAZON_PAY_API_BASE": double.base_url,
            "KASSA_AMAZON_PAY_CHECKOUT_JS_URL": double.base_url + "/checkout.js",
            "KASSA_AMAZON_PAY_SNS_CERTIFICATES": str(certificates), "KASSA_AMAZON_PAY_POLL_SECONDS": "1"}


@contextmanager
def live_kassa(database: str, workdir: Path, *, tls: tuple[Path, Path] | None = None) -> Iterator[LiveKassa]:
    """The double on 127.0.0.1, kassa over HTTPS pointed at it, one account set up for it."""
    certificates = workdir / "sns"
    certificates.mkdir(exist_ok=True)
    tls = tls or self_signed(workdir)
    with running(AmazonPayDouble({KEY_ID: PUBLIC}, merchant_id=MERCHANT_ID)) as double:
        (certificates / CERT_URL.rsplit("/", 1)[-1]).write_bytes(double.certificate_pem)
        server = start_server(database, workdir, tls=tls, env=live_env(double, certificates))
        try:
            account = new_account(server)
            key_file = workdir / "amazon-pay-private.pem"
            key_file.write_text(PEM)
            done = configure(server, account["id"], key_file)
            if done.returncode != 0:
                raise RuntimeError(f"configure-amazon-pay failed: {done.stderr}")
            if "BEGIN" in done.stdout + done.stderr:
                raise AssertionError("configure-amazon-pay printed the private key")
            yield LiveKassa(server, double, account, key_file)
        finally:
            server.stop()


@contextmanager
def trusted_live_kassa(backend: str, workdir: Path) -> Iterator[LiveKassa]:
    """`live_kassa` on a fresh database of `backend`, with stripe-python trusting its certificate
    meanwhile (the shared fixture of the live API tests)."""
    import stripe

    saved = stripe.ca_bundle_path
    with live_kassa(fresh_database(backend, workdir), workdir) as running_kassa:
        stripe.ca_bundle_path = str(running_kassa.server.tls[0])
        try:
            yield running_kassa
        finally:
            stripe.ca_bundle_path = saved


def reset_double(double: AmazonPayDouble) -> None:
    """The double's answers back to approving (each live API test starts from them)."""
    double.authorization, double.decline_reason, double.saved_charges = "approve", "HardDeclined", "approve"


def verify(server: Server) -> ssl.SSLContext:
    """An SSL context that trusts the test server's self-signed certificate."""
    return ssl.create_default_context(cafile=str(server.tls[0]))


BUTTON = re.compile(r'<script type="application/json" id="amazon-pay-button">(.*?)</script>', re.S)


def button_of(page: str) -> dict:
    """The options kassa's checkout page hands Amazon's checkout.js (renderButton, initCheckout)."""
    found = BUTTON.search(page)
    assert found, page
    return json.loads(html.unescape(found.group(1)) if "&quot;" in found.group(1) else found.group(1))


def start_checkout(server: Server, double: AmazonPayDouble, page_url: str) -> str:
    """Open kassa's checkout page and do what checkout.js does with its button (initCheckout):
    Amazon creates the session; returns the address of Amazon's approval page."""
    page = httpx.get(page_url, verify=verify(server))
    assert page.status_code == 200, page.text
    options = button_of(page.text)
    config = options["createCheckoutSessionConfig"]
    query = urlencode({"payloadJSON": config["payloadJSON"], "signature": config["signature"],
                       "publicKeyId": config["publicKeyId"], "algorithm": config["algorithm"],
                       "merchantId": options["merchantId"], "ledgerCurrency": options["ledgerCurrency"],
                       "sandbox": str(options["sandbox"]).lower(), "productType": options["productType"]})
    started = httpx.get(f"{double.base_url}/checkout/start?{query}")
    assert started.status_code == 303, started.text
    return double.base_url + started.headers["location"]


def in_thread(call):
    """Run ``call`` in a thread; (thread, box): box gets "value" or "error" once it ends."""
    box: dict = {}

    def run():
        try:
            box["value"] = call()
        except Exception as error:  # noqa: BLE001 - handed to the test
            box["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    return thread, box


def wait_for(check, seconds: float = 30.0):
    """Poll ``check`` until it returns something true (returned), or fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.2)
    return found


def run_sql(database: str, statement: str, *args) -> None:
    """One statement on the server's database (SQLite or PostgreSQL), as an operator would."""
    if database.startswith("sqlite:///"):
        import sqlite3

        with sqlite3.connect(database.removeprefix("sqlite:///"), timeout=30) as connection:
            connection.execute(statement.replace("%s", "?"), args)
    else:
        import psycopg

        with psycopg.connect(database, autocommit=True) as connection:
            connection.execute(statement, args)


def sql_value(database: str, statement: str, *args):
    """The first column of the first row of one query on the server's database (None for no row)."""
    if database.startswith("sqlite:///"):
        import sqlite3

        with sqlite3.connect(database.removeprefix("sqlite:///"), timeout=30) as connection:
            row = connection.execute(statement.replace("%s", "?"), args).fetchone()
    else:
        import psycopg

        with psycopg.connect(database, autocommit=True) as connection:
            row = connection.execute(statement, args).fetchone()
    return row[0] if row else None


def due_now(database: str) -> None:
    """End the grace time of pending processor requests and refunds: the sweep takes them up now."""
    run_sql(database, "UPDATE processor_requests SET next_try_at = 1 WHERE status = 'pending'")
    run_sql(database, "UPDATE refunds SET settle_at = 1 WHERE status = 'pending'")
