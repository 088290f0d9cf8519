"""Fill a kassa SQLite database with N stored PaymentIntents quickly (bulk insert, same row format)."""

from __future__ import annotations

import os
import sqlite3
import time

from kassa.domain import payment_intent as pi
from kassa.store.repo import _intent_row


def seed_sqlite(path: str, account_id: str, count: int, batch: int = 20_000) -> list[str]:
    """Insert `count` intents for the account; returns a sample of their ids."""
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    sample: list[str] = []
    now = int(time.time())
    command = pi.CreateIntent(amount=1099, currency="usd", metadata={"order_id": "42"})
    columns = "id, account_id, livemode, created, status, amount, currency, customer, metadata, deadline, data"
    sql = f"INSERT INTO payment_intents ({columns}) VALUES (:id, :account_id, :livemode, :created, :status, " \
          ":amount, :currency, :customer, :metadata, :deadline, :data)"
    done = 0
    while done < count:
        rows = []
        for _ in range(min(batch, count - done)):
            intent, _ = pi.create(command, livemode=False, now=now)
            rows.append(_intent_row(account_id, intent))
        connection.executemany(sql, rows)
        connection.commit()
        sample.extend(row["id"] for row in rows[:50])
        done += len(rows)
    connection.close()
    os.sync()  # the seeded pages reach the disk now, not during the measurement that follows
    return sample


def account_of(path: str) -> str:
    connection = sqlite3.connect(path)
    try:
        return connection.execute("SELECT id FROM accounts ORDER BY created LIMIT 1").fetchone()[0]
    finally:
        connection.close()
