"""Queries of customers, setup intents, mandates and saved payment methods (migration 0008)."""

from __future__ import annotations

import orjson

from ..domain.customer import Customer
from ..domain.mandate import Mandate
from ..domain.payment_method import PaymentMethod
from ..domain.setup_intent import SetupIntent
from . import repo
from .database import Tx


def _customer_columns(customer: Customer) -> dict:
    return {"email": customer.email, "name": customer.name, "phone": customer.phone,
            "metadata": orjson.dumps(customer.metadata).decode(), "deleted": customer.deleted}


async def insert_customer(tx: Tx, account_id: str, customer: Customer) -> None:
    await repo.insert_object(tx, "customers", account_id, customer, **_customer_columns(customer))


async def update_customer(tx: Tx, account_id: str, customer: Customer) -> None:
    await repo.update_object(tx, "customers", account_id, customer, **_customer_columns(customer))


async def get_customer(tx: Tx, account_id: str, livemode: bool, customer_id: str, *, lock: bool = False):
    return await repo.get_object(tx, "customers", Customer, account_id, livemode, customer_id, lock=lock)


async def page_customers(tx: Tx, account_id: str, livemode: bool, *, limit: int, after_id: str | None = None,
                         before_id: str | None = None, after_seq: int | None = None, where: str = "",
                         params: dict | None = None):
    """(customers, more, last seq) newest first, deleted ones left out; None for a bad cursor."""
    found = await repo.page(tx, "customers", account_id, livemode, limit=limit, columns="t.data",
                            after_id=after_id, before_id=before_id, after_seq=after_seq,
                            where=" AND t.deleted = :deleted" + where, params={"deleted": False, **(params or {})})
    if found is None:
        return None
    rows, more = found
    return [Customer.from_record(orjson.loads(row["data"])) for row in rows], more, (rows[-1]["seq"] if rows else None)


async def get_method(tx: Tx, account_id: str, livemode: bool, method_id: str, *, lock: bool = False):
    return await repo.get_object(tx, "payment_methods", PaymentMethod, account_id, livemode, method_id, lock=lock)


async def update_method(tx: Tx, account_id: str, method: PaymentMethod) -> None:
    await repo.update_object(tx, "payment_methods", account_id, method, customer=method.customer)


async def insert_method(tx: Tx, account_id: str, method: PaymentMethod) -> None:
    await repo.insert_object(tx, "payment_methods", account_id, method, customer=method.customer)


async def methods_of_customer(tx: Tx, account_id: str, livemode: bool, customer_id: str, *, limit: int = 100,
                              after_id: str | None = None, before_id: str | None = None, method_type: str | None = None):
    """A page of the methods attached to a customer (newest first), optionally of one type."""
    where, params = " AND t.customer = :c", {"c": customer_id}
    if method_type is not None:
        where += " AND " + _type_of("t.data", tx.dialect) + " = :ty"
        params["ty"] = method_type
    return await repo.page_objects(tx, "payment_methods", PaymentMethod, account_id, livemode, limit=limit,
                                   after_id=after_id, before_id=before_id, where=where, params=params)


def _type_of(column: str, dialect: str) -> str:
    """The ``type`` of a stored document, in SQL."""
    if dialect == "postgresql":
        return f"(CAST({column} AS json) ->> 'type')"
    return f"json_extract({column}, '$.type')"


async def insert_setup(tx: Tx, account_id: str, setup: SetupIntent) -> None:
    await repo.insert_object(tx, "setup_intents", account_id, setup, status=setup.status, customer=setup.customer,
                             payment_method=setup.payment_method)


async def update_setup(tx: Tx, account_id: str, setup: SetupIntent) -> None:
    await repo.update_object(tx, "setup_intents", account_id, setup, status=setup.status, customer=setup.customer,
                             payment_method=setup.payment_method)


async def get_setup(tx: Tx, account_id: str, livemode: bool, setup_id: str, *, lock: bool = False):
    return await repo.get_object(tx, "setup_intents", SetupIntent, account_id, livemode, setup_id, lock=lock)


async def insert_mandate(tx: Tx, account_id: str, mandate: Mandate) -> None:
    await repo.insert_object(tx, "mandates", account_id, mandate, payment_method=mandate.payment_method,
                             status=mandate.status, external_id=mandate.external_id)


async def update_mandate(tx: Tx, account_id: str, mandate: Mandate) -> None:
    await repo.update_object(tx, "mandates", account_id, mandate, payment_method=mandate.payment_method,
                             status=mandate.status, external_id=mandate.external_id)


async def mandates_of_permission(tx: Tx, account_id: str, permission_id: str) -> list[Mandate]:
    """The live, active mandates that stand for a processor's permission (a Charge Permission)."""
    rows = await tx.all("SELECT data FROM mandates WHERE external_id = :e AND account_id = :a AND livemode = :l "
                        "AND status = 'active' ORDER BY seq", {"e": permission_id, "a": account_id, "l": True})
    return [Mandate.from_record(orjson.loads(row["data"])) for row in rows]


async def active_mandates(tx: Tx, account_id: str, livemode: bool, method_id: str) -> list[Mandate]:
    rows = await tx.all("SELECT data FROM mandates WHERE payment_method = :pm AND account_id = :a AND livemode = :l "
                        "AND status = 'active' ORDER BY seq", {"pm": method_id, "a": account_id, "l": livemode})
    return [Mandate.from_record(orjson.loads(row["data"])) for row in rows]


async def method_and_active_mandates(tx: Tx, account_id: str, livemode: bool, method_id: str
                                     ) -> tuple[PaymentMethod | None, list[Mandate]]:
    """A payment method (None when it does not exist for this account and mode) and its active
    mandates, oldest first, in one statement."""
    rows = await tx.all("SELECT p.data, m.data AS mandate FROM payment_methods p LEFT JOIN mandates m "
                        "ON m.payment_method = p.id AND m.account_id = p.account_id AND m.livemode = p.livemode "
                        "AND m.status = 'active' WHERE p.id = :id AND p.account_id = :a AND p.livemode = :l "
                        "ORDER BY m.seq", {"id": method_id, "a": account_id, "l": livemode})
    if not rows:
        return None, []
    return (PaymentMethod.from_record(orjson.loads(rows[0]["data"])),
            [Mandate.from_record(orjson.loads(row["mandate"])) for row in rows if row["mandate"] is not None])


async def methods_of_customers(tx: Tx, account_id: str, livemode: bool, customer_ids: list[str]) -> list[PaymentMethod]:
    """Every method attached to any of these customers (the Dashboard's list)."""
    if not customer_ids:
        return []
    names = {f"c{i}": value for i, value in enumerate(customer_ids)}
    rows = await tx.all("SELECT data FROM payment_methods WHERE account_id = :a AND livemode = :l AND customer IN ("
                        + ", ".join(":" + n for n in names) + ") ORDER BY seq DESC",
                        {"a": account_id, "l": livemode, **names})
    return [PaymentMethod.from_record(orjson.loads(row["data"])) for row in rows]
