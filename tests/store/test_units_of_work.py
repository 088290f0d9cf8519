"""Units of work on both backends: all or nothing, reads see the unit's own writes, and on
PostgreSQL the deferred writes (`tx.add`) behave as if each had run where it was called."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from kassa.store.database import StoreUnavailable, UniqueViolation, open_database
from support import fresh_database


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> str:
    return fresh_database(request.param, tmp_path)


ITEMS = "CREATE TABLE items (id TEXT PRIMARY KEY, n INTEGER NOT NULL)"
NOTES = "CREATE TABLE notes (item TEXT NOT NULL, text TEXT NOT NULL)"


@contextlib.asynccontextmanager
async def database(url: str, tables: tuple[str, ...] = (ITEMS, NOTES)):
    """The database at `url`, with these empty tables (by default items (id, n) and notes (item, text))."""
    db = open_database(url)
    try:
        async def schema(tx):
            for table in tables:
                await tx.run(table)

        await db.write(schema)
        yield db
    finally:
        await db.close()


def run(url: str, *units):
    """Run each unit as one write on a new connection to `url`; the results, or the exceptions."""

    async def go():
        async with database(url) as db:
            outcomes = []
            for unit in units:
                try:
                    outcomes.append(await db.write(unit))
                except Exception as error:  # noqa: BLE001 - returned for the test to check
                    outcomes.append(error)

            async def everything(tx):
                items = {row["id"]: row["n"] for row in await tx.all("SELECT id, n FROM items")}
                notes = sorted((row["item"], row["text"]) for row in await tx.all("SELECT item, text FROM notes"))
                return items, notes

            return outcomes, await db.read(everything)

    return asyncio.run(go())


def test_adds_commit_together_and_reads_see_them(url):
    async def unit(tx):
        await tx.add("INSERT INTO items (id, n) VALUES (:id, :n)", {"id": "a", "n": 1})
        await tx.run_many("INSERT INTO notes (item, text) VALUES (:item, :text)",
                          [{"item": "a", "text": "one"}, {"item": "a", "text": "two"}])
        seen = await tx.one("SELECT n FROM items WHERE id = :id", {"id": "a"})
        await tx.add("UPDATE items SET n = n + 1 WHERE id = :id", {"id": "a"})
        await tx.add("UPDATE items SET n = n + 10 WHERE id = :id", {"id": "a"})  # same row again
        await tx.add("INSERT INTO items (id, n) VALUES (:id, :n)", {"id": "b", "n": 5})
        return seen["n"]

    (seen,), (items, notes) = run(url, unit)
    assert seen == 1
    assert items == {"a": 12, "b": 5}
    assert notes == [("a", "one"), ("a", "two")]


def test_a_failing_unit_leaves_nothing(url):
    async def first(tx):
        await tx.add("INSERT INTO items (id, n) VALUES (:id, :n)", {"id": "a", "n": 1})

    async def fails_late(tx):
        await tx.add("INSERT INTO notes (item, text) VALUES (:item, :text)", {"item": "a", "text": "lost"})
        await tx.add("UPDATE items SET n = 2 WHERE id = :id", {"id": "a"})
        raise ValueError("the unit's own failure")

    async def breaks_a_key(tx):
        await tx.add("INSERT INTO notes (item, text) VALUES (:item, :text)", {"item": "a", "text": "lost too"})
        await tx.add("INSERT INTO items (id, n) VALUES (:id, :n)", {"id": "a", "n": 3})  # taken

    async def breaks_a_key_after_a_lock(tx):
        await tx.one("SELECT n FROM items WHERE id = :id" + tx.for_update, {"id": "a"})
        await tx.add("UPDATE items SET n = 4 WHERE id = :id", {"id": "a"})
        await tx.add("INSERT INTO items (id, n) VALUES (:id, :n)", {"id": "a", "n": 5})

    outcomes, (items, notes) = run(url, first, fails_late, breaks_a_key, breaks_a_key_after_a_lock)
    assert outcomes[0] is None
    assert isinstance(outcomes[1], ValueError)
    assert isinstance(outcomes[2], UniqueViolation)
    assert isinstance(outcomes[3], UniqueViolation)
    assert items == {"a": 1} and notes == []


def test_run_counts_rows_after_deferred_writes(url):
    async def unit(tx):
        await tx.add("INSERT INTO items (id, n) VALUES (:id, :n)", {"id": "a", "n": 1})
        await tx.add("INSERT INTO items (id, n) VALUES (:id, :n)", {"id": "b", "n": 1})
        return await tx.run("UPDATE items SET n = 7 WHERE n = 1")

    (count,), (items, _) = run(url, unit)
    assert count == 2 and items == {"a": 7, "b": 7}


def test_many_deferred_writes_in_one_unit(url):
    async def unit(tx):
        for i in range(100):
            await tx.add("INSERT INTO items (id, n) VALUES (:id, :n)", {"id": f"i{i:03}", "n": i})
        await tx.run_many("INSERT INTO notes (item, text) VALUES (:item, :text)",
                          [{"item": f"i{i:03}", "text": "x"} for i in range(50)])

    async def one_too_many(tx):
        for i in range(100, 140):
            await tx.add("INSERT INTO items (id, n) VALUES (:id, :n)", {"id": f"i{i:03}", "n": i})
        await tx.add("INSERT INTO items (id, n) VALUES (:id, :n)", {"id": "i000", "n": 0})  # taken

    outcomes, (items, notes) = run(url, unit, one_too_many)
    assert outcomes[0] is None and isinstance(outcomes[1], UniqueViolation)
    assert len(items) == 100 and sum(items.values()) == sum(range(100)) and len(notes) == 50


def test_postgres_unit_that_only_inserts_opens_no_transaction(tmp_path):
    """What makes creates fast on PostgreSQL: the unit's connection sends its read and nothing else
    (its rows go with the group commit, no BEGIN or COMMIT); a locking read does open a transaction,
    and then its writes go as one statement before COMMIT."""
    url = fresh_database("postgresql", tmp_path)

    async def go():
        sent: list[str] = []
        async with database(url) as db:
            async def reads_then_inserts(tx):
                await tx.all("SELECT id FROM items")
                await tx.add("INSERT INTO items (id, n) VALUES (:id, :n)", {"id": "a", "n": 1})
                await tx.run_many("INSERT INTO items (id, n) VALUES (:id, :n)", [{"id": "b", "n": 2}])

            await db.write(_traced(reads_then_inserts, sent))
            quick = list(sent)
            sent.clear()

            async def locks_then_updates(tx):
                await tx.one("SELECT n FROM items WHERE id = :id" + tx.for_update, {"id": "a"})
                await tx.add("UPDATE items SET n = 9 WHERE id = :id", {"id": "a"})

            await db.write(_traced(locks_then_updates, sent))

            async def rows(tx):
                return {row["id"]: row["n"] for row in await tx.all("SELECT id, n FROM items")}

            return quick, list(sent), await db.read(rows)

    quick, locked, rows = asyncio.run(go())
    assert quick == ["SELECT"]
    assert locked == ["BEGIN", "SELECT", "UPDATE", "COMMIT"]
    assert rows == {"a": 9, "b": 2}


def test_postgres_group_commit_fails_only_the_unit_at_fault(tmp_path):
    """Many units that only insert, finishing at once, commit together; one that breaks a unique
    key fails alone and the others' rows are all there."""
    url = fresh_database("postgresql", tmp_path)

    async def go():
        async with database(url) as db:
            async def taken(tx):
                await tx.run("INSERT INTO items (id, n) VALUES ('taken', 0)")

            await db.write(taken)

            def inserting(item: str):
                async def unit(tx):
                    await tx.all("SELECT id FROM items WHERE id = :id", {"id": item})
                    await tx.add("INSERT INTO items (id, n) VALUES (:id, :n)", {"id": item, "n": 1})
                    await tx.add("INSERT INTO notes (item, text) VALUES (:item, :text)", {"item": item, "text": "x"})
                    return item
                return unit

            names = [f"i{n}" for n in range(40)]
            names.insert(17, "taken")
            outcomes = await asyncio.gather(*(db.write(inserting(name)) for name in names), return_exceptions=True)

            async def everything(tx):
                return (sorted(row["id"] for row in await tx.all("SELECT id FROM items")),
                        sorted(row["item"] for row in await tx.all("SELECT item FROM notes")))

            assert db.group_commit.units > db.group_commit.groups + 1, "no group held two units or more"
            return outcomes, await db.read(everything)

    outcomes, (items, notes) = asyncio.run(go())
    assert isinstance(outcomes[17], UniqueViolation)
    assert [o for i, o in enumerate(outcomes) if i != 17] == [f"i{n}" for n in range(40)]
    assert items == sorted(["taken"] + [f"i{n}" for n in range(40)])
    assert notes == sorted(f"i{n}" for n in range(40))


