"""Keys: secret and publishable, accounts and modes kept apart, the publishable view."""

from __future__ import annotations

import json
import subprocess

import httpx
import pytest
import stripe

from support import kassa_command


def new_account(server, country="US") -> dict:
    out = subprocess.run([*kassa_command(), "accounts", "create", "--country", country, "--json",
                          "--database", server.database], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_missing_and_wrong_keys(server):
    response = httpx.get(server.url + "/v1/payment_intents")
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"
    assert response.headers["request-id"].startswith("req_")
    with pytest.raises(stripe.AuthenticationError) as info:
        server.client("sk_test_wrongwrongwrongwrong").v1.payment_intents.list()
    assert info.value.http_status == 401
    assert "sk_test_wrongwrongwrongwrong" not in info.value.user_message


def test_basic_auth_and_bearer(server):
    basic = httpx.get(server.url + "/v1/payment_intents", auth=(server.secret_key, ""))
    bearer = httpx.get(server.url + "/v1/payment_intents", headers={"Authorization": f"Bearer {server.secret_key}"})
    assert basic.status_code == bearer.status_code == 200
    assert basic.json()["object"] == "list"


def test_publishable_key_cannot_use_secret_calls(server, public_client):
    with pytest.raises(stripe.PermissionError) as info:
        public_client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
    assert info.value.http_status == 403
    assert "publishable" in info.value.user_message
    with pytest.raises(stripe.PermissionError):
        public_client.v1.payment_intents.list()


def test_publishable_retrieve_needs_the_client_secret(client, public_client):
    intent = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd",
                                                      "metadata": {"secret": "yes"}, "customer": "cus_1"})
    view = public_client.v1.payment_intents.retrieve(intent.id, params={"client_secret": intent.client_secret})
    assert view.id == intent.id and view.status == "requires_payment_method"
    assert view.client_secret == intent.client_secret
    for hidden in ("metadata", "customer", "amount_received", "amount_capturable", "latest_charge"):
        assert hidden not in view, hidden
    with pytest.raises(stripe.InvalidRequestError) as info:
        public_client.v1.payment_intents.retrieve(intent.id)
    assert info.value.param == "client_secret"
    other = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError) as info:
        public_client.v1.payment_intents.retrieve(intent.id, params={"client_secret": other.client_secret})
    assert info.value.param == "client_secret"
    with pytest.raises(stripe.InvalidRequestError):
        public_client.v1.payment_intents.retrieve(intent.id, params={"client_secret": intent.id + "_secret_x"})


def test_accounts_and_modes_are_isolated(server, client):
    intent = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
    other = new_account(server)
    assert other["id"].startswith("acct_")
    assert other["secret_test"].startswith("sk_test_") and other["secret_live"].startswith("sk_live_")
    assert other["publishable_test"].startswith("pk_test_")
    for key in (other["secret_test"], other["secret_live"]):
        foreign = server.client(key)
        with pytest.raises(stripe.InvalidRequestError) as info:
            foreign.v1.payment_intents.retrieve(intent.id)
        assert info.value.http_status == 404
        assert intent.id not in [pi.id for pi in foreign.v1.payment_intents.list(params={"limit": 100}).data]
    live = server.client(other["secret_live"]).v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
    assert live.livemode is True
    with pytest.raises(stripe.InvalidRequestError):
        server.client(other["secret_test"]).v1.payment_intents.retrieve(live.id)


def _stored_bytes(server) -> bytes:
    """Everything the database holds on disk (SQLite) or in its key table (PostgreSQL)."""
    if server.database.startswith("sqlite:///"):
        path = server.database.removeprefix("sqlite:///")
        raw = open(path, "rb").read()
        try:
            raw += open(path + "-wal", "rb").read()
        except FileNotFoundError:
            pass
        return raw
    import psycopg
    with psycopg.connect(server.database) as connection:
        rows = connection.execute("SELECT * FROM api_keys").fetchall()
    return repr(rows).encode()


def test_keys_are_hashed_at_rest(server):
    account = new_account(server)
    raw = _stored_bytes(server)
    # What was read does hold the keys' rows: their redacted display forms are there...
    assert (account["secret_test"][:8] + "****" + account["secret_test"][-4:]).encode() in raw
    # ...but never a key itself, nor a long piece of one.
    for key in (account["secret_test"], account["secret_live"], account["publishable_test"], server.secret_key):
        assert key.encode() not in raw
        assert key[-20:].encode() not in raw
