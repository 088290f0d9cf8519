"""The Dashboard's queries (users, sessions, sign-in failures, audit log, request logs, and the
reads its pages need), SQL with ``:name`` parameters shared by both backends."""

from __future__ import annotations

from typing import Any

import orjson

from .database import Tx

# ---- users and sessions --------------------------------------------------------------------


async def insert_user(tx: Tx, row: dict[str, Any]) -> None:
    await tx.run("INSERT INTO dashboard_users (id, email, account_id, role, password_hash, created) "
                 "VALUES (:id, :email, :account_id, :role, :password_hash, :created)", row)


async def user_by_email(tx: Tx, email: str):
    return await tx.one("SELECT * FROM dashboard_users WHERE email = :e", {"e": email})


async def user_by_id(tx: Tx, user_id: str):
    return await tx.one("SELECT * FROM dashboard_users WHERE id = :id", {"id": user_id})


async def set_password(tx: Tx, user_id: str, password_hash: str) -> None:
    await tx.run("UPDATE dashboard_users SET password_hash = :h WHERE id = :id", {"h": password_hash, "id": user_id})


async def users(tx: Tx, account_id: str | None = None) -> list:
    if account_id is None:
        return list(await tx.all("SELECT id, email, account_id, role, created FROM dashboard_users ORDER BY created, email"))
    return list(await tx.all("SELECT id, email, account_id, role, created FROM dashboard_users WHERE account_id = :a "
                             "ORDER BY created, email", {"a": account_id}))


async def delete_user(tx: Tx, email: str) -> int:
    user = await user_by_email(tx, email)
    if user is None:
        return 0
    await tx.run("DELETE FROM dashboard_sessions WHERE user_id = :id", {"id": user["id"]})
    return await tx.run("DELETE FROM dashboard_users WHERE id = :id", {"id": user["id"]})


async def insert_session(tx: Tx, token_hash: str, user_id: str, now: int) -> None:
    await tx.run("INSERT INTO dashboard_sessions (token_hash, user_id, created, last_seen) VALUES (:h, :u, :n, :n)",
                 {"h": token_hash, "u": user_id, "n": now})


async def session_and_user(tx: Tx, token_hash: str):
    return await tx.one(
        "SELECT s.created AS session_created, s.last_seen, u.id, u.email, u.account_id, u.role, "
        "a.name AS account_name, a.country, a.amazon_pay_enabled FROM dashboard_sessions s "
        "JOIN dashboard_users u ON u.id = s.user_id JOIN accounts a ON a.id = u.account_id "
        "WHERE s.token_hash = :h", {"h": token_hash})


async def touch_session(tx: Tx, token_hash: str, now: int) -> None:
    await tx.run("UPDATE dashboard_sessions SET last_seen = :n WHERE token_hash = :h", {"n": now, "h": token_hash})


async def delete_session(tx: Tx, token_hash: str) -> None:
    await tx.run("DELETE FROM dashboard_sessions WHERE token_hash = :h", {"h": token_hash})


async def purge_sessions(tx: Tx, idle_before: int) -> int:
    return await tx.run("DELETE FROM dashboard_sessions WHERE last_seen < :t", {"t": idle_before})


# ---- sign-in failures ----------------------------------------------------------------------

async def failures(tx: Tx, keys: list[str]) -> list:
    return list(await tx.all("SELECT key, failures, last_failed FROM sign_in_failures WHERE key IN (:k0, :k1)",
                             {"k0": keys[0], "k1": keys[1]}))


async def add_failure(tx: Tx, key: str, now: float, forget_before: float) -> None:
    """One more failure for `key`; a count whose last failure is older than `forget_before` restarts."""
    await tx.run("INSERT INTO sign_in_failures (key, failures, last_failed) VALUES (:k, 1, :n) "
                 "ON CONFLICT (key) DO UPDATE SET failures = CASE WHEN sign_in_failures.last_failed < :f "
                 "THEN 1 ELSE sign_in_failures.failures + 1 END, last_failed = :n",
                 {"k": key, "n": now, "f": forget_before})


async def clear_failures(tx: Tx, key: str) -> None:
    await tx.run("DELETE FROM sign_in_failures WHERE key = :k", {"k": key})


# ---- audit log -----------------------------------------------------------------------------

async def insert_audit(tx: Tx, row: dict[str, Any]) -> None:
    await tx.add("INSERT INTO dashboard_audit (account_id, livemode, created, user_email, action, object_id, "
                 "detail, outcome) VALUES (:account_id, :livemode, :created, :user_email, :action, :object_id, "
                 ":detail, :outcome)", {**row, "detail": orjson.dumps(row["detail"]).decode()})


async def audit_of(tx: Tx, account_id: str, livemode: bool, object_id: str, limit: int = 50) -> list:
    return list(await tx.all("SELECT created, user_email, action, object_id, detail, outcome FROM dashboard_audit "
                             "WHERE object_id = :o AND account_id = :a AND livemode = :l ORDER BY seq DESC LIMIT :n",
                             {"o": object_id, "a": account_id, "l": livemode, "n": limit}))


