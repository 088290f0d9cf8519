"""Instructions the server executes per request of each kind, counted by valgrind (callgrind).

    python bench/request_instructions.py [--requests 300] [--concurrency 32] [--kinds plain,card,...]

Kinds: ``plain`` (a create), ``card`` (a create with confirm=true and pm_card_visa), ``saved_card`` and
``saved_amazon_pay`` (off-session payments of a customer's saved methods). Rates move with the
machine's hour; instruction counts do not, so this is the figure two versions of the code are
compared by. With ``--concurrency`` above 1, the requests of a kind are sent that many at a time, so
that commits are grouped as under load (one at a time, every request pays a whole commit). The
server runs under callgrind with counting off; each kind is warmed up, then counted alone.
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

from common import CREATE_BODY, SECRET, auth_header, free_port, stop, wait_ready
from httpclient import Connection

CARD_BODY = "amount=1099&currency=usd&confirm=true&payment_method=pm_card_visa&payment_method_types[0]=card"
KINDS = ("plain", "card", "saved_card", "saved_amazon_pay")


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


def off_session_body(customer: str, method: str) -> str:
    return (f"amount=1099&currency=usd&confirm=true&off_session=true&customer={customer}"
            f"&payment_method={method}")


def send(port: int, body: bytes, count: int, concurrency: int = 1) -> None:
    """`count` creates of `body`, `concurrency` at a time, each with a fresh Idempotency-Key."""
    async def one_connection(share: int):
        conn = Connection("127.0.0.1", port)
        try:
            for _ in range(share):
                status, _, answer, _ = await conn.request(
                    "POST", "/v1/payment_intents", body,
                    {"Authorization": auth_header(), "Idempotency-Key": uuid.uuid4().hex})
                if status != 200:
                    raise SystemExit(f"a request failed: {status} {answer[:300]!r}")
        finally:
            conn.close()

    async def run():
        shares = [count // concurrency + (1 if i < count % concurrency else 0) for i in range(concurrency)]
        await asyncio.gather(*(one_connection(share) for share in shares if share))

    asyncio.run(run())


def instructions(kinds: list[str], requests: int, concurrency: int = 1,
                 env: dict | None = None) -> list[tuple[str, float]]:
    """Instructions per request of each kind, counted by callgrind in one kassa process on SQLite."""
    if not (shutil.which("valgrind") and shutil.which("callgrind_control")):
        raise SystemExit("valgrind is needed: apt-get install valgrind")
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        out = Path(tmp) / "callgrind.out"
        process = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
             sys.executable, "-m", "kassa.cli", "serve", "--port", str(port), "--database",
             f"sqlite:///{Path(tmp) / 'kassa.sqlite3'}", "--secret-key", SECRET],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})})
        counts = []
        try:
            url = f"http://127.0.0.1:{port}"
            wait_ready(url, process, timeout=300)
            bodies = {"plain": CREATE_BODY, "card": CARD_BODY}
            if {"saved_card", "saved_amazon_pay"} & set(kinds):
                customer, card, amazon = saved_methods(url)
                bodies["saved_card"] = off_session_body(customer, card)
                bodies["saved_amazon_pay"] = off_session_body(customer, amazon)
            for kind in kinds:
                send(port, bodies[kind].encode(), 60, concurrency)  # warm-up: caches, first-time code paths
            control = ["callgrind_control"]
            for kind in kinds:
                subprocess.run([*control, "-z", str(process.pid)], check=True, capture_output=True)
                subprocess.run([*control, "-i", "on", str(process.pid)], check=True, capture_output=True)
                send(port, bodies[kind].encode(), requests, concurrency)
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
                counts.append((kind, total / requests))
        finally:
            stop(process)
    return counts


def report(counts: list[tuple[str, float]], requests: int, concurrency: int) -> None:
    print(f"\ninstructions per request, {requests} of each kind, {concurrency} at a time, one process, SQLite\n")
    plain = dict(counts).get("plain")
    for name, count in counts:
        versus = f" {count / plain:6.2f}x of plain" if plain else ""
        print(f"{name:20} {count / 1e6:8.3f} M{versus}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated, of: " + ", ".join(KINDS))
    args = parser.parse_args()
    kinds = [kind.strip() for kind in args.kinds.split(",") if kind.strip()]
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise SystemExit(f"unknown kinds: {', '.join(sorted(unknown))}")
    report(instructions(kinds, args.requests, args.concurrency), args.requests, args.concurrency)


if __name__ == "__main__":
    main()
