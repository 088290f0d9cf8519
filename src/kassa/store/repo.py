"""Queries, one function each, shared by both backends (SQL with ``:name`` parameters)."""

from __future__ import annotations

import functools
from typing import Any

import orjson

from ..domain.payment_intent import PaymentIntent
from .database import Tx


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


# ---- accounts and keys ---------------------------------------------------------------------

async def insert_account(tx: Tx, account_id: str, country: str, name: str, created: int) -> None:
    await tx.run("INSERT INTO accounts (id, country, name, created, amazon_pay_enabled, test_clock_offset) "
                 "VALUES (:id, :country, :name, :created, :enabled, 0)",
                 {"id": account_id, "country": country, "name": name, "created": created, "enabled": True})


async def get_account(tx: Tx, account_id: str):
    return await tx.one("SELECT * FROM accounts WHERE id = :id", {"id": account_id})


async def first_account(tx: Tx):
    return await tx.one("SELECT * FROM accounts ORDER BY created, id LIMIT 1")


async def insert_key(tx: Tx, key_hash: bytes, account_id: str, livemode: bool, kind: str,
                     redacted: str, created: int) -> None:
    await tx.run("INSERT INTO api_keys (key_hash, account_id, livemode, kind, redacted, created) "
                 "VALUES (:h, :a, :l, :k, :r, :c)",
                 {"h": key_hash, "a": account_id, "l": livemode, "k": kind, "r": redacted, "c": created})


async def delete_keys(tx: Tx, account_id: str, livemode: bool, kind: str) -> None:
    await tx.run("DELETE FROM api_keys WHERE account_id = :a AND livemode = :l AND kind = :k",
                 {"a": account_id, "l": livemode, "k": kind})


async def find_key(tx: Tx, key_hash: bytes):
    return await tx.one(
        "SELECT k.key_hash, k.account_id, k.livemode, k.kind, k.expires_at, k.last_used, a.country, a.name, "
        "a.amazon_pay_enabled FROM api_keys k JOIN accounts a ON a.id = k.account_id WHERE k.key_hash = :h",
        {"h": key_hash})


async def keys_of_account(tx: Tx, account_id: str) -> list:
    return await tx.all("SELECT livemode, kind, redacted, created, expires_at, last_used FROM api_keys "
                        "WHERE account_id = :a ORDER BY livemode, kind, created", {"a": account_id})


async def expire_keys(tx: Tx, account_id: str, livemode: bool, kind: str, at: int) -> int:
    """Make the account's keys of that mode and kind stop working at `at` (sooner ones keep theirs)."""
    return await tx.run("UPDATE api_keys SET expires_at = :t WHERE account_id = :a AND livemode = :l "
                        "AND kind = :k AND (expires_at IS NULL OR expires_at > :t)",
                        {"t": at, "a": account_id, "l": livemode, "k": kind})


async def touch_key(tx: Tx, key_hash: bytes, now: int) -> None:
    await tx.run("UPDATE api_keys SET last_used = :t WHERE key_hash = :h", {"t": now, "h": key_hash})


async def clock_offset(tx: Tx, account_id: str) -> int:
    row = await tx.one("SELECT test_clock_offset FROM accounts WHERE id = :id", {"id": account_id})
    return row["test_clock_offset"] if row else 0


async def advance_clock(tx: Tx, account_id: str, seconds: int) -> int:
    await tx.run("UPDATE accounts SET test_clock_offset = test_clock_offset + :s WHERE id = :id",
                 {"s": seconds, "id": account_id})
    return await clock_offset(tx, account_id)


# ---- payment intents -----------------------------------------------------------------------

_INTENT_COLUMNS = ("id, account_id, livemode, created, status, amount, currency, customer, metadata, deadline, "
                   "receipt_email, data")


def _intent_row(account_id: str, intent: PaymentIntent) -> dict[str, Any]:
    return {
        "id": intent.id, "account_id": account_id, "livemode": intent.livemode, "created": intent.created,
        "status": intent.status, "amount": intent.amount, "currency": intent.currency,
        "customer": intent.customer, "metadata": _json(intent.metadata), "deadline": intent.deadline,
        "receipt_email": intent.receipt_email.lower() if intent.receipt_email else None,
        "data": orjson.dumps(intent).decode(),  # orjson writes the (slotted) dataclass's fields
    }


