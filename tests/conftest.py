"""Shared fixtures: real `kassa serve` processes on free ports, and stripe clients against them."""

from __future__ import annotations

import pytest
import stripe

from support import POSTGRES_URL, Server, _CREATED_DATABASES, fresh_database, start_server


def pytest_sessionfinish(session, exitstatus):
    if not _CREATED_DATABASES:
        return
    import psycopg
    try:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            for name in _CREATED_DATABASES:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except Exception:  # noqa: BLE001 - cleanup only
        pass


def pytest_addoption(parser):
    parser.addoption("--backend", action="append", default=[],
                     help="storage backends for API tests: sqlite, postgresql (default: both)")


def _backends(config) -> list[str]:
    return config.getoption("--backend") or ["sqlite", "postgresql"]


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def server(request, tmp_path_factory) -> Server:
    """A `kassa serve` process shared by the API tests of one backend."""
    backend = request.param
    if backend not in _backends(request.config):
        pytest.skip(f"backend {backend} not selected")
    workdir = tmp_path_factory.mktemp(f"kassa-{backend}")
    srv = start_server(fresh_database(backend, workdir), workdir)
    yield srv
    srv.stop()


@pytest.fixture
def client(server) -> stripe.StripeClient:
    return server.client()


@pytest.fixture
def public_client(server) -> stripe.StripeClient:
    return server.client(server.publishable_key)
