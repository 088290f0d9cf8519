"""/v1/test_helpers/clock/advance: move a test-mode account's clock forward."""

from __future__ import annotations

import time
from collections.abc import Callable

from ...domain.errors import NotFound
from ...store import repo
from ..api import Api, Call

MAX_ADVANCE_SECONDS = 5 * 365 * 24 * 3600


def routes(api: Api, wake_sweep: Callable[[], object]):
    async def advance(call: Call):
        params = call.params
        seconds = params.int("seconds", required=True, minimum=1, maximum=MAX_ADVANCE_SECONDS)
        params.finish()
        if call.caller.livemode:
            raise NotFound("Unrecognized request URL (POST: /v1/test_helpers/clock/advance). Test helpers are "
                           "only available in test mode.")
        account_id = call.caller.account_id

        async def unit(tx):
            return await repo.advance_clock(tx, account_id, seconds)

        offset = await api.db.write(unit)
        await wake_sweep()  # the sweep acts on the new time before we answer
        now = int(time.time()) + offset
        return {"object": "test_helpers.clock", "account": account_id, "now": now, "offset": offset,
                "livemode": False}

    return [("/v1/test_helpers/clock/advance", "POST", api.endpoint(advance))]