async def insert_intent(tx: Tx, account_id: str, intent: PaymentIntent) -> None:
    await tx.add(f"INSERT INTO payment_intents ({_INTENT_COLUMNS}) VALUES "
                 "(:id, :account_id, :livemode, :created, :status, :amount, :currency, :customer, "
                 ":metadata, :deadline, :receipt_email, :data)", _intent_row(account_id, intent))


async def update_intent(tx: Tx, account_id: str, intent: PaymentIntent) -> None:
    await tx.add("UPDATE payment_intents SET status = :status, amount = :amount, currency = :currency, "
                 "customer = :customer, metadata = :metadata, deadline = :deadline, receipt_email = :receipt_email, "
                 "data = :data "
                 "WHERE id = :id AND account_id = :account_id", _intent_row(account_id, intent))


async def save_intent(tx: Tx, account_id: str, intent: PaymentIntent, *, new: bool) -> None:
    """Store the intent: inserted when `new` (created by this unit and not stored yet: a create that
    confirms at once writes its intent once, in its final state), else updated."""
    await (insert_intent if new else update_intent)(tx, account_id, intent)


def intent_from_row(row) -> PaymentIntent:
    return PaymentIntent.from_record(orjson.loads(row["data"]))


async def get_intent(tx: Tx, account_id: str, livemode: bool, intent_id: str, *, lock: bool = False):
    """The intent, or None when it does not exist for this account and mode."""
    row = await tx.one("SELECT data FROM payment_intents WHERE id = :id AND account_id = :a AND livemode = :l"
                       + (tx.for_update if lock else ""), {"id": intent_id, "a": account_id, "l": livemode})
    return intent_from_row(row) if row else None


async def get_intent_and_clock(tx: Tx, account_id: str, livemode: bool, intent_id: str):
    """The intent (or None) and the account's test clock offset, in one statement: a read that
    checks deadlines needs both, and each statement costs a lock round on SQLite."""
    row = await tx.one("SELECT p.data, a.test_clock_offset FROM accounts a LEFT JOIN payment_intents p "
                       "ON p.id = :id AND p.account_id = a.id AND p.livemode = :l WHERE a.id = :a",
                       {"id": intent_id, "a": account_id, "l": livemode})
    if row is None:
        return None, 0
    return (intent_from_row(row) if row["data"] is not None else None), row["test_clock_offset"]


# ---- events --------------------------------------------------------------------------------

async def insert_events(tx: Tx, account_id: str, rows: list[dict[str, Any]]) -> None:
    await tx.run_many("INSERT INTO events (id, account_id, livemode, created, type, data) "
                      "VALUES (:id, :account_id, :livemode, :created, :type, :data)",
                      [{**row, "account_id": account_id} for row in rows])


# ---- idempotency ---------------------------------------------------------------------------

async def get_idempotent(tx: Tx, account_id: str, livemode: bool, key: str):
    return await tx.one("SELECT fingerprint, status, body FROM idempotency_keys "
                        "WHERE account_id = :a AND livemode = :l AND key = :k",
                        {"a": account_id, "l": livemode, "k": key})


async def save_idempotent(tx: Tx, account_id: str, livemode: bool, key: str, fingerprint: str,
                          status: int, body: bytes | str, created: int) -> None:
    """Store a response for replay; a concurrent twin makes the unit raise UniqueViolation (here, or
    where the backend sends the write)."""
    await tx.add("INSERT INTO idempotency_keys (account_id, livemode, key, fingerprint, status, body, created) "
                 "VALUES (:a, :l, :k, :f, :s, :b, :c)",
                 {"a": account_id, "l": livemode, "k": key, "f": fingerprint, "s": status,
                  "b": body if isinstance(body, str) else body.decode(), "c": created})


