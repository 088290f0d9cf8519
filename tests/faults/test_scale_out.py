"""Three kassa processes on one PostgreSQL database, under a stream of payments, while one process
is killed with kill -9 and restarted and PostgreSQL itself restarts once. Afterwards nothing
acknowledged is missing, nothing is stuck, no event is lost and no charge exists twice."""

from __future__ import annotations

import os
import random
import subprocess
import threading
import time
import uuid
from urllib.parse import urlsplit

import httpx
import pytest

from support import fresh_postgres_url, require_postgres, start_server

RETURN_URL = "https://shop.example/done"


@pytest.fixture
def cluster(tmp_path):
    require_postgres()
    database = fresh_postgres_url()
    servers = [start_server(database, tmp_path, env={"KASSA_WEBHOOK_RETRY_BASE": "0.2"}) for _ in range(3)]
    yield servers
    for server in servers:
        server.stop()


def restart_postgres() -> None:
    version = sorted(os.listdir("/etc/postgresql"))[0]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True,
                   capture_output=True, timeout=60)


class Buyer:
    """Presses the test page on any live process, retrying as a browser user would."""

    def __init__(self, servers):
        self.servers = servers

    def press(self, url: str, decision: str) -> str:
        path = urlsplit(url).path
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            server = random.choice(self.servers)
            try:
                response = httpx.post(server.url + path, data={"decision": decision}, timeout=10)
                if response.status_code == 303:
                    return response.headers["location"]
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError("the authorization page never answered")


@pytest.mark.exclusive  # restarts PostgreSQL: no other test may be using it meanwhile
def test_faults_lose_nothing(cluster):
    servers = cluster
    clients = [server.client(max_network_retries=8) for server in servers]
    buyer = Buyer(servers)
    tag = uuid.uuid4().hex[:8]
    done: dict[str, str] = {}  # intent id → the outcome the stream saw acknowledged
    refunds: dict[str, str] = {}
    errors: list[str] = []
    stop = threading.Event()
    lock = threading.Lock()

    def stream(n: int) -> None:
        client = clients[n % len(clients)]
        i = 0
        while not stop.is_set():
            i += 1
            try:
                intent = client.v1.payment_intents.create(params={
                    "amount": 1000 + i, "currency": "usd", "metadata": {"run": tag, "n": f"{n}-{i}"}})
                confirmed = client.v1.payment_intents.confirm(intent.id, params={
                    "payment_method_data": {"type": "amazon_pay"}, "return_url": RETURN_URL})
                decision = "authorize" if i % 3 else "fail"
                location = buyer.press(confirmed.next_action.redirect_to_url.url, decision)
                expected = "succeeded" if decision == "authorize" else "requires_payment_method"
                assert ("redirect_status=succeeded" in location) == (decision == "authorize")
                with lock:
                    done[intent.id] = expected
                if expected == "succeeded" and i % 2 == 0:
                    refund = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 500})
                    with lock:
                        refunds[refund.id] = intent.id
            except Exception as error:  # noqa: BLE001 - every failure is reported below
                with lock:
                    errors.append(f"{type(error).__name__}: {error}")

    threads = [threading.Thread(target=stream, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    time.sleep(3)
    servers[0].kill(9)  # a process dies mid-stream...
    time.sleep(1)
    servers[0] = servers[0].restart()  # ...and comes back
    clients[0] = servers[0].client(max_network_retries=8)
    time.sleep(2)
    restart_postgres()  # the database restarts under all of them
    time.sleep(4)
    stop.set()
    for thread in threads:
        thread.join(120)
    assert not errors, errors[:5]
    assert len(done) >= 20, f"only {len(done)} flows completed"

    client = servers[1].client(max_network_retries=8)
    # Every acknowledged outcome is stored, once.
    for intent_id, expected in done.items():
        intent = client.v1.payment_intents.retrieve(intent_id)
        assert intent.status == expected, (intent_id, intent.status, expected)
        charges = client.v1.charges.list(params={"payment_intent": intent_id}).data
        assert len(charges) == (1 if expected == "succeeded" else 0), intent_id
    for refund_id, intent_id in refunds.items():
        assert client.v1.refunds.retrieve(refund_id).payment_intent == intent_id
    # No event lost: every intent has its created event and the outcome event, once each.
    by_intent: dict[str, list[str]] = {}
    for event in client.v1.events.list(params={"limit": 100}).auto_paging_iter():
        obj = event.data.object
        owner = obj.id if obj.object == "payment_intent" else getattr(obj, "payment_intent", None)
        by_intent.setdefault(owner, []).append(event.type)
    for intent_id, expected in done.items():
        types = by_intent[intent_id]
        assert types.count("payment_intent.created") == 1
        outcome = "payment_intent.succeeded" if expected == "succeeded" else "payment_intent.payment_failed"
        assert types.count(outcome) == 1, (intent_id, types)
    # Nothing stuck past its deadline: intents the stream left mid-flow are resolved by the sweep.
    client.raw_request("post", "/v1/test_helpers/clock/advance", seconds=601)
    stuck = client.v1.payment_intents.search(params={"query": f"metadata['run']:'{tag}' AND status:'requires_action'"})
    assert stuck.data == []
    pending = client.v1.refunds.list(params={"limit": 100}).data
    client.raw_request("post", "/v1/test_helpers/clock/advance", seconds=5)
    time.sleep(1.5)
    assert all(client.v1.refunds.retrieve(r.id).status == "succeeded" for r in pending)


def test_workers_option_serves_from_several_processes(tmp_path):
    require_postgres()
    server = start_server(fresh_postgres_url(), tmp_path, extra_args=("--workers", "2"))
    try:
        client = server.client()
        ids = {client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"}).id for _ in range(20)}
        assert len(ids) == 20
        listed = {pi.id for pi in client.v1.payment_intents.list(params={"limit": 100}).data}
        assert ids <= listed
    finally:
        server.stop()


def test_one_key_sent_to_two_processes_at_once_creates_one_intent(tmp_path):
    require_postgres()
    database = fresh_postgres_url()
    a, b = start_server(database, tmp_path), start_server(database, tmp_path)
    try:
        from concurrent.futures import ThreadPoolExecutor
        for _ in range(15):
            key = uuid.uuid4().hex
            marker = f"twin-{key}"

            def send(server):
                return httpx.post(server.url + "/v1/payment_intents",
                                  data={"amount": "1099", "currency": "usd", "metadata[m]": marker},
                                  auth=(server.secret_key, ""), headers={"Idempotency-Key": key}, timeout=30)

            with ThreadPoolExecutor(6) as pool:
                answers = list(pool.map(send, [a, b, a, b, a, b]))
            ids = {r.json()["id"] for r in answers if r.status_code == 200}
            assert all(r.status_code in (200, 409) for r in answers), [r.text for r in answers]
            assert len(ids) == 1
            found = a.client().v1.payment_intents.search(params={"query": f"metadata['m']:'{marker}'"})
            assert [pi.id for pi in found.data] == list(ids)
    finally:
        a.stop()
        b.stop()
