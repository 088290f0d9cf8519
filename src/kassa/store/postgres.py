"""PostgreSQL backend on asyncpg: one transaction per unit of work, row locks with FOR UPDATE,
few round trips (deferred writes, see `_PostgresTx`), and units that only insert committed in groups
(see `GroupCommit`)."""

from __future__ import annotations

import contextlib
import functools
import re

import asyncpg

from .batches import Batches, Queued
from .errors import StoreUnavailable, UniqueViolation
from .pg_batch import Write, combine
from .pg_pool import ConnectionPool, PoolTimeout

# Errors that mean "the server is not there right now", not "the request is wrong".
_UNAVAILABLE = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.CannotConnectNowError,
                asyncpg.AdminShutdownError, ConnectionError, OSError, TimeoutError, PoolTimeout)

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


_TARGET = re.compile(r"\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(\w+)", re.IGNORECASE)
_LOCKING = re.compile(r"\bFOR\s+(UPDATE|NO\s+KEY\s+UPDATE|SHARE|KEY\s+SHARE)\b", re.IGNORECASE)
MAX_DEFERRED = 32  # statements sent as one; more are sent in several


@functools.lru_cache(maxsize=4096)
def _plain_read(sql: str) -> bool:
    """A SELECT that neither writes nor locks: under READ COMMITTED it sees the same whether it runs
    inside the unit's transaction or before it, so it may run before BEGIN is sent."""
    return sql.lstrip()[:6].upper() == "SELECT" and _LOCKING.search(sql) is None


@functools.lru_cache(maxsize=4096)
def _target(sql: str) -> tuple[str, bool] | None:
    """The table a write changes, and whether it is an INSERT; None for any other statement."""
    found = _TARGET.match(sql)
    return (found.group(2).lower(), found.group(1)[0] in "iI") if found else None


class _PostgresTx:
    """One unit's statements on one connection. BEGIN is sent only once a statement needs the
    transaction (a write, a locking read, a read after a deferred write), and writes whose outcome
    the unit does not need (`add`, inserts through `run_many`) wait and go together: a unit that
    reads, then writes, costs two round trips, its writes one statement and no BEGIN or COMMIT."""

    dialect = "postgresql"
    for_update = " FOR UPDATE"

    def __init__(self, connection: asyncpg.Connection):
        self.connection = connection
        self.begun = False
        self.wrote = False  # whether a write was sent (until then, a lost connection changed nothing)
        self._pending: list[Write] = []
        self._pending_tables: dict[str, bool] = {}  # table → whether only INSERTs wait for it

    async def _execute(self, method, text: str, args, *, writing: bool = True):
        self.wrote = self.wrote or writing
        try:
            return await method(text, *args)
        except asyncpg.UniqueViolationError as error:
            raise _translated(error) from error

    async def _ready(self, sql: str) -> None:
        """Before a statement that runs now: BEGIN unless it is a plain read before any write, and
        the deferred writes first, so that the statement sees them."""
        if self._pending or not (self.begun or _plain_read(sql)):
            await self._begin()
            await self._send_pending()

    async def _begin(self) -> None:
        if not self.begun:
            await self.connection.execute("BEGIN")
            self.begun = True

    async def _send_pending(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_DEFERRED], self._pending[MAX_DEFERRED:]
            await self._execute(self.connection.execute, *combine(batch))
        self._pending_tables.clear()

    async def one(self, sql, params=None):
        await self._ready(sql)
        text, names = _Translated.get(sql)
        return await self._execute(self.connection.fetchrow, text, _args(names, params),
                                   writing=not _plain_read(sql))

    async def all(self, sql, params=None):
        await self._ready(sql)
        text, names = _Translated.get(sql)
        return await self._execute(self.connection.fetch, text, _args(names, params), writing=not _plain_read(sql))

    async def run(self, sql, params=None):
        await self._ready(sql)
        text, names = _Translated.get(sql)
        status = await self._execute(self.connection.execute, text, _args(names, params))
        tail = status.rsplit(" ", 1)[-1]
        return int(tail) if tail.isdigit() else 0

    async def add(self, sql, params=None):
        """A write whose row count the unit does not need: sent with the next statement that must
        run, or at commit. Writes to one table wait together only while they are all INSERTs (the
        parts of one statement cannot see each other's changes)."""
        target = _target(sql)
        if target is None:
            await self.run(sql, params)
            return
        table, inserting = target
        waiting = self._pending_tables.get(table)
        if waiting is not None and not (waiting and inserting):
            await self._begin()
            await self._send_pending()
        text, names = _Translated.get(sql)
        self._pending.append((text, len(names), _args(names, params)))
        self._pending_tables[table] = inserting and self._pending_tables.get(table, True)

    async def run_many(self, sql, rows):
        target = _target(sql)
        if target is not None and target[1] and len(rows) <= MAX_DEFERRED:
            for row in rows:
                await self.add(sql, row)
            return
        await self._ready(sql)
        text, names = _Translated.get(sql)
        await self._execute(self.connection.executemany, text, [[_args(names, row) for row in rows]])

    def inserts_only(self) -> list[Write] | None:
        """The unit's writes, when it only inserts rows and opened no transaction (it took no lock
        and sent no write): then they may be committed together with other units' (`GroupCommit`)."""
        if self.begun or not self._pending or not all(self._pending_tables.values()) \
                or len(self._pending) > MAX_DEFERRED:
            return None
        return self._pending

    async def commit(self) -> None:
        """Send what waits and end the transaction: the deferred writes alone need no BEGIN."""
        if not self.begun and len(self._pending) <= MAX_DEFERRED:
            await self._send_pending()
            return
        await self._begin()
        await self._send_pending()
        await self.connection.execute("COMMIT")
        self.begun = False

    async def rollback(self) -> None:
        self._pending.clear()
        self._pending_tables.clear()
        if self.begun and not self.connection.is_closed():
            self.begun = False
            await self.connection.execute("ROLLBACK")


