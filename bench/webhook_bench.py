"""Webhook delivery throughput of one kassa process, and the API's latency beside a slow and a dead
endpoint, in one run.

    python bench/webhook_bench.py [--deliveries 20000] [--seconds 10]

1. Delivery: N deliveries are put in the outbox of a stopped kassa (SQLite), kassa starts, and the
   time until all are delivered to a local receiver that answers at once gives deliveries/s. The
   baseline is a bare aiohttp client POSTing the same bodies to the same receiver.
2. Isolation: creates/s and p50/p99 with no endpoint, with two endpoints that answer at once, and
   with one endpoint that answers after 5 s and one whose port is closed, all taking every event.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import httpx

from common import CREATE_LUA, SECRET, auth_header, free_port, start_kassa, stop, wrk

HERE = Path(__file__).parent


def receiver(delay: float = 0.0) -> tuple[subprocess.Popen, str]:
    port = free_port()
    args = [sys.executable, str(HERE / "receiver_app.py"), str(port)] + (["--delay", str(delay)] if delay else [])
    process = subprocess.Popen(args)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.post(f"http://127.0.0.1:{port}/", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    return process, f"http://127.0.0.1:{port}/hook"


def add_endpoint(url: str, hook_url: str) -> None:
    response = httpx.post(url + "/v1/webhook_endpoints", auth=(SECRET, ""),
                          data={"url": hook_url, "enabled_events[]": "*"})
    response.raise_for_status()


def fill_outbox(path: Path, count: int) -> None:
    """Copy the one stored event `count` times, each with a pending delivery to the endpoint."""
    db = sqlite3.connect(path)
    event = db.execute("SELECT id, account_id, livemode, created, type, data FROM events LIMIT 1").fetchone()
    endpoint = db.execute("SELECT id FROM webhook_endpoints LIMIT 1").fetchone()[0]
    db.execute("DELETE FROM webhook_deliveries")
    now = time.time()
    db.executemany("INSERT INTO events (id, account_id, livemode, created, type, data) VALUES (?, ?, ?, ?, ?, ?)",
                   [(f"evt_bench{i}", *event[1:]) for i in range(count)])
    db.executemany("INSERT INTO webhook_deliveries (id, event_id, endpoint_id, account_id, livemode, created, status, "
                   "attempts, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?)",
                   [(f"wdl_bench{i}", f"evt_bench{i}", endpoint, event[1], event[2], int(now), now)
                    for i in range(count)])
    db.commit()
    db.close()


def pending(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'").fetchone()[0]
    finally:
        db.close()


def kassa_delivery_rate(workdir: Path, hook_url: str, count: int) -> float:
    path = workdir / "deliver.sqlite3"
    process, url = start_kassa(f"sqlite:///{path}")
    add_endpoint(url, hook_url)
    httpx.post(url + "/v1/payment_intents", auth=(SECRET, ""), data={"amount": "1099", "currency": "usd"})
    time.sleep(1.5)
    stop(process)
    fill_outbox(path, count)
    started = time.monotonic()
    process, url = start_kassa(f"sqlite:///{path}")
    try:
        while pending(path) > 0:
            time.sleep(0.05)
        return count / (time.monotonic() - started)
    finally:
        stop(process)


async def client_rate(hook_url: str, count: int, concurrency: int = 256) -> float:
    body = b'{"id": "evt_x", "object": "event"}' * 30
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as client:
        slots = asyncio.Semaphore(concurrency)

        async def one():
            async with slots:
                async with client.post(hook_url, data=body) as response:
                    await response.read()

        started = time.monotonic()
        await asyncio.gather(*(one() for _ in range(count)))
        return count / (time.monotonic() - started)


def isolation(workdir: Path, seconds: int, fast_url: str, slow_url: str) -> list:
    rows = []
    for name, hooks in (("no endpoint", []), ("two fast endpoints", [fast_url, fast_url + "2"]),
                        ("a slow (5 s) and a dead endpoint", [slow_url, "http://127.0.0.1:9/dead"])):
        process, url = start_kassa(f"sqlite:///{workdir / (name[:4] + '.sqlite3')}")
        try:
            for hook in hooks:
                add_endpoint(url, hook)
            rows.append((name, wrk(url, CREATE_LUA.format(auth=auth_header()), seconds=seconds)))
        finally:
            stop(process)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=20_000)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    fast, fast_url = receiver()
    slow, slow_url = receiver(delay=5.0)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            kassa_rate = kassa_delivery_rate(workdir, fast_url, args.deliveries)
            bare_rate = asyncio.run(client_rate(fast_url, min(args.deliveries, 20_000)))
            rows = isolation(workdir, args.seconds, fast_url, slow_url)
    finally:
        fast.terminate()
        slow.terminate()
    print(f"\nwebhook delivery to a local receiver that answers at once ({args.deliveries:,} deliveries)\n")
    print(f"{'run':44} {'deliveries/s':>12}")
    print(f"{'kassa (claim, sign, POST, record attempt)':44} {kassa_rate:12,.0f}")
    print(f"{'baseline (bare aiohttp POSTs, 256 at once)':44} {bare_rate:12,.0f}")
    print(f"\nAPI creates beside webhook endpoints ({args.seconds} s, 32 connections)\n")
    print(f"{'run':44} {'creates/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, result in rows:
        print(f"{name:44} {result.requests_per_second:10,.0f} {result.p50_ms:8.2f} {result.p99_ms:8.2f} "
              f"{result.errors:7}")
    print("targets: >= 1,000 deliveries/s; no effect of a slow or dead endpoint on the API's latency")


if __name__ == "__main__":
    main()
