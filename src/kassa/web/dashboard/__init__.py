"""The Dashboard: a merchant's console served by kassa itself (test mode under /dashboard/test/…,
live mode under /dashboard/…), calling the same services as the API."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from ...services.dashboard_reads import DashboardReads
from . import auth, developers, payments
from .common import security_headers, signed_in
from .search import search_sql

STATIC = Path(__file__).with_name("static")
_STATIC_FILES = {"dashboard.css": "text/css", "dashboard.js": "text/javascript"}

# (path below the mode's prefix, handler, methods)
PAGES = [
    ("/payments", payments.payments, ["GET"]),
    ("/payments/{intent_id}", payments.payment, ["GET"]),
    ("/payments/{intent_id}/refund", payments.refund, ["POST"]),
    ("/payments/{intent_id}/capture", payments.capture, ["POST"]),
    ("/payments/{intent_id}/cancel", payments.cancel, ["POST"]),
    ("/customers", developers.customers, ["GET"]),
    ("/events", developers.events, ["GET"]),
    ("/events/{event_id}", developers.event, ["GET"]),
    ("/events/{event_id}/resend", developers.resend, ["POST"]),
    ("/webhooks", developers.webhooks, ["GET"]),
    ("/webhooks", developers.create_endpoint, ["POST"]),
    ("/webhooks/{endpoint_id}", developers.endpoint, ["GET"]),
    ("/webhooks/{endpoint_id}/{action}", developers.endpoint_action, ["POST"]),
    ("/developers", developers.developers, ["GET"]),
    ("/developers/keys", developers.roll_key, ["POST"]),
    ("/settings", developers.settings, ["GET"]),
]


async def static(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in _STATIC_FILES:
        return Response("not found", 404, headers=security_headers())
    return FileResponse(STATIC / name, media_type=_STATIC_FILES[name],
                        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"})


async def home(request: Request) -> Response:
    return RedirectResponse("/dashboard/test/payments", 303)


def routes(services) -> list[Route]:
    services.dashboard_reads = DashboardReads(services.db, services.intents, search_sql)
    found = [Route("/dashboard", home, methods=["GET"]),
             Route("/dashboard/login", auth.login_form, methods=["GET"]),
             Route("/dashboard/login", auth.login, methods=["POST"]),
             Route("/dashboard/logout", auth.logout, methods=["POST"]),
             Route("/dashboard/static/{name}", static, methods=["GET"])]
    for prefix, livemode in (("/dashboard/test", False), ("/dashboard", True)):
        found += [Route(prefix + path, signed_in(handler, livemode=livemode), methods=methods)
                  for path, handler, methods in PAGES]
    found.append(Route("/dashboard/test", home, methods=["GET"]))
    return found
