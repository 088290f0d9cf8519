"""One account's live Amazon Pay configuration, and the encryption of its private key at rest.

The private key is given either as a PEM value or as the path of a PEM file. Neither the PEM nor
anything derived from it appears in ``repr()``, ``str()`` or an error message. A PEM value is stored
only encrypted (:func:`encrypt_secret`, Fernet with the key in ``KASSA_ENCRYPTION_KEY``); without
that variable kassa refuses to store one and asks for a path instead.

``KASSA_ENCRYPTION_KEY`` holds a Fernet key (``Fernet.generate_key()``), or several separated by
commas: the first encrypts, every one of them decrypts (for rotating the key).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from . import signing

ENCRYPTION_KEY_ENV = "KASSA_ENCRYPTION_KEY"
_ENV_PREFIXES = {"SANDBOX": True, "LIVE": False}
_MERCHANT_ID = re.compile(r"^[A-Z0-9]{5,32}$")
_NO_SPACE = re.compile(r"^\S+$")


class ConfigError(ValueError):
    """A live configuration that cannot work; the message says which setting and why."""


class EncryptionKeyMissing(ConfigError):
    """``KASSA_ENCRYPTION_KEY`` is not set, so a secret cannot be encrypted or decrypted."""


# --------------------------------------------------------------------------- encryption at rest


def _fernet(key: str | None) -> MultiFernet:
    raw = key if key is not None else os.environ.get(ENCRYPTION_KEY_ENV, "")
    keys = [part.strip() for part in raw.split(",") if part.strip()]
    if not keys:
        raise EncryptionKeyMissing(
            f"{ENCRYPTION_KEY_ENV} is not set: kassa cannot store a private key value without it. Set it to "
            "a Fernet key (python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'), "
            "or give the private key as the path of a PEM file instead.")
    try:
        return MultiFernet([Fernet(part.encode("ascii")) for part in keys])
    except (ValueError, UnicodeEncodeError):
        raise ConfigError(f"{ENCRYPTION_KEY_ENV} must hold Fernet keys (32 url-safe base64-encoded bytes), "
                          "separated by commas") from None


def encrypt_secret(plaintext: str, *, key: str | None = None) -> str:
    """A token for ``plaintext`` (authenticated encryption); ``key`` overrides the environment."""
    if not isinstance(plaintext, str):
        raise TypeError("encrypt_secret takes a str")
    return _fernet(key).encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt_secret(token: str, *, key: str | None = None) -> str:
    """The plaintext of a token made by :func:`encrypt_secret`, with any of the configured keys."""
    try:
        return _fernet(key).decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError, AttributeError):
        raise ConfigError(f"the stored secret cannot be decrypted with {ENCRYPTION_KEY_ENV}: wrong key, "
                          "or the value was altered") from None


# --------------------------------------------------------------------------- configuration


def environment_of_key(public_key_id: str) -> bool | None:
    """True/False when the key id names its environment, else None.

    Amazon's SDKs take any key id that starts with ``SANDBOX`` or ``LIVE`` (in any case, dash or
    not) as environment-specific; with such a key the API paths carry no ``/sandbox`` or ``/live``.
    """
    upper = public_key_id.upper()
    for prefix, sandbox in _ENV_PREFIXES.items():
        if upper.startswith(prefix):
            return sandbox
    return None


@dataclass(frozen=True)
class LiveConfig:
    """Everything kassa needs to call Amazon Pay for one account. Validated on creation."""

    public_key_id: str
    store_id: str
    merchant_id: str
    region: str
    sandbox: bool
    algorithm: str = signing.DEFAULT_ALGORITHM
    private_key_pem: str | None = field(default=None, repr=False)
    private_key_path: str | None = None
    _credentials: signing.Credentials = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.private_key_pem, bytes):
            object.__setattr__(self, "private_key_pem", self.private_key_pem.decode("ascii", "replace"))
        for name in ("public_key_id", "store_id", "merchant_id"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _NO_SPACE.match(value):
                raise ConfigError(f"{name} must be a non-empty string without spaces")
        if any(c in self.public_key_id for c in ",="):
            raise ConfigError("public_key_id must not contain ',' or '='")
        if not _MERCHANT_ID.match(self.merchant_id):
            raise ConfigError("merchant_id must be Amazon's merchant id: 5 to 32 upper-case letters and digits")
        if not isinstance(self.sandbox, bool):
            raise ConfigError("sandbox must be true or false")
        named = environment_of_key(self.public_key_id)
        if named is not None and named != self.sandbox:
            raise ConfigError(f"public_key_id is a {'sandbox' if named else 'live'} key but sandbox is "
                              f"{'true' if self.sandbox else 'false'}")
        try:
            object.__setattr__(self, "region", signing.normalize_region(self.region))
        except ValueError as error:
            raise ConfigError(str(error)) from None
        if self.algorithm not in signing.SALT_LENGTHS:
            raise ConfigError(f"algorithm must be {signing.ALGORITHM_V1} or {signing.ALGORITHM_V2}")
        if (self.private_key_pem is None) == (self.private_key_path is None):
            raise ConfigError("give the private key either as a PEM value or as a path to a PEM file, not both")
        object.__setattr__(self, "_credentials", self._load())  # fail now, not at the first payment

    @property
    def environment_in_path(self) -> bool:
        """Whether API paths carry ``/sandbox`` or ``/live`` (not for environment-named keys)."""
        return environment_of_key(self.public_key_id) is None

    @property
    def host(self) -> str:
        return signing.HOSTS[self.region]

    def _load(self) -> signing.Credentials:
        if self.private_key_pem is not None:
            pem = self.private_key_pem.encode("ascii", "replace")
        else:
            try:
                pem = Path(self.private_key_path).expanduser().read_bytes()
            except OSError as error:
                raise ConfigError(f"cannot read the private key file {self.private_key_path!r}: "
                                  f"{error.strerror or type(error).__name__}") from None
        try:
            return signing.Credentials(public_key_id=self.public_key_id, private_key_pem=pem, region=self.region,
                                       sandbox=self.sandbox, algorithm=self.algorithm)
        except ValueError:
            where = "file " + repr(self.private_key_path) if self.private_key_path else "value"
            raise ConfigError(f"the private key {where} is not an unencrypted RSA private key in PEM form") from None

    def credentials(self) -> signing.Credentials:
        """The signing credentials (the key file, if any, was read when the configuration was made)."""
        return self._credentials

    # ---- storage ------------------------------------------------------------------------

    def to_stored(self, *, key: str | None = None) -> dict[str, Any]:
        """A JSON-able dict for the database: a PEM value only encrypted, a path as it is."""
        stored: dict[str, Any] = {"public_key_id": self.public_key_id, "store_id": self.store_id,
                                  "merchant_id": self.merchant_id, "region": self.region,
                                  "sandbox": self.sandbox, "algorithm": self.algorithm}
        if self.private_key_pem is not None:
            stored["private_key_encrypted"] = encrypt_secret(self.private_key_pem, key=key)
        else:
            stored["private_key_path"] = self.private_key_path
        return stored

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any], *, key: str | None = None) -> LiveConfig:
        """The configuration :meth:`to_stored` wrote (or one written by hand with the same names)."""
        missing = [name for name in ("public_key_id", "store_id", "merchant_id", "region", "sandbox")
                   if name not in stored]
        if missing:
            raise ConfigError(f"the Amazon Pay configuration lacks {', '.join(missing)}")
        if "private_key_pem" in stored:
            raise ConfigError("a stored configuration must not hold a plain PEM value: use private_key_encrypted")
        encrypted = stored.get("private_key_encrypted")
        return cls(public_key_id=stored["public_key_id"], store_id=stored["store_id"],
                   merchant_id=stored["merchant_id"], region=stored["region"], sandbox=stored["sandbox"],
                   algorithm=stored.get("algorithm", signing.DEFAULT_ALGORITHM),
                   private_key_pem=decrypt_secret(encrypted, key=key) if encrypted is not None else None,
                   private_key_path=stored.get("private_key_path"))
