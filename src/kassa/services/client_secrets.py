"""The deployment's client-secret keys, set up once per process when the app is built.

``KASSA_CLIENT_SECRETS_KEY`` holds the key (at least 32 characters), or several separated by commas:
the first derives every secret, all of them are accepted (to rotate, put the new key first and keep
the old one after it while intents made before are still in use). Without it, the key the
migrations made and keep in the database is used: client secrets are still never stored, but a
copy of the database can derive them again. Set the variable where that matters (production).
"""

from __future__ import annotations

import logging
import os
import secrets as random
from collections.abc import Mapping

from ..domain.client_secrets import ClientSecrets
from ..store import deployment_secrets

log = logging.getLogger("kassa.client_secrets")

ENVIRONMENT = "KASSA_CLIENT_SECRETS_KEY"
MIN_KEY_CHARS = 32

_current: ClientSecrets | None = None


def current() -> ClientSecrets:
    """The process's client secrets (see `set_up`)."""
    if _current is None:
        raise RuntimeError("client secrets are not set up: the app's construction does it (kassa.app.create_app)")
    return _current


def set_up(database_url: str, environ: Mapping[str, str] = os.environ) -> ClientSecrets:
    """Client secrets under the environment's keys, else the database's own key (else, for a database
    that keeps nothing, a key of this process alone); they become the process's."""
    global _current
    _current = ClientSecrets(keys_from(environ) or _database_key(database_url))
    return _current


def keys_from(environ: Mapping[str, str]) -> list[bytes]:
    """The keys ``KASSA_CLIENT_SECRETS_KEY`` gives (none when unset). A key shorter than 32
    characters is refused: it could be guessed, and with it every secret."""
    raw = environ.get(ENVIRONMENT, "")
    keys = [key.strip() for key in raw.split(",") if key.strip()]
    for key in keys:
        if len(key) < MIN_KEY_CHARS:
            raise ValueError(f"{ENVIRONMENT}: each key needs at least {MIN_KEY_CHARS} characters "
                             f"(one such key: python -c 'import secrets; print(secrets.token_hex(32))')")
    return [key.encode() for key in keys]


def _database_key(database_url: str) -> list[bytes]:
    stored = deployment_secrets.read(database_url, "client_secrets")
    if stored is None:
        log.warning("no client-secret key in the environment or the database: this process's secrets "
                    "last until it stops (set %s)", ENVIRONMENT)
        return [random.token_hex(32).encode()]
    return [stored.encode()]
