"""The database seen by services: reads, and writes as one unit of work each.

A unit of work is an ``async def unit(tx)`` that only talks to the database through `tx`. It runs
inside one transaction: everything it writes commits together or not at all. Backends:
`SqliteDatabase` (embedded, group commit) and `PostgresDatabase` (asyncpg pool).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from .errors import StoreUnavailable, UniqueViolation

__all__ = ["Database", "Row", "StoreUnavailable", "Tx", "UniqueViolation", "open_database"]

T = TypeVar("T")
Row = Mapping[str, Any]


class Tx(Protocol):
    """What a unit of work may do. SQL uses ``:name`` parameters and runs on both backends."""

    dialect: str
    for_update: str  # " FOR UPDATE" where the backend locks rows, else ""

    async def one(self, sql: str, params: Mapping[str, Any] | None = None) -> Row | None: ...
    async def all(self, sql: str, params: Mapping[str, Any] | None = None) -> Sequence[Row]: ...
    async def run(self, sql: str, params: Mapping[str, Any] | None = None) -> int: ...
    # A write whose row count the unit does not need: the backend may send it later, with others,
    # but before any later statement of the unit that could see it, and before the commit; errors
    # (such as UniqueViolation) may then surface at that point instead. Until the commit, other units
    # may not see it (on SQLite, a fresh row's INSERT waits for the end of its group of units).
    async def add(self, sql: str, params: Mapping[str, Any] | None = None) -> None: ...
    async def run_many(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None: ...


class Database(Protocol):
    dialect: str

    async def read(self, unit: Callable[[Tx], Awaitable[T]]) -> T: ...
    async def write(self, unit: Callable[[Tx], Awaitable[T]]) -> T: ...
    async def close(self) -> None: ...


def open_database(url: str, *, pool_size: int | None = None, **options) -> Database:
    """The backend for a database URL: ``sqlite:///path`` or ``postgresql://…`` (with at most
    `pool_size` connections)."""
    if url.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresDatabase
        return PostgresDatabase(url, **options, **({"max_size": pool_size} if pool_size else {}))
    if url.startswith("sqlite:///"):
        from .sqlite import SqliteDatabase
        return SqliteDatabase(url.removeprefix("sqlite:///"), **options)
    raise ValueError(unsupported(url))


def unsupported(url: str) -> str | None:
    """Why kassa cannot use a database URL of that kind, or None when it can."""
    if url.startswith(("postgresql://", "postgres://", "sqlite:///")):
        return None
    return f"unsupported database URL: {url.split('://')[0]}://… (use sqlite:/// or postgresql://)"