async def purge_idempotent(tx: Tx, before: int, limit: int) -> int:
    """Forget up to `limit` stored responses older than `before`; how many went."""
    return await tx.run(
        "DELETE FROM idempotency_keys WHERE (account_id, livemode, key) IN (SELECT account_id, livemode, key "
        "FROM idempotency_keys WHERE created < :before LIMIT :n)", {"before": before, "n": limit})


# ---- lists and search ----------------------------------------------------------------------

async def page_intents(tx: Tx, account_id: str, livemode: bool, *, limit: int, after_id: str | None = None,
                       before_id: str | None = None, after_seq: int | None = None, filters_sql: str = "",
                       filters: dict | None = None):
    """A page of intents (newest first), whether more follow, and the last row's seq (the search
    cursor); None when a cursor id does not exist."""
    found = await page(tx, "payment_intents", account_id, livemode, limit=limit, columns="t.data",
                       after_id=after_id, before_id=before_id, after_seq=after_seq, where=filters_sql,
                       params=filters)
    if found is None:
        return None
    rows, more = found
    return [intent_from_row(row) for row in rows], more, (rows[-1]["seq"] if rows else None)


# ---- paging (every list is newest first, cursored by `seq`) -------------------------------

async def page(tx: Tx, table: str, account_id: str, livemode: bool, *, limit: int, columns: str = "data",
               after_id: str | None = None, before_id: str | None = None, after_seq: int | None = None,
               where: str = "", params: dict | None = None):
    """One page of an account's rows, newest first: after a cursor (``starting_after``, by id, or
    a seq), or before one (``ending_before``). Returns (rows, whether more lie beyond), or None
    when a cursor id does not exist. Columns of `table` are referred to as ``t.<name>``."""
    values = {"a": account_id, "l": livemode, "n": limit + 1, **(params or {})}
    base = f"t.account_id = :a AND t.livemode = :l{where}"
    order = "DESC"
    if after_id or before_id:
        cursor = await tx.one(f"SELECT seq FROM {table} WHERE id = :cid AND account_id = :a AND livemode = :l",
                              {"cid": after_id or before_id, "a": account_id, "l": livemode})
        if cursor is None:
            return None
        after_seq = cursor["seq"] if after_id else None
        if before_id:
            values["cursor"] = cursor["seq"]
            base += " AND t.seq > :cursor"
            order = "ASC"
    if after_seq is not None:
        values["cursor"] = after_seq
        base += " AND t.seq < :cursor"
    rows = list(await tx.all(f"SELECT t.seq, {columns} FROM {table} t WHERE {base} ORDER BY t.seq {order} "
                             "LIMIT :n", values))
    more = len(rows) > limit
    rows = rows[:limit]
    if order == "ASC":
        rows.reverse()
    return rows, more


# ---- payment methods, charges, refunds -----------------------------------------------------

async def insert_object(tx: Tx, table: str, account_id: str, obj, **columns) -> None:
    """Insert an object of a simple table (payment_methods, charges, refunds)."""
    row = {"id": obj.id, "account_id": account_id, "livemode": obj.livemode, "created": obj.created,
           "data": orjson.dumps(obj).decode(), **columns}
    await tx.add(_insert_sql(table, tuple(columns)), row)


@functools.lru_cache(maxsize=256)
def _insert_sql(table: str, extra: tuple[str, ...]) -> str:
    names = ("id", "account_id", "livemode", "created", "data", *extra)
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(':' + name for name in names)})"


async def update_object(tx: Tx, table: str, account_id: str, obj, **columns) -> None:
    row = {"data": orjson.dumps(obj).decode(), **columns}
    sets = ", ".join(f"{name} = :{name}" for name in row)
    await tx.add(f"UPDATE {table} SET {sets} WHERE id = :id AND account_id = :account_id",
                 {**row, "id": obj.id, "account_id": account_id})


async def get_object(tx: Tx, table: str, cls, account_id: str, livemode: bool, object_id: str, *,
                     lock: bool = False):
    row = await tx.one(f"SELECT data FROM {table} WHERE id = :id AND account_id = :a AND livemode = :l"
                       + (tx.for_update if lock else ""), {"id": object_id, "a": account_id, "l": livemode})
    return cls.from_record(orjson.loads(row["data"])) if row else None


