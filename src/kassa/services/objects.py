"""Reading the simple objects (payment methods, charges, refunds), and creating payment methods."""

from __future__ import annotations

from ..domain import payment_method as pms
from ..domain.errors import no_such
from ..store import repo
from ..store.database import Tx
from .context import Caller
from .unit import Runner


class Objects:
    """Retrieve and list for one table of simple objects."""

    def __init__(self, runner: Runner, table: str, cls, kind: str, param: str):
        self.runner = runner
        self.db = runner.db
        self.table = table
        self.cls = cls
        self.kind = kind
        self.param = param

    async def retrieve(self, caller: Caller, object_id: str):
        async def read(tx: Tx):
            return await repo.get_object(tx, self.table, self.cls, caller.account_id, caller.livemode, object_id)

        found = await self.db.read(read)
        if found is None:
            raise no_such(self.kind, object_id, param=self.param)
        return found

    async def load(self, tx: Tx, caller: Caller, object_id: str):
        """For expand[]: the object, or None."""
        return await repo.get_object(tx, self.table, self.cls, caller.account_id, caller.livemode, object_id)

    async def list(self, caller: Caller, *, limit: int, starting_after: str | None, ending_before: str | None,
                   where: str = "", params: dict | None = None):
        async def read(tx: Tx):
            return await repo.page_objects(tx, self.table, self.cls, caller.account_id, caller.livemode,
                                           limit=limit, after_id=starting_after, before_id=ending_before,
                                           where=where, params=params)

        page = await self.db.read(read)
        if page is None:
            cursor = starting_after or ending_before
            raise no_such(self.kind, cursor, param="starting_after" if starting_after else "ending_before")
        return page


class PaymentMethods(Objects):
    cards = None  # services.card_payments.CardPayments: card data becomes a card hash there

    async def create(self, caller: Caller, kind: str, billing_details: dict | None, metadata: dict | None, *,
                     card=None):
        async def change(tx: Tx, now: int):
            if kind == "card":
                method = self.cards.new_method(caller, card, billing_details=billing_details, metadata=metadata,
                                               now=now)
            else:
                method = pms.create(kind, livemode=caller.livemode, now=now, billing_details=billing_details,
                                    metadata=metadata)
            await repo.insert_object(tx, "payment_methods", caller.account_id, method)
            return method, []

        return await self.runner.write(caller, change)
