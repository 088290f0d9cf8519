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


def test_each_step_of_an_intent_is_replayed_after_it_moved_on(server, client):
    """Confirm, capture, update and cancel under a used key answer the stored response, even once
    the intent's state would refuse the step now; the same key with other parameters is refused."""
    from amazon_pay_helpers import press

    def post(path: str, data: dict, key: str) -> httpx.Response:
        return httpx.post(server.url + path, data=data, auth=(server.secret_key, ""),
                          headers={"Idempotency-Key": key})

    intent = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd",
                                                      "capture_method": "manual"})
    confirm = {"payment_method_data[type]": "amazon_pay", "return_url": "https://shop.example/done"}
    key = str(uuid.uuid4())
    first = post(f"/v1/payment_intents/{intent.id}/confirm", confirm, key)
    assert first.status_code == 200 and first.json()["status"] == "requires_action"
    press(first.json()["next_action"]["redirect_to_url"]["url"], "authorize")
    again = post(f"/v1/payment_intents/{intent.id}/confirm", confirm, key)  # requires_capture now
    assert again.status_code == 200 and again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json()
    fresh_key = post(f"/v1/payment_intents/{intent.id}/confirm", confirm, str(uuid.uuid4()))
    assert fresh_key.status_code == 400  # a confirm in requires_capture is refused
    other = post(f"/v1/payment_intents/{intent.id}/confirm", {**confirm, "return_url": "https://shop.example/x"}, key)
    assert other.status_code == 400 and other.json()["error"]["type"] == "idempotency_error"

    key = str(uuid.uuid4())
    captured = post(f"/v1/payment_intents/{intent.id}/capture", {"amount_to_capture": "500"}, key)
    assert captured.status_code == 200 and captured.json()["amount_received"] == 500
    twice = post(f"/v1/payment_intents/{intent.id}/capture", {"amount_to_capture": "500"}, key)
    assert twice.headers.get("idempotent-replayed") == "true" and twice.json() == captured.json()
    assert client.v1.charges.list(params={"payment_intent": intent.id}).data[0].amount_captured == 500

    open_intent = client.v1.payment_intents.create(params={"amount": 2000, "currency": "usd"})
    key = str(uuid.uuid4())
    updated = post(f"/v1/payment_intents/{open_intent.id}", {"amount": "3000"}, key)
    assert updated.status_code == 200 and updated.json()["amount"] == 3000
    canceled = post(f"/v1/payment_intents/{open_intent.id}/cancel", {}, str(uuid.uuid4()))
    assert canceled.json()["status"] == "canceled"
    replayed = post(f"/v1/payment_intents/{open_intent.id}", {"amount": "3000"}, key)  # canceled now
    assert replayed.headers.get("idempotent-replayed") == "true" and replayed.json() == updated.json()
    refused = post(f"/v1/payment_intents/{open_intent.id}", {"amount": "3000"}, str(uuid.uuid4()))
    assert refused.status_code == 400  # so the replay above was the stored answer, not a new update


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
