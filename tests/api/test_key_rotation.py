"""Rolling API keys: the new key works at once, the old one stops (now or after a grace period)
in every running process within seconds, and keys are listed by prefix and last four."""

from __future__ import annotations

import subprocess
import time

import pytest
import stripe

from support import kassa_command, require_postgres, fresh_database, start_server
from test_auth import new_account


def kassa(*args: str, database: str) -> subprocess.CompletedProcess:
    return subprocess.run([*kassa_command(), "accounts", *args, "--database", database], capture_output=True,
                          text=True, timeout=60)


def works(server, key: str) -> bool:
    try:
        server.client(key).v1.payment_intents.list(params={"limit": 1})
        return True
    except stripe.AuthenticationError as error:
        assert error.http_status == 401
        return False


def until(check, seconds: float = 10.0) -> float:
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, "not within the time allowed"
        time.sleep(0.25)
    return time.monotonic() - started


@pytest.fixture
def two_processes(tmp_path):
    require_postgres()
    database = fresh_database("postgresql", tmp_path)
    first = start_server(database, tmp_path)
    second = start_server(database, tmp_path)
    yield first, second
    first.stop()
    second.stop()


def test_a_rolled_secret_key_stops_in_every_process_within_ten_seconds(two_processes):
    first, second = two_processes
    account = new_account(first)
    old = account["secret_test"]
    assert works(first, old) and works(second, old)  # both processes have it cached now
    rolled = kassa("roll-key", account["id"], "--mode", "test", "--kind", "secret", database=first.database)
    assert rolled.returncode == 0, rolled.stderr
    new = rolled.stdout.strip()
    assert new.startswith("sk_test_") and new != old
    assert works(first, new) and works(second, new)
    assert until(lambda: not works(first, old) and not works(second, old)) < 10
    with pytest.raises(stripe.AuthenticationError) as info:
        first.client(old).v1.payment_intents.list()
    assert "Expired API Key" in info.value.user_message and old not in info.value.user_message


def test_a_grace_period_keeps_the_old_key_working_until_it_ends(tmp_path):
    server = start_server(fresh_database("sqlite", tmp_path), tmp_path)
    try:
        account = new_account(server)
        old = account["publishable_live"]
        rolled = kassa("roll-key", account["id"], "--mode", "live", "--kind", "publishable", "--expire-old-in",
                       "3", database=server.database)
        new = rolled.stdout.strip()
        assert new.startswith("pk_live_")
        intent_key = account["secret_live"]
        assert works(server, intent_key)  # the secret key of that mode was not touched
        created = server.client(new).v1.payment_methods.create(params={"type": "amazon_pay"})
        assert created.livemode is True
        assert server.client(old).v1.payment_methods.create(params={"type": "amazon_pay"}).id  # still in its grace
        time.sleep(3.5)
        until(lambda: _refused(server, old))
        listed = kassa("keys", account["id"], database=server.database)
        assert listed.returncode == 0
        assert old not in listed.stdout and new not in listed.stdout  # never shown whole
        assert old[:8] + "****" + old[-4:] in listed.stdout and new[-4:] in listed.stdout
        lines = [line for line in listed.stdout.splitlines() if line.startswith("pk_live_")]
        assert len(lines) == 2 and any(line.split()[-1] != "-" for line in lines)  # last used recorded
        missing = kassa("keys", "acct_missing", database=server.database)
        assert missing.returncode != 0 and "no account acct_missing" in missing.stderr
    finally:
        server.stop()


def _refused(server, publishable: str) -> bool:
    try:
        server.client(publishable).v1.payment_methods.create(params={"type": "amazon_pay"})
        return False
    except stripe.AuthenticationError:
        return True
