"""Work queued for one flusher task that takes it in batches: the shape of a grouped commit, shared
by the SQLite writer and PostgreSQL's group commit."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

Queued = list[tuple[Any, asyncio.Future]]


def everything(queued: Queued) -> tuple[Queued, Queued]:
    return queued, []


class Batches:
    """Items queued by `submit`, each with the future its submitter awaits. One task at a time
    calls `flush(batch)` with what `take(queue)` splits off the queue (all of it by default) until
    the queue is empty; `flush` settles the batch's futures."""

    def __init__(self, flush: Callable[[Queued], Awaitable[None]],
                 take: Callable[[Queued], tuple[Queued, Queued]] = everything):
        self._flush = flush
        self._take = take
        self._queue: Queued = []
        self.flushing = False
        self._task: asyncio.Task | None = None

    def submit(self, item: Any) -> asyncio.Future:
        """The future of `item`. Await it where no local variable keeps it (``return await
        batches.submit(item)``): a failure's traceback holds the awaiting frame, which would hold
        the future, which holds the failure, and the request's objects would wait in that cycle
        for the garbage collector."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.append((item, future))
        if not self.flushing:
            self.flushing = True
            self._task = loop.create_task(self._run())  # kept: the loop holds tasks weakly
        return future

    async def _run(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._take(self._queue)
                await self._flush(batch)
        finally:
            self.flushing = False
