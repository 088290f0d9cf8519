"""The webhook worker: delivers the outbox, at least once, signed, with retries.

Deliveries are claimed one endpoint at a time, up to a share of slots each, with a lease (on
PostgreSQL with FOR UPDATE SKIP LOCKED, so that several processes share the work without overlap);
each is POSTed on its own and its attempt recorded. An endpoint's backlog, or a slow or dead
endpoint, costs only its own share: claims never walk another endpoint's queue. A process that dies
mid-delivery leaves its lease to expire; the delivery is claimed again and sent again. Receivers
must expect a duplicate, as with Stripe. Live deliveries go to public addresses only (checked on
the address connected to); redirects are not followed; an answer is read up to 64 KiB.
"""

from __future__ import annotations

import asyncio
import logging
import time

from urllib.parse import urlsplit

import aiohttp
import aiohttp.abc

from ..domain import webhook_targets, webhooks
from ..services import client_secrets
from ..store import repo
from ..store.database import Database

log = logging.getLogger("kassa.webhooks")

DNS_RETRY_SECONDS = 30
DOWN_FIRST_WAIT = 1.0
DOWN_MAX_WAIT = 60.0
_NAME_ERRORS = ("Name or service not known", "Temporary failure in name resolution", "nodename nor servname",
                "No address associated with hostname")


MAX_ANSWER_BYTES = 64 * 1024  # of a receiver's answer read, at most
MAX_ERROR_CHARS = 200  # of an attempt's error kept


class AddressRefused(OSError):
    """A live webhook's host resolved to a non-public address."""


class PublicOnlyResolver(aiohttp.abc.AbstractResolver):
    """Resolves as aiohttp does, and refuses a name any of whose addresses is not public."""

    def __init__(self) -> None:
        self._resolver = aiohttp.DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: int = 0) -> list:
        found = await self._resolver.resolve(host, port, family)
        for info in found:
            why = webhook_targets.refusal(info["host"])
            if why:
                raise AddressRefused(f"{host} resolves to {info['host']}, {why}; live webhooks go to public "
                                     "addresses only")
        return found

    async def close(self) -> None:
        await self._resolver.close()


def _is_name_error(problem: Exception) -> bool:
    text = f"{problem} {problem.__cause__ or ''} {getattr(problem, 'os_error', '')}"
    return any(marker in text for marker in _NAME_ERRORS)


