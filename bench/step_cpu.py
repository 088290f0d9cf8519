"""The server's CPU time per request, step by step through the Amazon Pay flow, on SQLite.

    python bench/step_cpu.py [--intents 4000] [--concurrency 32] [--runs 2]

Rates move with the machine's hour; CPU time per request moves much less, so this is the figure
to compare code changes by. Each step runs alone for every intent (all creates, then all confirms,
then all page buttons, then all retrieves), 32 at once, and the server's CPU time (user + system,
every thread, read from /proc) over the step is divided by the number of requests. Beside it, the
bare baseline (bench/baseline_app.py) measured the same way: its POST (one insert) and GET (one read).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from common import free_port, start_kassa, stop, wait_ready
from flow_bench import AUTH, ID, PAGE
from httpclient import Connection

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system time of every thread of the process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


async def each(url: str, jobs: list, concurrency: int) -> list:
    """Run every job (a coroutine function taking a Connection) `concurrency` at a time."""
    parts = urlsplit(url)
    queue = list(enumerate(jobs))
    results: list = [None] * len(jobs)

    async def worker():
        conn = Connection(parts.hostname, parts.port)
        try:
            while queue:
                index, job = queue.pop()
                results[index] = await job(conn)
        finally:
            conn.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return results


def measured(pid: int, url: str, jobs: list, concurrency: int) -> tuple[float, list]:
    """(CPU µs per job, results)."""
    before = cpu_seconds(pid)
    results = asyncio.run(each(url, jobs, concurrency))
    return (cpu_seconds(pid) - before) / len(jobs) * 1e6, results


def kassa_steps(pid: int, url: str, intents: int, concurrency: int) -> dict[str, float]:
    def create(conn):
        return conn.request("POST", "/v1/payment_intents",
                            b"amount=1099&currency=usd&payment_method_types[0]=amazon_pay",
                            {**AUTH, "Idempotency-Key": uuid.uuid4().hex})

    def confirm(intent_id):
        return lambda conn: conn.request(
            "POST", f"/v1/payment_intents/{intent_id}/confirm",
            b"payment_method_data[type]=amazon_pay&return_url=https%3A%2F%2Fshop.example%2Fdone",
            {**AUTH, "Idempotency-Key": uuid.uuid4().hex})

    def authorize(page):
        return lambda conn: conn.request("POST", page, b"decision=authorize")

    def retrieve(intent_id):
        return lambda conn: conn.request("GET", f"/v1/payment_intents/{intent_id}", b"", AUTH)

    cpu = {}
    cpu["create"], answers = measured(pid, url, [create] * intents, concurrency)
    ids = [ID.search(body).group(1).decode() for _, _, body, _ in answers]
    cpu["confirm"], answers = measured(pid, url, [confirm(i) for i in ids], concurrency)
    pages = [PAGE.search(body).group(1).decode() for _, _, body, _ in answers]
    cpu["authorize"], answers = measured(pid, url, [authorize(p) for p in pages], concurrency)
    if any(status != 303 or "redirect_status=succeeded" not in headers["location"]
           for status, headers, _, _ in answers):
        raise SystemExit("an authorization did not succeed")
    cpu["retrieve"], answers = measured(pid, url, [retrieve(i) for i in ids], concurrency)
    if any(b'"status":"succeeded"' not in body for _, _, body, _ in answers):
        raise SystemExit("an intent did not succeed")
    return cpu


def baseline_steps(pid: int, url: str, intents: int, concurrency: int) -> dict[str, float]:
    def insert(conn):
        return conn.request("POST", "/v1/payment_intents", b"amount=1099")

    def read(conn):
        return conn.request("GET", "/v1/payment_intents/pi_fixed")

    return {"insert": measured(pid, url, [insert] * intents, concurrency)[0],
            "read": measured(pid, url, [read] * intents, concurrency)[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--intents", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    print(f"server CPU per request, µs ({args.intents} intents, {args.concurrency} at once, one process, SQLite)\n")
    print(f"{'run':10} {'create':>8} {'confirm':>8} {'authorize':>10} {'retrieve':>9} {'per flow':>9}"
          f"   {'baseline insert':>16} {'read':>6} {'4-step flow':>12}")
    for run in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory() as tmp:
            process, url = start_kassa(f"sqlite:///{Path(tmp) / 'kassa.sqlite3'}")
            try:
                kassa = kassa_steps(process.pid, url, args.intents, args.concurrency)
            finally:
                stop(process)
            port = free_port()
            process = subprocess.Popen([sys.executable, str(Path(__file__).with_name("baseline_app.py")),
                                        str(port), str(Path(tmp) / "baseline.sqlite3")])
            try:
                base_url = f"http://127.0.0.1:{port}"
                wait_ready(base_url, process)
                base = baseline_steps(process.pid, base_url, args.intents, args.concurrency)
            finally:
                stop(process)
        print(f"{run:<10} {kassa['create']:8.0f} {kassa['confirm']:8.0f} {kassa['authorize']:10.0f} "
              f"{kassa['retrieve']:9.0f} {sum(kassa.values()):9.0f}   {base['insert']:16.0f} {base['read']:6.0f} "
              f"{3 * base['insert'] + base['read']:12.0f}")


if __name__ == "__main__":
    main()
