"""Payments: the list (status filter, search, keyset pages) and a payment (timeline, actions)."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.responses import Response

from ...domain.errors import InvalidRequest
from ...services import dashboard as dashboard_service
from ...wire import render
from .common import Page, parse_amount

REFUND_REASONS = ("requested_by_customer", "duplicate", "fraudulent")
CANCEL_REASONS = ("requested_by_customer", "duplicate", "fraudulent", "abandoned")


def _cursor(value: str | None) -> int | None:
    if not value:
        return None
    if not value.isdigit() or len(value) > 19:
        raise InvalidRequest("That page does not exist.")
    return int(value)


async def payments(page: Page) -> Response:
    services = page.request.app.state.services
    params = page.request.query_params
    status = params.get("status") or None
    query = (params.get("q") or "").strip()[:500]
    if dashboard_service.looks_like_id(query):
        found = await services.dashboard_reads.find_by_id(page.user, page.livemode, query)
        if found:
            return page.redirect(f"/payments/{found}")
        return page.render("payments.html", rows=[], next_url=None, status_filter=status, query=query,
                           statuses=STATUSES, error=f"No payment with the id {query} in this mode.")
    try:
        found = await services.dashboard_reads.payments(page.user, page.livemode, status=status, query=query,
                                                        after=_cursor(params.get("after")))
    except InvalidRequest as error:
        return page.render("payments.html", 400, rows=[], next_url=None, status_filter=status, query=query,
                           statuses=STATUSES, error=error.message)
    rows = [{"intent": intent, "charge": found["charges"].get(intent.latest_charge)} for intent in found["intents"]]
    next_url = None
    if found["next"] is not None:
        kept = {k: v for k, v in (("status", status), ("q", query)) if v}
        next_url = page.url("/payments?" + urlencode({**kept, "after": found["next"]}))
    return page.render("payments.html", rows=rows, next_url=next_url, status_filter=status, query=query,
                       statuses=STATUSES, paged=bool(params.get("after")))


STATUSES = ("succeeded", "requires_capture", "processing", "requires_action", "requires_payment_method",
            "requires_confirmation", "canceled")


async def _detail(page: Page, intent_id: str, status: int = 200, error: str | None = None,
                  notice: str | None = None) -> Response:
    services = page.request.app.state.services
    found = await services.dashboard_reads.payment(page.user, page.livemode, intent_id)
    intent = found["intent"]
    latest = next((c for c in found["charges"] if c.id == intent.latest_charge), None)
    charge = render.render(latest) if latest else None
    notice = notice or {"refunded": "Refund created.", "captured": "Payment captured.",
                        "canceled": "Payment canceled.", "already": "That form was sent already; nothing more was done."
                        }.get(page.request.query_params.get("done") or "")
    return page.render(
        "payment.html", status, intent=render.render(intent), intent_obj=intent, charge=charge,
        charges=[render.render(c) for c in found["charges"]], refunds=[render.render(r) for r in found["refunds"]],
        method=render.render(found["method"]) if found["method"] else None, events=found["events"],
        audit=found["audit"], refundable=(charge["amount_captured"] - charge["amount_refunded"]) if charge else 0,
        can_refund=dashboard_service.can_refund(intent, charge), can_capture=dashboard_service.can_capture(intent),
        can_cancel=dashboard_service.can_cancel(intent), refund_reasons=REFUND_REASONS,
        cancel_reasons=CANCEL_REASONS, error=error, notice=notice)


async def payment(page: Page) -> Response:
    return await _detail(page, page.request.path_params["intent_id"])


async def _action(page: Page, run, done: str) -> Response:
    intent_id = page.request.path_params["intent_id"]
    try:
        outcome = await run(intent_id)
    except dashboard_service.Forbidden:
        raise
    except InvalidRequest as error:
        return await _detail(page, intent_id, 400, error=error.message)
    return page.redirect(f"/payments/{intent_id}?done={'already' if outcome.status == 'already' else done}")


async def refund(page: Page) -> Response:
    services = page.request.app.state.services
    form = page.form

    async def run(intent_id: str):
        currency = await _currency(page, intent_id)
        reason = form.get("reason") or None
        if reason is not None and reason not in REFUND_REASONS:
            raise InvalidRequest("Choose a reason from the list.")
        return await services.dashboard.refund(page.user, page.livemode, intent_id,
                                               parse_amount(form.get("amount"), currency), reason,
                                               form.get("form_key", ""))

    return await _action(page, run, "refunded")


async def capture(page: Page) -> Response:
    services = page.request.app.state.services

    async def run(intent_id: str):
        currency = await _currency(page, intent_id)
        return await services.dashboard.capture(page.user, page.livemode, intent_id,
                                                parse_amount(page.form.get("amount"), currency),
                                                page.form.get("form_key", ""))

    return await _action(page, run, "captured")


async def cancel(page: Page) -> Response:
    services = page.request.app.state.services

    async def run(intent_id: str):
        reason = page.form.get("reason") or None
        if reason is not None and reason not in CANCEL_REASONS:
            raise InvalidRequest("Choose a reason from the list.")
        return await services.dashboard.cancel(page.user, page.livemode, intent_id, reason,
                                               page.form.get("form_key", ""))

    return await _action(page, run, "canceled")


async def _currency(page: Page, intent_id: str) -> str:
    services = page.request.app.state.services
    found = await services.dashboard_reads.payment(page.user, page.livemode, intent_id)
    return found["intent"].currency
