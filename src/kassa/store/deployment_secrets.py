"""The deployment's own secrets that the migrations make (table ``deployment_secrets``), read once
when the app is built, synchronously, as the migrations themselves run."""

from __future__ import annotations

import sqlalchemy

from .migrate import sync_url


def read(url: str, name: str) -> str | None:
    """The secret `name` of the database at `url`, or None (an in-memory database, or one that was
    never migrated)."""
    if url == "sqlite:///:memory:":
        return None
    engine = sqlalchemy.create_engine(sync_url(url))
    try:
        with engine.connect() as connection:
            if not sqlalchemy.inspect(connection).has_table("deployment_secrets"):
                return None
            return connection.execute(sqlalchemy.text("SELECT value FROM deployment_secrets WHERE name = :n"),
                                      {"n": name}).scalar()
    finally:
        engine.dispose()