async def page_objects(tx: Tx, table: str, cls, account_id: str, livemode: bool, *, limit: int,
                       after_id: str | None = None, before_id: str | None = None, where: str = "",
                       params: dict | None = None) -> tuple[list, bool] | None:
    """A page of a simple table, newest first; None when a cursor id does not exist."""
    found = await page(tx, table, account_id, livemode, limit=limit, columns="t.data", after_id=after_id,
                       before_id=before_id, where=where, params=params)
    if found is None:
        return None
    rows, more = found
    return [cls.from_record(orjson.loads(row["data"])) for row in rows], more


# ---- authorizations (redirect attempts) ----------------------------------------------------

async def insert_authorization(tx: Tx, row: dict) -> None:
    await tx.add("INSERT INTO authorizations (id, token_hash, account_id, livemode, payment_intent, created, "
                 "deadline, return_url, outcome, external_id) VALUES (:id, :token_hash, :account_id, :livemode, "
                 ":payment_intent, :created, :deadline, :return_url, NULL, :external_id)", row)


async def authorization_and_account_by_token(tx: Tx, token_hash: bytes):
    """(the attempt of a one-time token, its account's id, country, name and test_clock_offset) in
    one statement, for the pages the buyer lands on; None for an unknown token."""
    row = await tx.one("SELECT t.*, a.country AS account_country, a.name AS account_name, "
                       "a.test_clock_offset AS account_clock FROM authorizations t "
                       "JOIN accounts a ON a.id = t.account_id WHERE t.token_hash = :h", {"h": token_hash})
    if row is None:
        return None
    return row, {"id": row["account_id"], "country": row["account_country"], "name": row["account_name"],
                 "test_clock_offset": row["account_clock"]}


async def authorization(tx: Tx, authorization_id: str, *, lock: bool = False):
    return await tx.one("SELECT * FROM authorizations WHERE id = :id" + (tx.for_update if lock else ""),
                        {"id": authorization_id})


async def set_authorization_charge(tx: Tx, authorization_id: str, charge_external_id: str) -> None:
    await tx.add("UPDATE authorizations SET charge_external_id = :c WHERE id = :id",
                 {"c": charge_external_id, "id": authorization_id})


async def close_authorization(tx: Tx, authorization_id: str, outcome: str) -> bool:
    """Set the outcome of an open attempt; False when it already had one."""
    changed = await tx.run("UPDATE authorizations SET outcome = :o WHERE id = :id AND outcome IS NULL",
                           {"o": outcome, "id": authorization_id})
    return changed == 1


# ---- live Amazon Pay configuration -----------------------------------------------------------

async def amazon_pay_account(tx: Tx, account_id: str):
    return await tx.one("SELECT * FROM amazon_pay_accounts WHERE account_id = :a", {"a": account_id})


async def amazon_pay_accounts_of_merchant(tx: Tx, merchant_id: str) -> list:
    return await tx.all("SELECT * FROM amazon_pay_accounts WHERE merchant_id = :m", {"m": merchant_id})


async def save_amazon_pay_account(tx: Tx, account_id: str, merchant_id: str, settings: str, updated: int) -> None:
    await tx.run("DELETE FROM amazon_pay_accounts WHERE account_id = :a", {"a": account_id})
    await tx.run("INSERT INTO amazon_pay_accounts (account_id, merchant_id, settings, updated) "
                 "VALUES (:a, :m, :s, :u)", {"a": account_id, "m": merchant_id, "s": settings, "u": updated})


async def refund_by_external_id(tx: Tx, external_id: str):
    return await tx.one("SELECT account_id, livemode, id FROM refunds WHERE external_id = :e", {"e": external_id})


async def refund_external_id(tx: Tx, refund_id: str) -> str | None:
    row = await tx.one("SELECT external_id FROM refunds WHERE id = :id", {"id": refund_id})
    return row["external_id"] if row else None


# ---- processor requests (write-ahead records of outward money calls) -------------------------

async def insert_processor_request(tx: Tx, row: dict) -> None:
    await tx.add("INSERT INTO processor_requests (id, account_id, livemode, kind, object_id, external_id, amount, "
                 "currency, status, created, next_try_at, detail, last_error) VALUES (:id, :account_id, :livemode, "
                 ":kind, :object_id, :external_id, :amount, :currency, 'pending', :created, :next_try_at, :detail, "
                 "NULL)", row)


