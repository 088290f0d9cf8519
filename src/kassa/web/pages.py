"""Hosted pages: the test-mode Amazon Pay authorization page (plain HTML forms, no script)."""

from __future__ import annotations

import time
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from ..domain import money
from ..domain import return_url as return_urls
from ..domain.ids import digest
from ..methods.card import three_d_secure
from ..services import client_secrets
from ..services.context import Caller
from ..services.payment_intents import PaymentIntents
from ..store import repo
from ..wire.forms import FormError, parse_pairs

templates = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")),
                        autoescape=select_autoescape(["html"]))

REDIRECT_STATUS = {"succeeded": "succeeded", "processing": "processing", "failed": "failed", "expired": "failed",
                   "canceled": "failed"}
CLOSED = {
    "succeeded": ("Payment authorized", "This test payment was already authorized."),
    "failed": ("Payment failed", "This test payment was declined."),
    "expired": ("Authorization window expired",
                "More than 10 minutes passed since you were sent here, so this payment can no longer be "
                "authorized. Go back to the merchant to try again."),
    "canceled": ("Payment page no longer valid",
                 "This payment was canceled or replaced by a newer attempt. Go back to the merchant to try again."),
}


def security_headers(return_origin: str | None = None) -> dict[str, str]:
    """Strict headers for a hosted page: no scripts, no framing, forms only to kassa (and the
    merchant's origin, where the 303 after a form goes)."""
    form_action = "'self'" + (f" {return_origin}" if return_origin else "")
    return {
        "Content-Security-Policy": f"default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                                   f"form-action {form_action}; frame-ancestors 'none'; base-uri 'none'",
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }


def html_page(template: str, status: int = 200, return_origin: str | None = None, **context) -> HTMLResponse:
    return HTMLResponse(templates.get_template(template).render(**context), status,
                        headers=security_headers(return_origin))


async def read_decision(request: Request, limit: int = 4096) -> str | None:
    """The ``decision`` field of a hosted page's form (the body read up to `limit` bytes); None
    when it is missing or the body is not a form."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            break
    try:
        return dict(parse_pairs(body[:limit])).get("decision")
    except FormError:
        return None


def minutes_left(attempt, account) -> int:
    """Whole minutes (at least one) until the attempt's window ends, by the account's test clock."""
    now = int(time.time()) + (0 if attempt["livemode"] else account["test_clock_offset"])
    return max(1, (attempt["deadline"] - now + 59) // 60)


def outcome_url(attempt, intent, outcome: str) -> str:
    return return_urls.with_outcome(attempt["return_url"], {
        "payment_intent": intent.id,
        "payment_intent_client_secret": client_secrets.current().shown(intent),
        "redirect_status": REDIRECT_STATUS[outcome],
    })


def routes(db, intents: PaymentIntents) -> list[Route]:
    async def find(token: str):
        async def read(tx):
            found = await repo.authorization_and_account_by_token(tx, digest(token))
            if found is None or found[0]["livemode"]:  # a live attempt is decided by Amazon Pay only
                return None
            if three_d_secure.is_attempt(found[0]["id"]):  # a card's 3D Secure attempt has its own page
                return None
            if not found[0]["payment_intent"].startswith("pi_"):  # a SetupIntent's attempt: web/setup_pages
                return None
            return found

        return await db.read(read)

    def not_found() -> Response:
        return html_page("test_closed.html", 404, heading="Payment page not found",
                     message="This payment page does not exist. Go back to the merchant to try again.",
                     back_url=None, merchant="")

    async def show(request: Request) -> Response:
        found = await find(request.path_params["token"])
        if found is None:
            return not_found()
        attempt, account = found
        caller = Caller(account["id"], bool(attempt["livemode"]), "system", account["country"], account["name"])
        intent = await intents.retrieve(caller, attempt["payment_intent"])  # applies an ended window
        found = await find(request.path_params["token"])
        attempt = found[0]
        origin = return_urls.origin(attempt["return_url"])
        if attempt["outcome"] is not None:
            heading, message = CLOSED[attempt["outcome"]]
            return html_page("test_closed.html", 200, origin, heading=heading, message=message,
                         back_url=outcome_url(attempt, intent, attempt["outcome"]), merchant=account["name"])
        return html_page("test_authorize.html", 200, origin, merchant=account["name"],
                     amount=money.format_amount(intent.amount, intent.currency),
                     action=request.url.path, minutes_left=minutes_left(attempt, account))

    async def decide(request: Request) -> Response:
        found = await find(request.path_params["token"])
        if found is None:
            return not_found()
        attempt, account = found
        decision = await read_decision(request)
        if decision not in ("authorize", "fail"):
            return html_page("test_closed.html", 400, heading="Unknown choice",
                         message="Choose Authorize test payment or Fail test payment.", back_url=None,
                         merchant=account["name"])
        caller = Caller(account["id"], bool(attempt["livemode"]), "system", account["country"], account["name"])
        outcome, intent = await intents.decide(caller, attempt["id"], attempt["payment_intent"], decision)
        return RedirectResponse(outcome_url(attempt, intent, outcome), status_code=303,
                                headers=security_headers(return_urls.origin(attempt["return_url"])))

    return [
        Route("/amazon_pay/test/{token}", show, methods=["GET"]),
        Route("/amazon_pay/test/{token}", decide, methods=["POST"]),
    ]
