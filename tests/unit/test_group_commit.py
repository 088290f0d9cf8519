"""PostgreSQL's group commit: a refused group is retried unit by unit, only the unit at fault
fails, and a refusal leaves no reference cycle behind (the flusher's frame, its group of futures
and the error would otherwise wait together for the garbage collector)."""

from __future__ import annotations

import asyncio
import gc

import asyncpg
import pytest

from kassa.store.database import UniqueViolation
from kassa.store.postgres import GroupCommit

BAD = ("INSERT INTO t (x) VALUES ($1)", 1, ["bad"])
GOOD = ("INSERT INTO t (x) VALUES ($1)", 1, ["good"])
DUPLICATE = ("INSERT INTO t (x) VALUES ($1)", 1, ["duplicate"])


class FakeConnection:
    """Refuses any statement carrying 'bad' (a check constraint) or 'duplicate' (a unique key)."""

    def __init__(self):
        self.statements: list[list] = []

    async def execute(self, text, *values):
        await asyncio.sleep(0)
        self.statements.append(list(values))
        if "bad" in values:
            raise asyncpg.exceptions.CheckViolationError("new row violates check constraint")
        if "duplicate" in values:
            raise asyncpg.exceptions.UniqueViolationError("duplicate key value violates unique constraint")


class FakePool:
    def __init__(self):
        self.connection = FakeConnection()
        self.released = 0

    async def acquire(self):
        return self.connection

    def release(self, connection):
        self.released += 1


async def _commit_all(group: GroupCommit, units: list[list]) -> list:
    return await asyncio.gather(*(group.commit(writes) for writes in units), return_exceptions=True)


def test_a_refused_group_fails_only_the_unit_at_fault():
    pool = FakePool()
    group = GroupCommit(pool)
    outcomes = asyncio.run(_commit_all(group, [[GOOD], [BAD], [GOOD], [DUPLICATE]]))
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], asyncpg.exceptions.CheckViolationError)
    assert isinstance(outcomes[3], UniqueViolation)
    # one statement for the four, then each alone
    assert pool.connection.statements == [["good", "bad", "good", "duplicate"], ["good"], ["bad"], ["good"],
                                          ["duplicate"]]
    assert (group.groups, group.units, pool.released) == (1, 4, 1)


@pytest.mark.parametrize("units", [[[BAD]], [[GOOD], [BAD]], [[DUPLICATE]], [[GOOD], [DUPLICATE]]])
def test_a_refusal_leaves_no_cycle(units):
    async def run():
        group = GroupCommit(FakePool())
        await _commit_all(group, [[GOOD]])  # first use: whatever is built once
        gc.collect()
        gc.disable()
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            outcomes = await _commit_all(group, units)
            assert any(isinstance(outcome, Exception) for outcome in outcomes)
            del outcomes
            await _commit_all(group, [[GOOD]])  # the next flush: the one before is let go of
            gc.collect()
            return [item.f_code.co_name for item in gc.garbage
                    if type(item).__name__ == "frame" and "/kassa/" in item.f_code.co_filename]
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
            gc.enable()

    assert asyncio.run(run()) == []
