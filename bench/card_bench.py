"""One-request card payments: kassa against localstripe, and kassa's own plain create, in one run.

    python bench/card_bench.py [--seconds 4] [--rounds 5] [--connections 32] [--localstripe-seconds 10]
                               [--localstripe /tmp/localstripe-venv/bin/python]

Every request is ``POST /v1/payment_intents`` with ``confirm=true`` and ``payment_method=pm_card_visa``
and a fresh Idempotency-Key (kassa answers ``succeeded`` with its charge). kassa runs one process on
SQLite (synchronous=FULL); localstripe (``pip install localstripe`` into a venv of its own, given by
--localstripe) runs one process too, on 127.0.0.1, started here. The same wrk script drives both.
Targets: kassa's card payments at least 30 times localstripe's rate, and at least 70% of kassa's
plain create rate measured in the same run.

kassa's two loads alternate, round by round (plain then card, then card then plain, …), on the same
server: the machine's speed drifts by a third from one minute to the next here, and the database
grows under each load, so one long load of each kind would give the second one the slower minutes or
the bigger tables. Each kind's figures are the medians of its rounds; the ratio is the median of
the rounds' ratios.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
from pathlib import Path

import httpx

from common import CREATE_LUA, auth_header, create_lua, start_kassa, stop, wrk
from compare import LOCALSTRIPE_RUNNER, Localstripe, start_localstripe

CARD_LUA = create_lua("amount=1099&currency=usd&confirm=true&payment_method=pm_card_visa&payment_method_types[0]=card")


def localstripe(python: str, workdir: Path) -> tuple[subprocess.Popen, str]:
    """localstripe from the given venv, as bench/compare.py runs it: on 127.0.0.1 only, its store
    pickled on every write (as localstripe does) to a file of this run."""
    version = subprocess.run([python, "-c", "import importlib.metadata as m; print(m.version('localstripe'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    found = Localstripe(Path(python), workdir / "localstripe_runner.py", version)
    found.runner.write_text(LOCALSTRIPE_RUNNER)
    return start_localstripe(found, workdir)


def check_once(url: str) -> None:
    """One card payment, checked, before measuring."""
    answer = httpx.post(url + "/v1/payment_intents", headers={"Authorization": auth_header()},
                        data={"amount": "1099", "currency": "usd", "confirm": "true", "payment_method": "pm_card_visa",
                              "payment_method_types[0]": "card"}, timeout=10)
    if answer.status_code != 200 or answer.json().get("status") != "succeeded":
        raise SystemExit(f"{url}: a card payment did not succeed: {answer.status_code} {answer.text[:300]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=4, help="of each load")
    parser.add_argument("--rounds", type=int, default=5, help="of kassa's two loads, alternating")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--localstripe-seconds", type=int, default=10,
                        help="of localstripe's load (its rate falls as its store grows: compare equal lengths)")
    parser.add_argument("--localstripe", default="/tmp/localstripe-venv/bin/python",
                        help="the python of a venv where localstripe is installed")
    args = parser.parse_args()
    card = CARD_LUA.format(auth=auth_header())
    loads = {"plain": CREATE_LUA.format(auth=auth_header()), "card": card}
    runs: dict[str, list] = {"plain": [], "card": []}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        process, url = start_kassa(f"sqlite:///{workdir / 'kassa.sqlite3'}")
        try:
            check_once(url)
            for round_ in range(args.rounds):
                for kind in (("plain", "card") if round_ % 2 == 0 else ("card", "plain")):
                    runs[kind].append(wrk(url, loads[kind], seconds=args.seconds, connections=args.connections))
        finally:
            stop(process)
        process, url = localstripe(args.localstripe, workdir)
        try:
            check_once(url)
            local = wrk(url, card, seconds=args.localstripe_seconds, connections=args.connections)
        finally:
            stop(process)
    ratios = [c.requests_per_second / p.requests_per_second for p, c in zip(runs["plain"], runs["card"])]
    print(f"\n{args.connections} connections, one process each; kassa on SQLite synchronous=FULL, its two loads "
          f"alternating in {args.rounds} rounds of {args.seconds} s (medians); localstripe one load of "
          f"{args.localstripe_seconds} s\n")
    print(f"{'run':52} {'requests/s':>11} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, results in (("kassa, plain create", runs["plain"]),
                          ("kassa, card payment (confirm=true, pm_card_visa)", runs["card"]),
                          ("localstripe, the same card payment", [local])):
        print(f"{name:52} {_median(results, 'requests_per_second'):11,.0f} {_median(results, 'p50_ms'):8.2f} "
              f"{_median(results, 'p99_ms'):8.2f} {sum(result.errors for result in results):7}")
    cards_rate = _median(runs["card"], "requests_per_second")
    versus_local = cards_rate / max(local.requests_per_second, 0.001)
    print(f"\nkassa card payments / localstripe: {versus_local:.1f}x (target >= 30x)")
    print(f"kassa card payments / kassa plain creates, by round: {', '.join(f'{r:.0%}' for r in ratios)}; "
          f"median {statistics.median(ratios):.0%} (target >= 70%)")


def _median(results: list, field: str) -> float:
    return statistics.median(getattr(result, field) for result in results)


if __name__ == "__main__":
    main()