async def processor_request(tx: Tx, request_id: str, *, lock: bool = False):
    return await tx.one("SELECT * FROM processor_requests WHERE id = :id" + (tx.for_update if lock else ""),
                        {"id": request_id})


async def pending_processor_request(tx: Tx, kind: str, object_id: str):
    """The pending request of that kind for that object, if one waits for its answer."""
    return await tx.one("SELECT * FROM processor_requests WHERE object_id = :o AND kind = :k AND status = 'pending'",
                        {"o": object_id, "k": kind})


async def finish_processor_request(tx: Tx, request_id: str, status: str, error: str | None = None) -> bool:
    """Close a pending request ('done' or 'failed'); False when it was closed already."""
    changed = await tx.run("UPDATE processor_requests SET status = :s, last_error = :e "
                           "WHERE id = :id AND status = 'pending'", {"s": status, "e": error, "id": request_id})
    return changed == 1


async def retry_processor_request_at(tx: Tx, request_id: str, at: int, error: str) -> None:
    await tx.add("UPDATE processor_requests SET next_try_at = :t, last_error = :e WHERE id = :id",
                 {"t": at, "e": error[:500], "id": request_id})


async def due_processor_requests(tx: Tx, now: int, limit: int = 100) -> list[tuple[str, bool, str]]:
    """(account, livemode, request id) of pending processor requests whose time to ask has come."""
    rows = await tx.all("SELECT account_id, livemode, id FROM processor_requests WHERE status = 'pending' "
                        "AND next_try_at <= :now ORDER BY next_try_at LIMIT :n", {"now": now, "n": limit})
    return [(row["account_id"], bool(row["livemode"]), row["id"]) for row in rows]


async def set_authorization_session(tx: Tx, authorization_id: str, external_id: str) -> None:
    await tx.add("UPDATE authorizations SET external_id = :e WHERE id = :id", {"e": external_id, "id": authorization_id})


# ---- background work -----------------------------------------------------------------------

async def due_intents(tx: Tx, now: int, limit: int = 100) -> list[tuple[str, bool, str]]:
    """(account, livemode, intent id) of intents whose deadline passed in their account's time."""
    rows = await tx.all(
        "SELECT p.account_id, p.livemode, p.id FROM payment_intents p JOIN accounts a ON a.id = p.account_id "
        "WHERE p.deadline IS NOT NULL AND p.deadline <= :now + (CASE WHEN p.livemode THEN 0 "
        "ELSE a.test_clock_offset END) ORDER BY p.deadline LIMIT :n", {"now": now, "n": limit})
    return [(row["account_id"], bool(row["livemode"]), row["id"]) for row in rows]


async def due_refunds(tx: Tx, now: int, limit: int = 100) -> list[tuple[str, bool, str]]:
    rows = await tx.all(
        "SELECT r.account_id, r.livemode, r.id FROM refunds r JOIN accounts a ON a.id = r.account_id "
        "WHERE r.settle_at IS NOT NULL AND r.settle_at <= :now + (CASE WHEN r.livemode THEN 0 "
        "ELSE a.test_clock_offset END) ORDER BY r.settle_at LIMIT :n", {"now": now, "n": limit})
    return [(row["account_id"], bool(row["livemode"]), row["id"]) for row in rows]


# ---- events and webhooks -------------------------------------------------------------------

async def unit_context(tx: Tx, account_id: str, livemode: bool, idempotency_key: str | None = None):
    """What every unit of work starts from, in one statement (one round trip on PostgreSQL): the
    account's test clock offset, its enabled webhook endpoints in this mode, and the response
    stored under `idempotency_key` (a row with fingerprint, status, body) or None."""
    rows = await tx.all("SELECT a.test_clock_offset, e.id, e.data, k.fingerprint, k.status, k.body "
                        "FROM accounts a LEFT JOIN idempotency_keys k ON k.account_id = a.id AND k.livemode = :l "
                        "AND k.key = :k LEFT JOIN webhook_endpoints e ON e.account_id = a.id AND e.livemode = :l "
                        "AND e.status = 'enabled' WHERE a.id = :a", {"a": account_id, "l": livemode, "k": idempotency_key})
    if not rows:
        return 0, [], None
    endpoints = [(row["id"], orjson.loads(row["data"])["enabled_events"]) for row in rows if row["id"] is not None]
    return rows[0]["test_clock_offset"], endpoints, (rows[0] if rows[0]["fingerprint"] is not None else None)


