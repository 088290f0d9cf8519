"""The sweep's retries: a failing job waits longer after each failure; others go on."""

from __future__ import annotations

import asyncio

from kassa.workers.sweeper import RETRY_MAX_SECONDS, Sweeper


class _Due:
    """A database whose sweep finds the same due intents on every pass."""

    def __init__(self, intent_ids: list[str]):
        self.found = ([("acct_1", True, intent_id) for intent_id in intent_ids], [], [])

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
