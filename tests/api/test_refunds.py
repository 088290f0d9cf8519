"""Refunds of Amazon Pay payments: full, partial, too much, asynchronous settlement."""

from __future__ import annotations

import time

import pytest
import stripe

from amazon_pay_helpers import new_confirmed, page_url, press
from test_auth import new_account


def paid(client, amount=1099):
    intent = new_confirmed(client, amount=amount)
    press(page_url(intent), "authorize")
    return client.v1.payment_intents.retrieve(intent.id)


@pytest.fixture
def fresh(server):
    return server.client(new_account(server)["secret_test"])


def test_full_refund_is_pending_then_succeeds(fresh):
    intent = paid(fresh)
    refund = fresh.v1.refunds.create(params={"payment_intent": intent.id, "reason": "requested_by_customer",
                                             "metadata": {"ticket": "7"}})
    assert refund.id.startswith("re_") and refund.object == "refund"
    assert refund.status == "pending"
    assert refund.amount == 1099 and refund.currency == "usd"
    assert refund.charge == intent.latest_charge and refund.payment_intent == intent.id
    assert refund.reason == "requested_by_customer" and refund.metadata["ticket"] == "7"
    charge = fresh.v1.charges.retrieve(intent.latest_charge)
    assert charge.amount_refunded == 1099 and charge.refunded is True
    fresh.raw_request("post", "/v1/test_helpers/clock/advance", seconds=5)
    assert fresh.v1.refunds.retrieve(refund.id).status == "succeeded"


def test_refund_settles_by_itself(client):
    refund = client.v1.refunds.create(params={"payment_intent": paid(client).id})
    deadline = time.monotonic() + 15
    while client.v1.refunds.retrieve(refund.id).status == "pending" and time.monotonic() < deadline:
        time.sleep(0.3)
    assert client.v1.refunds.retrieve(refund.id).status == "succeeded"


def test_partial_refunds_add_up_and_never_exceed(client):
    intent = paid(client, 1000)
    first = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 300})
    second = client.v1.refunds.create(params={"charge": intent.latest_charge, "amount": 500})
    assert (first.amount, second.amount) == (300, 500)
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 201})
    assert info.value.code == "amount_too_large" and info.value.param == "amount"
    last = client.v1.refunds.create(params={"payment_intent": intent.id})
    assert last.amount == 200
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.amount_refunded == 1000 and charge.refunded is True
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1})
    assert info.value.code == "charge_already_refunded"
    listed = client.v1.refunds.list(params={"payment_intent": intent.id})
    assert [r.id for r in listed.data] == [last.id, second.id, first.id]
    assert [r.id for r in client.v1.refunds.list(params={"charge": intent.latest_charge, "limit": 1}).data] == [last.id]


@pytest.mark.parametrize("params, code, param", [
    ({}, "missing_required_parameter", "payment_intent"),
    ({"payment_intent": "pi_nope"}, "resource_missing", "payment_intent"),
    ({"charge": "ch_nope"}, "resource_missing", "charge"),
    ({"payment_intent": "PI", "amount": 0}, "parameter_invalid_integer", "amount"),
    ({"payment_intent": "PI", "reason": "because"}, "parameter_invalid_string", "reason"),
])
def test_refund_errors(client, params, code, param):
    intent = paid(client)
    params = {key: intent.id if value == "PI" else value for key, value in params.items()}
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.refunds.create(params=params)
    assert (info.value.code, info.value.param) == (code, param)


def test_refund_of_an_unpaid_intent_is_a_clear_error(client):
    intent = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.refunds.create(params={"payment_intent": intent.id})
    assert info.value.code == "charge_not_refundable"
    assert "requires_payment_method" in info.value.user_message
    held = new_confirmed(client, capture_method="manual")
    press(page_url(held), "authorize")
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.refunds.create(params={"payment_intent": held.id})
    assert info.value.code == "charge_not_refundable"


def test_refund_metadata_update(client):
    refund = client.v1.refunds.create(params={"payment_intent": paid(client).id, "metadata": {"a": "1"}})
    updated = client.v1.refunds.update(refund.id, params={"metadata": {"b": "2"}})
    assert updated.metadata.to_dict() == {"a": "1", "b": "2"}
