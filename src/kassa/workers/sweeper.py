"""The sweep: resolves ended authorization windows and capture holds, settles refunds and the
processor requests left between their record and their answer, and
forgets idempotent responses older than a day (Stripe keeps them at least 24 hours).

It runs in every kassa process. Each job is re-checked under its row lock inside its own unit of
work, so two processes finding the same job apply it once; a job left by a dead process is
simply found again on the next pass. A job that fails (Amazon Pay unreachable, say) waits before
its next try, twice as long after each failure up to five minutes, instead of being tried and
logged on every pass.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time

from ..services.context import Caller
from ..services.live_payments import LivePayments
from ..services.payment_intents import PaymentIntents
from ..services.refunds import Refunds
from ..store import repo
from ..store.database import Database

log = logging.getLogger("kassa.sweeper")
IDEMPOTENCY_TTL_SECONDS = 24 * 3600
PURGE_EVERY_SECONDS = 60
PURGE_BATCH = 2000
RETRY_MAX_SECONDS = 300.0
BATCH = 100  # jobs taken up by one pass
MAX_LOOKED_AT = 5000  # due rows read by one pass, those skipped included
LIVE_PER_ACCOUNT = 4  # live jobs of one account running at once


class Sweeper:
    def __init__(self, db: Database, intents: PaymentIntents, refunds: Refunds, live: LivePayments | None = None, *,
                 interval: float = 1.0):
        self.db = db
        self.intents = intents
        self.refunds = refunds
        self.live = live
        self.interval = interval
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._purged_at = 0.0
        self._failed: dict[str, tuple[int, float]] = {}  # job's object id -> (failures, next try)
        self._running: dict[str, asyncio.Task] = {}  # live jobs under way, by object id
        self._live_per_account: collections.Counter[str] = collections.Counter()
        self.live_wait = min(interval, 1.0)  # how long a pass waits for the live jobs it started
        self.clock = time.monotonic

    async def sweep(self) -> int:
        """One pass over what is due now; returns how many jobs it started or ran.

        Jobs in backoff, and live jobs still running from an earlier pass, are skipped without
        taking a place in the batch. Test-mode jobs (local, quick) run in the pass; live jobs (they
        ask Amazon Pay) run as tasks of their own, a few per account at a time, and the pass waits
        for them only briefly: an outage of one account's Amazon Pay delays no one else."""
        async with self._lock:
            now = int(time.time())
            waiting = self._waiting()
            limit = min(BATCH + len(waiting), MAX_LOOKED_AT)

            async def find(tx):
                return (await repo.due_processor_requests(tx, now, limit) if self.live is not None else [],
                        await repo.due_intents(tx, now, limit), await repo.due_refunds(tx, now, limit))

            requests, intents, refunds = await self.db.read(find)
            jobs = ([(self.live.settle_request, row) for row in requests]  # money calls left in between
                    + [(self.intents.resolve_due, row) for row in intents]
                    + [(self.refunds.settle, row) for row in refunds])
            due = {row[2] for _, row in jobs}
            for object_id in [key for key in self._failed if key not in due and key not in self._running]:
                del self._failed[object_id]  # done elsewhere, or no longer due: nothing to wait for
            started, ran = [], 0
            for job, (account_id, livemode, object_id) in jobs:
                if object_id in waiting or ran >= BATCH:
                    continue
                if livemode:
                    if self._live_per_account[account_id] >= LIVE_PER_ACCOUNT:
                        continue
                    started.append(self._start(job, account_id, object_id))
                else:
                    await self._run(job, account_id, False, object_id)
                ran += 1
            if started:
                await asyncio.wait(started, timeout=self.live_wait)
            if time.monotonic() - self._purged_at >= PURGE_EVERY_SECONDS:
                await self.purge_idempotency_keys(now - IDEMPOTENCY_TTL_SECONDS)
            return ran

    def _waiting(self) -> set[str]:
        """Jobs not to take up now: in backoff, or still running."""
        moment = self.clock()
        return {key for key, (_, next_try) in self._failed.items() if moment < next_try} | set(self._running)

    def _start(self, job, account_id: str, object_id: str) -> asyncio.Task:
        self._live_per_account[account_id] += 1
        task = asyncio.ensure_future(self._run(job, account_id, True, object_id))
        self._running[object_id] = task

        def done(_: asyncio.Task) -> None:
            self._running.pop(object_id, None)
            self._live_per_account[account_id] -= 1

        task.add_done_callback(done)
        return task

    async def close(self) -> None:
        """Stop the live jobs still running (each is found again by the next process's sweep)."""
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def purge_idempotency_keys(self, before: int) -> int:
        """Delete stored responses created before `before`, a batch per transaction."""
        self._purged_at = time.monotonic()
        total = 0
        while True:
            async def purge(tx):
                return await repo.purge_idempotent(tx, before, PURGE_BATCH)

            try:
                gone = await self.db.write(purge)
            except Exception:
                log.exception("purging idempotency keys failed")
                return total
            total += gone
            if gone < PURGE_BATCH:
                return total

    async def _run(self, job, account_id: str, livemode: bool, object_id: str) -> None:
        failed = self._failed.get(object_id)
        if failed is not None and self.clock() < failed[1]:
            return
        try:
            await job(Caller(account_id, livemode, "system"), object_id)
        except Exception:  # one broken job must not stop the others; it is tried again later
            failures = (failed[0] if failed else 0) + 1
            wait = min(RETRY_MAX_SECONDS, self.interval * 2 ** failures)
            self._failed[object_id] = (failures, self.clock() + wait)
            log.exception("sweep job failed for %s (failure %d; next try in %g s)", object_id, failures, wait)
        else:
            self._failed.pop(object_id, None)

    def wake(self) -> None:
        self._wake.set()

    async def run_forever(self) -> None:
        try:
            await self._loop()
        finally:
            await self.close()

    async def _loop(self) -> None:
        while True:
            try:
                while await self.sweep() >= BATCH:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sweep pass failed")
            try:
                await asyncio.wait_for(self._wake.wait(), self.interval)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()
