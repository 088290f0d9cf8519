"""Authorize, fail and the expiry sweep racing on one intent: exactly one outcome, every time."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from amazon_pay_helpers import new_confirmed, outcome, page_url
from test_auth import new_account

ROUNDS = 20


def test_authorize_fail_and_expiry_at_once(server):
    client = server.client(new_account(server)["secret_test"])
    results = {"succeeded": 0, "failed": 0}
    finals = {}
    for _ in range(ROUNDS):
        intent = new_confirmed(client)
        url = page_url(intent)
        start = threading.Barrier(4)

        def press(decision):
            start.wait()
            return httpx.post(url, data={"decision": decision}, follow_redirects=False, timeout=30)

        def expire():
            start.wait()
            return client.raw_request("post", "/v1/test_helpers/clock/advance", seconds=601)

        with ThreadPoolExecutor(4) as pool:
            answers = [pool.submit(press, "authorize"), pool.submit(press, "fail"),
                       pool.submit(press, "authorize"), pool.submit(expire)]
            pages = [answers[i].result() for i in range(3)]
            answers[3].result()
        final = client.v1.payment_intents.retrieve(intent.id)
        charges = client.v1.charges.list(params={"payment_intent": intent.id}).data
        statuses = {outcome(page)["redirect_status"] for page in pages}
        assert all(page.status_code == 303 for page in pages)
        if final.status == "succeeded":
            # the authorization won: one charge, and every press reports the same outcome
            assert len(charges) == 1 and final.latest_charge == charges[0].id
            assert statuses == {"succeeded"}
            results["succeeded"] += 1
        else:
            # a decline or the expiry won: no charge, every press reports failure
            assert final.status == "requires_payment_method"
            assert final.last_payment_error.code == "payment_intent_payment_attempt_failed"
            assert charges == [] and statuses == {"failed"}
            results["failed"] += 1
        finals[intent.id] = final.status
    assert sum(results.values()) == ROUNDS
    # The events tell the same story: one outcome event per intent, matching its final state.
    by_intent: dict[str, list[str]] = {}
    for event in client.v1.events.list(params={"limit": 100}).auto_paging_iter():
        obj = event.data.object
        owner = obj.id if obj.object == "payment_intent" else getattr(obj, "payment_intent", None)
        if owner in finals:
            by_intent.setdefault(owner, []).append(event.type)
    for intent_id, status in finals.items():
        types = by_intent[intent_id]
        outcomes = [t for t in types if t in ("payment_intent.succeeded", "payment_intent.payment_failed")]
        expected = "payment_intent.succeeded" if status == "succeeded" else "payment_intent.payment_failed"
        assert outcomes == [expected], (intent_id, types)
        assert types.count("charge.succeeded") == (1 if status == "succeeded" else 0)
        assert types.count("payment_intent.created") == 1 and types.count("payment_intent.requires_action") == 1
