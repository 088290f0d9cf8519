"""Client secrets derived from the intent's id under the deployment's key, and kept nowhere: derived,
checked, stripped from what is stored and put back when it is read."""

from __future__ import annotations

import re

import orjson
import pytest

from kassa.domain.client_secrets import ClientSecrets, has_marks, mark
from kassa.services import client_secrets as configured

KEY = b"k" * 32
OTHER = b"o" * 32


def test_a_secret_is_the_id_and_25_characters_stable_per_key():
    secrets = ClientSecrets([KEY])
    secret = secrets.of("pi_123")
    assert re.fullmatch(r"pi_123_secret_[0-9A-Za-z]{25}", secret)
    assert secrets.of("pi_123") == secret == ClientSecrets([KEY]).of("pi_123")  # another process, the same
    assert secrets.of("pi_124") != secret
    assert ClientSecrets([OTHER]).of("pi_123") != secret


def test_matches_only_the_intents_own_secret_under_a_known_key():
    secrets = ClientSecrets([KEY])
    secret = secrets.of("pi_123")
    assert secrets.matches("pi_123", secret)
    assert not secrets.matches("pi_124", secret)
    assert not secrets.matches("pi_123", secret[:-1] + ("A" if secret[-1] != "A" else "B"))
    assert not secrets.matches("pi_123", "pi_123_secret_")
    assert not secrets.matches("pi_123", "pi_123")
    assert not ClientSecrets([OTHER]).matches("pi_123", secret)


def test_rotation_the_first_key_derives_every_key_is_accepted():
    old = ClientSecrets([KEY]).of("pi_1")
    rotated = ClientSecrets([OTHER, KEY])
    assert rotated.of("pi_1") == ClientSecrets([OTHER]).of("pi_1") != old
    assert rotated.matches("pi_1", old) and rotated.matches("pi_1", rotated.of("pi_1"))


def test_an_intent_stored_with_its_secret_keeps_it():
    class Intent:
        id, client_secret = "pi_1", "pi_1_secret_givenbeforesecretswerederived"

    class Derived:
        id, client_secret = "pi_1", None

    secrets = ClientSecrets([KEY])
    assert secrets.shown(Intent) == Intent.client_secret and secrets.belongs(Intent, Intent.client_secret)
    assert not secrets.belongs(Intent, secrets.of("pi_1"))
    assert secrets.shown(Derived) == secrets.of("pi_1") and secrets.belongs(Derived, secrets.of("pi_1"))


def test_no_key_or_an_empty_one_is_refused():
    with pytest.raises(ValueError):
        ClientSecrets([])
    with pytest.raises(ValueError):
        ClientSecrets([b""])


def test_stored_strips_derived_secrets_only():
    secrets = ClientSecrets([KEY])
    mine, theirs = secrets.of("pi_1"), ClientSecrets([OTHER]).of("pi_2")
    text = orjson.dumps({"id": "pi_1", "client_secret": mine, "metadata": {"note": theirs},
                         "payment_intent": {"id": "seti_9", "client_secret": secrets.of("seti_9")}}).decode()
    kept = secrets.stored(text)
    assert mine not in kept and secrets.of("seti_9") not in kept
    assert '"client_secret":"pi_1_secret_"' in kept and '"client_secret":"seti_9_secret_"' in kept
    assert theirs in kept  # not one this deployment derives: nothing of ours to give back
    assert secrets.stored('{"id":"ch_1"}') == '{"id":"ch_1"}'


def test_restore_tree_puts_back_the_marks_of_intents_and_nothing_else():
    secrets = ClientSecrets([KEY])
    body = {"error": {"payment_intent": {"id": "pi_1", "object": "payment_intent", "client_secret": "pi_1_secret_",
                                         "metadata": {"client_secret": "pi_2_secret_"}}},
            "data": [{"id": "seti_3", "object": "setup_intent", "client_secret": "seti_3_secret_"}],
            # a merchant's look-alike: not an intent's own mark, so never made into another intent's secret
            "fake": {"id": "pi_4", "object": "charge", "client_secret": "pi_4_secret_"},
            "mismatch": {"id": "pi_5", "object": "payment_intent", "client_secret": "pi_6_secret_"}}
    restored = secrets.restore_tree(body)
    assert restored["error"]["payment_intent"]["client_secret"] == secrets.of("pi_1")
    assert restored["error"]["payment_intent"]["metadata"] == {"client_secret": "pi_2_secret_"}
    assert restored["data"][0]["client_secret"] == secrets.of("seti_3")
    assert restored["fake"]["client_secret"] == "pi_4_secret_"
    assert restored["mismatch"]["client_secret"] == "pi_6_secret_"


def _event(obj: dict) -> str:
    return orjson.dumps({"id": "evt_1", "object": "event", "api_version": "x", "created": 1,
                         "data": {"object": obj}, "type": "t"}).decode()


def test_restore_event_puts_back_its_own_intents_secret_only():
    secrets = ClientSecrets([KEY])
    secret = secrets.of("pi_1")
    stored = secrets.stored(_event({"id": "pi_1", "object": "payment_intent", "amount": 1, "client_secret": secret,
                                    "metadata": {"client_secret": "pi_2_secret_"}}))
    assert secret not in stored and has_marks(stored)
    restored = orjson.loads(secrets.restore_event(stored))["data"]["object"]
    assert restored["client_secret"] == secret
    assert restored["metadata"] == {"client_secret": "pi_2_secret_"}
    # An event about another object, whose merchant-written text looks like a mark: left alone.
    charge = _event({"id": "ch_1", "object": "charge", "metadata": {"client_secret": "pi_2_secret_"}})
    assert secrets.restore_event(charge) == charge
    # A secret given before secrets were derived is kept as it was.
    older = _event({"id": "pi_7", "object": "payment_intent", "client_secret": "pi_7_secret_olderrandomsecret"})
    assert secrets.stored(older) == older == secrets.restore_event(older)


def test_mark_is_the_secret_without_its_mac():
    secret = ClientSecrets([KEY]).of("seti_1")
    assert mark(secret) == "seti_1_secret_"


def test_the_environment_gives_the_keys(monkeypatch):
    assert configured.keys_from({}) == []
    assert configured.keys_from({"KASSA_CLIENT_SECRETS_KEY": f"{'a' * 32}, {'b' * 40}"}) == [b"a" * 32, b"b" * 40]
    with pytest.raises(ValueError, match="at least 32"):
        configured.keys_from({"KASSA_CLIENT_SECRETS_KEY": "short"})


def test_without_the_environment_the_databases_key_is_used(tmp_path):
    from kassa.store.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'k.sqlite3'}"
    upgrade(url)
    first = configured.set_up(url, {})
    again = configured.set_up(url, {})  # another process of the same database: the same secrets
    assert first.of("pi_1") == again.of("pi_1")
    other = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    upgrade(other)
    assert configured.set_up(other, {}).of("pi_1") != first.of("pi_1")
    given = configured.set_up(url, {"KASSA_CLIENT_SECRETS_KEY": "c" * 32})
    assert given.of("pi_1") == ClientSecrets([b"c" * 32]).of("pi_1") and configured.current() is given


def test_long_keys_count_whole():
    """BLAKE2b takes 64-byte keys: two longer keys that differ only after that still differ."""
    first, second = b"x" * 64 + b"1", b"x" * 64 + b"2"
    assert ClientSecrets([first]).of("pi_1") != ClientSecrets([second]).of("pi_1")
