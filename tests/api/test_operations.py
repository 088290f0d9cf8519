"""Operating kassa: installing it, pointing it at a database it cannot use, proxies in front of
it, and `kassa demo` starting its shop only once kassa answers."""

from __future__ import annotations

import os
import subprocess
import time
from importlib.metadata import requires

import httpx

from amazon_pay_helpers import RETURN_URL
from support import free_port, fresh_database, kassa_command, start_server


def test_the_postgresql_drivers_come_with_the_package():
    plain = [requirement for requirement in requires("kassa") if "extra ==" not in requirement]
    assert any(r.startswith("asyncpg") for r in plain) and any(r.startswith("psycopg") for r in plain)


def test_a_database_that_cannot_be_used_is_one_clear_line(tmp_path):
    for url, reason in (("postgresql://postgres:s3cret@127.0.0.1:1/nothing", "Connection refused"),
                        ("mysql://127.0.0.1/nothing", "unsupported database URL")):
        done = subprocess.run([*kassa_command(), "serve", "--port", str(free_port()), "--database", url],
                              capture_output=True, text=True, timeout=60, cwd=tmp_path)
        assert done.returncode != 0
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert "Traceback" not in done.stderr and len(lines) == 1, done.stderr
        assert reason in lines[0] and "s3cret" not in done.stderr


def _next_action_scheme(server, forwarded_proto: str) -> str:
    response = httpx.post(server.url + "/v1/payment_intents", auth=(server.secret_key, ""), headers={
        "X-Forwarded-Proto": forwarded_proto}, data={
        "amount": "1099", "currency": "usd", "confirm": "true", "return_url": RETURN_URL,
        "payment_method_types[0]": "amazon_pay", "payment_method_data[type]": "amazon_pay"})
    assert response.status_code == 200, response.text
    return response.json()["next_action"]["redirect_to_url"]["url"].split("://")[0]


def test_only_the_proxies_named_are_trusted(tmp_path):
    untrusted = start_server(fresh_database("sqlite", tmp_path / "a"), tmp_path,
                             extra_args=("--proxy-headers", "--forwarded-allow-ips", "10.0.0.1"))
    try:
        assert _next_action_scheme(untrusted, "https") == "http"  # 127.0.0.1 is not a trusted proxy here
    finally:
        untrusted.stop()
    trusted = start_server(fresh_database("sqlite", tmp_path / "b"), tmp_path, extra_args=("--proxy-headers",),
                           env={"KASSA_FORWARDED_ALLOW_IPS": "10.0.0.1,127.0.0.1"})
    try:
        assert _next_action_scheme(trusted, "https") == "https"
    finally:
        trusted.stop()


def test_the_demo_shop_answers_only_once_kassa_does(tmp_path):
    port, shop_port = free_port(), free_port()
    demo = subprocess.Popen([*kassa_command(), "demo", "--port", str(port), "--shop-port", str(shop_port),
                             "--database", f"sqlite:///{tmp_path / 'demo.sqlite3'}"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 60
        first = None
        while first is None:
            assert time.monotonic() < deadline and demo.poll() is None, "the demo shop never answered"
            try:
                first = httpx.get(f"http://127.0.0.1:{shop_port}/", timeout=5)
            except httpx.HTTPError:
                time.sleep(0.05)
        assert first.status_code == 200  # its first visitor gets the checkout, not an error
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
    finally:
        demo.terminate()
        demo.wait(20)
