"""The Dashboard's costs, on SQLite: what the API request log costs creates, and how fast the
Payments list answers with many stored intents.

    python bench/dashboard_bench.py [--seconds 10] [--rounds 3] [--connections 32] [--large 1000000]

Creates: the same server with the request log off (KASSA_API_REQUEST_LOG=off) and on, alternated
for --rounds rounds (the machine's speed moves by the minute), best of each. Pages: --large intents
seeded, then the first page, a page deep in the list (keyset cursor), a status filter that matches
nothing, the search language, and an email search (by index).
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from common import CREATE_LUA, auth_header, start_kassa, stop, wrk
from seed import account_of, seed_sqlite


def creates(database: str, log: str, seconds: int, connections: int) -> float:
    process, url = start_kassa(database, env={"KASSA_API_REQUEST_LOG": log})
    try:
        return wrk(url, CREATE_LUA.format(auth=auth_header()), seconds=seconds, connections=connections).requests_per_second
    finally:
        stop(process)


def signed_in(url: str, database: str) -> httpx.Client:
    subprocess.run([sys.executable, "-m", "kassa.cli", "users", "create", "--email", "bench@example.com",
                    "--password-stdin", "--database", database], input="bench password 1\n", text=True,
                   check=True, capture_output=True)
    client = httpx.Client(base_url=url, timeout=120)
    login = client.get("/dashboard/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    client.post("/dashboard/login", data={"email": "bench@example.com", "password": "bench password 1",
                                          "csrf_token": token, "next": "/dashboard/test/payments"})
    return client


def timed(client: httpx.Client, path: str, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, (path, answer.status_code)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--large", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        runs: dict[str, list[float]] = {"off": [], "on": []}
        for round_ in range(args.rounds):
            for log in ("off", "on"):
                database = f"sqlite:///{work / f'creates-{round_}-{log}.sqlite3'}"
                runs[log].append(creates(database, log, args.seconds, args.connections))
        off, on = max(runs["off"]), max(runs["on"])
        print(f"creates/s, request log off: {off:.0f} (runs {', '.join(f'{r:.0f}' for r in runs['off'])})")
        print(f"creates/s, request log on:  {on:.0f} (runs {', '.join(f'{r:.0f}' for r in runs['on'])})")
        print(f"cost of the request log: {100 * (off - on) / off:.1f} %")

        path = work / "large.sqlite3"
        database = f"sqlite:///{path}"
        process, url = start_kassa(database)
        stop(process)
        started = time.monotonic()
        sample = seed_sqlite(str(path), account_of(str(path)), args.large)
        print(f"seeded {args.large} intents in {time.monotonic() - started:.0f} s")
        process, url = start_kassa(database)
        try:
            client = signed_in(url, database)
            first = client.get("/dashboard/test/payments").text
            deep = re.findall(r'href="(/dashboard/test/payments\?after=\d+)"', first)
            seq_middle = args.large // 2
            pages = {
                "first page": "/dashboard/test/payments",
                "second page (cursor)": deep[0].replace("&amp;", "&") if deep else "/dashboard/test/payments",
                "a page in the middle": f"/dashboard/test/payments?after={seq_middle}",
                "status that matches nothing": "/dashboard/test/payments?status=succeeded",
                "search language, amount>1000": "/dashboard/test/payments?q=amount%3E1000",
                "by id": f"/dashboard/test/payments/{sample[len(sample) // 2]}",
                "email that matches nothing": "/dashboard/test/payments?q=nobody%40example.com",
            }
            for name, page in pages.items():
                print(f"{name:36} {timed(client, page, 3 if 'scan' in name else 5):8.1f} ms (median)")
        finally:
            stop(process)


if __name__ == "__main__":
    main()
