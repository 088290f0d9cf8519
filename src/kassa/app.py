"""Builds the ASGI application: the database, the services, the routes and their error pages."""

from __future__ import annotations

import contextlib

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .config import Settings
from .domain.errors import InvalidRequest
from .domain.ids import random_base62
from .services.payment_intents import PaymentIntents
from .services.unit import Runner
from .store.database import Database, open_database
from .wire import render as render_module
from .wire.api import Api, error_response, json_response
from .wire.routes import payment_intents


def build_routes(db: Database) -> list[Route]:
    api = Api(db)
    runner = Runner(db, render_module.render, render_module.previous_attributes)
    table = payment_intents.routes(api, PaymentIntents(runner))
    routes = [Route(path, endpoint, methods=[method]) for path, method, endpoint in table]

    async def healthz(request: Request) -> Response:
        async def read(tx):
            return await tx.one("SELECT 1 AS ok")

        await db.read(read)
        return json_response(b'{"status":"ok"}', 200, "req_" + random_base62(14))

    routes.append(Route("/healthz", healthz, methods=["GET"]))
    return routes


async def _not_found(request: Request, exc: HTTPException) -> Response:
    request_id = "req_" + random_base62(14)
    if exc.status_code == 405:
        error = InvalidRequest(f"Unrecognized request URL ({request.method}: {request.url.path}). "
                               "This URL does not take this method.")
        response = error_response(error, request_id)
        response.status_code = 405
        return response
    error = InvalidRequest(f"Unrecognized request URL ({request.method}: {request.url.path}).")
    response = error_response(error, request_id)
    response.status_code = exc.status_code
    return response


def create_app(settings: Settings | None = None) -> Starlette:
    """The kassa ASGI app (a factory, so that each worker process builds its own)."""
    settings = settings or Settings.from_env()
    db = open_database(settings.database_url, durable=settings.durable)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        try:
            yield
        finally:
            await db.close()

    app = Starlette(routes=build_routes(db), lifespan=lifespan,
                    exception_handlers={HTTPException: _not_found})
    app.state.db = db
    return app


__all__ = ["create_app"]
