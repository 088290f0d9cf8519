"""Helpers shared by the test suites: real `kassa serve` processes on free ports, PostgreSQL
databases of their own, and stripe clients against them."""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import stripe
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ROOT = Path(__file__).resolve().parents[1]
# Public reference data (Stripe's OpenAPI schemas, Amazon Pay's signing vectors), copied from the
# project's shared reference folder with their sources and licences: see tests/reference/README.md.
REFERENCE = Path(__file__).resolve().parent / "reference"
POSTGRES_URL = os.environ.get("KASSA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
TEST_SECRET = "sk_test_kassaSuiteSecretKey000000000000000001"
TEST_PUBLISHABLE = "pk_test_kassaSuitePublishableKey00000000000001"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    url: str
    port: int
    database: str
    secret_key: str
    publishable_key: str
    process: subprocess.Popen
    log_path: Path
    env: dict
    tls: tuple[Path, Path] | None = None

    def client(self, key: str | None = None, **options) -> stripe.StripeClient:
        return stripe.StripeClient(key or self.secret_key, base_addresses={"api": self.url},
                                   max_network_retries=options.pop("max_network_retries", 0), **options)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self, sig: int = 9) -> None:
        self.process.send_signal(sig)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def restart(self) -> Server:
        self.stop()
        return start_server(self.database, self.log_path.parent, port=self.port, env=self.env, tls=self.tls)


def kassa_command() -> list[str]:
    return [sys.executable, "-m", "kassa.cli"]


def start_server(database: str, workdir: Path, *, port: int | None = None, env: dict | None = None,
                 extra_args: tuple[str, ...] = (), tls: tuple[Path, Path] | None = None) -> Server:
    """`kassa serve` on `port` (a free one by default), once /healthz answers. With `tls`, a
    (certificate, key) pair of PEM files, it serves HTTPS and is checked against that certificate."""
    port = port or free_port()
    tls_args = ("--tls-cert", str(tls[0]), "--tls-key", str(tls[1])) if tls else ()
    environment = {**os.environ, **(env or {})}
    environment.setdefault("KASSA_WEBHOOK_RETRY_BASE", "0.2")  # backoff shortened, not skipped
    log_path = workdir / f"kassa-{port}.log"
    log = open(log_path, "ab")
    process = subprocess.Popen(
        [*kassa_command(), "serve", "--port", str(port), "--database", database,
         "--secret-key", TEST_SECRET, "--publishable-key", TEST_PUBLISHABLE, *tls_args, *extra_args],
        stdout=log, stderr=subprocess.STDOUT, env=environment, cwd=workdir)
    url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    verify = ssl.create_default_context(cafile=tls[0]) if tls else True
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"kassa serve exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            if httpx.get(url + "/healthz", timeout=1, verify=verify).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError(f"kassa serve did not become ready:\n{log_path.read_text()}")
    return Server(url, port, database, TEST_SECRET, TEST_PUBLISHABLE, process, log_path, env or {}, tls)


def postgres_available() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    try:
        import psycopg
        with psycopg.connect(POSTGRES_URL, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
        return None
    except Exception as error:  # noqa: BLE001 - any failure means: not reachable
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {error}"


def require_postgres() -> None:
    """Skip with the reason when no PostgreSQL answers; in CI, fail instead (it must run there)."""
    reason = postgres_available()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


def fresh_database(backend: str, workdir: Path) -> str:
    """A new, empty database URL for `backend` ('sqlite' in `workdir`, or 'postgresql')."""
    if backend == "postgresql":
        require_postgres()
        return fresh_postgres_url()
    return f"sqlite:///{workdir / 'kassa.sqlite3'}"


def postgres_dump(url: str) -> bytes:
    """Every row of every table of the PostgreSQL database at `url`, as text (to search what is kept)."""
    import psycopg
    with psycopg.connect(url) as connection:
        tables = [row[0] for row in connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()]
        return b"\n".join(str(row).encode() for table in tables
                           for row in connection.execute(f'SELECT * FROM "{table}"').fetchall())


def fresh_postgres_url() -> str:
    """A new, empty database on the test server, of its own (dropped at the end of the session)."""
    import uuid

    import psycopg
    name = f"kassa_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    _CREATED_DATABASES.append(name)
    base, _, _ = POSTGRES_URL.rpartition("/")
    return f"{base}/{name}"


_CREATED_DATABASES: list[str] = []


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (an IP SAN) and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path
