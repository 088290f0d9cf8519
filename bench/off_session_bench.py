"""Off-session payments of a saved card and of a saved Amazon Pay method, beside plain creates, in
one run of one kassa process on SQLite.

    python bench/off_session_bench.py [--seconds 10] [--connections 32]

Each request carries a fresh Idempotency-Key (as stripe-python sends). An off-session payment is one
request: create with confirm=true, off_session=true, the customer and the saved method (a card
charged at once, or Amazon Pay under its active mandate). Target: >= 60% of the plain create rate.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import httpx

from common import CREATE_LUA, SECRET, auth_header, start_kassa, stop, wrk

OFF_SESSION_LUA = CREATE_LUA.replace(
    'wrk.body = "amount=1099&currency=usd&payment_method_types[0]=amazon_pay&metadata[order_id]=42"',
    'wrk.body = "amount=1099&currency=usd&confirm=true&off_session=true&customer={customer}&payment_method={method}"')


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
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
