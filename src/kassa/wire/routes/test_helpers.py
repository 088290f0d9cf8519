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
            offset = await repo.advance_clock(tx, account_id, seconds)
            answer = {"object": "test_helpers.clock", "account": account_id, "now": int(time.time()) + offset,
                      "offset": offset, "livemode": False}
            # Kept for an Idempotency-Key replay: a retried advance does not move the clock twice.
            return await call.caller.seal(tx, answer) if call.caller.seal else answer

        answer = await api.db.write(unit)
        await wake_sweep()  # the sweep acts on the new time before we answer
        return answer

    return [("/v1/test_helpers/clock/advance", "POST", api.endpoint(advance))]
