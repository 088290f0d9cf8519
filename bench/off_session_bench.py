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
import tempfile
from pathlib import Path

from common import CREATE_LUA, auth_header, create_lua, start_kassa, stop, wrk
from request_instructions import instructions, report, saved_methods

OFF_SESSION_LUA = create_lua("amount=1099&currency=usd&confirm=true&off_session=true&customer={customer}"
                             "&payment_method={method}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--instructions", action="store_true", help="count instructions per request (valgrind)")
    parser.add_argument("--requests", type=int, default=300, help="requests of each kind counted (--instructions)")
    args = parser.parse_args()
    if args.instructions:  # one request at a time, as bench/request_instructions.py --concurrency 1
        report(instructions(["plain", "saved_card", "saved_amazon_pay"], args.requests), args.requests, 1)
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
