"""The sweep's retries: a failing job waits longer after each failure; others go on."""

from __future__ import annotations

import asyncio

import pytest

from kassa.workers import sweeper as sweeper_module
from kassa.workers.sweeper import RETRY_MAX_SECONDS, Sweeper


class _Due:
    """A database whose sweep finds the same due intents on every pass."""

    def __init__(self, intent_ids: list[str]):
        self.found = ([], [("acct_1", True, intent_id) for intent_id in intent_ids], [])

    async def read(self, unit):
        return self.found


class _Intents:
    def __init__(self, broken: set[str]):
        self.broken = broken
        self.calls: list[str] = []

    async def resolve_due(self, caller, intent_id: str) -> None:
        self.calls.append(intent_id)
        if intent_id in self.broken:
            raise ConnectionError("Amazon Pay unreachable")


def _sweeper(intents: _Intents, ids: list[str]) -> tuple[Sweeper, list[float]]:
    sweeper = Sweeper(_Due(ids), intents, refunds=None, interval=1.0)
    now = [1000.0]
    sweeper.clock = lambda: now[0]
    sweeper.purge_idempotency_keys = _no_purge
    return sweeper, now


async def _no_purge(before: int) -> int:
    return 0


def test_a_failing_job_waits_twice_as_long_after_each_failure(caplog):
    intents = _Intents(broken={"pi_broken"})
    sweeper, now = _sweeper(intents, ["pi_broken", "pi_fine"])

    async def passes(at: list[float]) -> None:
        for moment in at:
            now[0] = moment
            await sweeper.sweep()

    # failures at 1000 (next try 2 s later), 1002 (4 s), 1006 (8 s), 1014 (16 s)
    asyncio.run(passes([1000, 1001, 1002, 1003, 1005, 1006, 1013, 1014, 1029]))
    assert intents.calls.count("pi_broken") == 4
    assert intents.calls.count("pi_fine") == 9  # the others are tried on every pass
    assert "failure 4; next try in 16 s" in caplog.text


def test_the_wait_is_capped_and_forgotten_after_a_success():
    intents = _Intents(broken={"pi_flaky"})
    sweeper, now = _sweeper(intents, ["pi_flaky"])

    async def go():
        for _ in range(20):  # fail many times, each at the moment it is allowed again
            await sweeper.sweep()
            now[0] += RETRY_MAX_SECONDS
        assert intents.calls.count("pi_flaky") == 20  # never more than the cap apart
        intents.broken.clear()
        await sweeper.sweep()  # succeeds: forgotten
        assert "pi_flaky" not in sweeper._failed
        intents.broken.add("pi_flaky")
        await sweeper.sweep()
        now[0] += 2
        await sweeper.sweep()  # a first failure again: 2 s
        return intents.calls.count("pi_flaky")

    assert asyncio.run(go()) == 23


def test_a_job_no_longer_due_is_forgotten():
    intents = _Intents(broken={"pi_broken"})
    sweeper, now = _sweeper(intents, ["pi_broken"])

    async def go():
        await sweeper.sweep()
        assert "pi_broken" in sweeper._failed
        sweeper.db.found = ([], [], [])  # resolved by another process, say
        await sweeper.sweep()
        return sweeper._failed

    assert asyncio.run(go()) == {}


class _Rows:
    """A database of due intents that answers the sweep's queries as the store does: at most
    ``limit`` rows, the first due first."""

    def __init__(self, intents: list[tuple[str, bool, str]]):
        self.intents = intents

    async def read(self, unit):
        return await unit(self)


@pytest.fixture(autouse=True)
def _store(monkeypatch):
    async def due_intents(tx, now, limit=100):
        return list(tx.intents[:limit]) if isinstance(tx, _Rows) else []

    async def nothing(tx, now, limit=100):
        return []

    monkeypatch.setattr(sweeper_module.repo, "due_intents", due_intents)
    monkeypatch.setattr(sweeper_module.repo, "due_refunds", nothing)
    monkeypatch.setattr(sweeper_module.repo, "due_processor_requests", nothing)


def test_jobs_in_backoff_take_no_place_in_the_batch(monkeypatch):
    """More failing jobs than a batch holds must not starve the ones behind them."""
    broken = [("acct_down", False, f"pi_broken{i:03d}") for i in range(150)]
    fine = [("acct_up", False, "pi_fine")]
    intents = _Intents(broken={row[2] for row in broken})
    rows = _Rows(broken + fine)
    sweeper = Sweeper(rows, intents, refunds=None, interval=1.0)
    now = [1000.0]
    sweeper.clock = lambda: now[0]
    sweeper.purge_idempotency_keys = _no_purge

    async def passes():
        await sweeper.sweep()  # the first 100 broken ones fail and wait
        now[0] += 0.5
        await sweeper.sweep()  # the other 50 broken ones, and the fine one
        return intents.calls

    calls = asyncio.run(passes())
    assert "pi_fine" in calls
    assert len(calls) == 151 and len(set(calls)) == 151  # each once: those waiting were skipped


def test_a_live_account_that_hangs_delays_no_one_else():
    release = asyncio.Event()

    class _Slow(_Intents):
        async def resolve_due(self, caller, intent_id: str) -> None:
            self.calls.append(intent_id)
            if caller.account_id == "acct_hung":
                await release.wait()  # Amazon Pay does not answer this account

    hung = [("acct_hung", True, f"pi_hung{i}") for i in range(10)]
    others = [("acct_other", True, "pi_live_other"), ("acct_test", False, "pi_test")]
    intents = _Slow(broken=set())
    sweeper = Sweeper(_Rows(hung + others), intents, refunds=None, interval=0.05)
    sweeper.purge_idempotency_keys = _no_purge

    async def go():
        started = asyncio.get_running_loop().time()
        await asyncio.wait_for(sweeper.sweep(), 2)
        await asyncio.wait_for(sweeper.sweep(), 2)  # the hung ones still run: not started again
        elapsed = asyncio.get_running_loop().time() - started
        calls = list(intents.calls)
        release.set()
        await sweeper.close()
        return calls, elapsed

    calls, elapsed = asyncio.run(go())
    assert "pi_test" in calls and "pi_live_other" in calls
    hung_calls = [c for c in calls if c.startswith("pi_hung")]
    assert len(hung_calls) == len(set(hung_calls)) == 4  # a few per account at a time, none started twice
    assert calls.count("pi_test") == calls.count("pi_live_other") == 2  # both passes went on past them
    assert elapsed < 1.0
