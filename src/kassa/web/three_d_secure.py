"""The test-mode 3D Secure page: the buyer completes or fails authentication (plain HTML forms).

Reached by a redirect (``next_action.redirect_to_url``) and then back to the merchant's return_url
with a 303, or opened by kassa.js (``use_stripe_sdk``), in which case it ends on a small page that
tells its opener (or parent frame) that it is done and may be closed; the merchant's page then
reads the intent. Tokens are one-time and stored hashed, as for the Amazon Pay test page.
"""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from ..domain import money
from ..domain import return_url as return_urls
from ..domain.ids import digest
from ..domain.payment_method import PaymentMethod
from ..methods.card import three_d_secure
from ..services.card_payments import CardPayments
from ..services.context import Caller
from ..services.payment_intents import PaymentIntents
from ..store import repo
from .pages import html_page, minutes_left, outcome_url, read_decision, security_headers, templates

CLOSED = {
    "succeeded": ("Authentication complete", "This payment was authenticated."),
    "failed": ("Authentication finished", "This payment was not completed."),
    "expired": ("Authentication window expired",
                "More than 10 minutes passed since this page was opened, so this payment can no longer be "
                "authenticated. Go back to the merchant to try again."),
    "canceled": ("Authentication page no longer valid",
                 "This payment was canceled or replaced by a newer attempt. Go back to the merchant to try again."),
}


def _headers(attempt, nonce: str | None = None) -> dict[str, str]:
    """The hosted page's strict headers. A page opened by kassa.js (no return_url) may be shown in
    a frame of the merchant's page, as Stripe.js shows its 3D Secure frame: it moves no money
    (test mode only) and says only that authentication ended."""
    return_url = attempt["return_url"]
    headers = security_headers(return_urls.origin(return_url) if return_url else None)
    if not return_url:
        policy = headers["Content-Security-Policy"].replace("frame-ancestors 'none'", "frame-ancestors *")
        if nonce:
            policy += f"; script-src 'nonce-{nonce}'"
        headers["Content-Security-Policy"] = policy
        del headers["X-Frame-Options"]
    return headers


def routes(db, intents: PaymentIntents, cards: CardPayments) -> list[Route]:
    async def find(token: str):
        async def read(tx):
            found = await repo.authorization_and_account_by_token(tx, digest(token))
            if found is None or found[0]["livemode"] or not three_d_secure.is_attempt(found[0]["id"]):
                return None
            return found

        return await db.read(read)

    def not_found() -> Response:
        return html_page("test_closed.html", 404, heading="Authentication page not found",
                         message="This authentication page does not exist. Go back to the merchant to try again.",
                         back_url=None, merchant="")

    def caller_of(attempt, account) -> Caller:
        return Caller(account["id"], False, "system", account["country"], account["name"])

    async def show(request: Request) -> Response:
        found = await find(request.path_params["token"])
        if found is None:
            return not_found()
        attempt, account = found
        intent = await intents.retrieve(caller_of(attempt, account), attempt["payment_intent"])  # ends a window
        attempt = (await find(request.path_params["token"]))[0]
        if attempt["outcome"] is not None:
            return _closed(attempt, account, intent)
        method = await _method(db, account["id"], intent.payment_method)
        card = (method.card if method is not None else None) or {}
        return _page("three_d_secure.html", attempt, merchant=account["name"],
                     amount=money.format_amount(intent.amount, intent.currency),
                     brand=_BRANDS.get(card.get("brand"), "Card"), last4=card.get("last4", "••••"),
                     action=request.url.path, minutes_left=minutes_left(attempt, account))

    async def decide(request: Request) -> Response:
        found = await find(request.path_params["token"])
        if found is None:
            return not_found()
        attempt, account = found
        decision = await read_decision(request)
        if decision not in ("complete", "fail"):
            return html_page("test_closed.html", 400, heading="Unknown choice",
                             message="Choose Complete authentication or Fail authentication.", back_url=None,
                             merchant=account["name"])
        outcome, intent = await cards.authenticate(caller_of(attempt, account), attempt["id"],
                                                   attempt["payment_intent"], decision)
        if attempt["return_url"]:
            return RedirectResponse(outcome_url(attempt, intent, outcome), status_code=303,
                                    headers=_headers(attempt))
        return RedirectResponse(request.url.path, status_code=303, headers=_headers(attempt))  # the end page

    return [
        Route(three_d_secure.PAGE_PATH + "{token}", show, methods=["GET"]),
        Route(three_d_secure.PAGE_PATH + "{token}", decide, methods=["POST"]),
    ]


_BRANDS = {"visa": "Visa", "mastercard": "Mastercard", "amex": "American Express", "discover": "Discover",
           "diners": "Diners Club", "jcb": "JCB", "unionpay": "UnionPay"}


def _closed(attempt, account, intent) -> Response:
    heading, message = CLOSED[attempt["outcome"]]
    if attempt["return_url"]:
        return _page("test_closed.html", attempt, heading=heading, message=message,
                     back_url=outcome_url(attempt, intent, attempt["outcome"]), merchant=account["name"])
    nonce = secrets.token_urlsafe(16)
    return _page("three_d_secure_done.html", attempt, nonce, heading=heading, message=message)


def _page(template: str, attempt, nonce: str | None = None, **context) -> HTMLResponse:
    return HTMLResponse(templates.get_template(template).render(nonce=nonce, **context), 200,
                        headers=_headers(attempt, nonce))


async def _method(db, account_id: str, method_id: str | None) -> PaymentMethod | None:
    if not method_id:
        return None

    async def read(tx):
        return await repo.get_object(tx, "payment_methods", PaymentMethod, account_id, False, method_id)

    return await db.read(read)
