"""Running a change: one unit of work with its clock, its events and its sealed response."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from ..domain import client_secrets, webhooks
from ..domain.errors import Refusal
from ..domain.events import DomainEvent
from ..domain.ids import new_id
from ..store import repo
from ..store.database import Database, Tx
from .context import Caller, Replayed

API_VERSION = "2026-09-30.endive"
UPDATED = ".updated"  # Stripe's events that carry data.previous_attributes

Renderer = Callable[[Any], dict]
Previous = Callable[[dict], dict]


class Runner:
    """Writes a change and its events in one transaction; renders objects for events."""

    def __init__(self, db: Database, render: Renderer, previous: Previous):
        self.db = db
        self.render = render
        self.previous = previous
        # Wakes this process's webhook worker with the endpoints that have new deliveries.
        self.on_deliveries: Callable[[set[str]], None] = lambda endpoint_ids: None

    def event_rows(self, caller: Caller, events: list[DomainEvent], now: int,
                   rendered: dict[int, dict] | None = None,
                   endpoints: list[tuple[str, list[str]]] = ()) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Event rows and their webhook deliveries (one per endpoint that wants the event);
        `rendered` collects each object's JSON (by identity) for reuse in the unit."""
        rows, deliveries = [], []
        rendered = {} if rendered is None else rendered
        wall = time.time()
        account_id, livemode = caller.account_id, caller.livemode
        request = {"id": caller.request_id, "idempotency_key": caller.idempotency_key}
        for event in events:
            obj, kind = event.object, event.type
            body_of_object = rendered.get(id(obj))
            if body_of_object is None:
                body_of_object = rendered[id(obj)] = self.render(obj)
            data: dict[str, Any] = {"object": body_of_object}
            if event.previous_attributes and kind.endswith(UPDATED):  # as Stripe: *.updated events only
                data["previous_attributes"] = self.previous(event.previous_attributes)
            event_id = new_id("evt")
            targets = 0
            if endpoints:
                for endpoint_id, wanted in endpoints:
                    if webhooks.wants(wanted, kind):
                        targets += 1
                        deliveries.append({"id": new_id("wdl"), "event_id": event_id, "endpoint_id": endpoint_id,
                                           "account_id": account_id, "livemode": livemode, "created": int(wall),
                                           "next_attempt_at": wall})
            text = orjson.dumps({
                "id": event_id, "object": "event", "api_version": API_VERSION, "created": now,
                "data": data, "livemode": livemode, "pending_webhooks": targets, "request": request, "type": kind,
            }).decode()
            if getattr(obj, "client_secret", False) is None:  # an intent's derived secret: never kept
                secret = body_of_object["client_secret"]
                text = text.replace(secret, client_secrets.mark(secret))
            rows.append({"id": event_id, "livemode": livemode, "created": now, "type": kind, "data": text})
        return rows, deliveries

    async def write(self, caller: Caller,
                    change: Callable[[Tx, int], Awaitable[tuple[Any, list[DomainEvent]]]]) -> Any:
        """Run `change(tx, now)`, store its events, seal its result; all or nothing. A result that
        is a `Refusal` commits too, and is sealed (and answered) as its error."""

        queued: set[str] = set()

        async def unit(tx: Tx):
            check = caller.replay_check
            offset, endpoints, stored = await repo.unit_context(tx, caller.account_id, caller.livemode,
                                                                check[0] if check else None)
            if stored is not None:
                raise Replayed(stored)
            caller.replay_check = None  # looked up: a refusal later on needs no second lookup
            now = int(time.time()) + (0 if caller.livemode else offset)
            result, events = await change(tx, now)
            rendered: dict[int, dict] = {}
            if events:
                rows, deliveries = self.event_rows(caller, events, now, rendered, endpoints)
                await repo.insert_events(tx, caller.account_id, rows)
                if deliveries:
                    await repo.insert_deliveries(tx, deliveries)
                    queued.update(delivery["endpoint_id"] for delivery in deliveries)
            if caller.seal is not None:
                subject = result.subject if isinstance(result, Refusal) else result
                return await caller.seal(tx, result, rendered.get(id(subject)))
            return result

        result = await self.db.write(unit)
        if queued:
            self.on_deliveries(queued)
        return result