def _traced(unit, sent: list[str]):
    """`unit`, with the first word of every statement its connection sends appended to `sent`."""

    async def traced_unit(tx):
        connection = tx.connection

        class Tracing:
            def __getattr__(self, name):
                method = getattr(connection, name)
                if name not in ("execute", "fetch", "fetchrow", "executemany"):
                    return method

                async def traced(query, *args, **kwargs):
                    sent.append(query.split()[0].upper())
                    return await method(query, *args, **kwargs)

                return traced

        tx.connection = Tracing()
        return await unit(tx)

    return traced_unit


def test_postgres_lost_connection_before_any_write_is_retried(tmp_path):
    """A pooled connection that died (the server restarted) fails the unit's first read; nothing
    was written, so the unit runs again on a new connection. After a write, it is unavailable."""
    url = fresh_database("postgresql", tmp_path)

    async def go():
        async with database(url) as db:
            calls = []

            async def unit(tx):
                calls.append(1)
                if len(calls) == 1:
                    tx.connection.terminate()
                await tx.all("SELECT id FROM items")
                await tx.add("INSERT INTO items (id, n) VALUES (:id, :n)", {"id": f"x{len(calls)}", "n": 1})

            await db.write(unit)

            async def dies_after_writing(tx):
                await tx.run("INSERT INTO items (id, n) VALUES ('y', 1)")
                tx.connection.terminate()
                await tx.all("SELECT id FROM items")

            with pytest.raises(StoreUnavailable):
                await db.write(dies_after_writing)

            async def ids(tx):
                return sorted(row["id"] for row in await tx.all("SELECT id FROM items"))

            return len(calls), await db.read(ids)

    calls, ids = asyncio.run(go())
    assert calls == 2 and ids == ["x2"]


