"""SQLite's write-ahead log stays bounded under a steady stream of writes with readers always
present (under load a reader always holds a recent snapshot, so a passive checkpoint alone never
lets SQLite start the log again from its beginning), its file is overwritten rather than emptied
and grown again, and a unit's savepoint journal stays in memory."""

from __future__ import annotations

import asyncio
import struct
from pathlib import Path

from kassa.store import sqlite as sqlite_store
from kassa.store.database import open_database


def _wal_state(wal: Path) -> tuple[int, int]:
    """(the file's size, the checkpoint sequence number in its header): SQLite adds one to that
    number each time it starts the log again from its beginning."""
    if not wal.exists():
        return 0, 0
    with wal.open("rb") as handle:
        header = handle.read(16)
    return wal.stat().st_size, (struct.unpack(">I", header[12:16])[0] if len(header) == 16 else 0)


def test_the_wal_starts_again_once_it_passes_its_limit_and_its_file_is_reused(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_store, "WAL_LIMIT_BYTES", 512 * 1024)
    monkeypatch.setattr(sqlite_store, "CHECKPOINT_EVERY", 20)
    path = tmp_path / "wal.sqlite3"
    wal = Path(str(path) + "-wal")
    states: list[tuple[int, int]] = []

    async def go():
        db = open_database(f"sqlite:///{path}", durable=False)

        async def schema(tx):
            await tx.run("CREATE TABLE items (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")

        await db.write(schema)
        stop = asyncio.Event()

        async def reader():  # a read in every turn of the loop, as under load
            while not stop.is_set():
                async def count(tx):
                    return await tx.one("SELECT COUNT(*) AS n FROM items")

                await db.read(count)
                await asyncio.sleep(0)

        readers = [asyncio.ensure_future(reader()) for _ in range(4)]
        for round_ in range(400):
            async def insert(tx, round_=round_):
                for n in range(8):
                    await tx.run("INSERT INTO items (id, body) VALUES (:id, :body)",
                                 {"id": round_ * 8 + n, "body": "x" * 2000})

            await db.write(insert)
            if round_ % 20 == 0:
                await asyncio.sleep(0.01)  # the checkpoint thread gets its turns
                states.append(_wal_state(wal))
        stop.set()
        await asyncio.gather(*readers)
        await db.close()

    asyncio.run(go())
    written = 400 * 8 * 2000
    sizes = [size for size, _ in states]
    assert max(sizes) < 4 * 1024 * 1024 < written, states  # bounded, far below what was written
    restarts = [n for n, (_, sequence) in enumerate(states) if n and sequence > states[n - 1][1]]
    assert len(restarts) >= 3, states  # started again from its beginning, again and again
    # and its file kept at its size once it reached the limit: later commits overwrite it
    assert min(sizes[restarts[0]:]) >= sqlite_store.WAL_LIMIT_BYTES, states


def _temporary_files() -> list[str]:
    """SQLite's temporary files this process holds open (it names them etilqs_…, deleted at once)."""
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = str(fd.readlink())
        except OSError:
            continue
        if "etilqs_" in target:
            found.append(target)
    return found


def test_a_unit_that_changes_many_pages_journals_them_in_memory(tmp_path):
    """A unit's savepoint keeps the pages it changes in a journal; past 64 KiB SQLite would move
    that journal to a temporary file (a write per page, every unit), unless it is kept in memory."""
    path = tmp_path / "journal.sqlite3"
    seen: list[list[str]] = []

    async def go():
        db = open_database(f"sqlite:///{path}", durable=False)

        async def fill(tx):
            await tx.run("CREATE TABLE items (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
            for n in range(200):
                await tx.run("INSERT INTO items (id, body) VALUES (:id, :body)", {"id": n, "body": "x" * 2000})

        await db.write(fill)

        async def change_all(tx):  # about 100 pages of 4 KiB that existed before the savepoint
            await tx.run("UPDATE items SET body = :body", {"body": "y" * 2000})
            seen.append(_temporary_files())

        await db.write(change_all)
        await db.close()

    asyncio.run(go())
    assert seen == [[]]
