"""`kassa serve --tls-cert/--tls-key`: kassa serves HTTPS itself, and refuses half or unreadable
TLS settings with a clear message."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
import pytest
import stripe
from support import fresh_database, free_port, kassa_command, self_signed, start_server

BUNDLED_CA = stripe.ca_bundle_path


@pytest.fixture
def tls_files(tmp_path) -> tuple[Path, Path]:
    return self_signed(tmp_path)


@pytest.fixture
def https_server(tmp_path, tls_files, monkeypatch):
    """`kassa serve` over HTTPS on a fresh SQLite database; stripe trusts its certificate."""
    srv = start_server(fresh_database("sqlite", tmp_path), tmp_path, tls=tls_files)
    monkeypatch.setattr(stripe, "ca_bundle_path", str(tls_files[0]))
    yield srv
    srv.stop()


def test_serves_the_api_over_https(https_server):
    assert https_server.url == f"https://127.0.0.1:{https_server.port}"
    assert f"kassa listening on {https_server.url}" in https_server.log()
    client = https_server.client()
    intent = client.v1.payment_intents.create(
        params={"amount": 1000, "currency": "usd", "payment_method_types": ["amazon_pay"]})
    again = client.v1.payment_intents.retrieve(intent.id)
    assert (again.id, again.amount, again.currency, again.status) == (
        intent.id, 1000, "usd", "requires_payment_method")
    assert again.payment_method_types == ["amazon_pay"]


def test_plain_http_is_not_served(https_server):
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{https_server.port}/healthz", timeout=5)


def test_an_untrusted_certificate_is_refused(https_server, monkeypatch):
    monkeypatch.setattr(stripe, "ca_bundle_path", BUNDLED_CA)
    with pytest.raises(stripe.APIConnectionError):
        https_server.client().v1.payment_intents.list()


def refused(tmp_path: Path, *options: str, env: dict | None = None) -> str:
    """`kassa serve` with `options`, which it must refuse at once: its message, on one line."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("KASSA_TLS_")}
    result = subprocess.run(
        [*kassa_command(), "serve", "--port", str(free_port()), "--database", fresh_database("sqlite", tmp_path),
         *options], env={**environment, "TERMINAL_WIDTH": "1000", **(env or {})}, cwd=tmp_path,
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "kassa.sqlite3").exists()  # refused before touching the database
    return " ".join(result.stderr.replace("│", " ").split())


@pytest.mark.parametrize("given, missing", [("--tls-cert", "--tls-key"), ("--tls-key", "--tls-cert")])
def test_one_of_the_two_options_alone_is_refused(tmp_path, tls_files, given, missing):
    path = tls_files[0] if given == "--tls-cert" else tls_files[1]
    message = refused(tmp_path, given, str(path))
    assert f"Invalid value for {missing}: missing: HTTPS needs both --tls-cert and --tls-key" in message


def test_the_options_can_come_from_the_environment(tmp_path, tls_files):
    message = refused(tmp_path, env={"KASSA_TLS_CERT": str(tls_files[0])})
    assert "Invalid value for --tls-key: missing" in message


def test_a_missing_file_is_refused(tmp_path, tls_files):
    missing = tmp_path / "nowhere" / "cert.pem"
    message = refused(tmp_path, "--tls-cert", str(missing), "--tls-key", str(tls_files[1]))
    assert f"Invalid value for --tls-cert: {missing} does not exist" in message


def test_a_directory_is_refused(tmp_path, tls_files):
    message = refused(tmp_path, "--tls-cert", str(tls_files[0]), "--tls-key", str(tmp_path))
    assert f"Invalid value for --tls-key: {tmp_path} is a directory, not a file" in message


def test_files_that_are_not_a_certificate_and_its_key_are_refused(tmp_path, tls_files):
    cert, key = tls_files
    other = tmp_path / "other"
    other.mkdir()
    _, other_key = self_signed(other)
    assert f"Invalid value for --tls-cert: {key} holds no PEM certificate" in refused(
        tmp_path, "--tls-cert", str(key), "--tls-key", str(key))
    assert f"Invalid value for --tls-key: {cert} holds no unencrypted PEM private key" in refused(
        tmp_path, "--tls-cert", str(cert), "--tls-key", str(cert))
    assert f"Invalid value for --tls-key: {other_key} is not the private key of {cert}" in refused(
        tmp_path, "--tls-cert", str(cert), "--tls-key", str(other_key))
