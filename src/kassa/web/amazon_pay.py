"""Live Amazon Pay's doors into kassa: the checkout page, the buyer's return, and notifications.

``GET /amazon_pay/checkout/{token}``: where a live confirm sends the buyer (a PaymentIntent's, or a
SetupIntent's saving Amazon Pay with no payment: the same pages, served by ``LiveSetups``). The
page loads Amazon's ``checkout.js`` for the account's region and starts checkout at once with a
Create Checkout Session payload signed on the server; if the script cannot load it says so and
offers the way back. ``/amazon_pay/checkout/{token}/cancel`` (Amazon's ``checkoutCancelUrl``, and the page's own
button): the buyer gave up, the attempt fails as a decline does.

``GET /amazon_pay/return/{token}?amazonCheckoutSessionId=…``: Amazon sends the buyer back here
(``checkoutResultReturnUrl``). kassa checks the session is this attempt's, completes it, applies
the outcome and sends the buyer on to the merchant's ``return_url`` as in test mode (with
``setup_intent``, ``setup_intent_client_secret`` and ``redirect_status`` for a setup). Reloading, or
coming back twice, changes nothing twice; a session of another attempt changes nothing at all.

``POST /amazon_pay/notifications``: Instant Payment Notifications (SNS). The signature is checked,
then the object is read from Amazon's API before anything changes; the notification itself is
only a hint. Answers 200 once handled (or when there is nothing to do), 400 for a message that is
not authentic, 503 when Amazon could not be asked, so that SNS delivers it again.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

from markupsafe import Markup

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from ..domain import return_url as return_urls
from ..domain.errors import KassaError
from ..domain import money
from ..domain.ids import digest
from ..methods.amazon_pay.notifications import (
    MAX_BODY,
    CertificateUnavailable,
    NotificationError,
    NotificationVerifier,
    fetch_certificate_https,
)
from ..services.connectors import Connectors
from ..services.context import Caller
from ..services.live_payments import CANCEL_SUFFIX, NOT_FINISHED, AmazonPayError, LivePayments, SessionMismatch
from ..services.live_setups import LiveSetups, is_setup_attempt
from ..services.refunds import Refunds
from ..store import repo
from .elements import Asset
from .pages import html_page, outcome_url, security_headers, templates
from .setup_pages import outcome_url as setup_outcome_url

log = logging.getLogger("kassa.amazon_pay")
SESSION_ID = re.compile(r"^[A-Za-z0-9-]{1,255}$")
# Where Amazon's checkout.js loads from, frames and calls (every region's hosts).
AMAZON_SOURCES = ("https://*.payments-amazon.com", "https://*.amazon.com", "https://*.amazon.co.uk",
                  "https://*.amazon.de", "https://*.amazon.fr", "https://*.amazon.it", "https://*.amazon.es",
                  "https://*.amazon.eu", "https://*.amazon.co.jp", "https://*.media-amazon.com",
                  "https://*.ssl-images-amazon.com")
CLOSED_LIVE = {
    "succeeded": ("Payment done", "This payment was already completed."),
    "processing": ("Payment being confirmed", "Amazon Pay is still confirming this payment."),
    "failed": ("Payment failed", "This payment did not go through. Go back to the merchant to try again."),
    "expired": ("Payment window expired", "More than 10 minutes passed, so this payment can no longer go on. "
                "Go back to the merchant to try again."),
    "canceled": ("Payment page no longer valid",
                 "This payment was canceled or replaced by a newer attempt. Go back to the merchant to try again."),
}
CLOSED_SETUP = {
    "succeeded": ("Amazon Pay saved", "Amazon Pay was already saved for future payments."),
    "processing": ("Saving Amazon Pay", "Amazon Pay is still confirming this setup."),
    "failed": ("Setup failed", "Amazon Pay was not saved. Go back to the merchant to try again."),
    "expired": ("Setup window expired", "More than 10 minutes passed, so this setup can no longer go on. "
                "Go back to the merchant to try again."),
    "canceled": ("Setup page no longer valid",
                 "This setup was canceled or replaced by a newer attempt. Go back to the merchant to try again."),
}


def certificate_fetcher(directory: str | None):
    """SNS certificates from a directory (``KASSA_AMAZON_PAY_SNS_CERTIFICATES``), by file name, for
    hosts that cannot reach Amazon; over HTTPS otherwise."""
    if not directory:
        return fetch_certificate_https
    folder = Path(directory)

    async def from_directory(url: str) -> bytes:
        path = folder / url.rsplit("/", 1)[-1]
        try:
            return path.read_bytes()
        except OSError:
            raise CertificateUnavailable(f"no certificate {path.name} in {folder}") from None

    return from_directory


def routes(db, live: LivePayments, refunds: Refunds, connectors: Connectors, verifier: NotificationVerifier,
           public_url: str | None = None, setups: LiveSetups | None = None) -> list[Route]:
    checkout_js = Asset.load("amazon-pay-checkout.js", "text/javascript; charset=utf-8")

    def flow(attempt):
        """The service of an attempt and the way back to the merchant: a SetupIntent's, or a payment's."""
        if setups is not None and is_setup_attempt(attempt["id"]):
            return setups, setup_outcome_url, CLOSED_SETUP
        return live, outcome_url, CLOSED_LIVE

    async def find(request: Request):
        """The live attempt of the URL's token, its account and the caller acting for the buyer."""
        token = request.path_params["token"]

        async def read(tx):
            return await repo.authorization_and_account_by_token(tx, digest(token))

        found = await db.read(read)
        if found is None or not found[0]["livemode"]:
            return None
        attempt, account = found
        return attempt, account, Caller(account["id"], True, "system", account["country"], account["name"])

    def not_found() -> Response:
        return html_page("notice.html", 404, heading="Payment not found", merchant="", back_url=None,
                         message="This payment does not exist. Go back to the merchant to try again.")

    def unavailable(request: Request, account, origin: str | None) -> Response:
        """What the buyer sees when Amazon or the database cannot answer now: a page to try again
        (a 200: the buyer never sees a server error of kassa's)."""
        return html_page("notice.html", 200, origin, heading="Amazon Pay did not answer",
                         message="Your payment could not be confirmed with Amazon Pay yet. Nothing was "
                                 "charged twice: try again in a moment.",
                         retry_url=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
                         back_url=None, merchant=account["name"])

    def back_to_merchant(attempt, intent, outcome: str) -> Response:
        return RedirectResponse(flow(attempt)[1](attempt, intent, outcome), status_code=303,
                                headers=security_headers(return_urls.origin(attempt["return_url"])))

    async def checkout_page(request: Request) -> Response:
        found = await find(request)
        if found is None:
            return not_found()
        attempt, account, caller = found
        service, back, closed = flow(attempt)
        origin = return_urls.origin(attempt["return_url"])
        base_url = public_url or str(request.base_url).rstrip("/")
        try:
            checkout = await service.checkout(caller, attempt["id"], request.path_params["token"], base_url)
        except Exception as error:  # not set up, the database down: logged, the buyer may try again
            log.warning("cannot start the Amazon Pay checkout of attempt %s: %s", attempt["id"], error,
                        exc_info=not isinstance(error, KassaError))
            return unavailable(request, account, origin)
        if checkout.button is None:
            heading, message = closed.get(checkout.outcome, closed["canceled"])
            return html_page("notice.html", 200, origin, heading=heading, message=message, retry_url=None,
                             back_url=back(attempt, checkout.intent, checkout.outcome), merchant=account["name"])
        button = checkout.button
        button_json = json.dumps(button.page_config()).replace("<", "\\u003c").replace(">", "\\u003e") \
            .replace("&", "\\u0026")
        amount = None if service is setups else money.format_amount(checkout.intent.amount, checkout.intent.currency)
        page = templates.get_template("amazon_pay_checkout.html").render(
            merchant=account["name"], amount=amount,
            cancel_url=request.url.path + CANCEL_SUFFIX, button_json=Markup(button_json),
            checkout_js=button.script_url, page_js=f"/amazon_pay/checkout.js?v={checkout_js.version}")
        return HTMLResponse(page, headers=checkout_headers(button.script_url, origin))

    async def page_script(request: Request) -> Response:
        return checkout_js.response(request)

    async def give_up(request: Request) -> Response:
        found = await find(request)
        if found is None:
            return not_found()
        attempt, account, caller = found
        try:
            outcome, intent = await flow(attempt)[0].give_up(caller, attempt["id"])
        except Exception as error:
            log.warning("could not close attempt %s: %s", attempt["id"], error,
                        exc_info=not isinstance(error, KassaError))
            return unavailable(request, account, return_urls.origin(attempt["return_url"]))
        return back_to_merchant(attempt, intent, "failed" if outcome == "processing" else outcome)

    async def back_from_amazon(request: Request) -> Response:
        found = await find(request)
        if found is None:
            return not_found()
        attempt, account, caller = found
        service, back, _ = flow(attempt)
        origin = return_urls.origin(attempt["return_url"])
        session_id = request.query_params.get("amazonCheckoutSessionId", "")
        try:
            if not SESSION_ID.match(session_id):
                raise SessionMismatch(session_id)
            outcome, intent = await service.buyer_returned(caller, attempt["id"], session_id)
        except SessionMismatch:
            log.warning("attempt %s: the buyer came back with a Checkout Session that is not its own", attempt["id"])
            intent = await service.retrieve(caller, attempt["payment_intent"])
            what = "setup" if is_setup_attempt(attempt["id"]) else "payment"
            done = "nothing was saved" if what == "setup" else "nothing was charged"
            return html_page("notice.html", 400, origin, heading=f"This checkout is not this {what}'s",
                             message="Amazon Pay sent you back with a checkout that does not belong to this "
                                     f"{what}, so {done} for it.", retry_url=None,
                             back_url=back(attempt, intent, "failed"), merchant=account["name"])
        except AmazonPayError as error:
            if error.reason_code != NOT_FINISHED:
                log.warning("could not complete Amazon Pay checkout of attempt %s: %s", attempt["id"],
                            error.reason_code)
                return unavailable(request, account, origin)
            # back without finishing on Amazon's page: the attempt stays open
            return back_to_merchant(attempt, await service.retrieve(caller, attempt["payment_intent"]), "failed")
        except Exception:  # the database or a bug: logged, and the buyer may try again
            log.exception("could not finish attempt %s", attempt["id"])
            return unavailable(request, account, origin)
        return back_to_merchant(attempt, intent, outcome)

    async def notification(request: Request) -> Response:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return PlainTextResponse("notification too large", 413)
        try:
            note = await verifier.verify(body)
        except NotificationError as error:
            return PlainTextResponse(f"rejected: {error}", 400)
        except CertificateUnavailable:
            return PlainTextResponse("signing certificate unavailable; deliver again later", 503)
        try:
            handled = await handle(note)
        except (AmazonPayError, KassaError) as error:
            if isinstance(error, AmazonPayError) and error.reason_code == NOT_FINISHED:
                return PlainTextResponse("nothing to do yet", 200)
            log.warning("notification %s for %s %s not applied now: %s", note.message_id, note.object_type,
                        note.object_id, error)
            return PlainTextResponse("could not apply now; deliver again later", 503)
        return PlainTextResponse("ok" if handled else "nothing to do", 200)

    async def handle(note) -> bool:
        for account_id, connector in await connectors.of_merchant(note.merchant_id or ""):
            caller = Caller(account_id, True, "system")
            if note.object_type == "CHARGE":
                charge = await connector.client.get_charge(note.object_id)
                if charge.merchant_reference_id:
                    await live.reconcile(caller, charge.merchant_reference_id)
                    return True
            elif note.object_type == "CHARGE_PERMISSION":
                if await connector.permission_closed(note.object_id):
                    return await live.permission_closed(caller, note.object_id) > 0
            elif note.object_type == "REFUND":
                async def read(tx):
                    return await repo.refund_by_external_id(tx, note.object_id)

                row = await db.read(read)
                if row is not None and row["account_id"] == account_id:
                    await refunds.settle(caller, row["id"])
                    return True
        return False

    return [
        Route("/amazon_pay/checkout.js", page_script, methods=["GET"]),
        Route("/amazon_pay/checkout/{token}", checkout_page, methods=["GET"]),
        Route("/amazon_pay/checkout/{token}" + CANCEL_SUFFIX, give_up, methods=["GET", "POST"]),
        Route("/amazon_pay/return/{token}", back_from_amazon, methods=["GET"]),
        Route("/amazon_pay/notifications", notification, methods=["POST"]),
    ]


def checkout_headers(script_url: str, return_origin: str | None) -> dict[str, str]:
    """The hosted pages' headers, with Amazon's script, frames and calls allowed and nothing else."""
    script_origin = return_urls.origin(script_url) or ""
    amazon = " ".join([script_origin, *AMAZON_SOURCES]).strip()
    headers = security_headers(return_origin)
    form_action = "'self'" + (f" {return_origin}" if return_origin else "")
    headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'self' {amazon}; connect-src {amazon}; frame-src {amazon}; "
        f"img-src 'self' data: {amazon}; style-src 'unsafe-inline' {amazon}; font-src {amazon}; "
        f"form-action {form_action}; frame-ancestors 'none'; base-uri 'none'")
    return headers
