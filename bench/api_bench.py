"""Create and retrieve throughput of one kassa process on SQLite, beside a bare baseline, in one run.

    python bench/api_bench.py [--seconds 10] [--connections 32] [--large 1000000]

Each create carries a fresh Idempotency-Key (as stripe-python sends); retrieves pick random stored
ids. Prints one table: kassa with 1,000 stored intents, kassa with --large stored intents, and the
baseline (bench/baseline_app.py: a bare Starlette handler on one SQLite row, no Stripe semantics).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from common import CREATE_LUA, RETRIEVE_LUA, auth_header, free_port, start_kassa, stop, wait_ready, wrk
from seed import account_of, seed_sqlite


def measure(url: str, ids_file: Path, seconds: int, connections: int) -> tuple:
    create = wrk(url, CREATE_LUA.format(auth=auth_header()), seconds=seconds, connections=connections)
    retrieve = wrk(url, RETRIEVE_LUA.format(auth=auth_header(), ids_file=ids_file), seconds=seconds,
                   connections=connections)
    return create, retrieve


def kassa_run(stored: int, seconds: int, connections: int, workdir: Path, name: str):
    path = workdir / f"kassa-{name}.sqlite3"
    database = f"sqlite:///{path}"
    process, url = start_kassa(database)
    stop(process)  # schema and account exist now; fill the table while no server runs
    sample = seed_sqlite(str(path), account_of(str(path)), stored)
    ids_file = workdir / f"ids-{name}.txt"
    ids_file.write_text("\n".join(sample) + "\n")
    process, url = start_kassa(database)
    try:
        return measure(url, ids_file, seconds, connections)
    finally:
        stop(process)


def baseline_run(seconds: int, connections: int, workdir: Path):
    port = free_port()
    process = subprocess.Popen([sys.executable, str(Path(__file__).with_name("baseline_app.py")), str(port),
                                str(workdir / "baseline.sqlite3")])
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process)
        ids_file = workdir / "ids-baseline.txt"
        ids_file.write_text("pi_fixed\n")
        return measure(url, ids_file, seconds, connections)
    finally:
        stop(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--large", type=int, default=1_000_000, help="stored intents for the second kassa run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        rows = [("kassa, 1,000 stored", *kassa_run(1_000, args.seconds, args.connections, workdir, "small")),
                (f"kassa, {args.large:,} stored",
                 *kassa_run(args.large, args.seconds, args.connections, workdir, "large")),
                ("baseline (bare Starlette + 1 row)", *baseline_run(args.seconds, args.connections, workdir))]
    print(f"\n{args.connections} connections, {args.seconds} s each, one process, SQLite synchronous=FULL\n")
    print(f"{'run':36} {'creates/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'retrieves/s':>12} {'p50 ms':>8} "
          f"{'p99 ms':>8} {'errors':>7}")
    for name, create, retrieve in rows:
        print(f"{name:36} {create.requests_per_second:10,.0f} {create.p50_ms:8.2f} {create.p99_ms:8.2f} "
              f"{retrieve.requests_per_second:12,.0f} {retrieve.p50_ms:8.2f} {retrieve.p99_ms:8.2f} "
              f"{create.errors + retrieve.errors:7}")
    small, large = rows[0][1].requests_per_second, rows[1][1].requests_per_second
    print(f"\ncreate slowdown from 1,000 to {args.large:,} stored: {small / large:.2f}x "
          f"(retrieve: {rows[0][2].requests_per_second / rows[1][2].requests_per_second:.2f}x)")
    print("targets: >= 3,000 creates/s, >= 8,000 retrieves/s, p99 <= 25 ms, slowdown <= 1.5x")


if __name__ == "__main__":
    main()
