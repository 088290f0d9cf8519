"""Live Amazon Pay configuration and the encryption of its private key at rest."""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet

from doubles.amazon_pay_api import generate_key_pair
from kassa.methods.amazon_pay import signing
from kassa.methods.amazon_pay.config import (
    ENCRYPTION_KEY_ENV,
    ConfigError,
    EncryptionKeyMissing,
    LiveConfig,
    decrypt_secret,
    encrypt_secret,
    environment_of_key,
)

PEM, _ = generate_key_pair()
PEM_BODY = PEM.splitlines()[1]  # a line of the key itself
BASE = dict(public_key_id="AFVX7ULWSGBZ5535PCUQOY7B", store_id="amzn1.application-oa2-client.kassatest",
            merchant_id="A1KASSADOUBLE", region="eu", sandbox=True)


@pytest.fixture
def no_key(monkeypatch):
    monkeypatch.delenv(ENCRYPTION_KEY_ENV, raising=False)


@pytest.fixture
def env_key(monkeypatch) -> str:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv(ENCRYPTION_KEY_ENV, key)
    return key


def make(**changes) -> LiveConfig:
    return LiveConfig(**{**BASE, "private_key_pem": PEM, **changes})


def test_the_pem_never_shows(caplog):
    config = make()
    for text in (repr(config), str(config), f"{config}", f"{config!r}"):
        assert PEM_BODY not in text and "PRIVATE KEY" not in text
    assert "AFVX7ULWSGBZ5535PCUQOY7B" in repr(config)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").info("config: %s %r", config, config)
    assert PEM_BODY not in caplog.text
    assert PEM_BODY not in repr(config.credentials())


def test_a_bad_pem_is_refused_without_echoing_it():
    bad = PEM.replace(PEM_BODY, PEM_BODY[::-1])
    with pytest.raises(ConfigError) as caught:
        make(private_key_pem=bad)
    assert PEM_BODY[::-1] not in str(caught.value) and "PEM" in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_the_key_as_a_path(tmp_path):
    path = tmp_path / "amazon-pay.pem"
    path.write_text(PEM)
    config = LiveConfig(**BASE, private_key_path=str(path))
    assert config.credentials().public_key_id == BASE["public_key_id"]
    assert str(path) in repr(config)


def test_a_missing_or_bad_key_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the private key file"):
        LiveConfig(**BASE, private_key_path=str(tmp_path / "missing.pem"))
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key")
    with pytest.raises(ConfigError, match="junk.pem.*not an unencrypted RSA private key"):
        LiveConfig(**BASE, private_key_path=str(junk))


def test_one_key_source_exactly(tmp_path):
    with pytest.raises(ConfigError, match="either as a PEM value or as a path"):
        LiveConfig(**BASE)
    with pytest.raises(ConfigError, match="not both"):
        LiveConfig(**BASE, private_key_pem=PEM, private_key_path=str(tmp_path / "x.pem"))


@pytest.mark.parametrize("changes, words", [
    ({"region": "mars"}, "unknown Amazon Pay region"),
    ({"merchant_id": "a1 lower"}, "merchant_id"),
    ({"merchant_id": "a1lowercase"}, "merchant_id"),
    ({"store_id": ""}, "store_id"),
    ({"public_key_id": "KEY WITH SPACE"}, "public_key_id"),
    ({"public_key_id": "KEY=1"}, "public_key_id"),
    ({"sandbox": "yes"}, "sandbox must be"),
    ({"algorithm": "RSA"}, "algorithm"),
    ({"public_key_id": "LIVE-AFVX7ULWSGBZ5535PCUQOY7B", "sandbox": True}, "live key but sandbox is true"),
    ({"public_key_id": "SANDBOX-AFVX7ULWSGBZ5535PCUQOY7B", "sandbox": False}, "sandbox key but sandbox is false"),
])
def test_validation(changes, words):
    with pytest.raises(ConfigError, match=words):
        make(**changes)


def test_regions_and_environments():
    assert make(region="US").region == "na" and make(region="uk").host == "pay-api.amazon.eu"
    assert make(region="jp").host == "pay-api.amazon.jp"
    assert make().environment_in_path
    assert not make(public_key_id="SANDBOX-AFVX7ULWSGBZ5535PCUQOY7B").environment_in_path
    assert [environment_of_key(key) for key in ("SANDBOX-X", "LIVE-X", "AFVX")] == [True, False, None]
    assert make(algorithm=signing.ALGORITHM_V1).credentials().algorithm == signing.ALGORITHM_V1


def test_a_pem_given_as_bytes():
    assert make(private_key_pem=PEM.encode()).private_key_pem == PEM


# --------------------------------------------------------------------------- encryption


def test_encryption_round_trip(env_key):
    token = encrypt_secret(PEM)
    assert PEM_BODY not in token and token != encrypt_secret(PEM)  # randomised
    assert decrypt_secret(token) == PEM
    assert decrypt_secret(encrypt_secret("ünïcode")) == "ünïcode"


def test_encryption_refused_without_a_key(no_key):
    with pytest.raises(EncryptionKeyMissing, match=ENCRYPTION_KEY_ENV):
        encrypt_secret(PEM)
    with pytest.raises(EncryptionKeyMissing, match="path of a PEM file"):
        make().to_stored()


def test_decryption_needs_the_right_key(env_key):
    token = encrypt_secret("secret")
    with pytest.raises(ConfigError, match="cannot be decrypted"):
        decrypt_secret(token, key=Fernet.generate_key().decode())
    with pytest.raises(ConfigError, match="cannot be decrypted"):
        decrypt_secret(token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"))
    with pytest.raises(ConfigError, match="Fernet keys"):
        encrypt_secret("secret", key="too-short")


def test_key_rotation(env_key, monkeypatch):
    old_token = encrypt_secret("secret")
    new_key = Fernet.generate_key().decode()
    monkeypatch.setenv(ENCRYPTION_KEY_ENV, f"{new_key},{env_key}")
    assert decrypt_secret(old_token) == "secret"
    assert decrypt_secret(encrypt_secret("secret"), key=new_key) == "secret"


def test_stored_configuration_keeps_the_pem_encrypted(env_key):
    config = make()
    stored = config.to_stored()
    assert "private_key_pem" not in stored and PEM_BODY not in str(stored)
    assert LiveConfig.from_stored(stored) == config


def test_a_stored_path_needs_no_encryption_key(no_key, tmp_path):
    path = tmp_path / "k.pem"
    path.write_text(PEM)
    config = LiveConfig(**BASE, private_key_path=str(path))
    stored = config.to_stored()
    assert stored["private_key_path"] == str(path)
    assert LiveConfig.from_stored(stored) == config


def test_from_stored_is_strict(env_key):
    with pytest.raises(ConfigError, match="lacks store_id, merchant_id"):
        LiveConfig.from_stored({"public_key_id": "A", "region": "na", "sandbox": True})
    with pytest.raises(ConfigError, match="plain PEM"):
        LiveConfig.from_stored({**BASE, "private_key_pem": PEM})
