"""Lists (limit, cursors, has_more, created), search, expand."""

from __future__ import annotations

import uuid

import pytest
import stripe

from test_auth import new_account


@pytest.fixture
def fresh(server):
    """A client on a new, empty account, with 7 intents created oldest first."""
    client = server.client(new_account(server, "DE")["secret_test"])
    tag = uuid.uuid4().hex[:8]
    ids = [client.v1.payment_intents.create(
        params={"amount": 1000 + i * 100, "currency": "usd" if i % 2 == 0 else "eur",
                "metadata": {"order": f"{tag}-{i}", "parity": "even" if i % 2 == 0 else "odd"},
                "customer": "cus_a" if i < 3 else "cus_b"}).id for i in range(7)]
    return client, ids[::-1]  # newest first


def test_list_newest_first_with_paging(fresh):
    client, newest_first = fresh
    page = client.v1.payment_intents.list(params={"limit": 3})
    assert page.object == "list" and page.url == "/v1/payment_intents"
    assert [pi.id for pi in page.data] == newest_first[:3]
    assert page.has_more is True
    page2 = client.v1.payment_intents.list(params={"limit": 3, "starting_after": page.data[-1].id})
    assert [pi.id for pi in page2.data] == newest_first[3:6]
    page3 = client.v1.payment_intents.list(params={"limit": 3, "starting_after": page2.data[-1].id})
    assert [pi.id for pi in page3.data] == newest_first[6:]
    assert page3.has_more is False
    back = client.v1.payment_intents.list(params={"limit": 2, "ending_before": page2.data[0].id})
    assert [pi.id for pi in back.data] == newest_first[1:3]
    assert back.has_more is True
    default = client.v1.payment_intents.list()
    assert [pi.id for pi in default.data] == newest_first


def test_auto_paging_iter_walks_everything(fresh):
    client, newest_first = fresh
    seen = [pi.id for pi in client.v1.payment_intents.list(params={"limit": 2}).auto_paging_iter()]
    assert seen == newest_first


def test_list_filters(fresh):
    client, newest_first = fresh
    by_customer = client.v1.payment_intents.list(params={"customer": "cus_a"})
    assert [pi.id for pi in by_customer.data] == newest_first[4:]
    created = client.v1.payment_intents.retrieve(newest_first[0]).created
    assert len(client.v1.payment_intents.list(params={"created": {"gte": created}}).data) >= 1
    assert client.v1.payment_intents.list(params={"created": {"gt": created + 10}}).data == []
    assert len(client.v1.payment_intents.list(params={"created": {"lte": created}, "limit": 100}).data) == 7


@pytest.mark.parametrize("params, param", [
    ({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"limit": "abc"}, "limit"),
    ({"starting_after": "pi_nope"}, "starting_after"),
    ({"starting_after": "pi_a", "ending_before": "pi_b"}, "ending_before"),
])
def test_list_errors(client, params, param):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.list(params=params)
    assert info.value.param == param


def test_search(fresh):
    client, newest_first = fresh
    result = client.v1.payment_intents.search(params={"query": "metadata['parity']:'odd'"})
    assert result.object == "search_result"
    assert sorted(pi.id for pi in result.data) == sorted(newest_first[i] for i in (1, 3, 5))
    result = client.v1.payment_intents.search(params={"query": "status:'requires_payment_method' AND amount>1300"})
    assert sorted(pi.id for pi in result.data) == sorted(newest_first[:3])
    result = client.v1.payment_intents.search(params={"query": "currency:'eur' OR amount<1100"})
    assert len(result.data) == 4
    result = client.v1.payment_intents.search(params={"query": "customer:'cus_b' AND -metadata['parity']:'odd'"})
    assert len(result.data) == 2


def test_search_pages(fresh):
    client, newest_first = fresh
    first = client.v1.payment_intents.search(params={"query": "amount>0", "limit": 4})
    assert first.has_more is True and first.next_page
    second = client.v1.payment_intents.search(params={"query": "amount>0", "limit": 4, "page": first.next_page})
    assert second.has_more is False and second.next_page is None
    assert [pi.id for pi in first.data + second.data] == newest_first
    all_ids = [pi.id for pi in client.v1.payment_intents.search(
        params={"query": "amount>0", "limit": 2}).auto_paging_iter()]
    assert all_ids == newest_first


@pytest.mark.parametrize("query", ["", "colour:'red'", "amount>'abc'", "status:'x' AND", "metadata['a]:'b'",
                                   "status:'a' AND amount>1 OR currency:'usd'"])
def test_search_errors(client, query):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.search(params={"query": query})
    assert info.value.param == "query"


def test_expand(client):
    intent = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
    fetched = client.v1.payment_intents.retrieve(intent.id, params={"expand": ["latest_charge", "payment_method"]})
    assert fetched.latest_charge is None and fetched.payment_method is None
    listed = client.v1.payment_intents.list(params={"limit": 1, "expand": ["data.latest_charge"]})
    assert listed.data[0].latest_charge is None
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.retrieve(intent.id, params={"expand": ["amount"]})
    assert info.value.param == "expand"
    assert "cannot be expanded" in info.value.user_message