class WebhookWorker:
    def __init__(self, db: Database, *, retry_base_seconds: float = 60.0, lease_seconds: float | None = None,
                 concurrency: int = 512, per_endpoint: int = 64, interval: float = 1.0,
                 timeout: float = webhooks.TIMEOUT_SECONDS, allow_private: bool = False):
        self.db = db
        self.allow_private = allow_private  # live deliveries to non-public addresses (KASSA_WEBHOOK_ALLOW_PRIVATE)
        self.retry_base_seconds = retry_base_seconds
        # A claim outlives the longest attempt by a margin; then another worker may take it over.
        self.lease_seconds = lease_seconds if lease_seconds is not None else timeout + 5
        self.concurrency = concurrency
        self.per_endpoint = per_endpoint
        self.interval = interval
        self.timeout = timeout
        self._in_flight: set[asyncio.Task] = set()
        self._per_endpoint_in_flight: dict[str, int] = {}
        # Endpoints that have (or may have) due deliveries, and from when; refreshed from the
        # database every `interval` and told of new deliveries by this process's writes.
        self._due: dict[str, float] = {}
        self._refreshed = 0.0
        # Endpoints that cannot be reached (refused, timed out, unknown name): held back until the
        # time given, then probed with a single delivery; each failed probe doubles the wait. A dead
        # endpoint thus costs one attempt now and then, not one per event, and its deliveries wait
        # (pending, not attempted) until it answers again.
        self._down: dict[str, tuple[float, float]] = {}
        # Hosts whose name did not resolve, until when: a dead name fails at once instead of taking
        # a resolver thread each time (name lookups share a few threads with the whole process).
        self._unresolvable: dict[str, float] = {}
        self._wake = asyncio.Event()
        self._clients: dict[bool, aiohttp.ClientSession] = {}  # by "public addresses only"

    def wake(self, endpoint_ids=()) -> None:
        for endpoint_id in endpoint_ids:
            self._due[endpoint_id] = 0.0
        self._wake.set()

    def client(self, public_only: bool = False) -> aiohttp.ClientSession:
        # aiohttp, not httpx, here: with hundreds of deliveries in flight its pool is an order of
        # magnitude faster (measured in bench/webhook_bench.py). Live deliveries go through a
        # session whose resolver refuses non-public addresses: the address checked is the one
        # connected to, so a name that resolves elsewhere later (DNS rebinding) gets nowhere.
        if public_only not in self._clients:
            resolver = PublicOnlyResolver() if public_only else None
            self._clients[public_only] = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.concurrency, ttl_dns_cache=10, resolver=resolver),
                timeout=aiohttp.ClientTimeout(total=self.timeout, connect=min(self.timeout, 5.0)),
                headers={"User-Agent": "kassa-webhooks/1 (Stripe-compatible)"}, auto_decompress=False)
        return self._clients[public_only]

    async def claim(self, limit: int) -> list:
        """Claim up to `limit` due deliveries, endpoint by endpoint, each up to its free share."""
        now = time.time()
        if now - self._refreshed >= self.interval:
            async def read(tx):
                return await repo.due_endpoints(tx)

            self._due = await self.db.read(read)
            self._refreshed = now
        ready = [endpoint for endpoint, due in self._due.items()
                 if due <= now and self._per_endpoint_in_flight.get(endpoint, 0) < self._share(endpoint, now)]
        if not ready:
            return []

        async def unit(tx):
            claimed = []
            for endpoint in ready:
                room = min(self._share(endpoint, now) - self._per_endpoint_in_flight.get(endpoint, 0),
                           limit - len(claimed))
                if room <= 0:
                    break
                rows = await repo.claim_deliveries(tx, endpoint, now, self.lease_seconds, room)
                if len(rows) < room:
                    self._due.pop(endpoint, None)  # nothing more due now; the next refresh may bring it back
                claimed += rows
            if not claimed:
                return []
            events, endpoints = await repo.delivery_targets(
                tx, [row["event_id"] for row in claimed], [row["endpoint_id"] for row in claimed])
            return [(row, events.get(row["event_id"]), endpoints.get(row["endpoint_id"])) for row in claimed]

        return await self.db.write(unit)

    def _share(self, endpoint_id: str, now: float) -> int:
        """How many deliveries of this endpoint may be in flight: its share, one probe when it
        was unreachable and its wait is over, none while it waits."""
        down = self._down.get(endpoint_id)
        if down is None:
            return self.per_endpoint
        return 1 if down[0] <= now else 0

    def _reached(self, endpoint_id: str, reachable: bool) -> None:
        if reachable:
            self._down.pop(endpoint_id, None)
            return
        wait = min(self._down.get(endpoint_id, (0.0, DOWN_FIRST_WAIT / 2))[1] * 2, DOWN_MAX_WAIT)
        self._down[endpoint_id] = (time.time() + wait, wait)

    async def deliver(self, delivery, event_row, endpoint) -> None:
        """Send one delivery and record the attempt (and what happens next) in one write."""
        endpoint_id = delivery["endpoint_id"]
        self._per_endpoint_in_flight[endpoint_id] = self._per_endpoint_in_flight.get(endpoint_id, 0) + 1
        try:
            result = await self._send(delivery, event_row, endpoint)
        finally:
            left = self._per_endpoint_in_flight.pop(endpoint_id) - 1
            if left:
                self._per_endpoint_in_flight[endpoint_id] = left

        async def record(tx):
            await repo.record_attempts(tx, [result])

        await self.db.write(record)

    async def deliver_due(self) -> int:
        """Claim what is due (up to the free slots) and send it all; for tests and tools."""
        claimed = await self.claim(self.concurrency)
        await asyncio.gather(*(self.deliver(*item) for item in claimed))
        return len(claimed)

    async def _send(self, delivery, event_row, endpoint) -> dict:
        started = time.time()
        code = error = None
        if event_row is None or endpoint is None:
            error = "event or endpoint no longer exists"
        else:
            url, secret = endpoint
            host = urlsplit(url).hostname or ""
            public_only = bool(delivery["livemode"]) and not self.allow_private
            address = webhook_targets.literal(host)
            refused = webhook_targets.refusal(address) if public_only and address else None
            if refused:
                error = f"refused: {address} is {refused}; live webhooks go to public addresses only"
            elif self._unresolvable.get(host, 0) > started:
                error = f"ConnectError: the name {host} did not resolve (checked again after {DNS_RETRY_SECONDS} s)"
            else:
                data = event_row["data"]
                data = data.decode() if isinstance(data, bytes) else data
                payload = client_secrets.current().restore_event(data).encode()  # its secret is not kept
                headers = {"Content-Type": "application/json; charset=utf-8",
                           "Stripe-Signature": webhooks.signature_header(secret, payload, int(started))}
                try:
                    async with self.client(public_only).post(url, data=payload, headers=headers,
                                                             allow_redirects=False) as response:
                        code = response.status
                        await response.content.read(MAX_ANSWER_BYTES)  # a receiver's answer is not kept
                except asyncio.TimeoutError:
                    error = f"timed out after {self.timeout:g} s"
                    self._reached(delivery["endpoint_id"], False)
                except (aiohttp.ClientError, ValueError, OSError) as problem:
                    cause = problem.os_error if isinstance(problem, aiohttp.ClientConnectorError) else None
                    if isinstance(cause, AddressRefused):
                        error = f"refused: {cause}"[:MAX_ERROR_CHARS]
                    else:
                        error = f"{type(problem).__name__}: {problem}"[:MAX_ERROR_CHARS]
                    if isinstance(problem, aiohttp.ClientConnectorError):
                        self._reached(delivery["endpoint_id"], False)
                        if _is_name_error(problem):
                            self._unresolvable[host] = time.time() + DNS_RETRY_SECONDS
                else:
                    self._reached(delivery["endpoint_id"], True)
        finished = time.time()
        ok = code is not None and 200 <= code < 300
        if ok:
            status, next_at = "succeeded", finished
        elif event_row is None or endpoint is None or webhooks.gives_up(delivery["created"], finished):
            status, next_at = "failed", finished
        else:
            status = "pending"
            next_at = finished + webhooks.next_attempt_delay(delivery["attempts"], self.retry_base_seconds)
        if error is None and not ok:
            error = f"HTTP {code}"
        return {"id": delivery["id"], "at": started, "code": code, "latency": (finished - started) * 1000,
                "error": error, "status": status, "next": next_at}

    async def run_forever(self) -> None:
        """Claim while slots are free; each delivery runs on its own, so that a slow endpoint
        holds only its own slots (at most `per_endpoint` per claim), never the others'."""
        while True:
            try:
                while len(self._in_flight) < self.concurrency:
                    claimed = await self.claim(self.concurrency - len(self._in_flight))
                    for item in claimed:
                        task = asyncio.create_task(self.deliver(*item))
                        self._in_flight.add(task)
                        task.add_done_callback(self._finished)
                    if not claimed:
                        break
            except asyncio.CancelledError:
                for task in self._in_flight:
                    task.cancel()
                raise
            except Exception:
                log.exception("webhook claim failed")
            try:
                await asyncio.wait_for(self._wake.wait(), self.interval)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()

    def _finished(self, task: asyncio.Task) -> None:
        self._in_flight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("webhook delivery failed to record", exc_info=task.exception())
        if len(self._in_flight) < self.concurrency // 2:
            self.wake()

    async def close(self) -> None:
        for session in self._clients.values():
            await session.close()
        self._clients.clear()
