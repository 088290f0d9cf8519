"""Live Amazon Pay's two doors into kassa: the buyer's return, and Amazon's notifications.

``GET /amazon_pay/return/{token}``: Amazon sends the buyer back here (``checkoutResultReturnUrl``).
kassa completes the Checkout Session, applies the outcome, and sends the buyer on to the merchant's
``return_url`` as in test mode. Reloading, or coming back twice, changes nothing twice.

``POST /amazon_pay/notifications``: Instant Payment Notifications (SNS). The signature is checked,
then the object is read from Amazon's API before anything changes; the notification itself is
only a hint. Answers 200 once handled (or when there is nothing to do), 400 for a message that is
not authentic, 503 when Amazon could not be asked, so that SNS delivers it again.
"""

from __future__ import annotations

import logging
from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from ..domain import return_url as return_urls
from ..domain.errors import KassaError
from ..domain.ids import digest
from ..methods.amazon_pay.live import AmazonPayError
from ..methods.amazon_pay.notifications import (
    MAX_BODY,
    CertificateUnavailable,
    NotificationError,
    NotificationVerifier,
    fetch_certificate_https,
)
from ..services.connectors import Connectors
from ..services.context import Caller
from ..services.payment_intents import PaymentIntents
from ..services.refunds import Refunds
from ..store import repo
from .pages import html_page, outcome_url, security_headers

log = logging.getLogger("kassa.amazon_pay")
NOT_FINISHED = "InvalidCheckoutSessionStatus"  # the buyer has not finished on Amazon's page


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


def routes(db, intents: PaymentIntents, refunds: Refunds, connectors: Connectors,
           verifier: NotificationVerifier) -> list[Route]:
    async def find(token: str):
        async def read(tx):
            found = await repo.authorization_and_account_by_token(tx, digest(token))
            if found is None or not found[0]["livemode"]:
                return None
            return found

        return await db.read(read)

    async def back_from_amazon(request: Request) -> Response:
        found = await find(request.path_params["token"])
        if found is None:
            return html_page("notice.html", 404, heading="Payment not found", merchant="", back_url=None,
                             message="This payment does not exist. Go back to the merchant to try again.")
        attempt, account = found
        caller = Caller(account["id"], True, "system", account["country"], account["name"])
        origin = return_urls.origin(attempt["return_url"])
        try:
            outcome, intent = await intents.finish(caller, attempt["id"])
        except AmazonPayError as error:
            if error.reason_code != NOT_FINISHED:
                log.warning("could not complete Amazon Pay checkout of attempt %s: %s", attempt["id"],
                            error.reason_code)
                return html_page("notice.html", 503, origin, heading="Amazon Pay did not answer",
                                 message="Your payment could not be confirmed with Amazon Pay yet. Nothing was "
                                         "charged twice: try again in a moment.",
                                 retry_url=request.url.path, back_url=None, merchant=account["name"])
            outcome, intent = "failed", None
        except KassaError as error:
            log.warning("could not finish attempt %s: %s", attempt["id"], error)
            return html_page("notice.html", 503, origin, heading="Payment not confirmed yet",
                             message="Your payment could not be confirmed yet: try again in a moment.",
                             retry_url=request.url.path, back_url=None, merchant=account["name"])
        if intent is None:  # back without finishing on Amazon's page: the attempt stays open
            intent = await intents.retrieve(caller, attempt["payment_intent"])
        return RedirectResponse(outcome_url(attempt, intent, outcome), status_code=303,
                                headers=security_headers(origin))

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
                    await intents.reconcile(caller, charge.merchant_reference_id)
                    return True
            elif note.object_type == "REFUND":
                async def read(tx):
                    return await repo.refund_by_external_id(tx, note.object_id)

                row = await db.read(read)
                if row is not None and row["account_id"] == account_id:
                    await refunds.settle(caller, row["id"])
                    return True
        return False

    return [
        Route("/amazon_pay/return/{token}", back_from_amazon, methods=["GET"]),
        Route("/amazon_pay/notifications", notification, methods=["POST"]),
    ]
