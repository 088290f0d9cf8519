"""Off-session payments of a saved card and of a saved Amazon Pay method, beside plain creates, in
one run of one kassa process on SQLite.

    python bench/off_session_bench.py [--seconds 10] [--connections 32]
    python bench/off_session_bench.py --instructions [--requests 300]   # needs valgrind

Each request carries a fresh Idempotency-Key (as stripe-python sends). An off-session payment is one
request: create with confirm=true, off_session=true, the customer and the saved method (a card
charged at once, or Amazon Pay under its active mandate). Target: >= 60% of the plain create rate.

With --instructions, the server runs under valgrind's callgrind instead and the script prints the
instructions it executes per request of each kind (one request at a time, after a warm-up): a
figure that does not move with the machine's load, to compare two versions of the code by.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from common import CREATE_BODY, CREATE_LUA, SECRET, create_lua, auth_header, free_port, start_kassa, stop, wait_ready, wrk
from httpclient import Connection

PLAIN_BODY = CREATE_BODY.encode()

OFF_SESSION_LUA = create_lua("amount=1099&currency=usd&confirm=true&off_session=true&customer={customer}"
                             "&payment_method={method}")


def saved_methods(url: str) -> tuple[str, str, str]:
    """A customer with a saved card and a saved Amazon Pay method (set up on kassa's test page)."""
    api = httpx.Client(base_url=url, auth=(SECRET, ""), timeout=30)
    customer = api.post("/v1/customers", data={"email": "bench@example.com"}).json()["id"]
    card = api.post("/v1/payment_methods/pm_card_visa/attach", data={"customer": customer}).json()["id"]
    setup = api.post("/v1/setup_intents", data={
        "customer": customer, "payment_method_types[]": "amazon_pay", "confirm": "true",
        "payment_method_data[type]": "amazon_pay", "return_url": "https://shop.example/done"}).json()
    httpx.post(setup["next_action"]["redirect_to_url"]["url"], data={"decision": "authorize"})
    amazon = api.get(f"/v1/setup_intents/{setup['id']}").json()["payment_method"]
    return customer, card, amazon


def off_session_body(customer: str, method: str) -> bytes:
    return (f"amount=1099&currency=usd&confirm=true&off_session=true&customer={customer}"
            f"&payment_method={method}").encode()


def send(port: int, body: bytes, count: int) -> None:
    """`count` creates of `body`, one after another, each with a fresh Idempotency-Key."""
    async def run():
        conn = Connection("127.0.0.1", port)
        try:
            for _ in range(count):
                status, _, answer, _ = await conn.request(
                    "POST", "/v1/payment_intents", body,
                    {"Authorization": auth_header(), "Idempotency-Key": uuid.uuid4().hex})
                if status != 200:
                    raise SystemExit(f"a request failed: {status} {answer[:300]!r}")
        finally:
            conn.close()

    asyncio.run(run())


def instructions(requests: int) -> list[tuple[str, float]]:
    """Instructions per request of each kind, counted by callgrind in one kassa process."""
    if not (shutil.which("valgrind") and shutil.which("callgrind_control")):
        raise SystemExit("valgrind is needed: apt-get install valgrind")
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        out = Path(tmp) / "callgrind.out"
        process = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
             sys.executable, "-m", "kassa.cli", "serve", "--port", str(port), "--database",
             f"sqlite:///{Path(tmp) / 'kassa.sqlite3'}", "--secret-key", SECRET],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ))
        counts = []
        try:
            url = f"http://127.0.0.1:{port}"
            wait_ready(url, process, timeout=300)
            customer, card, amazon = saved_methods(url)
            kinds = [("plain creates", PLAIN_BODY),
                     ("off-session, saved card", off_session_body(customer, card)),
                     ("off-session, saved Amazon Pay", off_session_body(customer, amazon))]
            for _, body in kinds:
                send(port, body, 30)  # warm-up: caches, first-time code paths
            control = ["callgrind_control"]
            for name, body in kinds:
                subprocess.run([*control, "-z", str(process.pid)], check=True, capture_output=True)
                subprocess.run([*control, "-i", "on", str(process.pid)], check=True, capture_output=True)
                send(port, body, requests)
                subprocess.run([*control, "-i", "off", str(process.pid)], check=True, capture_output=True)
                before = set(Path(tmp).glob("callgrind.out.*"))
                subprocess.run([*control, "-d", str(process.pid)], check=True, capture_output=True)
                deadline, dumps = time.monotonic() + 30, []
                while time.monotonic() < deadline and not dumps:
                    dumps = [path for path in set(Path(tmp).glob("callgrind.out.*")) - before if path.stat().st_size]
                    time.sleep(0.2)
                total = sum(int(match) for path in dumps
                            for match in re.findall(r"^totals:\s+(\d+)", path.read_text(), re.M))
                if not total:
                    raise SystemExit("callgrind counted nothing")
                counts.append((name, total / requests))
        finally:
            stop(process)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--instructions", action="store_true", help="count instructions per request (valgrind)")
    parser.add_argument("--requests", type=int, default=300, help="requests of each kind counted (--instructions)")
    args = parser.parse_args()
    if args.instructions:
        counts = instructions(args.requests)
        print(f"\ninstructions per request, {args.requests} of each kind one after another, one process, SQLite\n")
        plain = counts[0][1]
        for name, count in counts:
            print(f"{name:32} {count / 1e6:8.3f} M {count / plain:6.2f}x")
        return
    with tempfile.TemporaryDirectory() as tmp:
        process, url = start_kassa(f"sqlite:///{Path(tmp) / 'kassa.sqlite3'}")
        try:
            customer, card, amazon = saved_methods(url)
            run = dict(seconds=args.seconds, connections=args.connections)
            rows = [("plain creates", wrk(url, CREATE_LUA.format(auth=auth_header()), **run)),
                    ("off-session, saved card", wrk(url, OFF_SESSION_LUA.format(
                        auth=auth_header(), customer=customer, method=card), **run)),
                    ("off-session, saved Amazon Pay", wrk(url, OFF_SESSION_LUA.format(
                        auth=auth_header(), customer=customer, method=amazon), **run))]
        finally:
            stop(process)
    print(f"\n{args.connections} connections, {args.seconds} s each, one process, SQLite synchronous=FULL\n")
    print(f"{'run':32} {'requests/s':>11} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'of plain':>9}")
    plain = rows[0][1].requests_per_second
    for name, result in rows:
        print(f"{name:32} {result.requests_per_second:11,.0f} {result.p50_ms:8.2f} {result.p99_ms:8.2f} "
              f"{result.errors:7} {result.requests_per_second / plain:9.0%}")
    print("\ntarget: off-session payments >= 60% of the plain create rate")


if __name__ == "__main__":
    main()
