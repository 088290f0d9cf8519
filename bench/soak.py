"""Soak: a steady stream of creates against one kassa process, with the store's growth watched.

    python bench/soak.py [--minutes 10] [--connections 32] [--backend sqlite|postgresql|both]

Every 10 seconds it prints the creates per second and p99 of those 10 seconds (one wrk run each,
fresh Idempotency-Keys), then, for SQLite, the size of the write-ahead log and of the database
file; for PostgreSQL, the size of the payment_intents table with its indexes, its dead tuples and
the last autovacuum; and the server's resident memory. It ends with the figures the soak target
is judged by: the largest WAL seen, p99 of the last minute against the first, RSS first and last.
A minute's p99 is that of all its requests (wrk's latency histograms of its six runs, merged); the
largest of its six 10-second p99s is printed beside it.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

from common import CREATE_LUA, auth_header, start_kassa, stop, wrk

POSTGRES_URL = os.environ.get("KASSA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


HISTOGRAM_LUA = """
done = function(summary, latency, requests)
  local out = io.open("{path}", "w")
  for i = 1, #latency do
    local value, count = latency(i)
    if count and count > 0 then out:write(value, " ", count, "\\n") end
  end
  out:close()
end
"""


def histogram(path: Path) -> Counter:
    """wrk's latency histogram written by HISTOGRAM_LUA: microseconds -> requests."""
    counts: Counter = Counter()
    for line in path.read_text().splitlines():
        value, count = line.split()
        counts[int(value)] += int(count)
    return counts


def percentile_ms(counts: Counter, fraction: float) -> float:
    """The latency under which `fraction` of the requests of `counts` fell."""
    total, seen = sum(counts.values()), 0
    for value in sorted(counts):
        seen += counts[value]
        if seen >= fraction * total:
            return value / 1000
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
    latencies = workdir / f"latency-{backend}.txt"
    script = CREATE_LUA.format(auth=auth_header()) + HISTOGRAM_LUA.format(path=latencies)
    rows, minutes_of, largest_wal = [], [], 0.0
    print(f"\n{backend}: {minutes:g} minutes of creates, {connections} connections")
    try:
        end = time.monotonic() + minutes * 60
        started = time.monotonic()
        while time.monotonic() < end:
            result = wrk(url, script, connections=connections, seconds=10)
            minutes_of.append(histogram(latencies))
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
    first, last = sum(minutes_of[:6], Counter()), sum(minutes_of[-6:], Counter())
    p99_first, p99_last = percentile_ms(first, 0.99), percentile_ms(last, 0.99)
    worst_first = max(r.p99_ms for r, _ in rows[:6])
    worst_last = max(r.p99_ms for r, _ in rows[-6:])
    print(f"{backend}: p99 first minute {p99_first:.1f} ms, last minute {p99_last:.1f} ms "
          f"({p99_last / p99_first:.2f}x; the largest 10-second p99: {worst_first:.1f} and {worst_last:.1f} ms, "
          f"{worst_last / worst_first:.2f}x); RSS {rows[0][1]:.1f} -> {rows[-1][1]:.1f} MB"
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
