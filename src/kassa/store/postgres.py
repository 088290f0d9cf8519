"""PostgreSQL backend on an asyncpg pool: one transaction per unit of work, row locks with FOR UPDATE."""

from __future__ import annotations

import asyncio
import re

import asyncpg

from .database import StoreUnavailable, UniqueViolation

# Errors that mean "the server is not there right now", not "the request is wrong".
_UNAVAILABLE = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.CannotConnectNowError,
                asyncpg.AdminShutdownError, ConnectionError, OSError, TimeoutError)

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


class _Translated:
    """``:name`` SQL turned into asyncpg's ``$n`` form, once per statement text."""

    cache: dict[str, tuple[str, tuple[str, ...]]] = {}

    @classmethod
    def get(cls, sql: str) -> tuple[str, tuple[str, ...]]:
        found = cls.cache.get(sql)
        if found is None:
            names: list[str] = []

            def number(match: re.Match) -> str:
                name = match.group(1)
                if name not in names:
                    names.append(name)
                return f"${names.index(name) + 1}"

            found = (_NAMED.sub(number, sql), tuple(names))
            if len(cls.cache) < 10_000:
                cls.cache[sql] = found
        return found


def _args(names: tuple[str, ...], params) -> list:
    params = params or {}
    return [params[name] for name in names]


class _PostgresTx:
    dialect = "postgresql"
    for_update = " FOR UPDATE"

    def __init__(self, connection: asyncpg.Connection):
        self.connection = connection

    async def one(self, sql, params=None):
        text, names = _Translated.get(sql)
        return await self.connection.fetchrow(text, *_args(names, params))

    async def all(self, sql, params=None):
        text, names = _Translated.get(sql)
        return await self.connection.fetch(text, *_args(names, params))

    async def run(self, sql, params=None):
        text, names = _Translated.get(sql)
        try:
            status = await self.connection.execute(text, *_args(names, params))
        except asyncpg.UniqueViolationError as error:
            raise UniqueViolation(str(error)) from error
        tail = status.rsplit(" ", 1)[-1]
        return int(tail) if tail.isdigit() else 0

    async def run_many(self, sql, rows):
        text, names = _Translated.get(sql)
        try:
            await self.connection.executemany(text, [_args(names, row) for row in rows])
        except asyncpg.UniqueViolationError as error:
            raise UniqueViolation(str(error)) from error


class PostgresDatabase:
    dialect = "postgresql"

    def __init__(self, url: str, *, durable: bool = True, min_size: int = 2, max_size: int = 16):
        self.url = url.replace("postgresql+asyncpg://", "postgresql://")
        self.min_size = min_size
        self.max_size = max_size
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    async def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(self.url, min_size=self.min_size,
                                                           max_size=self.max_size)
        return self._pool

    async def read(self, unit):
        """Reads change nothing, so a read that lost its connection is tried again, once."""
        for attempt in (1, 2):
            try:
                async with (await self.pool()).acquire(timeout=10) as connection:
                    return await unit(_PostgresTx(connection))
            except _UNAVAILABLE as error:
                if attempt == 2:
                    raise StoreUnavailable(str(error)) from error

    async def write(self, unit):
        """One transaction. A pooled connection found dead at BEGIN (say, after the server
        restarted) is replaced and the unit started again, since nothing was sent yet; a failure
        after that is answered as unavailable, and the client's retry (same Idempotency-Key) is safe."""
        for attempt in (1, 2):
            try:
                async with (await self.pool()).acquire(timeout=10) as connection:
                    transaction = connection.transaction()
                    try:
                        await transaction.start()
                    except _UNAVAILABLE:
                        if attempt == 1:
                            continue
                        raise
                    try:
                        result = await unit(_PostgresTx(connection))
                    except BaseException:
                        if not connection.is_closed():
                            await transaction.rollback()
                        raise
                    await transaction.commit()
                    return result
            except _UNAVAILABLE as error:
                raise StoreUnavailable(str(error)) from error

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
