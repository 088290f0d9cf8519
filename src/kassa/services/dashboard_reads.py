"""What the Dashboard's pages show, read for one account and mode (never another's)."""

from __future__ import annotations

import re
import time

import orjson

from ..domain.charge import Charge
from ..domain.errors import InvalidRequest
from ..domain.payment_method import PaymentMethod
from ..domain.refund import Refund
from ..store import dashboard_repo, repo
from ..store.database import Database, Tx
from .dashboard import PAGE_SIZE
from .events import event_json
from .payment_intents import PaymentIntents
from .users import SignedIn

_EVENT_TYPE = re.compile(r"^[a-z_.*]{1,64}$")
STATUSES = ("requires_payment_method", "requires_confirmation", "requires_action", "processing",
            "requires_capture", "succeeded", "canceled")


class DashboardReads:
    def __init__(self, db: Database, intents: PaymentIntents, search_sql):
        self.db = db
        self.intents = intents
        self.search_sql = search_sql  # (query text, dialect) -> (" AND (…)", params); raises InvalidRequest

    async def find_by_id(self, user: SignedIn, livemode: bool, text: str) -> str | None:
        """The payment an id names (a PaymentIntent, or its charge or refund), or None."""
        async def read(tx: Tx):
            if text.startswith("pi_"):
                found = await repo.get_intent(tx, user.account_id, livemode, text)
                return found.id if found else None
            table, cls = (("refunds", Refund) if text.startswith("re_") else ("charges", Charge))
            found = await repo.get_object(tx, table, cls, user.account_id, livemode, text)
            return found.payment_intent if found else None

        return await self.db.read(read)

    async def payments(self, user: SignedIn, livemode: bool, *, status: str | None, query: str,
                       after: int | None) -> dict:
        """A page of payments (newest first, keyset by seq) with their latest charges; `query` is
        an email, or kassa's search language. An id is looked up by `find_by_id` instead."""
        where, params = "", {}
        if status:
            if status not in STATUSES:
                raise InvalidRequest(f"Unknown status: {status[:40]}")
            where, params = " AND t.status = :dash_status", {"dash_status": status}
        query = query.strip()
        if query and "@" in query and ":" not in query:
            # The receipt email, or the customer's: both by index (CROSS JOIN keeps SQLite starting from
            # the customers of that email), never a scan of the account's intents.
            where += (" AND t.seq IN (SELECT e.seq FROM payment_intents e WHERE e.account_id = :a AND e.livemode = :l "
                      "AND e.receipt_email = :dash_email UNION ALL SELECT p.seq FROM customers c CROSS JOIN "
                      "payment_intents p WHERE c.account_id = :a AND c.livemode = :l AND c.email = :dash_exact "
                      "AND p.account_id = :a AND p.livemode = :l AND p.customer = c.id)")
            params["dash_email"], params["dash_exact"] = query.lower(), query
        elif query:
            sql, values = self.search_sql(query, self.db.dialect)
            where += sql
            params.update(values)

        async def read(tx: Tx):
            intents, more, last = await repo.page_intents(tx, user.account_id, livemode, limit=PAGE_SIZE,
                                                          after_seq=after, filters_sql=where, filters=params)
            charges = await dashboard_repo.objects_by_ids(tx, "charges", user.account_id, livemode,
                                                          [intent.latest_charge for intent in intents])
            return intents, more, last, {key: Charge.from_record(value) for key, value in charges.items()}

        intents, more, last, charges = await self.db.read(read)
        return {"intents": intents, "charges": charges, "next": last if more else None}

    async def payment(self, user: SignedIn, livemode: bool, intent_id: str) -> dict:
        """Everything the payment page shows. Raises NotFound for an intent of another account or mode."""
        caller_intent = await self.intents.retrieve(_reader(user, livemode), intent_id)

        async def read(tx: Tx):
            charges = await dashboard_repo.charges_of_intent(tx, user.account_id, livemode, intent_id)
            refunds = await dashboard_repo.refunds_of_intent(tx, user.account_id, livemode, intent_id)
            methods = await dashboard_repo.objects_by_ids(tx, "payment_methods", user.account_id, livemode,
                                                          [caller_intent.payment_method])
            events = await dashboard_repo.events_about(tx, user.account_id, livemode, intent_id,
                                                       caller_intent.created - 1)
            audit = await dashboard_repo.audit_of(tx, user.account_id, livemode, intent_id)
            return charges, refunds, methods, events, audit

        charges, refunds, methods, events, audit = await self.db.read(read)
        method = methods.get(caller_intent.payment_method)
        return {"intent": caller_intent, "charges": [Charge.from_record(c) for c in charges],
                "refunds": [Refund.from_record(r) for r in refunds],
                "method": PaymentMethod.from_record(method) if method else None,
                "events": [{"id": e["id"], "type": e["type"], "created": e["created"]} for e in events],
                "audit": [{**dict(a), "detail": orjson.loads(a["detail"])} for a in audit]}

    async def events(self, user: SignedIn, livemode: bool, *, event_type: str | None, after: int | None) -> dict:
        where, params = "", {}
        if event_type:
            if not _EVENT_TYPE.match(event_type):
                raise InvalidRequest("An event type is such as charge.refunded.")
            where, params = " AND t.type = :dash_type", {"dash_type": event_type}

        async def read(tx: Tx):
            return await repo.page(tx, "events", user.account_id, livemode, limit=PAGE_SIZE,
                                   columns="t.id, t.type, t.created", after_seq=after, where=where, params=params)

        rows, more = await self.db.read(read)
        return {"events": [dict(row) for row in rows], "next": rows[-1]["seq"] if more and rows else None}

    async def event(self, user: SignedIn, livemode: bool, event_id: str) -> dict | None:
        async def read(tx: Tx):
            row = await repo.get_event(tx, user.account_id, livemode, event_id)
            if row is None:
                return None
            deliveries = [dict(d) for d in await repo.deliveries_of_event(tx, event_id)]
            attempts = await dashboard_repo.attempts_of_deliveries(tx, [d["id"] for d in deliveries])
            endpoints = await repo.enabled_endpoints(tx, user.account_id, livemode)
            return row, deliveries, attempts, endpoints

        found = await self.db.read(read)
        if found is None:
            return None
        row, deliveries, attempts, endpoints = found
        body = event_json(row)
        for delivery in deliveries:
            delivery["attempts_list"] = [dict(a) for a in attempts.get(delivery["id"], [])]
        return {"event": body, "deliveries": deliveries, "endpoints": [eid for eid, _ in endpoints]}

    async def endpoints(self, user: SignedIn, livemode: bool) -> list[dict]:
        async def read(tx: Tx):
            rows, _ = await repo.page(tx, "webhook_endpoints", user.account_id, livemode, limit=100)
            return [orjson.loads(row["data"]) for row in rows]

        return await self.db.read(read)

    async def endpoint(self, user: SignedIn, livemode: bool, endpoint_id: str) -> dict | None:
        async def read(tx: Tx):
            endpoint = await repo.get_endpoint(tx, user.account_id, livemode, endpoint_id)
            if endpoint is None:
                return None
            deliveries = [dict(d) for d in await dashboard_repo.deliveries_of_endpoint(tx, endpoint_id)]
            attempts = await dashboard_repo.attempts_of_deliveries(tx, [d["id"] for d in deliveries])
            audit = await dashboard_repo.audit_of(tx, user.account_id, livemode, endpoint_id)
            return endpoint, deliveries, attempts, audit

        found = await self.db.read(read)
        if found is None:
            return None
        endpoint, deliveries, attempts, audit = found
        for delivery in deliveries:
            delivery["attempts_list"] = [dict(a) for a in attempts.get(delivery["id"], [])]
        return {"endpoint": endpoint, "deliveries": deliveries,
                "audit": [{**dict(a), "detail": orjson.loads(a["detail"])} for a in audit]}

    async def developers(self, user: SignedIn, livemode: bool, errors_only: bool) -> dict:
        async def read(tx: Tx):
            keys = await dashboard_repo.api_keys(tx, user.account_id)
            logs = await dashboard_repo.request_logs(tx, user.account_id, livemode, errors_only=errors_only, limit=100)
            return [dict(k) for k in keys if bool(k["livemode"]) == livemode], [dict(r) for r in logs]

        keys, logs = await self.db.read(read)
        return {"keys": keys, "logs": logs}

    async def settings(self, user: SignedIn) -> dict:
        async def read(tx: Tx):
            account = await repo.get_account(tx, user.account_id)
            amazon = await repo.amazon_pay_account(tx, user.account_id)
            team = await dashboard_repo.users(tx, user.account_id)
            return dict(account), (dict(amazon) if amazon else None), [dict(u) for u in team]

        account, amazon, team = await self.db.read(read)
        live = None
        if amazon is not None:
            try:
                stored = orjson.loads(amazon["settings"])
            except ValueError:
                stored = {}
            live = {"merchant_id": amazon["merchant_id"], "region": stored.get("region"),
                    "sandbox": stored.get("sandbox"), "updated": amazon["updated"]}
        return {"account": account, "amazon_pay": live, "team": team, "now": int(time.time())}


def _reader(user: SignedIn, livemode: bool):
    from .dashboard import caller_for
    return caller_for(user, livemode)
