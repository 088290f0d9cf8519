"""A request leaves no reference cycle behind.

Objects in a cycle outlive their request until the cyclic collector finds them; under load that is
thousands of objects per collection and a pause of milliseconds for every request in flight (one
cycle per request once cost a sixth of the CPU and most of the create p99). This runs the app in
this process, where the collector can be asked what it found."""

from __future__ import annotations

import asyncio
import gc

import httpx
import pytest

from kassa.app import create_app
from kassa.cli import prepare
from kassa.config import Settings
from support import fresh_database

SECRET = "sk_test_kassaCycleCheck00000000000000000001"
CREATE = {"amount": 1099, "currency": "usd", "payment_method_types[0]": "amazon_pay"}


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request, tmp_path, monkeypatch):
    monkeypatch.setenv("KASSA_DATABASE_URL", fresh_database(request.param, tmp_path))
    monkeypatch.setenv("KASSA_SECRET_KEY", SECRET)
    prepare(None, None, None)
    return create_app(Settings.from_env())


async def _every_kind_of_request(app, round_: str) -> None:
    """Creates (fresh, replayed, refused), confirm, the test authorization page, retrieves (found,
    missing, expanded), refunds (made, refused), cancel, list, search, a wrong key."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://kassa.test", auth=(SECRET, "")) as api:
        for n in range(3):
            created = await api.post("/v1/payment_intents", data=CREATE,
                                     headers={"Idempotency-Key": f"cycle-{round_}-{n}"})
            assert created.status_code == 200, created.text
            replayed = await api.post("/v1/payment_intents", data=CREATE,
                                      headers={"Idempotency-Key": f"cycle-{round_}-{n}"})
            assert replayed.headers["idempotent-replayed"] == "true"
            refused = await api.post("/v1/payment_intents", data={"amount": -1, "currency": "usd"})
            assert refused.status_code == 400
            intent_id = created.json()["id"]
            confirmed = await api.post(f"/v1/payment_intents/{intent_id}/confirm", data={
                "payment_method_data[type]": "amazon_pay", "return_url": "https://shop.example/done"})
            assert confirmed.status_code == 200 and confirmed.json()["status"] == "requires_action", confirmed.text
            page = confirmed.json()["next_action"]["redirect_to_url"]["url"]
            shown = await api.get(page, auth=None)
            assert shown.status_code == 200
            pressed = await api.post(page, data={"decision": "authorize"}, auth=None)
            assert pressed.status_code == 303, pressed.text
            retrieved = await api.get(f"/v1/payment_intents/{intent_id}")
            assert retrieved.json()["status"] == "succeeded"
            missing = await api.get("/v1/payment_intents/pi_doesnotexist")
            assert missing.status_code == 404
            refund = await api.post("/v1/refunds", data={"payment_intent": intent_id, "amount": 100},
                                    headers={"Idempotency-Key": f"cycle-{round_}-refund-{n}"})
            assert refund.status_code == 200, refund.text
            too_much = await api.post("/v1/refunds", data={"payment_intent": intent_id, "amount": 5000})
            assert too_much.status_code == 400
            expanded = await api.get(f"/v1/payment_intents/{intent_id}", params={"expand[]": "latest_charge"})
            assert expanded.json()["latest_charge"]["object"] == "charge"
            manual = await api.post("/v1/payment_intents", data={**CREATE, "capture_method": "manual"})
            canceled = await api.post(f"/v1/payment_intents/{manual.json()['id']}/cancel")
            assert canceled.json()["status"] == "canceled", canceled.text
        listed = await api.get("/v1/payment_intents", params={"limit": 2})
        assert listed.json()["has_more"] is True
        searched = await api.get("/v1/payment_intents/search", params={"query": "status:'succeeded'"})
        assert searched.status_code == 200, searched.text
        wrong_key = await api.get("/v1/payment_intents", auth=("sk_test_wrong", ""))
        assert wrong_key.status_code == 401


def _kassa_garbage(found: list) -> list[str]:
    """What of the collector's finds belongs to a request: kassa's and Starlette's objects, and
    the frames of kassa's code (an exception's traceback keeps them)."""
    names = []
    for item in found:
        module = type(item).__module__ or ""
        if module.startswith(("kassa.", "starlette.")):
            names.append(f"{module}.{type(item).__qualname__}")
        elif type(item).__name__ == "frame" and "/kassa/" in item.f_code.co_filename:
            names.append(f"frame {item.f_code.co_name} ({item.f_code.co_filename})")
    return names


def test_requests_leave_no_cycles(app):
    async def twice() -> list[str]:
        await _every_kind_of_request(app, "first")  # once, for what is built on first use
        gc.collect()
        gc.disable()
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            await _every_kind_of_request(app, "second")
            gc.collect()
            return _kassa_garbage(gc.garbage)
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
            gc.enable()
            await app.fallback.state.services.db.close()

    found = asyncio.run(twice())
    assert found == [], "\n".join(sorted(set(found)))
