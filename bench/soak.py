"""Soak: a steady stream of creates against one kassa process, with the store's growth watched.

    python bench/soak.py [--minutes 10] [--connections 32] [--backend sqlite|postgresql|both]

Every 10 seconds it prints the creates per second and p99 of those 10 seconds (one wrk run each,
fresh Idempotency-Keys), then, for SQLite, the size of the write-ahead log and of the database
file; for PostgreSQL, the size of the payment_intents table with its indexes, its dead tuples and
the last autovacuum; and the server's resident memory. It ends with the figures the soak target
is judged by: the largest WAL seen, p99 of the last minute against the first, RSS first and last.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from common import CREATE_LUA, auth_header, start_kassa, stop, wrk

POSTGRES_URL = os.environ.get("KASSA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def mb(path: Path) -> float:
    return path.stat().st_size / 1e6 if path.exists() else 0.0


def fresh_postgres() -> str:
    import psycopg

    name = f"kassa_soak_{int(time.time())}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return POSTGRES_URL.rpartition("/")[0] + "/" + name


def postgres_sizes(database: str) -> str:
    import psycopg

    with psycopg.connect(database, autocommit=True) as connection:
        size, dead, vacuumed = connection.execute(
            "SELECT pg_total_relation_size('payment_intents'), n_dead_tup, last_autovacuum "
            "FROM pg_stat_user_tables WHERE relname = 'payment_intents'").fetchone()
    return f"intents+indexes {size / 1e6:8.1f} MB  dead tuples {dead:>7}  autovacuum {vacuumed or '-'}"


def soak(backend: str, minutes: float, connections: int, workdir: Path) -> None:
    if backend == "sqlite":
        path = workdir / "soak.sqlite3"
        database = f"sqlite:///{path}"
    else:
        database = fresh_postgres()
    process, url = start_kassa(database)
    script = CREATE_LUA.format(auth=auth_header())
    rows, largest_wal = [], 0.0
    print(f"\n{backend}: {minutes:g} minutes of creates, {connections} connections")
    try:
        end = time.monotonic() + minutes * 60
        started = time.monotonic()
        while time.monotonic() < end:
            result = wrk(url, script, connections=connections, seconds=10)
            rss = rss_mb(process.pid)
            if backend == "sqlite":
                wal = mb(Path(str(path) + "-wal"))
                largest_wal = max(largest_wal, wal)
                store = f"WAL {wal:8.1f} MB  database {mb(path):8.1f} MB"
            else:
                store = postgres_sizes(database)
            rows.append((result, rss))
            print(f"{time.monotonic() - started:6.0f} s  {result.requests_per_second:7.0f} creates/s  "
                  f"p99 {result.p99_ms:6.1f} ms  errors {result.errors}  {store}  RSS {rss:6.1f} MB", flush=True)
    finally:
        stop(process)
    first, last = rows[:6], rows[-6:]
    p99_first = max(r.p99_ms for r, _ in first)
    p99_last = max(r.p99_ms for r, _ in last)
    print(f"{backend}: p99 first minute {p99_first:.1f} ms, last minute {p99_last:.1f} ms "
          f"({p99_last / p99_first:.2f}x); RSS {rows[0][1]:.1f} -> {rows[-1][1]:.1f} MB"
          + (f"; largest WAL {largest_wal:.1f} MB" if backend == "sqlite" else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        for backend in (("sqlite", "postgresql") if args.backend == "both" else (args.backend,)):
            soak(backend, args.minutes, args.connections, Path(workdir))


if __name__ == "__main__":
    main()
