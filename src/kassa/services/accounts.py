"""Accounts and their keys: the default account on first start, new accounts, pinned keys."""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..domain.ids import new_id
from ..store import repo
from ..store.database import Database, Tx
from ..domain import keys


@dataclass(frozen=True, slots=True)
class NewAccount:
    id: str
    country: str
    keys: dict[str, str]  # e.g. {'secret_test': 'sk_test_…', 'publishable_test': 'pk_test_…', …}


async def _add_key(tx: Tx, account_id: str, key: str, kind: str, livemode: bool, now: int) -> None:
    await repo.insert_key(tx, keys.hash_key(key), account_id, livemode, kind, keys.redact(key), now)


async def create_account(db: Database, *, country: str = "US", name: str = "kassa test merchant",
                         live: bool = True, pinned: dict[str, str] | None = None) -> NewAccount:
    """A new account with fresh keys (test, and live unless `live` is False); keys are only
    returned here, never stored in clear."""
    pinned = pinned or {}

    async def unit(tx: Tx):
        now = int(time.time())
        account_id = new_id("acct", 16)
        await repo.insert_account(tx, account_id, country.upper(), name, now)
        issued = {}
        for livemode in (False, True) if live else (False,):
            mode = "live" if livemode else "test"
            for kind, short in (("secret", "sk"), ("publishable", "pk")):
                key = pinned.get(f"{kind}_{mode}") or keys.new_key(short, livemode)
                await _add_key(tx, account_id, key, kind, livemode, now)
                issued[f"{kind}_{mode}"] = key
        return NewAccount(account_id, country.upper(), issued)

    return await db.write(unit)


async def pin_test_keys(db: Database, account_id: str, secret: str | None, publishable: str | None) -> None:
    """Make `secret` / `publishable` the test keys of the account, replacing the ones it had."""

    async def unit(tx: Tx):
        now = int(time.time())
        for key, kind in ((secret, "secret"), (publishable, "publishable")):
            if not key:
                continue
            found = await repo.find_key(tx, keys.hash_key(key))
            if found is not None and found["account_id"] == account_id:
                continue
            await repo.delete_keys(tx, account_id, False, kind)
            await _add_key(tx, account_id, key, kind, False, now)

    await db.write(unit)


async def default_account(db: Database, *, secret: str | None = None, publishable: str | None = None,
                          country: str = "US") -> tuple[str, NewAccount | None]:
    """The first account, created on an empty database (then returned with its keys)."""

    async def read(tx: Tx):
        return await repo.first_account(tx)

    row = await db.read(read)
    if row is None:
        pinned = {"secret_test": secret, "publishable_test": publishable}
        created = await create_account(db, country=country, name="kassa demo merchant", live=False,
                                       pinned={k: v for k, v in pinned.items() if v})
        return created.id, created
    await pin_test_keys(db, row["id"], secret, publishable)
    return row["id"], None


async def roll_key(db: Database, account_id: str, *, livemode: bool, kind: str, expire_old_in: int = 0) -> str:
    """A new key of that mode and kind (returned once, stored hashed); the account's earlier ones
    stop working now, or after ``expire_old_in`` seconds. Running processes notice within
    ``wire.api.KEY_CACHE_SECONDS``."""

    async def unit(tx: Tx):
        if await repo.get_account(tx, account_id) is None:
            raise KeyError(account_id)
        return await roll_key_in(tx, account_id, livemode=livemode, kind=kind, expire_old_in=expire_old_in,
                                 now=int(time.time()))

    return await db.write(unit)


async def roll_key_in(tx: Tx, account_id: str, *, livemode: bool, kind: str, expire_old_in: int, now: int) -> str:
    """Roll a key inside the caller's unit of work (the Dashboard's, with its audit row)."""
    if kind not in ("secret", "publishable"):
        raise ValueError("kind must be secret or publishable")
    key = keys.new_key("sk" if kind == "secret" else "pk", livemode)
    await repo.expire_keys(tx, account_id, livemode, kind, now + max(0, expire_old_in))
    await _add_key(tx, account_id, key, kind, livemode, now)
    return key


async def list_keys(db: Database, account_id: str) -> list[dict]:
    """The account's keys as they may be shown: prefix and last four, created, expires, last used."""

    async def read(tx: Tx):
        if await repo.get_account(tx, account_id) is None:
            raise KeyError(account_id)
        return [dict(row) for row in await repo.keys_of_account(tx, account_id)]

    return await db.read(read)
