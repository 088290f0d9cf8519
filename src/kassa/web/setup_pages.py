"""Test-mode pages of a SetupIntent: Amazon Pay's approval of future payments, and 3D Secure for a
card being saved (plain HTML forms, as the payment pages). Each ends back at the merchant's
return_url with ``setup_intent``, ``setup_intent_client_secret`` and ``redirect_status``, or, opened
by kassa.js without a return_url, on the page that tells its opener it is done."""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..domain import return_url as return_urls
from ..domain.ids import digest
from ..methods.amazon_pay.test_mode import SETUP_PAGE_PATH
from ..services import client_secrets
from ..services.context import Caller
from ..services.setup_intents import THREE_D_SECURE_PATH, SetupIntents, is_setup_attempt
from ..store import customers_repo
from ..store import repo
from .pages import REDIRECT_STATUS, html_page, minutes_left, read_decision
from .three_d_secure import _BRANDS, _headers, _page  # noqa: PLC2701 - the same headers as payments' 3D Secure

CLOSED = {
    "succeeded": ("Setup authorized", "This payment method was already saved."),
    "failed": ("Setup failed", "Saving this payment method was refused."),
    "expired": ("Setup window expired", "More than 10 minutes passed since you were sent here. Go back to the "
                                        "merchant to try again."),
    "canceled": ("Setup page no longer valid", "This setup was canceled or replaced by a newer attempt. Go back to "
                                               "the merchant to try again."),
}


def outcome_url(attempt, setup, outcome: str) -> str:
    return return_urls.with_outcome(attempt["return_url"], {
        "setup_intent": setup.id, "setup_intent_client_secret": client_secrets.current().shown(setup),
        "redirect_status": REDIRECT_STATUS[outcome]})


def routes(db, setups: SetupIntents) -> list[Route]:
    async def find(token: str):
        async def read(tx):
            found = await repo.authorization_and_account_by_token(tx, digest(token))
            if found is None or found[0]["livemode"] or not is_setup_attempt(found[0]["id"]):
                return None
            return found

        return await db.read(read)

    def caller_of(account) -> Caller:
        return Caller(account["id"], False, "system", account["country"], account["name"])

    def not_found() -> Response:
        return html_page("test_closed.html", 404, heading="Setup page not found",
                         message="This page does not exist. Go back to the merchant to try again.",
                         back_url=None, merchant="")

    async def show(request: Request, template: str) -> Response:
        found = await find(request.path_params["token"])
        if found is None:
            return not_found()
        attempt, account = found
        setup = await setups.retrieve(caller_of(account), attempt["payment_intent"])
        if attempt["outcome"] is not None:
            return _closed(attempt, account, setup)
        card = {}
        if template == "setup_three_d_secure.html":
            async def read(tx):
                return await customers_repo.get_method(tx, account["id"], False, setup.payment_method or "")

            method = await db.read(read)
            card = (method.card if method is not None else None) or {}
        return _page(template, attempt, merchant=account["name"], action=request.url.path,
                     minutes_left=minutes_left(attempt, account), brand=_BRANDS.get(card.get("brand"), "Card"),
                     last4=card.get("last4", "••••"))

    async def decide(request: Request, choices: tuple[str, str]) -> Response:
        found = await find(request.path_params["token"])
        if found is None:
            return not_found()
        attempt, account = found
        decision = await read_decision(request)
        if decision not in choices:
            return html_page("test_closed.html", 400, heading="Unknown choice", message="Choose one of the buttons.",
                             back_url=None, merchant=account["name"])
        outcome, setup = await setups.decide(caller_of(account), attempt["id"], attempt["payment_intent"], decision)
        if attempt["return_url"]:
            return RedirectResponse(outcome_url(attempt, setup, outcome), status_code=303, headers=_headers(attempt))
        return RedirectResponse(request.url.path, status_code=303, headers=_headers(attempt))

    async def show_amazon_pay(request: Request) -> Response:
        return await show(request, "test_setup.html")

    async def decide_amazon_pay(request: Request) -> Response:
        return await decide(request, ("authorize", "fail"))

    async def show_card(request: Request) -> Response:
        return await show(request, "setup_three_d_secure.html")

    async def decide_card(request: Request) -> Response:
        return await decide(request, ("complete", "fail"))

    return [
        Route(SETUP_PAGE_PATH + "{token}", show_amazon_pay, methods=["GET"]),
        Route(SETUP_PAGE_PATH + "{token}", decide_amazon_pay, methods=["POST"]),
        Route(THREE_D_SECURE_PATH + "{token}", show_card, methods=["GET"]),
        Route(THREE_D_SECURE_PATH + "{token}", decide_card, methods=["POST"]),
    ]


def _closed(attempt, account, setup) -> Response:
    heading, message = CLOSED[attempt["outcome"]]
    if attempt["return_url"]:
        return _page("test_closed.html", attempt, heading=heading, message=message,
                     back_url=outcome_url(attempt, setup, attempt["outcome"]), merchant=account["name"])
    return _page("three_d_secure_done.html", attempt, secrets.token_urlsafe(16), heading=heading, message=message)
