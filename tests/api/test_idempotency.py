"""Idempotency-Key: replay, mismatch, a concurrent twin."""

from __future__ import annotations

import asyncio
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import stripe

from kassa.store.database import open_database
from kassa.workers.sweeper import IDEMPOTENCY_TTL_SECONDS, Sweeper


def test_replay_returns_the_same_object(client):
    key = str(uuid.uuid4())
    params = {"amount": 1099, "currency": "usd", "metadata": {"k": key}}
    first = client.v1.payment_intents.create(params=params, options={"idempotency_key": key})
    second = client.v1.payment_intents.create(params=params, options={"idempotency_key": key})
    assert first.id == second.id
    assert first.to_dict() == second.to_dict()
    found = client.v1.payment_intents.search(params={"query": f"metadata['k']:'{key}'"})
    assert [pi.id for pi in found.data] == [first.id]


def test_replay_header_and_status(server):
    key = str(uuid.uuid4())
    auth = (server.secret_key, "")
    first = httpx.post(server.url + "/v1/payment_intents", data={"amount": "1099", "currency": "usd"},
                       auth=auth, headers={"Idempotency-Key": key})
    again = httpx.post(server.url + "/v1/payment_intents", data={"currency": "usd", "amount": "1099"},
                       auth=auth, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 200
    assert first.content == again.content
    assert again.headers.get("idempotent-replayed") == "true"


def test_same_key_different_parameters(client):
    key = str(uuid.uuid4())
    client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"}, options={"idempotency_key": key})
    with pytest.raises(stripe.IdempotencyError) as info:
        client.v1.payment_intents.create(params={"amount": 2000, "currency": "usd"}, options={"idempotency_key": key})
    assert info.value.http_status == 400
    assert info.value.error.type == "idempotency_error"


def test_same_key_different_path(client):
    key = str(uuid.uuid4())
    intent = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"},
                                              options={"idempotency_key": key})
    with pytest.raises(stripe.IdempotencyError):
        client.v1.payment_intents.cancel(intent.id, options={"idempotency_key": key})


def test_validation_errors_are_not_stored(client):
    key = str(uuid.uuid4())
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.create(params={"amount": 10, "currency": "usd"}, options={"idempotency_key": key})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.create(params={"amount": 10, "currency": "usd"}, options={"idempotency_key": key})


def test_key_too_long(server):
    response = httpx.post(server.url + "/v1/payment_intents", data={"amount": "1099", "currency": "usd"},
                          auth=(server.secret_key, ""), headers={"Idempotency-Key": "k" * 256})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_keys_are_scoped_per_account(server, client):
    from test_auth import new_account
    key = str(uuid.uuid4())
    mine = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"}, options={"idempotency_key": key})
    other = server.client(new_account(server)["secret_test"])
    theirs = other.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"}, options={"idempotency_key": key})
    assert theirs.id != mine.id


def test_concurrent_twins_create_one_intent(server, client):
    """Many identical requests at once: one intent; each answer is that intent or a 409."""
    conflicts = 0
    for round_ in range(15):
        key = str(uuid.uuid4())
        marker = f"twin-{key}"

        def send(_):
            return httpx.post(server.url + "/v1/payment_intents",
                              data={"amount": "1099", "currency": "usd", "metadata[m]": marker},
                              auth=(server.secret_key, ""), headers={"Idempotency-Key": key}, timeout=30)

        with ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(send, range(8)))
        ids = set()
        for response in responses:
            if response.status_code == 409:
                conflicts += 1
                body = response.json()["error"]
                assert body["code"] == "idempotency_key_in_use"
                assert body["type"] == "invalid_request_error"
            else:
                assert response.status_code == 200, response.text
                ids.add(response.json()["id"])
        assert len(ids) == 1
        found = client.v1.payment_intents.search(params={"query": f"metadata['m']:'{marker}'"})
        assert [pi.id for pi in found.data] == list(ids)
    assert conflicts > 0, "no request ever overlapped its twin; the 409 path was not exercised"


def test_every_kind_of_write_is_replayed(server):
    """Not only PaymentIntents: an endpoint created, or a clock advanced, twice under one key
    happens once."""
    from test_auth import new_account
    secret = new_account(server)["secret_test"]
    client = server.client(secret)
    key = str(uuid.uuid4())
    params = {"url": "https://shop.example/hooks", "enabled_events": ["*"]}
    first = client.v1.webhook_endpoints.create(params=params, options={"idempotency_key": key})
    again = client.v1.webhook_endpoints.create(params=params, options={"idempotency_key": key})
    assert first.id == again.id and first.secret == again.secret
    assert [w.id for w in client.v1.webhook_endpoints.list().data] == [first.id]
    key = str(uuid.uuid4())
    moved = [httpx.post(server.url + "/v1/test_helpers/clock/advance", data={"seconds": "60"},
                        auth=(secret, ""), headers={"Idempotency-Key": key}) for _ in range(2)]
    assert [m.json()["offset"] for m in moved] == [60, 60]
    assert moved[1].headers.get("idempotent-replayed") == "true"


def test_keys_are_forgotten_after_a_day(server, client):
    """The sweep forgets stored responses older than 24 hours (run here directly on the server's
    database): an old key then creates anew, a recent one still replays."""
    old, recent = str(uuid.uuid4()), str(uuid.uuid4())
    first = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"},
                                             options={"idempotency_key": old})
    kept = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"},
                                            options={"idempotency_key": recent})

    async def age_and_purge() -> int:
        db = open_database(server.database, durable=True)
        try:
            async def age(tx):
                await tx.run("UPDATE idempotency_keys SET created = created - :d WHERE key = :k",
                             {"d": IDEMPOTENCY_TTL_SECONDS + 60, "k": old})

            await db.write(age)
            return await Sweeper(db, None, None).purge_idempotency_keys(int(time.time()) - IDEMPOTENCY_TTL_SECONDS)
        finally:
            await db.close()

    assert asyncio.run(age_and_purge()) >= 1
    anew = client.v1.payment_intents.create(params={"amount": 2000, "currency": "usd"},
                                            options={"idempotency_key": old})
    assert anew.id != first.id and anew.amount == 2000
    assert client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"},
                                            options={"idempotency_key": recent}).id == kept.id
