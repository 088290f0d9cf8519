"""SQLite backend: statements on the event loop (no thread hop each), commits grouped.

Writes queue their unit of work; one flush runs every queued unit inside a single
``BEGIN IMMEDIATE … COMMIT``, each unit in its own savepoint so that one unit's failure rolls back
only its own writes; the INSERTs of fresh rows wait for the end of the batch (see `_FRESH_ROWS`).
Only the blocking steps (taking the write lock, the durable COMMIT) run on a dedicated thread, once
per batch, so requests arriving during an fsync join the next batch.
A unit's caller is answered only after its COMMIT returned: nothing acknowledged is lost.
"""

from __future__ import annotations

import asyncio
import functools
import operator
import re
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .batches import Batches
from .errors import StoreUnavailable, UniqueViolation


# A bool parameter (livemode, …) is stored as 0 or 1 either way; with its adapter registered the
# sqlite3 module finds it at once instead of probing two protocols (and raising) for every value.
sqlite3.register_adapter(bool, int)


# Tables whose new rows are named by fresh ids that kassa makes (pi_…, ch_…, evt_…, wdl_…). No other
# unit of a batch can name such a row before the batch's commit has answered its maker, so their
# INSERTs wait and go in at the end of the batch, one executemany per statement text: fewer
# statements, and the rows no longer pass through the units' savepoint journals (see `_SqliteTx.add`).
# A unit whose other writes the next units could see (an UPDATE of an intent naming its new charge,
# say) writes its waiting rows before it ends instead, so that a unit is seen whole or not at all.
# The Idempotency-Key's row is the exception: a twin reads only the sealed answer it holds.
_FRESH_ROWS = tuple(f"INSERT INTO {table} (" for table in (
    "events", "webhook_deliveries", "payment_intents", "payment_methods", "charges", "refunds", "customers",
    "setup_intents", "mandates"))
_UNSEEN_WRITES = ("SELECT ", "INSERT INTO idempotency_keys (")


class _SqliteTx:
    dialect = "sqlite"
    for_update = ""

    def __init__(self, connection: sqlite3.Connection):
        self.connection = connection
        self.waiting: list[tuple[str, list]] = []  # this unit's deferred inserts: (statement, rows)
        self.seen = False  # whether the unit wrote something else that the next units could read

    def _before(self, sql: str) -> None:
        """Before a statement that runs now: the unit's waiting rows go in first unless it cannot see
        them, and whether the next units could read what it writes is noted."""
        if self.waiting and not _other_insert(sql):
            self.catch_up()
        if not self.seen and not sql.lstrip().startswith(_UNSEEN_WRITES):
            self.seen = True

    def catch_up(self) -> None:
        """Run the unit's deferred inserts now, before a statement that could see or change them.
        The next units can see them from now on, so the unit's later new rows go in before it ends."""
        waiting, self.waiting = self.waiting, []
        self.seen = True
        try:
            for sql, rows in waiting:
                _insert_rows(self.connection, sql, rows)
        except sqlite3.IntegrityError as error:
            raise _unique(error)

    def take_waiting(self) -> list[tuple[str, list]]:
        """The unit's deferred inserts, handed to the batch (the unit has ended)."""
        waiting, self.waiting = self.waiting, []
        return waiting

    async def one(self, sql, params=None):
        self._before(sql)
        return self.connection.execute(sql, params or {}).fetchone()

    async def all(self, sql, params=None):
        self._before(sql)
        return self.connection.execute(sql, params or {}).fetchall()

    async def run(self, sql, params=None):
        self._before(sql)
        try:
            return self.connection.execute(sql, params or {}).rowcount
        except sqlite3.IntegrityError as error:
            raise _unique(error)

    async def add(self, sql, params=None):
        """A fresh row's INSERT waits for the end of the batch (or for the unit's next statement
        that could see it); any other write runs now."""
        if sql.startswith(_FRESH_ROWS):
            self._wait(sql, [params])
        else:
            await self.run(sql, params)

    async def run_many(self, sql, rows):
        if sql.startswith(_FRESH_ROWS):
            self._wait(sql, list(rows))
            return
        self._before(sql)
        self.connection.executemany(sql, rows)

    def _wait(self, sql: str, rows: list) -> None:
        if self.waiting and self.waiting[-1][0] == sql:
            self.waiting[-1][1].extend(rows)
        else:
            self.waiting.append((sql, rows))


def _unique(error: sqlite3.IntegrityError) -> Exception:
    """The store's UniqueViolation for a broken unique constraint; any other error as it is."""
    if "UNIQUE" not in str(error):
        return error
    violation = UniqueViolation(str(error))
    violation.__cause__ = error
    return violation


