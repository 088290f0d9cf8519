"""No client secret at rest: PaymentIntents' and SetupIntents' secrets are derived from their ids
under the deployment's key, so that they can be shown again and checked without being kept. Every
flow that shows one (creates, replays, refusals, expansions, events, webhooks, the buyer's return to
the merchant) is run, then the database and the log are searched for each secret seen."""

from __future__ import annotations

import sqlite3

import httpx
import orjson
import pytest
import stripe

from amazon_pay_helpers import confirm, outcome, page_url, press
from card_helpers import authenticate, authentication_page, returned_with
from receiver import Receiver
from support import fresh_database, postgres_dump, start_server

KEY = "client-secrets-key-of-this-test-0123456789"
ENV = {"KASSA_CLIENT_SECRETS_KEY": KEY, "KASSA_ACCESS_LOG": "1"}


def _every_flow(server, receiver: Receiver) -> set[str]:
    """Run every flow that shows a client secret; the secrets seen, each checked where it was shown."""
    client, public = server.client(), server.client(server.publishable_key)
    endpoint = client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events": ["*"]})
    seen: set[str] = set()

    created = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"},
                                               options={"idempotency_key": "secrets-create"})
    replayed = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"},
                                                options={"idempotency_key": "secrets-create"})
    assert replayed.id == created.id and replayed.client_secret == created.client_secret
    assert created.client_secret.startswith(created.id + "_secret_")
    seen.add(created.client_secret)
    shown = public.v1.payment_intents.retrieve(created.id, params={"client_secret": created.client_secret})
    assert shown.client_secret == created.client_secret
    with pytest.raises(stripe.InvalidRequestError):  # a wrong secret is refused
        public.v1.payment_intents.retrieve(created.id, params={"client_secret": created.id + "_secret_" + "x" * 25})

    # Amazon Pay: confirmed with the publishable key, back to the merchant with the secret.
    redirect = confirm(public, created.id, client_secret=created.client_secret)
    back = outcome(press(page_url(redirect), "authorize"))
    assert back["payment_intent_client_secret"] == created.client_secret and back["redirect_status"] == "succeeded"

    # A card with 3D Secure, back to the merchant with the secret.
    secure = client.v1.payment_intents.create(params={
        "amount": 2000, "currency": "usd", "confirm": True, "return_url": server.url + "/healthz",
        "payment_method": "pm_card_threeDSecure2Required"})
    seen.add(secure.client_secret)
    assert returned_with(authenticate(authentication_page(secure), "complete"))[
        "payment_intent_client_secret"] == secure.client_secret

    # A decline: the stored refusal carries the intent.
    with pytest.raises(stripe.CardError) as declined:
        client.v1.payment_intents.create(params={"amount": 1500, "currency": "usd", "confirm": True,
                                                 "payment_method": "pm_card_visa_chargeDeclined"},
                                         options={"idempotency_key": "secrets-declined"})
    refused = declined.value.error.payment_intent
    seen.add(refused.client_secret)
    with pytest.raises(stripe.CardError) as again:
        client.v1.payment_intents.create(params={"amount": 1500, "currency": "usd", "confirm": True,
                                                 "payment_method": "pm_card_visa_chargeDeclined"},
                                         options={"idempotency_key": "secrets-declined"})
    assert again.value.error.payment_intent.client_secret == refused.client_secret

    # A refund answered with its intent expanded, and replayed.
    refund = client.v1.refunds.create(params={"payment_intent": created.id, "expand": ["payment_intent"]},
                                      options={"idempotency_key": "secrets-refund"})
    assert refund.payment_intent.client_secret == created.client_secret
    refund_again = client.v1.refunds.create(params={"payment_intent": created.id, "expand": ["payment_intent"]},
                                            options={"idempotency_key": "secrets-refund"})
    assert refund_again.payment_intent.client_secret == created.client_secret

    # A SetupIntent.
    setup = client.v1.setup_intents.create(params={"payment_method_types": ["card"]},
                                           options={"idempotency_key": "secrets-setup"})
    seen.add(setup.client_secret)
    assert setup.client_secret.startswith(setup.id + "_secret_")
    assert public.v1.setup_intents.retrieve(setup.id, params={"client_secret": setup.client_secret}).client_secret \
        == setup.client_secret
    confirmed = public.v1.setup_intents.confirm(setup.id, params={"client_secret": setup.client_secret,
                                                                  "payment_method": "pm_card_visa"})
    assert confirmed.status == "succeeded"

    # Events, through the API and delivered, carry each intent's secret.
    by_intent = {secret.partition("_secret_")[0]: secret for secret in seen}
    events = client.v1.events.list(params={"limit": 100}).data
    carried = [event.data.object.to_dict() for event in events]
    carried = [obj for obj in carried if obj["object"] in ("payment_intent", "setup_intent")]
    assert {obj["object"] for obj in carried} == {"payment_intent", "setup_intent"}
    for obj in carried:
        assert obj["client_secret"] == by_intent[obj["id"]]
    receiver.wait_for(lambda: len(receiver.received) >= len(events))
    delivered = [event for event in receiver.events(endpoint.secret)
                 if event["data"]["object"]["object"] in ("payment_intent", "setup_intent")]
    assert len(delivered) == len(carried)
    for event in delivered:
        assert event["data"]["object"]["client_secret"] == by_intent[event["data"]["object"]["id"]]
    return seen


