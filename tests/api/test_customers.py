"""Customers through the official stripe package: create, retrieve, update, delete, list, search,
the default payment method, events, and the errors."""

from __future__ import annotations

import time

import pytest
import stripe

from saved_helpers import new_customer, saved_card
from test_auth import new_account


@pytest.fixture
def fresh(server):
    return server.client(new_account(server)["secret_test"])


def test_create_retrieve_update_delete(fresh):
    customer = new_customer(fresh, phone="+15555550100", metadata={"tier": "gold"},
                            address={"line1": "1 Main St", "city": "Springfield", "country": "US"})
    assert customer.id.startswith("cus_") and customer.object == "customer"
    assert (customer.email, customer.name, customer.phone) == ("buyer@example.com", "Ada Buyer", "+15555550100")
    assert customer.metadata.to_dict() == {"tier": "gold"} and customer.address.city == "Springfield"
    assert customer.invoice_settings.default_payment_method is None and customer.balance == 0
    assert customer.livemode is False and customer.delinquent is False and customer.invoice_prefix
    again = fresh.v1.customers.retrieve(customer.id)
    assert again.to_dict() == customer.to_dict()
    updated = fresh.v1.customers.update(customer.id, params={"name": "Ada B.", "metadata": {"tier": ""}})
    assert updated.name == "Ada B." and updated.metadata.to_dict() == {}
    deleted = fresh.v1.customers.delete(customer.id)
    assert deleted.deleted is True and deleted.id == customer.id
    gone = fresh.v1.customers.retrieve(customer.id)
    assert gone.deleted is True
    with pytest.raises(stripe.InvalidRequestError) as info:
        fresh.v1.customers.update(customer.id, params={"name": "x"})
    assert info.value.http_status == 404 and info.value.code == "resource_missing"
    assert customer.id not in [c.id for c in fresh.v1.customers.list().data]
    types = [e.type for e in fresh.v1.events.list(params={"type": "customer.*"}).data]
    assert types == ["customer.deleted", "customer.updated", "customer.created"]
    event = fresh.v1.events.list(params={"type": "customer.updated"}).data[0]
    assert event.data.previous_attributes.to_dict() == {"name": "Ada Buyer", "metadata": {"tier": "gold"}}


def test_errors(fresh):
    with pytest.raises(stripe.InvalidRequestError) as info:
        fresh.v1.customers.create(params={"email": "not-an-email"})
    assert info.value.code == "email_invalid" and info.value.param == "email"
    with pytest.raises(stripe.InvalidRequestError) as info:
        fresh.v1.customers.create(params={"favourite_colour": "blue"})
    assert info.value.code == "parameter_unknown"
    with pytest.raises(stripe.InvalidRequestError) as info:
        fresh.v1.customers.retrieve("cus_missing")
    assert info.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError) as info:
        fresh.v1.customers.delete("cus_missing")
    assert info.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError) as info:
        fresh.v1.customers.list(params={"limit": 0})
    assert info.value.param == "limit"


def test_list_filters_and_search(fresh):
    first = new_customer(fresh, email="jenny@example.com", name="Jenny Rosen", metadata={"plan": "pro"})
    second = new_customer(fresh, email="sam@example.com", name="Sam Jones", phone="+4930123")
    listed = fresh.v1.customers.list()
    assert [c.id for c in listed.data][:2] == [second.id, first.id]
    assert [c.id for c in fresh.v1.customers.list(params={"email": "jenny@example.com"}).data] == [first.id]
    assert [c.id for c in fresh.v1.customers.list(params={"created": {"gte": first.created}}).data] == [second.id,
                                                                                                   first.id]
    def found(query):
        return [c.id for c in fresh.v1.customers.search(params={"query": query}).data]
    assert found("email:'jenny@example.com'") == [first.id]
    assert found("name~'rosen'") == [first.id]
    assert found("phone:'+4930123'") == [second.id]
    assert found("metadata['plan']:'pro'") == [first.id]
    assert set(found(f"created>={first.created}")) == {first.id, second.id}
    page = fresh.v1.customers.search(params={"query": "email~'example'", "limit": 1})
    assert page.has_more and page.next_page
    rest = fresh.v1.customers.search(params={"query": "email~'example'", "limit": 1, "page": page.next_page})
    assert [c.id for c in rest.data] == [first.id]
    with pytest.raises(stripe.InvalidRequestError) as info:
        fresh.v1.customers.search(params={"query": "status:'active'"})
    assert info.value.param == "query" and "customers" in info.value.user_message


def test_default_payment_method(fresh):
    customer = new_customer(fresh)
    method = saved_card(fresh, customer.id)
    updated = fresh.v1.customers.update(customer.id, params={"invoice_settings": {"default_payment_method": method.id}})
    assert updated.invoice_settings.default_payment_method == method.id
    other = fresh.v1.payment_methods.create(params={"type": "card", "card": {"token": "tok_visa"}})
    with pytest.raises(stripe.InvalidRequestError) as info:
        fresh.v1.customers.update(customer.id, params={"invoice_settings": {"default_payment_method": other.id}})
    assert info.value.param == "invoice_settings[default_payment_method]"
    expanded = fresh.v1.payment_methods.retrieve(method.id, params={"expand": ["customer"]})
    assert expanded.customer.id == customer.id and expanded.customer.email == "buyer@example.com"
    fresh.v1.payment_methods.detach(method.id)
    assert fresh.v1.customers.retrieve(customer.id).invoice_settings.default_payment_method is None


def test_intents_and_charges_link_to_their_customer(fresh):
    customer = new_customer(fresh)
    intent = fresh.v1.payment_intents.create(params={"amount": 1000, "currency": "usd", "customer": customer.id,
                                                     "payment_method": "pm_card_visa", "confirm": True})
    other = fresh.v1.payment_intents.create(params={"amount": 500, "currency": "usd"})
    charge = fresh.v1.charges.retrieve(intent.latest_charge)
    assert charge.customer == customer.id
    listed = fresh.v1.payment_intents.list(params={"customer": customer.id})
    assert [i.id for i in listed.data] == [intent.id] and other.id not in [i.id for i in listed.data]
    expanded = fresh.v1.payment_intents.retrieve(intent.id, params={"expand": ["customer"]})
    assert expanded.customer.id == customer.id
    time.sleep(0)


def test_the_dashboard_lists_customers_with_their_saved_methods(server, client):
    from test_dashboard import Dashboard, make_user
    customer = new_customer(client, name="Dashboard <Buyer>", email="dash-buyer@example.com")
    card = saved_card(client, customer.id)
    client.v1.customers.update(customer.id, params={"invoice_settings": {"default_payment_method": card.id}})
    amazon = client.v1.payment_methods.create(params={"type": "amazon_pay"})
    client.v1.payment_methods.attach(amazon.id, params={"customer": customer.id})
    admin = Dashboard(server.url, *make_user(server.database))
    page = admin.http.get("/dashboard/test/customers")
    assert page.status_code == 200
    assert customer.id in page.text and "Dashboard &lt;Buyer&gt;" in page.text and "<Buyer>" not in page.text
    assert "Visa •••• 4242 (default)" in page.text and "Amazon Pay" in page.text and amazon.id in page.text
