"""Which connector serves a caller: kassa's own page in test mode, the account's Amazon Pay live.

A live connector is built from the account's stored configuration (``amazon_pay_accounts``) and
kept while that configuration is unchanged, so its HTTP connections are reused. It talks to the
outside: the services call it between units of work, never inside one, so that no database lock
waits on the network.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from ..domain.errors import InvalidRequest, KassaError
from ..methods.amazon_pay.config import ConfigError, LiveConfig
from ..methods.amazon_pay.live import AmazonPayClient, AmazonPayUnavailable, LiveAmazonPay
from ..methods.base import Connector
from ..store import repo
from ..store.database import Database

log = logging.getLogger("kassa.connectors")


class AmazonPayNotConfigured(InvalidRequest):
    def __init__(self) -> None:
        super().__init__(
            "Amazon Pay is not set up for live mode on this account: live payments need the account's Amazon Pay "
            "keys. Run `kassa accounts configure-amazon-pay` for this account, or use the test mode keys.",
            code="payment_method_unactivated", param="payment_method_types")


class Unconfigured:
    """The live connector of an account without Amazon Pay keys: any call answers
    AmazonPayNotConfigured, when it is made (so a confirm of an intent another account or mode
    owns is still a 404 first, as on Stripe)."""

    name = "amazon_pay"

    def __getattr__(self, method: str):
        def refuse(*args, **kwargs):
            raise AmazonPayNotConfigured()

        return refuse


UNCONFIGURED = Unconfigured()


def live_factory(api_base: str | None = None, timeout: float = 10.0,
                 checkout_js_url: str | None = None) -> Callable[[LiveConfig], LiveAmazonPay]:
    def build(config: LiveConfig) -> LiveAmazonPay:
        return LiveAmazonPay(AmazonPayClient(config, base_url=api_base, timeout=timeout),
                             can_handle_pending_authorization=True, checkout_js_url=checkout_js_url)

    return build


class Connectors:
    """The connector of each (account, mode)."""

    def __init__(self, db: Database, test: Connector, live: Callable[[LiveConfig], Any], *, poll_seconds: int = 60):
        self.db = db
        self.poll_seconds = poll_seconds  # how often a pending live authorization or refund is asked about
        self.test = test
        self._build_live = live
        self._live: dict[str, tuple[int, Any]] = {}

    async def for_account(self, account_id: str, livemode: bool) -> Connector:
        if not livemode:
            return self.test

        async def read(tx):
            return await repo.amazon_pay_account(tx, account_id)

        row = await self.db.read(read)
        return UNCONFIGURED if row is None else self._connector(row)

    def _connector(self, row) -> Any:
        cached = self._live.get(row["account_id"])
        if cached is not None and cached[0] == row["updated"]:
            return cached[1]
        try:
            config = LiveConfig.from_stored(json.loads(row["settings"]))
        except (ConfigError, ValueError) as error:
            log.error("the Amazon Pay configuration of account %s cannot be used: %s", row["account_id"], error)
            raise AmazonPayUnavailable(f"This account's Amazon Pay configuration cannot be used: {error}") from None
        connector = self._build_live(config)
        self._live[row["account_id"]] = (row["updated"], connector)
        return connector

    async def of_merchant(self, merchant_id: str) -> list[tuple[str, Any]]:
        """(account id, live connector) of every account set up with this Amazon merchant id."""

        async def read(tx):
            return await repo.amazon_pay_accounts_of_merchant(tx, merchant_id)

        found = []
        for row in await self.db.read(read):
            try:
                found.append((row["account_id"], self._connector(row)))
            except KassaError:
                continue
        return found

    async def aclose(self) -> None:
        for _, connector in self._live.values():
            await connector.client.aclose()
        self._live.clear()


async def configure(db: Database, account_id: str, config: LiveConfig) -> None:
    """Store (or replace) an account's live Amazon Pay configuration."""
    stored = json.dumps(config.to_stored(), sort_keys=True)

    async def write(tx):
        if await repo.get_account(tx, account_id) is None:
            raise KeyError(account_id)
        await repo.save_amazon_pay_account(tx, account_id, config.merchant_id, stored, time.time_ns())

    await db.write(write)
