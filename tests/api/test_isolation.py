"""Objects of one account and mode are invisible from any other: not found, nothing changed.

Every kind of object is made in one (account, mode) and then read, listed, changed and deleted
with the keys of the three others (the same account's other mode, another account's two modes).
"""

from __future__ import annotations

import httpx
import pytest
import stripe

from amazon_pay_helpers import new_confirmed, page_url, press
from test_auth import new_account


@pytest.fixture
def accounts(server):
    """Two fresh accounts: {name: (secret key, publishable key)} for each account and mode."""
    first, second = new_account(server), new_account(server)
    return {
        "a_test": first["secret_test"], "a_live": first["secret_live"],
        "b_test": second["secret_test"], "b_live": second["secret_live"],
    }


def _others(accounts: dict, owner: str) -> list[str]:
    return [key for name, key in accounts.items() if name != owner]


def _not_found(call) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        call()
    assert info.value.http_status == 404, info.value
    assert info.value.code == "resource_missing"


@pytest.mark.parametrize("owner", ["a_test", "a_live"])
def test_payment_intents_methods_endpoints_and_events_stay_in_their_account_and_mode(server, accounts, owner):
    mine = server.client(accounts[owner])
    intent = mine.v1.payment_intents.create(params={"amount": 1500, "currency": "usd", "metadata": {"k": "v"}})
    method = mine.v1.payment_methods.create(params={"type": "amazon_pay"})
    endpoint = mine.v1.webhook_endpoints.create(params={"url": "https://hooks.example/kassa",
                                                        "enabled_events": ["*"]})
    event = mine.v1.events.list(params={"type": "payment_intent.created"}).data[0]
    assert event.data.object.id == intent.id

    for key in _others(accounts, owner):
        other = server.client(key)
        _not_found(lambda: other.v1.payment_intents.retrieve(intent.id))
        _not_found(lambda: other.v1.payment_intents.update(intent.id, params={"metadata": {"k": "changed"}}))
        _not_found(lambda: other.v1.payment_intents.cancel(intent.id))
        _not_found(lambda: other.v1.payment_intents.confirm(intent.id, params={
            "payment_method_data": {"type": "amazon_pay"}, "return_url": "https://shop.example/done"}))
        _not_found(lambda: other.v1.payment_methods.retrieve(method.id))
        _not_found(lambda: other.v1.webhook_endpoints.retrieve(endpoint.id))
        _not_found(lambda: other.v1.webhook_endpoints.update(endpoint.id, params={"disabled": True}))
        _not_found(lambda: other.v1.webhook_endpoints.delete(endpoint.id))
        _not_found(lambda: other.v1.events.retrieve(event.id))
        assert intent.id not in [i.id for i in other.v1.payment_intents.list(params={"limit": 100}).data]
        assert endpoint.id not in [e.id for e in other.v1.webhook_endpoints.list(params={"limit": 100}).data]
        assert event.id not in [e.id for e in other.v1.events.list(params={"limit": 100}).data]
        response = httpx.get(f"{server.url}/v1/events/{event.id}/deliveries", auth=(key, ""))
        assert response.status_code == 404

    # Nothing changed for the owner.
    again = mine.v1.payment_intents.retrieve(intent.id)
    assert (again.status, again.metadata.to_dict()) == ("requires_payment_method", {"k": "v"})
    kept = mine.v1.webhook_endpoints.retrieve(endpoint.id)
    assert kept.status == "enabled"
    assert mine.v1.payment_methods.retrieve(method.id).id == method.id


def test_charges_and_refunds_stay_in_their_account_and_mode(server, accounts):
    mine = server.client(accounts["a_test"])
    intent = new_confirmed(mine)
    press(page_url(intent), "authorize")
    paid = mine.v1.payment_intents.retrieve(intent.id)
    refund = mine.v1.refunds.create(params={"payment_intent": intent.id, "amount": 100})
    for key in _others(accounts, "a_test"):
        other = server.client(key)
        _not_found(lambda: other.v1.charges.retrieve(paid.latest_charge))
        _not_found(lambda: other.v1.refunds.retrieve(refund.id))
        _not_found(lambda: other.v1.refunds.update(refund.id, params={"metadata": {"k": "v"}}))
        with pytest.raises(stripe.InvalidRequestError) as info:
            other.v1.refunds.create(params={"payment_intent": intent.id, "amount": 100})
        assert info.value.http_status == 404
        with pytest.raises(stripe.InvalidRequestError) as info:
            other.v1.refunds.create(params={"charge": paid.latest_charge, "amount": 100})
        assert info.value.http_status == 404
        assert paid.latest_charge not in [c.id for c in other.v1.charges.list(params={"limit": 100}).data]
        assert refund.id not in [r.id for r in other.v1.refunds.list(params={"limit": 100}).data]
    charge = mine.v1.charges.retrieve(paid.latest_charge)
    assert charge.amount_refunded == 100  # only the owner's refund
    assert [r.id for r in mine.v1.refunds.list(params={"payment_intent": intent.id}).data] == [refund.id]


@pytest.mark.parametrize("owner", ["a_test", "b_test"])
def test_customers_setup_intents_and_mandates_stay_in_their_account_and_mode(server, accounts, owner):
    mine = server.client(accounts[owner])
    customer = mine.v1.customers.create(params={"email": "owner@example.com", "metadata": {"k": "v"}})
    setup = mine.v1.setup_intents.create(params={"customer": customer.id, "payment_method_types": ["card"],
                                                 "confirm": True, "payment_method": "pm_card_visa"})
    method = mine.v1.payment_methods.retrieve(setup.payment_method)
    for key in _others(accounts, owner):
        other = server.client(key)
        _not_found(lambda: other.v1.customers.retrieve(customer.id))
        _not_found(lambda: other.v1.customers.update(customer.id, params={"name": "changed"}))
        _not_found(lambda: other.v1.customers.delete(customer.id))
        _not_found(lambda: other.v1.customers.payment_methods.list(customer.id))
        _not_found(lambda: other.v1.setup_intents.retrieve(setup.id))
        _not_found(lambda: other.v1.setup_intents.update(setup.id, params={"metadata": {"k": "x"}}))
        _not_found(lambda: other.v1.setup_intents.cancel(setup.id))
        _not_found(lambda: other.v1.setup_intents.confirm(setup.id, params={"payment_method": "pm_card_visa"}))
        _not_found(lambda: other.v1.mandates.retrieve(setup.mandate))
        _not_found(lambda: other.v1.payment_methods.attach(method.id, params={"customer": customer.id}))
        _not_found(lambda: other.v1.payment_methods.detach(method.id))
        _not_found(lambda: other.v1.payment_methods.update(method.id, params={"metadata": {"k": "x"}}))
        assert customer.id not in [c.id for c in other.v1.customers.list(params={"limit": 100}).data]
        assert other.v1.customers.search(params={"query": "email:'owner@example.com'"}).data == []
        assert setup.id not in [s.id for s in other.v1.setup_intents.list(params={"limit": 100}).data]
        _not_found(lambda: other.v1.payment_methods.list(params={"customer": customer.id}))
    assert mine.v1.customers.retrieve(customer.id).metadata.to_dict() == {"k": "v"}
    assert mine.v1.payment_methods.retrieve(method.id).customer == customer.id
    assert mine.v1.mandates.retrieve(setup.mandate).status == "active"
