"""The PostgreSQL baseline: a bare Starlette handler inserting one row per POST (one statement,
autocommit, through asyncpg's pool), reading one per GET.

What the machine does with PostgreSQL and no Stripe semantics at all; kassa's PostgreSQL figures
are read against it. Run: python bench/baseline_pg_app.py PORT POSTGRES_URL (the table is made if
missing; several processes may share it).
"""

import contextlib
import sys
import uuid

import asyncpg
import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

URL = sys.argv[2]
pool: asyncpg.Pool | None = None


@contextlib.asynccontextmanager
async def lifespan(app):
    global pool
    pool = await asyncpg.create_pool(URL, min_size=2, max_size=16)
    async with pool.acquire() as connection:
        try:
            await connection.execute("CREATE TABLE IF NOT EXISTS baseline (id TEXT PRIMARY KEY, body TEXT)")
            await connection.execute("INSERT INTO baseline VALUES ('pi_fixed', '{}') ON CONFLICT DO NOTHING")
        except asyncpg.UniqueViolationError:  # another process made it at the same moment
            pass
    yield
    await pool.close()


async def create(request):
    body = await request.body()
    key = "pi_" + uuid.uuid4().hex
    async with pool.acquire() as connection:
        await connection.execute("INSERT INTO baseline VALUES ($1, $2)", key, body.decode())
    return Response(b'{"id":"' + key.encode() + b'"}', media_type="application/json")


async def retrieve(request):
    async with pool.acquire() as connection:
        row = await connection.fetchrow("SELECT body FROM baseline WHERE id = $1", request.path_params["id"])
    return Response((row[0] if row else "{}").encode(), media_type="application/json")


async def healthz(request):
    return Response(b"{}", media_type="application/json")


app = Starlette(routes=[Route("/v1/payment_intents", create, methods=["POST"]),
                        Route("/v1/payment_intents/{id}", retrieve, methods=["GET"]),
                        Route("/healthz", healthz)], lifespan=lifespan)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), loop="uvloop", http="httptools",
                access_log=False, log_level="warning")
