"""What a card payment's own rows cost: card payments against plain creates, for kassa as it is and
for two variants of it that write less, each server alternating with the others in short loads.

    python bench/card_costs.py [--seconds 2] [--rounds 10]

The variants exist only for this measurement. Each runs kassa with a `sitecustomize` (put first on
its PYTHONPATH) that changes the repository's inserts before the server starts:

- ``no card rows``: the card payment's PaymentMethod and Charge rows and two of its three events are
  not written at all (their objects are still built, rendered and answered);
- ``empty card JSON``: those rows are written, with ``{}`` as their JSON instead of about 5.6 KB.

A plain create writes the same rows in every variant (its intent, one event, the stored response).
Every server runs at once, each with its own database; the loads go to one server at a time, in an
order that alternates round by round, so that the machine's changing speed falls on all of them.
Per variant: the medians of the rates and of the whole process's CPU time per request (from
/proc), and the median of the card/plain ratios of the rounds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

from card_bench import CARD_LUA
from common import CREATE_LUA, auth_header, start_kassa, stop, wrk
from step_cpu import cpu_seconds

# The variants' patches, as the sitecustomize of their server (the repository module as kassa has it).
PATCHES = {
    "no card rows": '''
from kassa.store import repo
_insert_object, _insert_events = repo.insert_object, repo.insert_events
async def insert_object(tx, table, account_id, obj, **columns):
    if table not in ("payment_methods", "charges"):
        await _insert_object(tx, table, account_id, obj, **columns)
async def insert_events(tx, account_id, rows):
    await _insert_events(tx, account_id, rows[:1])
repo.insert_object, repo.insert_events = insert_object, insert_events
''',
    "empty card JSON": '''
from kassa.store import repo
_insert_object, _insert_events = repo.insert_object, repo.insert_events
class _EmptyData:  # the repository's own insert, its row's JSON replaced by {}
    def __init__(self, tx):
        self.tx = tx
    async def add(self, sql, row):
        await self.tx.add(sql, {**row, "data": "{}"})
async def insert_object(tx, table, account_id, obj, **columns):
    await _insert_object(_EmptyData(tx) if table in ("payment_methods", "charges") else tx, table, account_id, obj,
                         **columns)
async def insert_events(tx, account_id, rows):
    await _insert_events(tx, account_id, rows[:1] + [{**row, "data": "{}"} for row in rows[1:]])
repo.insert_object, repo.insert_events = insert_object, insert_events
''',
}

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    loads = {"plain": CREATE_LUA.format(auth=auth_header()), "card": CARD_LUA.format(auth=auth_header())}
    names = ["as it is", *PATCHES]
    rates = {(name, kind): [] for name in names for kind in loads}
    cpus = {(name, kind): [] for name in names for kind in loads}
    ratios = {name: [] for name in names}
    with tempfile.TemporaryDirectory() as tmp:
        servers = {}
        try:
            for index, name in enumerate(names):
                env = {}
                if name in PATCHES:
                    patch = Path(tmp) / f"patch{index}"
                    patch.mkdir()
                    (patch / "sitecustomize.py").write_text(PATCHES[name])
                    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(patch), os.environ.get("PYTHONPATH")]))
                servers[name] = start_kassa(f"sqlite:///{Path(tmp) / f'kassa{index}.sqlite3'}", env=env)
            for name in names:  # warm-up
                wrk(servers[name][1], loads["card"], seconds=1)
            for round_ in range(args.rounds):
                for name in (names if round_ % 2 == 0 else names[::-1]):
                    process, url = servers[name]
                    rate = {}
                    for kind, script in loads.items():
                        before = cpu_seconds(process.pid)
                        result = wrk(url, script, seconds=args.seconds)
                        requests = result.requests_per_second * args.seconds
                        rate[kind] = result.requests_per_second
                        rates[(name, kind)].append(result.requests_per_second)
                        cpus[(name, kind)].append((cpu_seconds(process.pid) - before) / requests * 1e6)
                    ratios[name].append(rate["card"] / rate["plain"])
        finally:
            for process, _ in servers.values():
                stop(process)
    print(f"\n{args.rounds} rounds of {args.seconds} s per load, 32 connections, one process per variant, "
          "SQLite synchronous=FULL; medians\n")
    print(f"{'variant':18} {'plain/s':>8} {'card/s':>8} {'card/plain':>11} {'CPU/plain':>10} {'CPU/card':>9}")
    for name in names:
        print(f"{name:18} {statistics.median(rates[(name, 'plain')]):8,.0f} "
              f"{statistics.median(rates[(name, 'card')]):8,.0f} {statistics.median(ratios[name]):11.0%} "
              f"{statistics.median(cpus[(name, 'plain')]):8.0f}µs {statistics.median(cpus[(name, 'card')]):7.0f}µs")


if __name__ == "__main__":
    main()