def _not_there(stored: bytes, secrets: set[str], where: str, *, ids_kept: bool = True) -> None:
    for secret in secrets:
        intent_id, _, mac = secret.partition("_secret_")
        if ids_kept:
            assert intent_id.encode() in stored, f"{intent_id} not in {where}: the search would see nothing"
        assert mac.encode() not in stored, f"the client secret of {intent_id} found in {where}"
    assert KEY.encode() not in stored, f"the key found in {where}"


def test_no_client_secret_in_the_sqlite_file_or_the_log(tmp_path):
    receiver = Receiver()
    server = start_server(f"sqlite:///{tmp_path / 'kassa.sqlite3'}", tmp_path, env=ENV)
    try:
        seen = _every_flow(server, receiver)
        server = server.restart()  # the same secrets after a restart: they are derived, not kept
        client, public = server.client(), server.client(server.publishable_key)
        for secret in seen:
            object_id = secret.partition("_secret_")[0]
            if object_id.startswith("pi_"):
                assert client.v1.payment_intents.retrieve(object_id).client_secret == secret
                assert public.v1.payment_intents.retrieve(object_id, params={"client_secret": secret}).id == object_id
            else:
                assert client.v1.setup_intents.retrieve(object_id).client_secret == secret
    finally:
        server.stop()
        receiver.close()
    stored = b"".join(path.read_bytes() for path in sorted(tmp_path.glob("kassa.sqlite3*")))
    _not_there(stored, seen, "the database")
    log = server.log_path.read_bytes()
    assert b"/v1/payment_intents" in log
    _not_there(log, seen, "the log", ids_kept=False)


def test_no_client_secret_in_postgresql_and_every_process_derives_the_same(tmp_path):
    url = fresh_database("postgresql", tmp_path)
    receiver = Receiver()
    server = start_server(url, tmp_path, env=ENV)
    other = start_server(url, tmp_path, env=ENV)
    try:
        seen = _every_flow(server, receiver)
        client = other.client()
        for secret in seen:
            object_id = secret.partition("_secret_")[0]
            found = (client.v1.payment_intents if object_id.startswith("pi_") else client.v1.setup_intents
                     ).retrieve(object_id)
            assert found.client_secret == secret
    finally:
        server.stop()
        other.stop()
        receiver.close()
    dump = postgres_dump(url)
    _not_there(dump, seen, "PostgreSQL")
    _not_there(server.log_path.read_bytes(), seen, "the log", ids_kept=False)


def test_without_the_key_in_the_environment_the_databases_own_key_derives_them(tmp_path):
    database = f"sqlite:///{tmp_path / 'kassa.sqlite3'}"
    server = start_server(database, tmp_path)
    try:
        intent = server.client().v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
        server = server.restart()
        assert server.client().v1.payment_intents.retrieve(intent.id).client_secret == intent.client_secret
        public = server.client(server.publishable_key)
        assert public.v1.payment_intents.retrieve(intent.id, params={"client_secret": intent.client_secret}).id \
            == intent.id
    finally:
        server.stop()
    # Another deployment's key (given in the environment) does not accept them.
    server = start_server(database, tmp_path, env={"KASSA_CLIENT_SECRETS_KEY": KEY})
    try:
        with pytest.raises(stripe.InvalidRequestError):
            server.client(server.publishable_key).v1.payment_intents.retrieve(
                intent.id, params={"client_secret": intent.client_secret})
    finally:
        server.stop()


