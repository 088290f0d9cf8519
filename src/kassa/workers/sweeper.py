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
        self.clock = time.monotonic

    async def sweep(self) -> int:
        """One pass over everything due now; returns how many jobs it looked at."""
        async with self._lock:
            now = int(time.time())

            async def find(tx):
                return (await repo.due_intents(tx, now), await repo.due_refunds(tx, now),
                        await repo.due_processor_requests(tx, now) if self.live is not None else [])

            intents, refunds, requests = await self.db.read(find)
            due = {row[2] for row in intents} | {row[2] for row in refunds} | {row[2] for row in requests}
            for object_id in [key for key in self._failed if key not in due]:
                del self._failed[object_id]  # done elsewhere, or no longer due: nothing to wait for
            for account_id, livemode, request_id in requests:  # money calls left between record and answer
                await self._run(self.live.settle_request, account_id, livemode, request_id)
            for account_id, livemode, intent_id in intents:
                await self._run(self.intents.resolve_due, account_id, livemode, intent_id)
            for account_id, livemode, refund_id in refunds:
                await self._run(self.refunds.settle, account_id, livemode, refund_id)
            if time.monotonic() - self._purged_at >= PURGE_EVERY_SECONDS:
                await self.purge_idempotency_keys(now - IDEMPOTENCY_TTL_SECONDS)
            return len(intents) + len(refunds) + len(requests)

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
        while True:
            try:
                while await self.sweep() >= 100:
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
