"""Shared by the browser tests and the screenshot script: a real `kassa demo` and a headless Chromium."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import stripe

from kassa.cli import DEMO_PUBLISHABLE_KEY, DEMO_SECRET_KEY

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (pip install -e '.[test]'; never `playwright install`)"
    return None


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class Demo:
    kassa_url: str
    shop_url: str
    process: subprocess.Popen
    log_path: Path
    secret_key: str = DEMO_SECRET_KEY
    publishable_key: str = DEMO_PUBLISHABLE_KEY

    def client(self) -> stripe.StripeClient:
        return stripe.StripeClient(self.secret_key, base_addresses={"api": self.kassa_url}, max_network_retries=0)

    def advance_clock(self, seconds: int) -> None:
        self.client().raw_request("post", "/v1/test_helpers/clock/advance", seconds=seconds)

    def stop(self) -> None:
        """Stop `kassa demo` and whatever it started (its own process group)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()


def start_demo(workdir: Path, timeout: float = 45) -> Demo:
    """`python -m kassa.cli demo` on free ports with a fresh SQLite database; waits until both answer."""
    port, shop_port = free_ports(2)
    log_path = workdir / "kassa-demo.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "kassa.cli", "demo", "--port", str(port), "--shop-port", str(shop_port),
             "--database", f"sqlite:///{workdir / 'kassa.sqlite3'}"],
            stdout=log, stderr=subprocess.STDOUT, cwd=workdir, start_new_session=True)
    demo = Demo(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{shop_port}", process, log_path)
    deadline = time.monotonic() + timeout
    waiting = [demo.kassa_url + "/healthz", demo.shop_url + "/healthz"]
    while waiting:
        if process.poll() is not None:
            raise RuntimeError(f"kassa demo exited with {process.returncode}:\n{log_path.read_text()}")
        if time.monotonic() > deadline:
            demo.stop()
            raise RuntimeError(f"kassa demo did not answer within {timeout} s:\n{log_path.read_text()}")
        try:
            if httpx.get(waiting[0], timeout=1).status_code == 200:
                waiting.pop(0)
                continue
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return demo


class MerchantSite:
    """A web server of the test's own on 127.0.0.1, serving the pages a merchant could write."""

    def __init__(self):
        pages: dict[str, bytes] = {}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server name
                body = pages.get(self.path.split("?")[0])
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body or b"not found")

            def log_message(self, *args):
                pass

        self.pages = pages
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def publish(self, path: str, html: str) -> str:
        self.pages[path] = html.encode()
        return self.url + path

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ---- pages ------------------------------------------------------------------------------------

def open_checkout(page, demo):
    """The shop's checkout, once the Payment Element is ready (Pay now is enabled then)."""
    page.goto(demo.shop_url + "/")
    page.wait_for_selector("#submit:enabled")
    return payment_frame(page)


def payment_frame(page):
    """The Payment Element's frame (a Playwright Frame, to evaluate in)."""
    return page.wait_for_selector("#payment-element iframe").content_frame()


def client_secret(page) -> str:
    return page.get_attribute("#payment-form", "data-client-secret")


def pay_and_decide(page, demo, decision: str) -> None:
    """Press Pay now, then a button of kassa's test authorization page; back on the shop after."""
    page.get_by_role("button", name="Pay now").click()
    page.wait_for_url(demo.kassa_url + "/amazon_pay/test/**")
    page.get_by_role("button", name=decision).click()
    page.wait_for_url(demo.shop_url + "/complete?**")
