"""The migrations build exactly the schema that store/tables.py describes, on both backends."""

from __future__ import annotations

import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from kassa.store.migrate import sync_url, upgrade
from kassa.store.tables import metadata
from support import fresh_postgres_url, require_postgres


def differences(url: str) -> list:
    upgrade(url)
    upgrade(url)  # a second start finds nothing to do
    engine = sqlalchemy.create_engine(sync_url(url))
    try:
        with engine.connect() as connection:
            return compare_metadata(MigrationContext.configure(connection), metadata)
    finally:
        engine.dispose()


def test_sqlite_schema_matches_the_tables(tmp_path):
    assert differences(f"sqlite:///{tmp_path / 'schema.sqlite3'}") == []


def test_postgresql_schema_matches_the_tables():
    require_postgres()
    assert differences(fresh_postgres_url()) == []