def _other_insert(sql: str) -> bool:
    """An INSERT … VALUES into a table whose inserts never wait: it cannot see the waiting rows."""
    return sql.startswith("INSERT INTO ") and not sql.startswith(_FRESH_ROWS) and " SELECT " not in sql


@functools.lru_cache(maxsize=64)
def _positional(sql: str):
    """A statement with named parameters as (the same with ``?`` parameters, a function taking a
    row's values out of its dict in their order): SQLite binds a tuple by position for less than it
    binds a dict by name, which looks every name up again for every row."""
    names = re.findall(r":(\w+)", sql)
    if len(names) < 2:
        return sql, lambda row: row
    return re.sub(r":\w+", "?", sql), operator.itemgetter(*names)


def _insert_rows(connection: sqlite3.Connection, sql: str, rows: list[dict]) -> None:
    """Deferred INSERTs (one statement, its rows' dicts), bound by position (see `_positional`)."""
    positional, values_of = _positional(sql)
    connection.executemany(positional, map(values_of, rows))


def _connect(path: str, synchronous: str) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                                 cached_statements=256)
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"PRAGMA synchronous={synchronous}")
    connection.execute("PRAGMA busy_timeout=10000")
    connection.execute("PRAGMA foreign_keys=OFF")
    return connection


# The write-ahead log starts again from its beginning once it passes this size, and its file is
# kept at most twice that size (see SqliteDatabase._checkpoint).
WAL_LIMIT_BYTES = 32 * 1024 * 1024
CHECKPOINT_EVERY = 50  # commits (each a group of units) between two checkpoints
CHECKPOINT_PATIENCE_MS = 1000
HANDOFF_SECONDS = 0.002  # the longest the loop waits for the commit thread to start (see `_commit`)