class GroupCommit:
    """The rows of units that only insert, committed together: one statement, one round trip and
    one commit (one WAL flush) for every unit that finished while the previous group was being
    written. If the group's statement is refused, each unit's rows are sent alone, so that only the
    unit at fault fails (as its savepoint does on SQLite). A unit is answered only after the
    statement holding its rows has committed."""

    MAX_VALUES = 20_000  # parameters in one statement (PostgreSQL allows 32,767)

    def __init__(self, pool: ConnectionPool):
        self.pool = pool
        self._units = Batches(self._flush, self._next_group)
        self.groups = 0  # statements sent, and units they carried (for tests and tuning)
        self.units = 0

    async def commit(self, writes: list[Write]) -> None:
        return await self._units.submit(writes)

    def _next_group(self, queued: Queued) -> tuple[Queued, Queued]:
        """As many units from the front as fit in one statement (at least one)."""
        size = taken = 0
        while taken < len(queued) and (not taken or size + _values(queued[taken][0]) <= self.MAX_VALUES):
            size += _values(queued[taken][0])
            taken += 1
        return queued[:taken], queued[taken:]

    async def _flush(self, group: Queued) -> None:
        self.groups += 1
        self.units += len(group)
        try:
            connection = await self.pool.acquire()
        except _UNAVAILABLE as error:
            _fail(group, StoreUnavailable(str(error)))
            return
        try:
            try:
                await _send(connection, [write for writes, _ in group for write in writes])
            except _UNAVAILABLE as error:
                _fail(group, StoreUnavailable(str(error)))  # committed or not: the client retries
                return
            except asyncpg.PostgresError as error:
                if len(group) == 1:
                    _fail(group, _translated(error))
                    return
                for writes, future in group:  # find the unit at fault: each alone
                    try:
                        await _send(connection, writes)
                    except _UNAVAILABLE as error:
                        _fail([(writes, future)], StoreUnavailable(str(error)))
                    except asyncpg.PostgresError as error:
                        _fail([(writes, future)], _translated(error))
                    else:
                        _succeed([(writes, future)])
                return
            _succeed(group)
        except BaseException as error:  # cancelled while writing: nobody is told it committed
            _fail(group, StoreUnavailable(f"the write was interrupted: {error!r}"))
            raise
        finally:
            self.pool.release(connection)


async def _send(connection: asyncpg.Connection, writes: list[Write]) -> None:
    text, values = combine(writes)
    await connection.execute(text, *values)


def _values(writes: list[Write]) -> int:
    return sum(count for _, count, _ in writes)


def _translated(error: Exception) -> Exception:
    """The error a unit's caller is given. Never with the flusher's traceback, nor with the
    group's refusal as its context: either holds the flusher's frame, which holds the group's
    futures, which would hold the error, and the whole group would wait in that cycle for the
    garbage collector. The caller's await gives it a traceback of its own."""
    if isinstance(error, asyncpg.UniqueViolationError):
        return UniqueViolation(str(error))
    error.__context__ = None
    return error.with_traceback(None)


def _succeed(group) -> None:
    for _, future in group:
        if not future.done():
            future.set_result(None)


def _fail(group, error: Exception) -> None:
    for _, future in group:
        if not future.done():
            future.set_exception(error)


class PostgresDatabase:
    dialect = "postgresql"

    def __init__(self, url: str, *, durable: bool = True, max_size: int = 8):
        self.url = url.replace("postgresql+asyncpg://", "postgresql://")
        self._pool = ConnectionPool(self.url, max_size=max_size)
        self.connections_in_use = lambda: self._pool.in_use  # for the metrics
        self.group_commit = GroupCommit(self._pool)

    async def read(self, unit):
        """Reads change nothing, so a read that lost its connection is tried again, once."""
        for attempt in (1, 2):
            try:
                async with self._connection() as connection:
                    return await unit(_PostgresTx(connection))
            except _UNAVAILABLE as error:
                if attempt == 2:
                    raise StoreUnavailable(str(error)) from error

    async def write(self, unit):
        """One transaction. A unit that lost its connection before it sent any write (say, a pooled
        connection found dead after the server restarted) is run again on a new one; a failure after
        that is answered as unavailable, and the client's retry (same Idempotency-Key) is safe."""
        for attempt in (1, 2):
            tx = None
            try:
                async with self._connection() as connection:
                    tx = _PostgresTx(connection)
                    try:
                        result = await unit(tx)
                        inserts = tx.inserts_only()
                        if inserts is None:
                            await tx.commit()
                    except BaseException:
                        await tx.rollback()
                        raise
                if inserts is not None:  # its connection is back in the pool meanwhile
                    await self.group_commit.commit(inserts)
                return result
            except _UNAVAILABLE as error:
                if attempt == 1 and tx is not None and not tx.wrote:
                    continue
                raise StoreUnavailable(str(error)) from error

    @contextlib.asynccontextmanager
    async def _connection(self):
        connection = await self._pool.acquire()
        try:
            yield connection
        finally:
            self._pool.release(connection)

    async def close(self) -> None:
        await self._pool.close()
