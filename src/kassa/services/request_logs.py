"""The API's recent requests (Developers → Logs): noted in memory as they are answered, written
in batches by a background task, so that a request never waits for its log line."""

from __future__ import annotations

import asyncio
import logging
import time

import orjson

from ..store import dashboard_repo
from ..store.database import Database, Tx

log = logging.getLogger("kassa.request_logs")

MAX_PENDING = 10_000  # beyond this (the database too slow), lines are dropped, never requests slowed
# Successful requests kept per flush (a second) and process; beyond, under a flood, they are only
# counted, so that the log costs a busy server next to nothing. Errors are always kept.
KEEP_SUCCESSES_PER_FLUSH = 200
KEEP_SECONDS = 7 * 24 * 3600


class RequestLogs:
    def __init__(self, db: Database, interval: float = 1.0):
        self.db = db
        self.interval = interval
        self.pending: list[tuple] = []
        self.dropped = 0
        self.successes = 0  # kept since the last flush
        self.not_kept = 0  # successes over the budget, since the server started

    def record(self, request, response, started: float) -> None:
        """Note one answered API request (called by wire.api for each; does no I/O)."""
        owner = request.scope.get("kassa.owner")
        if owner is None:  # not authenticated: no account to show it to
            return
        status = response.status_code
        if status < 400:
            if self.successes >= KEEP_SUCCESSES_PER_FLUSH:
                self.not_kept += 1
                return
            self.successes += 1
        if len(self.pending) >= MAX_PENDING:
            self.dropped += 1
            return
        self.pending.append((owner, started, time.time(), request.method, request.scope["path"],
                             status, response, request.scope))

    @staticmethod
    def _row(entry: tuple) -> dict:
        (account_id, livemode), started, ended, method, path, status, response, scope = entry
        key = next((value.decode("latin-1") for name, value in scope["headers"] if name == b"idempotency-key"), None)
        request_id = next((value.decode() for name, value in response.raw_headers if name == b"request-id"), "")
        error_type = None
        if status >= 400:
            try:
                error_type = str(orjson.loads(response.body)["error"]["type"])[:64]
            except (ValueError, KeyError, TypeError, AttributeError):
                error_type = "unknown"
        return {"account_id": account_id, "livemode": livemode, "created": started, "method": method[:8],
                "path": path[:500], "status": status, "duration_ms": round((ended - started) * 1000, 2),
                "request_id": request_id[:64], "idempotency_key": key[:255] if key else None,
                "error_type": error_type}

    async def flush(self) -> int:
        taken, self.pending = self.pending, []
        self.successes = 0
        if not taken:
            return 0
        rows = [self._row(entry) for entry in taken]

        async def unit(tx: Tx):
            await dashboard_repo.insert_request_logs(tx, rows)

        await self.db.write(unit)
        return len(rows)

    async def purge(self) -> None:
        async def unit(tx: Tx):
            await dashboard_repo.purge_request_logs(tx, time.time() - KEEP_SECONDS)

        await self.db.write(unit)

    async def run_forever(self) -> None:
        rounds = 0
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.flush()
                rounds += 1
                if rounds % 3600 == 1:
                    await self.purge()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - logs are best effort; the API goes on
                log.exception("writing the API request log failed")
