"""No card number or CVC at rest or in logs: pay with test cards by number, then search the
database (the SQLite file with its WAL, or every row of PostgreSQL) and the server's log."""

from __future__ import annotations

import re

import httpx
import pytest
import stripe

from card_helpers import FUTURE, authenticate, authentication_page
from support import fresh_database, postgres_dump, start_server

ACCESS_LOG = {"KASSA_ACCESS_LOG": "1"}  # one line per request in the log searched: paths only, never queries
PAID = [("371449635398431", "5937"), ("4000002760003184", "482"), ("4000000000000002", "731")]


def _pay_with_every_card(server) -> None:
    client = server.client()
    public = server.client(server.publishable_key)
    amex, secure, declined = PAID
    method = public.v1.payment_methods.create(params={"type": "card", "card": {
        "number": amex[0], **FUTURE, "cvc": amex[1]}})
    intent = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
    paid = public.v1.payment_intents.confirm(intent.id, params={"payment_method": method.id,
                                                                "client_secret": intent.client_secret})
    assert paid.status == "succeeded"
    three_d = client.v1.payment_intents.create(params={
        "amount": 2000, "currency": "usd", "confirm": True, "return_url": server.url + "/healthz",
        "payment_method_data": {"type": "card", "card": {"number": secure[0], **FUTURE, "cvc": secure[1]}}})
    authenticate(authentication_page(three_d), "complete")
    assert client.v1.payment_intents.retrieve(three_d.id).status == "succeeded"
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.create(params={
            "amount": 1500, "currency": "usd", "confirm": True,
            "payment_method_data": {"type": "card", "card": {"number": declined[0], **FUTURE, "cvc": declined[1]}}},
            options={"idempotency_key": "no-card-data-at-rest"})
    with pytest.raises(stripe.CardError):  # an invalid CVC is refused without being echoed or logged
        public.v1.payment_methods.create(params={"type": "card", "card": {"number": amex[0], **FUTURE, "cvc": "123"}})
    client.v1.refunds.create(params={"payment_intent": paid.id})
    in_query = httpx.post(server.url + f"/v1/payment_methods?type=card&card[number]={secure[0]}&card[exp_month]=12"
                          f"&card[exp_year]=2034&card[cvc]={secure[1]}", auth=(server.publishable_key, ""))
    assert in_query.status_code == 200 and in_query.json()["card"]["last4"] == secure[0][-4:]


def _not_there(text: bytes, where: str) -> None:
    for number, cvc in PAID:
        assert number.encode() not in text, f"card number {number} found in {where}"
        spaced = " ".join(number[i:i + 4] for i in range(0, len(number), 4)).encode()
        assert spaced not in text, f"card number {number} found in {where}"
        # As a value would be kept: quoted, after = or :, or alone between separators (random ids and
        # timestamps hold digit runs, so a bare three-digit search would find them by chance).
        value = re.compile(rb"""(?:["'=:]\s*|\s)""" + cvc.encode() + rb"""(?=["'&,;}\s]|$)""")
        assert value.search(text) is None, f"CVC {cvc} found in {where}"


def test_no_card_data_in_the_sqlite_file_or_the_log(tmp_path):
    server = start_server(f"sqlite:///{tmp_path / 'kassa.sqlite3'}", tmp_path, env=ACCESS_LOG)
    try:
        _pay_with_every_card(server)
    finally:
        server.stop()
    files = sorted(tmp_path.glob("kassa.sqlite3*"))
    stored = b"".join(path.read_bytes() for path in files)
    assert b"8431" in stored and b"3184" in stored  # the last four digits are kept: the search sees the data
    _not_there(stored, "the database")
    log = server.log_path.read_bytes()
    assert b"/v1/payment_methods" in log  # the access log was on: the search sees every request's line
    _not_there(log, "the log")


def test_no_card_data_in_postgresql_or_the_log(tmp_path):
    url = fresh_database("postgresql", tmp_path)
    server = start_server(url, tmp_path, env=ACCESS_LOG)
    try:
        _pay_with_every_card(server)
    finally:
        server.stop()
    dump = postgres_dump(url)
    assert b"8431" in dump and b"3184" in dump
    _not_there(dump, "PostgreSQL")
    _not_there(server.log_path.read_bytes(), "the log")
