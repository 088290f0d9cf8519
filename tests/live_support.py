"""Live mode in tests: `kassa serve` talking to the local double of Amazon Pay API v2, with an
account set up for it by `kassa accounts configure-amazon-pay`."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from doubles.amazon_pay_api import CERT_URL, AmazonPayDouble, generate_key_pair, running
from support import Server, kassa_command, start_server

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


@contextmanager
def live_kassa(database: str, workdir: Path, *, tls: tuple[Path, Path] | None = None) -> Iterator[LiveKassa]:
    """The double on 127.0.0.1, kassa pointed at it (pending work polled every second), one account."""
    certificates = workdir / "sns"
    certificates.mkdir(exist_ok=True)
    with running(AmazonPayDouble({KEY_ID: PUBLIC}, merchant_id=MERCHANT_ID)) as double:
        (certificates / CERT_URL.rsplit("/", 1)[-1]).write_bytes(double.certificate_pem)
        server = start_server(database, workdir, tls=tls, env={
            "KASSA_AMAZON_PAY_API_BASE": double.base_url, "KASSA_AMAZON_PAY_SNS_CERTIFICATES": str(certificates),
            "KASSA_AMAZON_PAY_POLL_SECONDS": "1"})
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
