"""Queries, one function each, shared by both backends (SQL with ``:name`` parameters)."""

from __future__ import annotations

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


async def count_accounts(tx: Tx) -> int:
    row = await tx.one("SELECT COUNT(*) AS n FROM accounts")
    return row["n"]


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
        "SELECT k.key_hash, k.account_id, k.livemode, k.kind, a.country, a.name "
        "FROM api_keys k JOIN accounts a ON a.id = k.account_id WHERE k.key_hash = :h", {"h": key_hash})


async def clock_offset(tx: Tx, account_id: str) -> int:
    row = await tx.one("SELECT test_clock_offset FROM accounts WHERE id = :id", {"id": account_id})
    return row["test_clock_offset"] if row else 0


async def advance_clock(tx: Tx, account_id: str, seconds: int) -> int:
    await tx.run("UPDATE accounts SET test_clock_offset = test_clock_offset + :s WHERE id = :id",
                 {"s": seconds, "id": account_id})
    return await clock_offset(tx, account_id)


# ---- payment intents -----------------------------------------------------------------------

_INTENT_COLUMNS = "id, account_id, livemode, created, status, amount, currency, customer, metadata, deadline, data"


def _intent_row(account_id: str, intent: PaymentIntent) -> dict[str, Any]:
    record = intent.to_record()
    return {
        "id": intent.id, "account_id": account_id, "livemode": intent.livemode, "created": intent.created,
        "status": intent.status, "amount": intent.amount, "currency": intent.currency,
        "customer": intent.customer, "metadata": _json(intent.metadata), "deadline": intent.deadline,
        "data": _json(record),
    }


async def insert_intent(tx: Tx, account_id: str, intent: PaymentIntent) -> None:
    await tx.run(f"INSERT INTO payment_intents ({_INTENT_COLUMNS}) VALUES "
                 "(:id, :account_id, :livemode, :created, :status, :amount, :currency, :customer, "
                 ":metadata, :deadline, :data)", _intent_row(account_id, intent))


async def update_intent(tx: Tx, account_id: str, intent: PaymentIntent) -> None:
    await tx.run("UPDATE payment_intents SET status = :status, amount = :amount, currency = :currency, "
                 "customer = :customer, metadata = :metadata, deadline = :deadline, data = :data "
                 "WHERE id = :id AND account_id = :account_id", _intent_row(account_id, intent))


def intent_from_row(row) -> PaymentIntent:
    return PaymentIntent.from_record(orjson.loads(row["data"]))


async def get_intent(tx: Tx, account_id: str, livemode: bool, intent_id: str, *, lock: bool = False):
    """The intent, or None when it does not exist for this account and mode."""
    row = await tx.one("SELECT data FROM payment_intents WHERE id = :id AND account_id = :a AND livemode = :l"
                       + (tx.for_update if lock else ""), {"id": intent_id, "a": account_id, "l": livemode})
    return intent_from_row(row) if row else None


async def intent_seq(tx: Tx, account_id: str, livemode: bool, intent_id: str) -> int | None:
    row = await tx.one("SELECT seq FROM payment_intents WHERE id = :id AND account_id = :a AND livemode = :l",
                       {"id": intent_id, "a": account_id, "l": livemode})
    return row["seq"] if row else None


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
                          status: int, body: bytes, created: int) -> None:
    """Store a response for replay; a concurrent twin makes this raise UniqueViolation."""
    await tx.run("INSERT INTO idempotency_keys (account_id, livemode, key, fingerprint, status, body, created) "
                 "VALUES (:a, :l, :k, :f, :s, :b, :c)",
                 {"a": account_id, "l": livemode, "k": key, "f": fingerprint, "s": status,
                  "b": body.decode(), "c": created})


async def purge_idempotency(tx: Tx, before: int) -> int:
    return await tx.run("DELETE FROM idempotency_keys WHERE created < :c", {"c": before})


# ---- lists and search ----------------------------------------------------------------------

async def page_intents(tx: Tx, account_id: str, livemode: bool, *, limit: int,
                       after_seq: int | None = None, before_seq: int | None = None,
                       filters_sql: str = "", filters: dict | None = None) -> tuple[list[PaymentIntent], bool, int | None]:
    """Newest first; `after_seq` pages on (starting_after), `before_seq` pages back (ending_before).
    Returns one page, whether more lie beyond it in that direction, and the last row's seq."""
    params = {"a": account_id, "l": livemode, "n": limit + 1, **(filters or {})}
    where = "account_id = :a AND livemode = :l" + filters_sql
    if before_seq is not None:
        params["cursor"] = before_seq
        rows = await tx.all(f"SELECT seq, data FROM payment_intents WHERE {where} AND seq > :cursor "
                            "ORDER BY seq ASC LIMIT :n", params)
        rows = list(rows)
        more = len(rows) > limit
        rows = rows[:limit][::-1]
    else:
        cursor = ""
        if after_seq is not None:
            params["cursor"] = after_seq
            cursor = " AND seq < :cursor"
        rows = list(await tx.all(f"SELECT seq, data FROM payment_intents WHERE {where}{cursor} "
                                 "ORDER BY seq DESC LIMIT :n", params))
        more = len(rows) > limit
        rows = rows[:limit]
    return [intent_from_row(row) for row in rows], more, (rows[-1]["seq"] if rows else None)
