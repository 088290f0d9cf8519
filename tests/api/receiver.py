"""A real HTTP receiver for webhooks, running in the test process."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable

import stripe


class Receiver:
    """Collects every POST; `answer(body, headers) -> status` decides what to reply."""

    def __init__(self, answer: Callable[[bytes, dict], int] | None = None, delay: float = 0.0, port: int = 0):
        self.received: list[tuple[bytes, dict]] = []
        self.answer = answer or (lambda body, headers: 200)
        self.delay = delay
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.lock:
                    receiver.received.append((body, headers))
                if receiver.delay:
                    time.sleep(receiver.delay)
                status = receiver.answer(body, headers)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self, secret: str) -> list:
        """Every received event, verified with stripe.Webhook.construct_event."""
        with self.lock:
            received = list(self.received)
        return [stripe.Webhook.construct_event(body, headers["stripe-signature"], secret)
                for body, headers in received]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.05)
        raise AssertionError(f"timed out after {timeout} s; received {len(self.received)} requests")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
