"""Write-ahead records of outward money calls: record, then call, then apply.

Before kassa asks a payment processor to move money (capture, release a hold, complete a
checkout, give back an authorization nobody waits for), it commits a ``processor_requests`` row
whose id fixes the processor's idempotency key. The answer is applied in a second unit of work,
which closes the row. A row left pending in between (the process killed, the database down, the
processor silent) is found by the sweep, which sends the same request again (answered once by the
processor) or asks, until it is settled.
"""

from __future__ import annotations

import time
from typing import Any

from ..domain.errors import InvalidRequest
from ..domain.ids import new_id
from ..store import repo
from ..store.database import Database, Tx
from .context import Caller

# The caller's own call is normally answered within this time; the sweep waits that long first.
GRACE_SECONDS = 60
RETRY_MAX_SECONDS = 300


class ProcessorBusy(InvalidRequest):
    """Another request of the same kind is still being settled: Stripe's ``lock_timeout``, a 429 with
    ``Stripe-Should-Retry: true``, which stripe-python and Stripe's other libraries retry."""

    status = 429
    retry_as_is = True

    def __init__(self, kind: str, object_id: str) -> None:
        super().__init__(f"A {kind} of {object_id} with other terms is still being settled with the payment "
                         "processor; nothing was changed. Retry the request.", code="lock_timeout")


async def record(tx: Tx, caller: Caller, kind: str, object_id: str, external_id: str, now: int, *,
                 amount: int | None = None, currency: str | None = None, detail: str | None = None,
                 grace: int = GRACE_SECONDS) -> dict[str, Any]:
    """The pending request of ``kind`` for ``object_id``: a new one, or the one already waiting
    when it asks the same (a retried call sends the same request again). Another request of the
    same kind still waiting is a conflict."""
    waiting = await repo.pending_processor_request(tx, kind, object_id)
    if waiting is not None:
        if (waiting["external_id"], waiting["amount"], waiting["currency"]) == (external_id, amount, currency):
            return dict(waiting)
        raise ProcessorBusy(kind, object_id)
    row = {"id": new_id("preq"), "account_id": caller.account_id, "livemode": caller.livemode, "kind": kind,
           "object_id": object_id, "external_id": external_id, "amount": amount, "currency": currency,
           "created": now, "next_try_at": now + grace, "detail": detail}
    await repo.insert_processor_request(tx, row)
    return row


async def close(db: Database, request_id: str, status: str, error: str | None = None) -> None:
    """Mark a request done or failed in a unit of its own (nothing else changes with it)."""

    async def write(tx: Tx):
        await repo.finish_processor_request(tx, request_id, status, error)

    await db.write(write)


async def postpone(db: Database, request: dict[str, Any], error: str) -> None:
    """Ask again later: twice the time since the request was made, at most five minutes."""
    now = int(time.time())
    wait = min(RETRY_MAX_SECONDS, max(GRACE_SECONDS, now - int(request["created"])))

    async def write(tx: Tx):
        await repo.retry_processor_request_at(tx, request["id"], now + wait, error)

    await db.write(write)


async def load(db: Database, request_id: str) -> dict[str, Any] | None:
    async def read(tx: Tx):
        return await repo.processor_request(tx, request_id)

    row = await db.read(read)
    return dict(row) if row is not None else None