def with_fresh_rows(path):
    """A SQLite database with a table whose INSERTs wait for the end of their batch (`events`),
    `items`, whose INSERTs run at once, and `idempotency_keys`."""
    return database(f"sqlite:///{path / 'kassa.sqlite3'}", (
        "CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, data TEXT NOT NULL)", ITEMS,
        "CREATE TABLE idempotency_keys (key TEXT PRIMARY KEY, body TEXT NOT NULL)"))


EVENT = "INSERT INTO events (id, data) VALUES (:id, :data)"


async def _batch(db, *units):
    """The units submitted together (one group, one commit); their results or exceptions."""
    return await asyncio.gather(*(db.write(unit) for unit in units), return_exceptions=True)


async def _ids(db) -> list[str]:
    async def read(tx):
        return [row["id"] for row in await tx.all("SELECT id FROM events ORDER BY seq")]

    return await db.read(read)


def test_sqlite_fresh_rows_of_a_batch_go_in_at_its_end(tmp_path):
    """A fresh row's INSERT waits for the end of its batch: other units of the batch do not see it
    (they do see the unit's Idempotency-Key row, which goes in at once), its own unit does (its
    waiting rows go in before its next read), and a unit that fails leaves none. A unit's rows keep
    their order."""

    async def inserts(tx):
        await tx.run_many(EVENT, [{"id": "e1", "data": "{}"}, {"id": "e2", "data": "{}"}])
        await tx.add(EVENT, {"id": "e3", "data": "{}"})
        await tx.add("INSERT INTO idempotency_keys (key, body) VALUES (:k, :b)", {"k": "k1", "b": "{}"})

    async def looks(tx):
        return ((await tx.one("SELECT count(*) AS n FROM events"))["n"],
                (await tx.one("SELECT count(*) AS n FROM idempotency_keys"))["n"])

    async def reads_its_own(tx):
        await tx.add(EVENT, {"id": "e4", "data": "{}"})
        await tx.add("INSERT INTO items (id, n) VALUES (:id, :n)", {"id": "i4", "n": 4})  # runs at once
        return (await tx.one("SELECT id FROM events WHERE id = :id", {"id": "e4"}))["id"]

    async def fails(tx):
        await tx.add(EVENT, {"id": "e5", "data": "{}"})
        raise ValueError("refused")

    async def go():
        async with with_fresh_rows(tmp_path) as db:
            outcomes = await _batch(db, inserts, looks, reads_its_own, fails)
            return outcomes, await _ids(db)

    (inserted, seen, own, failed), ids = asyncio.run(go())
    assert inserted is None and seen == (0, 1) and own == "e4" and isinstance(failed, ValueError)
    assert sorted(ids) == ["e1", "e2", "e3", "e4"]
    assert ids.index("e1") < ids.index("e2") < ids.index("e3")


