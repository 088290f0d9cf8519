"""Events (read-only), webhook endpoints, and re-sending an event."""

from __future__ import annotations

import time

import orjson

from ..domain import webhooks
from ..domain.errors import no_such
from ..domain.ids import new_id, random_base62
from ..domain.metadata import apply_metadata
from ..store import repo
from ..store.database import Database, Tx
from . import client_secrets, webhook_targets
from .context import Caller
from .unit import Runner


def event_json(row) -> dict:
    """An event as stored, with its live count of deliveries still pending (and its intent's client
    secret, which is not kept)."""
    body = orjson.loads(client_secrets.current().restore_event(row["data"]))
    body["pending_webhooks"] = row["pending"]
    return body


class Events:
    def __init__(self, db: Database):
        self.db = db

    async def retrieve(self, caller: Caller, event_id: str) -> dict:
        async def read(tx: Tx):
            return await repo.get_event(tx, caller.account_id, caller.livemode, event_id)

        row = await self.db.read(read)
        if row is None:
            raise no_such("event", event_id)
        return event_json(row)

    async def list(self, caller: Caller, *, limit: int, starting_after: str | None, ending_before: str | None,
                   where: str, params: dict) -> tuple[list[dict], bool]:
        async def read(tx: Tx):
            return await repo.page_events(tx, caller.account_id, caller.livemode, limit=limit,
                                          after_id=starting_after, before_id=ending_before, where=where,
                                          params=params)

        page = await self.db.read(read)
        if page is None:
            raise no_such("event", starting_after or ending_before,
                          param="starting_after" if starting_after else "ending_before")
        rows, more = page
        return [event_json(row) for row in rows], more

    async def deliveries(self, caller: Caller, event_id: str) -> list[dict]:
        """Every delivery of an event and each of its attempts (kassa's own view, for debugging)."""

        async def read(tx: Tx):
            if await repo.get_event(tx, caller.account_id, caller.livemode, event_id) is None:
                return None
            found = []
            for row in await repo.deliveries_of_event(tx, event_id):
                attempts = await repo.attempts_of_delivery(tx, row["id"])
                found.append({
                    "id": row["id"], "object": "webhook_delivery", "event": event_id,
                    "webhook_endpoint": row["endpoint_id"], "status": row["status"], "attempts": [
                        {"attempted_at": a["attempted_at"], "status_code": a["status_code"],
                         "latency_ms": round(a["latency_ms"], 2), "error": a["error"]} for a in attempts],
                    "next_attempt_at": row["next_attempt_at"] if row["status"] == "pending" else None,
                })
            return found

        found = await self.db.read(read)
        if found is None:
            raise no_such("event", event_id)
        return found


async def resend(db: Database, event_id: str, endpoint_id: str | None = None) -> list[str]:
    """Queue the event again for its account's endpoints (or one endpoint); returns delivery ids."""

    async def unit(tx: Tx):
        return [row["id"] for row in await resend_in(tx, event_id, endpoint_id)]

    return await db.write(unit)


async def resend_in(tx: Tx, event_id: str, endpoint_id: str | None = None) -> list[dict]:
    """`resend`'s unit, for a caller's own unit (the Dashboard's): the delivery rows queued."""
    event = await repo.event_by_id(tx, event_id)
    if event is None:
        raise no_such("event", event_id)
    endpoints = await repo.enabled_endpoints(tx, event["account_id"], bool(event["livemode"]))
    if endpoint_id:
        if endpoint_id not in await repo.endpoint_ids(tx, event["account_id"], bool(event["livemode"])):
            raise no_such("webhook_endpoint", endpoint_id)
        targets = [endpoint_id]
    else:
        targets = [eid for eid, wanted in endpoints if webhooks.wants(wanted, event["type"])]
    now = time.time()
    rows = [{"id": new_id("wdl"), "event_id": event_id, "endpoint_id": target,
             "account_id": event["account_id"], "livemode": bool(event["livemode"]), "created": int(now),
             "next_attempt_at": now} for target in targets]
    if rows:
        await repo.insert_deliveries(tx, rows)
    return rows


class WebhookEndpoints:
    """Changes go through the runner, so that their answers are kept for Idempotency-Key replays."""

    def __init__(self, runner: Runner, *, allow_private: bool = False):
        self.runner = runner
        self.db = runner.db
        self.allow_private = allow_private  # live endpoints on private addresses (KASSA_WEBHOOK_ALLOW_PRIVATE)

    async def create(self, caller: Caller, *, url: str, enabled_events: list[str], description: str | None,
                     metadata: dict | None, api_version: str | None) -> dict:
        await webhook_targets.check(url, livemode=caller.livemode, allow_private=self.allow_private)
        secret = "whsec_" + random_base62(32)

        async def change(tx: Tx, now: int):
            endpoint = {
                "id": new_id("we"), "object": "webhook_endpoint", "api_version": api_version,
                "application": None, "created": int(time.time()), "description": description,
                "enabled_events": webhooks.check_enabled_events(enabled_events), "livemode": caller.livemode,
                "metadata": {k: v for k, v in (metadata or {}).items() if v is not None}, "status": "enabled",
                "url": url,
            }
            await repo.insert_endpoint(tx, caller.account_id, endpoint, secret)
            return {**endpoint, "secret": secret}, []  # the secret is shown on create only

        return await self.runner.write(caller, change)

    async def retrieve(self, caller: Caller, endpoint_id: str) -> dict:
        async def read(tx: Tx):
            return await repo.get_endpoint(tx, caller.account_id, caller.livemode, endpoint_id)

        found = await self.db.read(read)
        if found is None:
            raise no_such("webhook_endpoint", endpoint_id, param="webhook_endpoint")
        return found

    async def update(self, caller: Caller, endpoint_id: str, changes: dict, metadata: dict | None) -> dict:
        if "url" in changes:
            await webhook_targets.check(changes["url"], livemode=caller.livemode, allow_private=self.allow_private)
        async def change(tx: Tx, now: int):
            endpoint = await repo.get_endpoint(tx, caller.account_id, caller.livemode, endpoint_id, lock=True)
            if endpoint is None:
                raise no_such("webhook_endpoint", endpoint_id, param="webhook_endpoint")
            if "enabled_events" in changes:
                changes["enabled_events"] = webhooks.check_enabled_events(changes["enabled_events"])
            if "disabled" in changes:
                endpoint["status"] = "disabled" if changes.pop("disabled") else "enabled"
            endpoint.update(changes)
            endpoint["metadata"] = apply_metadata(endpoint["metadata"], metadata)
            await repo.update_endpoint(tx, caller.account_id, endpoint)
            return endpoint, []

        return await self.runner.write(caller, change)

    async def delete(self, caller: Caller, endpoint_id: str) -> dict:
        async def change(tx: Tx, now: int):
            if await repo.delete_endpoint(tx, caller.account_id, caller.livemode, endpoint_id) != 1:
                raise no_such("webhook_endpoint", endpoint_id, param="webhook_endpoint")
            return {"id": endpoint_id, "object": "webhook_endpoint", "deleted": True}, []

        return await self.runner.write(caller, change)

    async def list(self, caller: Caller, *, limit: int, starting_after: str | None, ending_before: str | None):
        async def read(tx: Tx):
            return await repo.page_endpoints(tx, caller.account_id, caller.livemode, limit=limit,
                                             after_id=starting_after, before_id=ending_before)

        page = await self.db.read(read)
        if page is None:
            raise no_such("webhook_endpoint", starting_after or ending_before,
                          param="starting_after" if starting_after else "ending_before")
        return page