async def enabled_endpoints(tx: Tx, account_id: str, livemode: bool) -> list[tuple[str, list[str]]]:
    """(endpoint id, enabled_events) of the account's enabled endpoints in this mode."""
    rows = await tx.all("SELECT id, data FROM webhook_endpoints WHERE account_id = :a AND livemode = :l "
                        "AND status = 'enabled'", {"a": account_id, "l": livemode})
    return [(row["id"], orjson.loads(row["data"])["enabled_events"]) for row in rows]


async def insert_deliveries(tx: Tx, rows: list[dict[str, Any]]) -> None:
    await tx.run_many("INSERT INTO webhook_deliveries (id, event_id, endpoint_id, account_id, livemode, created, "
                      "status, attempts, next_attempt_at) VALUES (:id, :event_id, :endpoint_id, :account_id, "
                      ":livemode, :created, 'pending', 0, :next_attempt_at)", rows)


_PENDING = ("(SELECT COUNT(*) FROM webhook_deliveries d WHERE d.event_id = t.id AND d.status = 'pending') "
            "AS pending")


async def get_event(tx: Tx, account_id: str, livemode: bool, event_id: str):
    return await tx.one(f"SELECT t.data, {_PENDING} FROM events t WHERE t.id = :id AND t.account_id = :a "
                        "AND t.livemode = :l", {"id": event_id, "a": account_id, "l": livemode})


async def event_by_id(tx: Tx, event_id: str):
    return await tx.one("SELECT id, account_id, livemode, type, data FROM events WHERE id = :id", {"id": event_id})


async def page_events(tx: Tx, account_id: str, livemode: bool, *, limit: int, after_id: str | None,
                      before_id: str | None, where: str, params: dict):
    """A page of events (rows with data and pending count), newest first; None for a bad cursor."""
    return await page(tx, "events", account_id, livemode, limit=limit, columns=f"t.data, {_PENDING}",
                      after_id=after_id, before_id=before_id, where=where, params=params)


async def insert_endpoint(tx: Tx, account_id: str, endpoint: dict, secret: str) -> None:
    await tx.add("INSERT INTO webhook_endpoints (id, account_id, livemode, created, status, secret, data) "
                 "VALUES (:id, :a, :l, :c, :s, :secret, :data)",
                 {"id": endpoint["id"], "a": account_id, "l": endpoint["livemode"], "c": endpoint["created"],
                  "s": endpoint["status"], "secret": secret, "data": _json(endpoint)})


async def get_endpoint(tx: Tx, account_id: str, livemode: bool, endpoint_id: str, *, lock: bool = False):
    row = await tx.one("SELECT data FROM webhook_endpoints WHERE id = :id AND account_id = :a AND livemode = :l"
                       + (tx.for_update if lock else ""), {"id": endpoint_id, "a": account_id, "l": livemode})
    return orjson.loads(row["data"]) if row else None


async def update_endpoint(tx: Tx, account_id: str, endpoint: dict) -> None:
    await tx.add("UPDATE webhook_endpoints SET status = :s, data = :data WHERE id = :id AND account_id = :a "
                 "AND livemode = :m", {"s": endpoint["status"], "data": _json(endpoint), "id": endpoint["id"],
                                       "a": account_id, "m": endpoint["livemode"]})


async def delete_endpoint(tx: Tx, account_id: str, livemode: bool, endpoint_id: str) -> int:
    """Delete an endpoint of this account and mode (and fail its pending deliveries); 0 if none."""
    deleted = await tx.run("DELETE FROM webhook_endpoints WHERE id = :id AND account_id = :a AND livemode = :m",
                           {"id": endpoint_id, "a": account_id, "m": livemode})
    if deleted:
        await tx.run("UPDATE webhook_deliveries SET status = 'failed', last_error = 'endpoint deleted' "
                     "WHERE endpoint_id = :id AND status = 'pending'", {"id": endpoint_id})
    return deleted


