"""Complete Amazon Pay flows per second against one kassa process on SQLite.

    python bench/flow_bench.py [--seconds 10] [--concurrency 32]

Each flow: create → confirm (payment_method_data[type]=amazon_pay, return_url) → POST the test
authorization page (Authorize) → retrieve, checking the intent succeeded. Prints flows/s and the
p50/p99 of each step, beside the same client driving four requests against the bare baseline
(bench/baseline_app.py), which shows what the machine and the client allow at all.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from common import SECRET, free_port, start_kassa, stop, wait_ready
from httpclient import Connection, percentile

AUTH = {"Authorization": "Basic " + base64.b64encode(f"{SECRET}:".encode()).decode()}
STEPS = ("create", "confirm", "authorize", "retrieve")


# The client reads only what it needs from each answer (a regex, not a JSON parse), so that as
# much of the machine as possible is left to the server.
ID = re.compile(rb'"id":"(pi_[A-Za-z0-9]+)"')
PAGE = re.compile(rb'"url":"https?://[^/"]+(/amazon_pay/test/[A-Za-z0-9_]+)"')


async def kassa_flow(conn: Connection, timings: dict[str, list[float]]) -> bool:
    status, _, body, took = await conn.request(
        "POST", "/v1/payment_intents", b"amount=1099&currency=usd&payment_method_types[0]=amazon_pay",
        {**AUTH, "Idempotency-Key": uuid.uuid4().hex})
    timings["create"].append(took)
    intent_id = ID.search(body).group(1).decode()
    status, _, body, took = await conn.request(
        "POST", f"/v1/payment_intents/{intent_id}/confirm",
        b"payment_method_data[type]=amazon_pay&return_url=https%3A%2F%2Fshop.example%2Fdone",
        {**AUTH, "Idempotency-Key": uuid.uuid4().hex})
    timings["confirm"].append(took)
    page = PAGE.search(body).group(1).decode()
    status, headers, _, took = await conn.request("POST", page, b"decision=authorize")
    timings["authorize"].append(took)
    if status != 303 or "redirect_status=succeeded" not in headers.get("location", ""):
        return False
    status, _, body, took = await conn.request("GET", f"/v1/payment_intents/{intent_id}", b"", AUTH)
    timings["retrieve"].append(took)
    return status == 200 and b'"status":"succeeded"' in body


async def baseline_flow(conn: Connection, timings: dict[str, list[float]]) -> bool:
    for step in STEPS:
        method = "GET" if step == "retrieve" else "POST"
        path = "/v1/payment_intents/pi_fixed" if method == "GET" else "/v1/payment_intents"
        status, _, _, took = await conn.request(method, path, b"" if method == "GET" else b"amount=1099")
        timings[step].append(took)
    return status == 200


async def drive(url: str, flow, seconds: float, concurrency: int):
    parts = urlsplit(url)
    timings: dict[str, list[float]] = {step: [] for step in STEPS}
    done = failed = 0
    deadline = time.perf_counter() + seconds

    async def worker():
        nonlocal done, failed
        conn = Connection(parts.hostname, parts.port)
        try:
            while time.perf_counter() < deadline:
                try:
                    ok = await flow(conn, timings)
                except (ConnectionError, asyncio.IncompleteReadError, AttributeError, ValueError):
                    conn.close()
                    ok = False
                done += ok
                failed += not ok
        finally:
            conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / (time.perf_counter() - started), failed, timings


def run(url: str, flow, seconds: float, concurrency: int):
    try:
        import uvloop
        return uvloop.run(drive(url, flow, seconds, concurrency))
    except ImportError:
        return asyncio.run(drive(url, flow, seconds, concurrency))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        process, url = start_kassa(f"sqlite:///{Path(tmp) / 'kassa.sqlite3'}")
        try:
            rows.append(("kassa (create, confirm, authorize, retrieve)", *run(url, kassa_flow, args.seconds,
                                                                             args.concurrency)))
        finally:
            stop(process)
        port = free_port()
        process = subprocess.Popen([sys.executable, str(Path(__file__).with_name("baseline_app.py")), str(port),
                                    str(Path(tmp) / "baseline.sqlite3")])
        try:
            wait_ready(f"http://127.0.0.1:{port}", process)
            rows.append(("baseline (3 bare inserts + 1 read)", *run(f"http://127.0.0.1:{port}", baseline_flow,
                                                                     args.seconds, args.concurrency)))
        finally:
            stop(process)
    print(f"\n{args.concurrency} concurrent flows, {args.seconds:.0f} s, one process, SQLite synchronous=FULL\n")
    header = f"{'run':46} {'flows/s':>8} {'failed':>7}" + "".join(f" {s + ' p50/p99 ms':>22}" for s in STEPS)
    print(header)
    for name, rate, failed, timings in rows:
        cells = "".join(f" {percentile(timings[s], .5) * 1000:10.2f}/{percentile(timings[s], .99) * 1000:<10.2f}"
                        for s in STEPS)
        print(f"{name:46} {rate:8,.0f} {failed:7}{cells}")
    print("targets: >= 800 complete flows/s, p99 per step <= 30 ms")


if __name__ == "__main__":
    main()
