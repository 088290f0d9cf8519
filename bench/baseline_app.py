"""The baseline: a bare Starlette handler inserting one SQLite row per POST, reading one per GET.

What the machine does with no Stripe semantics at all; kassa's figures are read against it.
Run: python bench/baseline_app.py PORT DBPATH
"""

import sqlite3
import sys
import uuid

import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

db = sqlite3.connect(sys.argv[2], isolation_level=None, check_same_thread=False)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=FULL")
db.execute("CREATE TABLE IF NOT EXISTS t (id TEXT PRIMARY KEY, body TEXT)")
db.execute("INSERT OR IGNORE INTO t VALUES ('pi_fixed', '{}')")


async def create(request):
    body = await request.body()
    key = "pi_" + uuid.uuid4().hex
    db.execute("INSERT INTO t VALUES (?, ?)", (key, body.decode()))
    return Response(b'{"id":"' + key.encode() + b'"}', media_type="application/json")


async def retrieve(request):
    row = db.execute("SELECT body FROM t WHERE id = ?", (request.path_params["id"],)).fetchone()
    return Response((row[0] if row else "{}").encode(), media_type="application/json")


async def healthz(request):
    return Response(b"{}", media_type="application/json")


app = Starlette(routes=[Route("/v1/payment_intents", create, methods=["POST"]),
                        Route("/v1/payment_intents/{id}", retrieve, methods=["GET"]),
                        Route("/healthz", healthz)])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), loop="uvloop", http="httptools",
                access_log=False, log_level="warning")