def _inserting(event_id: str, *, item: str | None = None):
    """A unit that inserts the event `event_id` (its INSERT waits), after the item `item` if given
    (that INSERT runs at once), and answers "answered"."""

    async def unit(tx):
        if item is not None:
            await tx.add("INSERT INTO items (id, n) VALUES (:id, :n)", {"id": item, "n": 1})
        await tx.add(EVENT, {"id": event_id, "data": "{}"})
        return "answered"

    return unit


async def _item_ids(tx) -> list[str]:
    return [row["id"] for row in await tx.all("SELECT id FROM items")]


def test_sqlite_a_fresh_row_refused_at_the_end_fails_its_whole_batch(tmp_path):
    """A waiting INSERT refused at the end of the batch (here a taken id; in practice a full disk)
    fails every unit of the batch, as a failed commit does: nothing of it is kept or acknowledged,
    and the next batch writes as usual."""

    async def go():
        async with with_fresh_rows(tmp_path) as db:
            await db.write(_inserting("taken"))
            outcomes = await _batch(db, _inserting("taken"), _inserting("other"))
            after = await db.write(_inserting("later"))
            return outcomes, after, await _ids(db)

    outcomes, after, ids = asyncio.run(go())
    assert all(isinstance(outcome, StoreUnavailable) for outcome in outcomes)
    assert "UNIQUE" in str(outcomes[0])
    assert after == "answered"
    assert ids == ["taken", "later"]


def test_sqlite_a_fresh_row_refused_when_its_unit_reads_fails_only_that_unit(tmp_path):
    """A waiting INSERT that goes in before its unit's next read, and breaks a unique constraint
    there, fails its unit with the store's UniqueViolation (as any write would) and leaves the other
    units of the batch alone."""

    async def takes_it_then_reads(tx):
        await _inserting("taken", item="a")(tx)
        return await tx.one("SELECT count(*) AS n FROM events")

    async def go():
        async with with_fresh_rows(tmp_path) as db:
            await db.write(_inserting("taken"))
            outcomes = await _batch(db, takes_it_then_reads, _inserting("other"))
            return outcomes, await _ids(db), await db.read(_item_ids)

    (refused, answered), ids, kept_items = asyncio.run(go())
    assert isinstance(refused, UniqueViolation) and answered == "answered"
    assert ids == ["taken", "other"] and kept_items == []


