"""Builds the ASGI application: the database, the services, the routes, the background sweep."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hmac
import os

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import metrics
from .config import Settings
from .domain.charge import Charge
from .domain.errors import InvalidRequest
from .domain.ids import random_base62
from .domain.payment_method import PaymentMethod
from .domain.refund import Refund
from .methods.amazon_pay.notifications import NotificationVerifier
from .methods.amazon_pay.test_mode import TestModeAmazonPay
from .methods.card.test_mode import TestModeCards
from .services import client_secrets
from .services.card_payments import CardPayments
from .services.customers import Customers
from .services.saved_methods import SavedMethods
from .services.setup_intents import SetupIntents
from .services.connectors import Connectors, live_factory
from .services.objects import Objects, PaymentMethods
from .services.live_payments import LivePayments
from .services.live_setups import LiveSetups
from .services.payment_intents import PaymentIntents
from .services.refunds import Refunds
from .services.unit import Runner
from .store import repo
from .store.database import Database, open_database
from .web import amazon_pay, elements, pages, setup_pages, three_d_secure
from .wire import expand
from .wire import render as render_module
from .wire import access_log, rate_limit
from .wire.api import Api, error_response, json_response
from .wire.router import ApiRouter
from .services.events import Events, WebhookEndpoints
from .services.dashboard import Dashboard
from .services.request_logs import RequestLogs
from .web import dashboard
from .wire.routes import customers, events, mandates, objects, payment_intents, setup_intents, test_helpers
from .workers.sweeper import Sweeper
from .workers.webhooks import WebhookWorker


class Services:
    """Everything the routes and workers call, built once per process."""

    def __init__(self, db: Database, settings: Settings):
        self.db = db
        self.settings = settings
        self.runner = Runner(db, render_module.render, render_module.previous_attributes)
        live = live_factory(settings.amazon_pay_api_base, checkout_js_url=settings.amazon_pay_checkout_js_url)
        self.connectors = Connectors(db, TestModeAmazonPay(), live, poll_seconds=settings.amazon_pay_poll_seconds)
        self.intents = PaymentIntents(self.runner, self.connectors)
        self.live = LivePayments(self.intents)
        self.refunds = Refunds(self.runner, self.connectors)
        self.notifications = NotificationVerifier(amazon_pay.certificate_fetcher(settings.sns_certificate_dir))
        self.methods = PaymentMethods(self.runner, "payment_methods", PaymentMethod, "payment_method",
                                      "payment_method")
        self._add_cards()
        self._add_saved_methods()
        self.charges = Objects(self.runner, "charges", Charge, "charge", "charge")
        self.refund_objects = Objects(self.runner, "refunds", Refund, "refund", "refund")
        interval = float(os.environ.get("KASSA_SWEEP_INTERVAL", "1.0"))
        self.sweeper = Sweeper(db, self.intents, self.refunds, self.live, interval=interval)
        self.events = Events(db)
        self.endpoints = WebhookEndpoints(self.runner, allow_private=settings.webhook_allow_private)
        self.webhooks = WebhookWorker(db, retry_base_seconds=settings.webhook_retry_base,
                                      timeout=settings.webhook_timeout, interval=interval,
                                      allow_private=settings.webhook_allow_private)
        self.runner.on_deliveries = self.webhooks.wake
        self.request_logs = RequestLogs(db)
        self.dashboard = Dashboard(db, self.intents, self.refunds, self.endpoints, self.webhooks.wake)
        self._register_expanders()

    def _add_cards(self) -> None:
        """Cards (test mode): one connector, used by payment methods, intents and refunds."""
        key = os.environ.get("KASSA_CARD_FINGERPRINT_KEY")
        connector = TestModeCards(key.encode() if key else None)
        self.cards = CardPayments(self.runner, connector)
        self.cards.intents = self.intents
        self.intents.cards = self.methods.cards = self.cards
        self.refunds.cards = connector

    def _add_saved_methods(self) -> None:
        """Customers, saved methods, SetupIntents and mandates (off-session payments go through intents)."""
        self.saving = SavedMethods(self.runner)
        self.intents.saving = self.cards.saving = self.saving
        self.customers = Customers(self.runner, self.saving)
        self.setups = SetupIntents(self.runner, self.connectors, self.saving)
        self.live_setups = LiveSetups(self.setups, self.live)  # the sweep reaches it through self.live
        self.customers.cards = self.setups.cards = self.cards
        self.mandates = mandates.mandate_objects(self.runner)

    def _register_expanders(self) -> None:
        def loader(service):
            async def load(tx, caller, object_id):
                found = await service.load(tx, caller, object_id)
                return render_module.render(found) if found is not None else None
            return load

        async def load_intent(tx, caller, intent_id):
            found = await repo.get_intent(tx, caller.account_id, caller.livemode, intent_id)
            return render_module.render(found) if found is not None else None

        expand.LOADERS.update({"pm": loader(self.methods), "ch": loader(self.charges),
                               "re": loader(self.refund_objects), "pi": load_intent,
                               "cus": loader(self.customers), "seti": loader(self.setups),
                               "mandate": loader(self.mandates)})
        expand.EXPANDABLE.update({
            "setup_intent": frozenset({"customer", "payment_method", "mandate", "latest_attempt", "application",
                                       "on_behalf_of", "single_use_mandate"}),
            "mandate": frozenset({"payment_method"})})


def _each(observers: list):
    """One observer of answered API requests that tells each of `observers` (None for none)."""
    if not observers:
        return None
    if len(observers) == 1:
        return observers[0]

    def tell(request, response, started: float) -> None:
        for observer in observers:
            observer(request, response, started)

    return tell


def api_table(services: Services, settings: Settings) -> list[tuple[str, str, object]]:
    """(path, method, endpoint) of every /v1 call."""
    observers = []
    if os.environ.get("KASSA_API_REQUEST_LOG", "on").lower() != "off":  # Developers → Logs
        observers.append(services.request_logs.record)
    if settings.access_log:
        access_log.enable()
        observers.append(access_log.record)
    if settings.metrics:
        observers.append(metrics.observe)
    api = Api(services.db, request_log=_each(observers), rate_limiter=rate_limit.from_setting(settings.rate_limit))
    return (payment_intents.routes(api, services.intents, settings.public_url)
            + objects.routes(api, services.methods, services.charges, services.refund_objects, services.refunds)
            + test_helpers.routes(api, services.sweeper.sweep)
            + customers.routes(api, services.customers, services.methods)
            + setup_intents.routes(api, services.setups, settings.public_url)
            + mandates.routes(api, services.mandates)
            + events.routes(api, services.events, services.endpoints))


def build_routes(services: Services) -> list[Route]:
    """Everything that is not a /v1 call: health, CORS preflight, hosted pages, kassa.js."""
    db = services.db
    routes = []

    async def healthz(request: Request) -> Response:
        async def read(tx):
            return await tx.one("SELECT 1 AS ok")

        await db.read(read)
        return json_response(b'{"status":"ok"}', 200, "req_" + random_base62(14))

    routes.append(Route("/healthz", healthz, methods=["GET"]))
    if services.settings.metrics:
        routes.append(Route("/metrics", metrics_endpoint(db, services.settings.metrics_token), methods=["GET"]))
    routes.append(Route("/v1/{path:path}", preflight, methods=["OPTIONS"]))
    routes += pages.routes(db, services.intents)
    routes += three_d_secure.routes(db, services.intents, services.cards)
    routes += setup_pages.routes(db, services.setups)
    routes += amazon_pay.routes(db, services.live, services.refunds, services.connectors, services.notifications,
                                services.settings.public_url, services.live_setups)
    routes += elements.routes()
    routes += dashboard.routes(services)
    return routes


def metrics_endpoint(db: Database, token: str | None):
    """``GET /metrics``: to loopback, or to anyone with ``Authorization: Bearer $KASSA_METRICS_TOKEN``."""
    expected = f"Bearer {token}".encode() if token else None

    async def endpoint(request: Request) -> Response:
        given = request.headers.get("authorization", "").encode()
        local = request.client is not None and request.client.host in ("127.0.0.1", "::1")
        if not local and not (expected and hmac.compare_digest(given, expected)):
            return Response("metrics are served to loopback, or with the metrics token\n", 403,
                            media_type="text/plain")
        return Response(await metrics.exposition(db), media_type="text/plain; version=0.0.4; charset=utf-8",
                        headers={"Cache-Control": "no-store"})

    return endpoint


async def preflight(request: Request) -> Response:
    """CORS preflight: browsers call the API from merchants' pages (publishable key and client
    secret), as with Stripe, from any origin and without cookies. Every API answer carries
    ``Access-Control-Allow-Origin: *`` (see wire.api.json_response)."""
    return Response(status_code=204, headers={
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": "GET, POST, DELETE",
        "Access-Control-Allow-Headers": "Authorization, Content-Type, Idempotency-Key, Stripe-Version",
        "Access-Control-Max-Age": "600",
    })


async def _not_found(request: Request, exc: HTTPException) -> Response:
    request_id = "req_" + random_base62(14)
    error = InvalidRequest(f"Unrecognized request URL ({request.method}: {request.url.path}).")
    response = error_response(error, request_id)
    response.status_code = exc.status_code if exc.status_code in (404, 405) else 400
    return response


def create_app(settings: Settings | None = None) -> ApiRouter:
    """The kassa ASGI app (a factory, so that each worker process builds its own): the API's own
    router in front, the Starlette app (pages, scripts, lifespan) behind it."""
    settings = settings or Settings.from_env()
    client_secrets.set_up(settings.database_url)  # the key they are derived from (they are never kept)
    db = open_database(settings.database_url, durable=settings.durable, pool_size=settings.database_pool_size)
    services = Services(db, settings)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        # Long-lived start-up objects leave the collector's view, and collections come less often:
        # a full collection over a large heap is a latency spike for every request in flight.
        gc.collect()
        gc.freeze()
        gc.set_threshold(20_000, 20, 20)
        workers = [asyncio.create_task(services.sweeper.run_forever()),
                   asyncio.create_task(services.webhooks.run_forever()),
                   asyncio.create_task(services.request_logs.run_forever())]
        try:
            yield
        finally:
            for task in workers:
                task.cancel()
            for task in workers:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            with contextlib.suppress(Exception):
                await services.request_logs.flush()
            await services.webhooks.close()
            await services.connectors.aclose()
            await db.close()

    app = Starlette(routes=build_routes(services), lifespan=lifespan,
                    exception_handlers={HTTPException: _not_found})
    app.router.redirect_slashes = False  # a stray slash is a Stripe-style 404, never a redirect
    app.state.services = services
    # The test page's buttons (a request of every flow) skip Starlette's middleware stack.
    buttons = [route for route in app.routes if isinstance(route, Route) and route.path.startswith("/amazon_pay/test/")
               and "POST" in (route.methods or ())]
    return ApiRouter(api_table(services, settings), fallback=app, direct=buttons)
