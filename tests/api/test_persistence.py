"""Nothing acknowledged is lost: a restart and a kill -9 in the middle of a stream of writes."""

from __future__ import annotations

import threading
import time
import uuid

import httpx
import pytest

from support import fresh_database, start_server


@pytest.fixture(params=["sqlite", "postgresql"])
def own_server(request, tmp_path):
    """A server of its own, since this test kills it."""
    srv = start_server(fresh_database(request.param, tmp_path), tmp_path)
    yield srv
    srv.stop()


def test_acknowledged_writes_survive_kill_9(own_server):
    server = own_server
    acknowledged: list[str] = []
    stop = threading.Event()
    run = uuid.uuid4().hex[:8]

    def writer(n: int) -> None:
        with httpx.Client(base_url=server.url, auth=(server.secret_key, ""), timeout=5) as http:
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    response = http.post("/v1/payment_intents", data={
                        "amount": "1099", "currency": "usd", "metadata[run]": run, "metadata[n]": f"{n}-{i}"},
                        headers={"Idempotency-Key": f"{run}-{n}-{i}"})
                except httpx.HTTPError:
                    return  # the server died mid-request: that request was not acknowledged
                if response.status_code == 200:
                    acknowledged.append(response.json()["id"])

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    server.kill(9)
    stop.set()
    for thread in threads:
        thread.join()
    assert len(acknowledged) > 20, "too few writes before the kill to mean anything"

    restarted = server.restart()
    try:
        client = restarted.client()
        for intent_id in acknowledged:
            assert client.v1.payment_intents.retrieve(intent_id).metadata["run"] == run
        stored = {pi.id for pi in client.v1.payment_intents.search(
            params={"query": f"metadata['run']:'{run}'", "limit": 100}).auto_paging_iter()}
        assert set(acknowledged) <= stored
    finally:
        restarted.stop()


def test_restart_keeps_everything(own_server):
    client = own_server.client()
    intent = client.v1.payment_intents.create(params={"amount": 1234, "currency": "usd", "metadata": {"x": "1"}})
    canceled = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
    client.v1.payment_intents.cancel(canceled.id)
    restarted = own_server.restart()
    try:
        again = restarted.client()
        assert again.v1.payment_intents.retrieve(intent.id).to_dict() == intent.to_dict()
        assert again.v1.payment_intents.retrieve(canceled.id).status == "canceled"
    finally:
        restarted.stop()