def test_sqlite_a_unit_whose_other_writes_are_seen_writes_its_fresh_rows_before_it_ends(tmp_path):
    """A unit that also changes what the next units can read (here an item; in kassa an intent
    naming its new charge) writes its waiting rows before it ends: the next unit of the same batch
    sees all of it, never the change without the rows it names. A refusal there fails that unit
    alone."""

    async def changes_and_inserts(tx):
        await tx.add(EVENT, {"id": "e1", "data": "{}"})
        await tx.run("UPDATE items SET n = 2 WHERE id = :id", {"id": "a"})
        return "answered"

    async def follows(tx):
        item = await tx.one("SELECT n FROM items WHERE id = :id", {"id": "a"})
        event = await tx.one("SELECT id FROM events WHERE id = :id", {"id": "e1"})
        return item["n"], event["id"] if event else None

    async def item(tx):
        await tx.add("INSERT INTO items (id, n) VALUES (:id, :n)", {"id": "a", "n": 1})

    async def go():
        async with with_fresh_rows(tmp_path) as db:
            await db.write(item)
            await db.write(_inserting("taken"))
            first = await _batch(db, changes_and_inserts, follows)
            second = await _batch(db, _inserting("taken", item="b"), _inserting("other"))
            return first, second, await _ids(db), await db.read(_item_ids)

    (changed, seen), (refused, answered), ids, items = asyncio.run(go())
    assert changed == "answered" and seen == (2, "e1")
    assert isinstance(refused, UniqueViolation) and answered == "answered"
    assert ids == ["taken", "e1", "other"] and items == ["a"]


def test_sqlite_a_webhook_claim_in_the_same_batch_never_finds_a_delivery_without_its_event(tmp_path):
    """kassa's own tables: a unit stores an event and its webhook delivery; the webhook worker's
    claim, in the same batch, finds neither (both wait for the end of the batch) rather than a
    delivery whose event is not there yet; the next claim finds both."""
    from kassa.store import repo
    from kassa.store.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'kassa.sqlite3'}"
    upgrade(url)
    endpoint = {"id": "we_1", "livemode": False, "created": 1, "status": "enabled", "url": "https://shop.example/"}

    async def setup(tx):
        await repo.insert_endpoint(tx, "acct_1", endpoint, "whsec_x")

    async def emits(tx):
        await repo.insert_events(tx, "acct_1", [{"id": "evt_1", "livemode": False, "created": 1,
                                                 "type": "charge.succeeded", "data": "{}"}])
        await repo.insert_deliveries(tx, [{"id": "wdl_1", "event_id": "evt_1", "endpoint_id": "we_1",
                                           "account_id": "acct_1", "livemode": False, "created": 1,
                                           "next_attempt_at": 0.0}])

    async def claims(tx):
        claimed = await repo.claim_deliveries(tx, "we_1", 10.0, 30, 10)
        events, _ = await repo.delivery_targets(tx, [row["event_id"] for row in claimed], ["we_1"])
        return [(row["id"], row["event_id"] in events) for row in claimed]

    async def go():
        db = open_database(url)
        try:
            await db.write(setup)
            _, in_the_batch = await _batch(db, emits, claims)
            return in_the_batch, await db.write(claims)
        finally:
            await db.close()

    in_the_batch, after = asyncio.run(go())
    assert in_the_batch == []
    assert after == [("wdl_1", True)]


def test_sqlite_a_unit_whose_new_rows_went_in_early_writes_the_rest_before_it_ends(tmp_path):
    """Once a read has brought a unit's first new rows in (the next units can see them from then on),
    its later new rows go in before it ends too: the next unit of the batch sees both or neither."""

    async def inserts_reads_inserts(tx):
        await tx.add(EVENT, {"id": "e1", "data": "{}"})
        await tx.one("SELECT count(*) AS n FROM events")
        await tx.add(EVENT, {"id": "e2", "data": "{}"})

    async def looks(tx):
        return [row["id"] for row in await tx.all("SELECT id FROM events ORDER BY seq")]

    async def go():
        async with with_fresh_rows(tmp_path) as db:
            return await _batch(db, inserts_reads_inserts, looks)

    _, seen = asyncio.run(go())
    assert seen == ["e1", "e2"]