class SqliteDatabase:
    """One writer connection (grouped commits) and one reader connection, both on the loop."""

    dialect = "sqlite"

    def __init__(self, path: str, *, durable: bool = True):
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # synchronous=FULL fsyncs the WAL at every commit: acknowledged writes survive a power loss.
        synchronous = "FULL" if durable else "NORMAL"
        self._writer = _connect(path, synchronous)
        self._writer.execute("PRAGMA busy_timeout=0")  # see _begin
        # Each unit runs in a savepoint, whose journal of the pages it changes would otherwise spill
        # to a temporary file past 64 KiB (a card payment's unit does): a write per page, every unit.
        # Only the writer: the reader's sorts of large lists keep spilling to disk, not to memory.
        self._writer.execute("PRAGMA temp_store=MEMORY")
        # Checkpoints run apart (see `_checkpoint`), so that no commit waits for one.
        self._writer.execute("PRAGMA wal_autocheckpoint=0")
        # When the writer starts the log again from its beginning, a file grown past this is cut
        # back to it; below it the file is kept, and overwritten (see `_checkpoint`).
        self._writer.execute(f"PRAGMA journal_size_limit={2 * WAL_LIMIT_BYTES}")
        self._reader = _connect(path, synchronous)
        self._reading = False
        self._checkpointer = _connect(path, synchronous)
        self._frame_bytes = self._checkpointer.execute("PRAGMA page_size").fetchone()[0] + 24  # + frame header
        # A RESTART checkpoint that cannot finish soon gives up (and is tried again later) rather
        # than keep commits waiting.
        self._checkpointer.execute(f"PRAGMA busy_timeout={CHECKPOINT_PATIENCE_MS}")
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kassa-sqlite-commit")
        self._checkpoint_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kassa-sqlite-checkpoint")
        self._commit_started = threading.Event()
        self._writes = Batches(self._flush)
        self._commits_since_checkpoint = 0
        self._checkpointing = False

    async def read(self, unit):
        """Reads of one turn of the event loop share one read transaction (one snapshot, one round
        of WAL locks instead of one per statement). It ends before the loop's next turn, and a
        client only reads after an earlier turn answered its write, so every read sees every
        acknowledged write."""
        if not self._reading:
            self._reader.execute("BEGIN")
            self._reading = True
            asyncio.get_running_loop().call_soon(self._end_read)
        return await unit(_SqliteTx(self._reader))

    def _end_read(self) -> None:
        if not self._reading:
            return  # ended already (by close)
        self._reading = False
        if self._reader.in_transaction:
            self._reader.execute("COMMIT")

    async def write(self, unit):
        return await self._writes.submit(unit)

    async def _flush(self, batch: list[tuple]) -> None:
        loop = asyncio.get_running_loop()
        connection = self._writer
        outcomes = []
        try:
            await self._begin(loop)
            tx = _SqliteTx(connection)
            fresh_rows: dict[str, list] = {}  # the units' deferred inserts, by statement
            for unit, future in batch:
                outcomes.append((future, *await self._run_unit(tx, unit)))
                for sql, rows in tx.take_waiting():
                    fresh_rows.setdefault(sql, []).extend(rows)
            try:
                for sql, rows in fresh_rows.items():
                    _insert_rows(connection, sql, rows)
            except sqlite3.Error as error:  # (a full disk) the whole batch fails, unacknowledged
                raise StoreUnavailable(f"the batch's new rows could not be written: {error}") from error
            await self._commit(loop)
            self._commits_since_checkpoint += 1
            if self._commits_since_checkpoint >= CHECKPOINT_EVERY and not self._checkpointing:
                self._checkpoint(loop)
        except BaseException as error:  # the batch did not commit: nobody is acknowledged
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            if isinstance(error, sqlite3.OperationalError) and "locked" in str(error):
                error = StoreUnavailable(str(error))
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for future, result, error in outcomes:
            if future.done():
                continue
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)

    async def _commit(self, loop: asyncio.AbstractEventLoop) -> None:
        """The batch's COMMIT (its fsync) on the commit thread, the loop free meanwhile. That thread
        needs the GIL to start, and a busy loop lets it go only every switch interval (5 ms): under
        load the COMMIT started 0.7–0.9 ms late, every batch waiting on it. So the loop hands the
        GIL over: it waits, the GIL released, until the thread has started (tens of microseconds,
        at most HANDOFF_SECONDS), and the thread lets the GIL go as SQLite starts the commit."""
        started = self._commit_started
        started.clear()

        def commit() -> None:
            started.set()
            self._writer.execute("COMMIT")

        done = loop.run_in_executor(self._thread, commit)
        started.wait(HANDOFF_SECONDS)
        await done

    async def _run_unit(self, tx: _SqliteTx, unit) -> tuple[Any, BaseException | None]:
        """One unit in a savepoint: (its result, None), or (None, its error) with only its writes
        undone. The error is caught here, so its traceback holds this frame and not the batch's."""
        connection = self._writer
        connection.execute("SAVEPOINT unit")
        tx.seen = False
        try:
            result = await unit(tx)
            if tx.seen and tx.waiting:
                tx.catch_up()  # its other writes are seen by the next units: so are its new rows
        except BaseException as error:
            tx.waiting = []
            connection.execute("ROLLBACK TO unit")
            connection.execute("RELEASE unit")
            return None, error
        connection.execute("RELEASE unit")
        return result, None

    async def _begin(self, loop: asyncio.AbstractEventLoop) -> None:
        """Take the write lock: at once on the loop when it is free (the usual case, one process),
        else wait for it on the commit thread so that the loop never blocks."""
        try:
            self._writer.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise
            self._writer.execute("PRAGMA busy_timeout=10000")
            try:
                await loop.run_in_executor(self._thread, self._writer.execute, "BEGIN IMMEDIATE")
            finally:
                self._writer.execute("PRAGMA busy_timeout=0")

    def _checkpoint(self, loop: asyncio.AbstractEventLoop) -> None:
        """Copy the WAL back into the database on another thread and connection. PASSIVE never
        blocks writers, but under a steady load some reader always holds a recent snapshot, so the
        WAL is never found wholly copied when a writer starts and SQLite never reuses it from the
        start: it grows without end. So once it passes WAL_LIMIT_BYTES, a RESTART checkpoint
        copies what PASSIVE left (little) and waits for the readers of that moment (a loop turn);
        commits meanwhile wait on the commit thread, never on the loop. The next commit then
        writes from the start of the file, over frames already copied, and keeps the file: a
        commit that overwrites is durable with one flush, where one that makes the file longer
        also has the file system journal its new size (a TRUNCATE checkpoint, emptying the file,
        made every commit of the next 32 MB one of those)."""
        self._checkpointing = True
        self._commits_since_checkpoint = 0

        def run() -> None:
            try:
                _, wal_frames, _ = self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if wal_frames * self._frame_bytes > WAL_LIMIT_BYTES:
                    self._checkpointer.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
            finally:
                self._checkpointing = False

        loop.run_in_executor(self._checkpoint_thread, run)

    async def close(self) -> None:
        while self._writes.flushing:
            await asyncio.sleep(0.01)
        if self._reading:
            self._end_read()  # the read transaction of this turn ends now, not after the close
        self._thread.shutdown(wait=True)
        self._checkpoint_thread.shutdown(wait=True)
        self._writer.close()
        self._reader.close()
        self._checkpointer.close()