# ---- API request logs ----------------------------------------------------------------------

async def insert_request_logs(tx: Tx, rows: list[dict[str, Any]]) -> None:
    await tx.run_many("INSERT INTO api_request_logs (account_id, livemode, created, method, path, status, "
                      "duration_ms, request_id, idempotency_key, error_type) VALUES (:account_id, :livemode, "
                      ":created, :method, :path, :status, :duration_ms, :request_id, :idempotency_key, :error_type)",
                      rows)


async def request_logs(tx: Tx, account_id: str, livemode: bool, *, errors_only: bool, limit: int) -> list:
    where = " AND status >= 400" if errors_only else ""
    return list(await tx.all(f"SELECT * FROM api_request_logs WHERE account_id = :a AND livemode = :l{where} "
                             "ORDER BY seq DESC LIMIT :n", {"a": account_id, "l": livemode, "n": limit}))


async def purge_request_logs(tx: Tx, keep_after: float, limit: int = 5000) -> int:
    return await tx.run("DELETE FROM api_request_logs WHERE seq IN (SELECT seq FROM api_request_logs "
                        "WHERE created < :t LIMIT :n)", {"t": keep_after, "n": limit})


# ---- what the pages read -------------------------------------------------------------------

async def objects_by_ids(tx: Tx, table: str, account_id: str, livemode: bool, ids: list[str]) -> dict[str, dict]:
    """The JSON of the named objects of one account and mode (charges, payment methods), by id."""
    ids = [i for i in dict.fromkeys(ids) if i][:100]
    if not ids:
        return {}
    names = {f"i{n}": value for n, value in enumerate(ids)}
    rows = await tx.all(f"SELECT id, data FROM {table} WHERE account_id = :a AND livemode = :l AND id IN "
                        f"({', '.join(':' + name for name in names)})", {"a": account_id, "l": livemode, **names})
    return {row["id"]: orjson.loads(row["data"]) for row in rows}


async def refunds_of_intent(tx: Tx, account_id: str, livemode: bool, intent_id: str) -> list[dict]:
    rows = await tx.all("SELECT data FROM refunds WHERE payment_intent = :p AND account_id = :a AND livemode = :l "
                        "ORDER BY seq DESC", {"p": intent_id, "a": account_id, "l": livemode})
    return [orjson.loads(row["data"]) for row in rows]


async def charges_of_intent(tx: Tx, account_id: str, livemode: bool, intent_id: str) -> list[dict]:
    rows = await tx.all("SELECT data FROM charges WHERE payment_intent = :p AND account_id = :a AND livemode = :l "
                        "ORDER BY seq DESC", {"p": intent_id, "a": account_id, "l": livemode})
    return [orjson.loads(row["data"]) for row in rows]


async def events_about(tx: Tx, account_id: str, livemode: bool, object_id: str, since: int, limit: int = 100) -> list:
    """Events made since `since` whose JSON names `object_id` (its own, its charges' and refunds')."""
    rows = await tx.all("SELECT id, type, created, data FROM events WHERE account_id = :a AND livemode = :l "
                        "AND created >= :c AND data LIKE :p ORDER BY seq LIMIT :n",
                        {"a": account_id, "l": livemode, "c": since, "p": f'%"{object_id}"%', "n": limit})
    return list(rows)


async def endpoint_secret(tx: Tx, account_id: str, livemode: bool, endpoint_id: str) -> str | None:
    row = await tx.one("SELECT secret FROM webhook_endpoints WHERE id = :id AND account_id = :a AND livemode = :l",
                       {"id": endpoint_id, "a": account_id, "l": livemode})
    return row["secret"] if row else None


async def deliveries_of_endpoint(tx: Tx, endpoint_id: str, limit: int = 50) -> list:
    return list(await tx.all(
        "SELECT d.id, d.event_id, d.status, d.attempts, d.created, d.next_attempt_at, d.last_status, d.last_error, "
        "e.type FROM webhook_deliveries d LEFT JOIN events e ON e.id = d.event_id WHERE d.endpoint_id = :id "
        "ORDER BY d.seq DESC LIMIT :n", {"id": endpoint_id, "n": limit}))


async def attempts_of_deliveries(tx: Tx, delivery_ids: list[str]) -> dict[str, list]:
    if not delivery_ids:
        return {}
    names = {f"d{n}": value for n, value in enumerate(delivery_ids)}
    rows = await tx.all("SELECT delivery_id, attempted_at, status_code, latency_ms, error FROM webhook_attempts "
                        f"WHERE delivery_id IN ({', '.join(':' + name for name in names)}) ORDER BY seq", names)
    found: dict[str, list] = {}
    for row in rows:
        found.setdefault(row["delivery_id"], []).append(row)
    return found


async def api_keys(tx: Tx, account_id: str) -> list:
    return list(await tx.all("SELECT livemode, kind, redacted, created, expires_at, last_used FROM api_keys "
                             "WHERE account_id = :a ORDER BY livemode, kind, created", {"a": account_id}))