def test_rotating_the_key_keeps_the_old_secrets_valid(tmp_path):
    database = f"sqlite:///{tmp_path / 'kassa.sqlite3'}"
    server = start_server(database, tmp_path, env={"KASSA_CLIENT_SECRETS_KEY": KEY})
    try:
        intent = server.client().v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
    finally:
        server.stop()
    new_key = "a-new-client-secrets-key-0123456789abcdef"
    server = start_server(database, tmp_path, env={"KASSA_CLIENT_SECRETS_KEY": f"{new_key},{KEY}"})
    try:
        public = server.client(server.publishable_key)
        assert public.v1.payment_intents.retrieve(intent.id, params={"client_secret": intent.client_secret}).id \
            == intent.id
        shown = server.client().v1.payment_intents.retrieve(intent.id).client_secret
        assert shown != intent.client_secret  # the new key derives from now on; both are accepted
        assert public.v1.payment_intents.retrieve(intent.id, params={"client_secret": shown}).id == intent.id
    finally:
        server.stop()


def test_a_short_key_stops_the_server_with_a_clear_message(tmp_path):
    with pytest.raises(RuntimeError, match="KASSA_CLIENT_SECRETS_KEY"):
        start_server(f"sqlite:///{tmp_path / 'kassa.sqlite3'}", tmp_path,
                     env={"KASSA_CLIENT_SECRETS_KEY": "too-short"})


def test_an_intent_stored_with_its_secret_keeps_it(tmp_path):
    """Intents stored before secrets were derived keep theirs: shown, and accepted, as they were."""
    path = tmp_path / "kassa.sqlite3"
    server = start_server(f"sqlite:///{path}", tmp_path, env={"KASSA_CLIENT_SECRETS_KEY": KEY})
    try:
        intent = server.client().v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
    finally:
        server.stop()
    older = f"{intent.id}_secret_OlderRandomSecret00000001"
    with sqlite3.connect(path) as connection:  # as a row written before looked
        data = orjson.loads(connection.execute("SELECT data FROM payment_intents WHERE id = ?",
                                               (intent.id,)).fetchone()[0])
        assert data["client_secret"] is None
        data["client_secret"] = older
        connection.execute("UPDATE payment_intents SET data = ? WHERE id = ?", (orjson.dumps(data).decode(), intent.id))
    server = start_server(f"sqlite:///{path}", tmp_path, env={"KASSA_CLIENT_SECRETS_KEY": KEY})
    try:
        assert server.client().v1.payment_intents.retrieve(intent.id).client_secret == older
        public = server.client(server.publishable_key)
        assert public.v1.payment_intents.retrieve(intent.id, params={"client_secret": older}).id == intent.id
        with pytest.raises(stripe.InvalidRequestError):
            public.v1.payment_intents.retrieve(intent.id, params={"client_secret": intent.client_secret})
    finally:
        server.stop()


def test_a_merchants_text_never_reveals_another_intents_secret(tmp_path):
    """Metadata shaped like a kept mark stays as it was written, in replays and in events."""
    server = start_server(f"sqlite:///{tmp_path / 'kassa.sqlite3'}", tmp_path, env={"KASSA_CLIENT_SECRETS_KEY": KEY})
    try:
        client = server.client()
        victim = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
        mark = f"{victim.id}_secret_"
        params = {"amount": 500, "currency": "usd", "metadata": {"client_secret": mark, "note": mark}}
        first = client.v1.payment_intents.create(params=params, options={"idempotency_key": "look-alike"})
        replay = httpx.post(server.url + "/v1/payment_intents", auth=(server.secret_key, ""),
                            headers={"Idempotency-Key": "look-alike"},
                            data={"amount": 500, "currency": "usd", "metadata[client_secret]": mark,
                                  "metadata[note]": mark})
        assert replay.headers.get("Idempotent-Replayed") == "true"
        assert victim.client_secret not in replay.text
        assert replay.json()["metadata"] == {"client_secret": mark, "note": mark}
        assert replay.json()["client_secret"] == first.client_secret
        created = [event for event in client.v1.events.list(params={"type": "payment_intent.created"}).data
                   if event.data.object["id"] == first.id]
        assert created and created[0].data.object["metadata"].to_dict() == {"client_secret": mark, "note": mark}
        assert victim.client_secret not in str(created[0])
    finally:
        server.stop()