async def page_endpoints(tx: Tx, account_id: str, livemode: bool, *, limit: int, after_id: str | None,
                         before_id: str | None):
    found = await page(tx, "webhook_endpoints", account_id, livemode, limit=limit, columns="t.data",
                       after_id=after_id, before_id=before_id)
    if found is None:
        return None
    rows, more = found
    return [orjson.loads(row["data"]) for row in rows], more


async def due_endpoints(tx: Tx) -> dict[str, float]:
    """Each endpoint with pending deliveries, and when its earliest one is due."""
    rows = await tx.all("SELECT endpoint_id, MIN(next_attempt_at) AS due FROM webhook_deliveries "
                        "WHERE status = 'pending' GROUP BY endpoint_id")
    return {row["endpoint_id"]: row["due"] for row in rows}


async def claim_deliveries(tx: Tx, endpoint_id: str, now: float, lease_seconds: float, limit: int) -> list:
    """Claim up to `limit` due deliveries of one endpoint, oldest first, not leased by a live
    worker. On PostgreSQL, rows another worker is claiming are skipped (FOR UPDATE SKIP LOCKED)."""
    skip = " FOR UPDATE SKIP LOCKED" if tx.dialect == "postgresql" else ""
    return await tx.all(
        "UPDATE webhook_deliveries SET lease_until = :lease, attempts = attempts + 1 WHERE id IN ("
        "SELECT id FROM webhook_deliveries WHERE endpoint_id = :e AND status = 'pending' "
        "AND next_attempt_at <= :now AND (lease_until IS NULL OR lease_until < :now) "
        f"ORDER BY next_attempt_at LIMIT :n{skip}) RETURNING id, event_id, endpoint_id, livemode, attempts, created",
        {"e": endpoint_id, "now": now, "lease": now + lease_seconds, "n": limit})


async def delivery_targets(tx: Tx, event_ids: list[str], endpoint_ids: list[str]):
    """The event bodies and endpoint (url, secret) a batch of deliveries needs."""
    events = {}
    for event_id in set(event_ids):
        row = await tx.one("SELECT data FROM events WHERE id = :id", {"id": event_id})
        if row:
            events[event_id] = row
    endpoints = {}
    for endpoint_id in set(endpoint_ids):
        row = await tx.one("SELECT data, secret FROM webhook_endpoints WHERE id = :id", {"id": endpoint_id})
        if row:
            endpoints[endpoint_id] = (orjson.loads(row["data"])["url"], row["secret"])
    return events, endpoints


async def record_attempts(tx: Tx, results: list[dict]) -> None:
    """Store each attempt and move its delivery on: succeeded, failed, or retried later."""
    await tx.run_many("INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, latency_ms, error) "
                      "VALUES (:id, :at, :code, :latency, :error)", results)
    await tx.run_many("UPDATE webhook_deliveries SET status = :status, next_attempt_at = :next, lease_until = NULL, "
                      "last_status = :code, last_error = :error WHERE id = :id", results)


async def deliveries_of_event(tx: Tx, event_id: str) -> list:
    return await tx.all("SELECT id, endpoint_id, status, attempts, next_attempt_at, last_status, last_error, "
                        "created FROM webhook_deliveries WHERE event_id = :id ORDER BY seq", {"id": event_id})


async def attempts_of_delivery(tx: Tx, delivery_id: str) -> list:
    return await tx.all("SELECT attempted_at, status_code, latency_ms, error FROM webhook_attempts "
                        "WHERE delivery_id = :id ORDER BY seq", {"id": delivery_id})


async def endpoint_ids(tx: Tx, account_id: str, livemode: bool) -> list[str]:
    rows = await tx.all("SELECT id FROM webhook_endpoints WHERE account_id = :a AND livemode = :l",
                        {"a": account_id, "l": livemode})
    return [row["id"] for row in rows]
