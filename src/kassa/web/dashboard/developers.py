"""Events, webhooks, Developers (keys and request logs), Settings, Customers."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.responses import Response

from ...domain.errors import InvalidRequest
from ...services.context import Caller
from .common import Page
from .payments import _cursor

EVENT_TYPES = ("payment_intent.created", "payment_intent.succeeded", "payment_intent.payment_failed",
               "payment_intent.canceled", "payment_intent.amount_capturable_updated", "payment_intent.requires_action",
               "charge.succeeded", "charge.captured", "charge.refunded", "charge.expired", "refund.created",
               "refund.updated", "refund.failed", "payment_method.attached", "payment_method.detached")


async def events(page: Page) -> Response:
    reads = page.request.app.state.services.dashboard_reads
    event_type = page.request.query_params.get("type") or None
    found = await reads.events(page.user, page.livemode, event_type=event_type,
                               after=_cursor(page.request.query_params.get("after")))
    next_url = None
    if found["next"] is not None:
        next_url = page.url("/events?" + urlencode({**({"type": event_type} if event_type else {}),
                                                    "after": found["next"]}))
    return page.render("events.html", events=found["events"], next_url=next_url, event_type=event_type,
                       event_types=EVENT_TYPES)


async def event(page: Page, status: int = 200, error: str | None = None) -> Response:
    reads = page.request.app.state.services.dashboard_reads
    event_id = page.request.path_params["event_id"]
    found = await reads.event(page.user, page.livemode, event_id)
    if found is None:
        return page.render("message.html", 404, title="Not found", message=f"No event {event_id} in this mode.")
    notice = "Queued for delivery again." if page.request.query_params.get("done") == "resent" else None
    if page.request.query_params.get("done") == "already":
        notice = "That form was sent already; nothing more was done."
    return page.render("event.html", status, **found, error=error, notice=notice)


async def resend(page: Page) -> Response:
    services = page.request.app.state.services
    event_id = page.request.path_params["event_id"]
    endpoint_id = page.form.get("endpoint") or None
    try:
        outcome = await services.dashboard.resend(page.user, page.livemode, event_id, endpoint_id,
                                                  page.form.get("form_key", ""))
    except InvalidRequest as error:
        return await event(page, 400, error.message)
    return page.redirect(f"/events/{event_id}?done={'already' if outcome.status == 'already' else 'resent'}")


async def webhooks(page: Page, status: int = 200, error: str | None = None) -> Response:
    reads = page.request.app.state.services.dashboard_reads
    endpoints = await reads.endpoints(page.user, page.livemode)
    return page.render("webhooks.html", status, endpoints=endpoints, error=error, event_types=EVENT_TYPES)


async def create_endpoint(page: Page) -> Response:
    services = page.request.app.state.services
    url = (page.form.get("url") or "").strip()
    chosen = _event_choices(page)
    try:
        if not url.startswith(("https://", "http://")) or len(url) > 2048:
            raise InvalidRequest("Enter the endpoint's URL, starting with https:// (or http:// for a local test).")
        outcome = await services.dashboard.create_endpoint(page.user, page.livemode, url, chosen or ["*"],
                                                          (page.form.get("description") or None),
                                                          page.form.get("form_key", ""))
    except InvalidRequest as error:
        return await webhooks(page, 400, error.message)
    if outcome.status == "already":
        return page.redirect("/webhooks")
    return page.redirect(f"/webhooks/{outcome.result['id']}?done=created")


def _event_choices(page: Page) -> list[str]:
    text = page.form.get("events") or ""
    return [name.strip() for name in text.replace(",", " ").split() if name.strip()]


async def endpoint(page: Page, status: int = 200, error: str | None = None, secret: str | None = None) -> Response:
    reads = page.request.app.state.services.dashboard_reads
    endpoint_id = page.request.path_params["endpoint_id"]
    found = await reads.endpoint(page.user, page.livemode, endpoint_id)
    if found is None:
        return page.render("message.html", 404, title="Not found",
                           message=f"No webhook endpoint {endpoint_id} in this mode.")
    notice = {"created": "Endpoint created. Reveal its signing secret to verify its deliveries.",
              "disabled": "Endpoint disabled.", "enabled": "Endpoint enabled.",
              "already": "That form was sent already; nothing more was done."}.get(
        page.request.query_params.get("done") or "")
    return page.render("endpoint.html", status, **found, error=error, secret=secret, notice=notice)


async def endpoint_action(page: Page) -> Response:
    services = page.request.app.state.services
    endpoint_id = page.request.path_params["endpoint_id"]
    action = page.request.path_params["action"]
    key = page.form.get("form_key", "")
    try:
        if action == "reveal":
            secret = await services.dashboard.reveal_secret(page.user, page.livemode, endpoint_id)
            return await endpoint(page, secret=secret)
        if action in ("disable", "enable"):
            outcome = await services.dashboard.set_endpoint_disabled(page.user, page.livemode, endpoint_id,
                                                                     action == "disable", key)
            return page.redirect(f"/webhooks/{endpoint_id}?done="
                                 f"{'already' if outcome.status == 'already' else action + 'd'}")
        if action == "delete":
            await services.dashboard.delete_endpoint(page.user, page.livemode, endpoint_id, key)
            return page.redirect("/webhooks")
    except InvalidRequest as error:
        return await endpoint(page, 400, error.message)
    return page.render("message.html", 404, title="Not found", message="No such action.")


async def developers(page: Page, status: int = 200, new_key: str | None = None,
                     notice: str | None = None) -> Response:
    reads = page.request.app.state.services.dashboard_reads
    errors_only = page.request.query_params.get("errors") == "1"
    found = await reads.developers(page.user, page.livemode, errors_only)
    return page.render("developers.html", status, **found, errors_only=errors_only, new_key=new_key,
                       notice=notice)


async def roll_key(page: Page) -> Response:
    """Roll a key: the new one is shown on this answer only (it is kept as a digest)."""
    services = page.request.app.state.services
    try:
        grace = int(page.form.get("expire_old_in") or "0")
    except ValueError:
        grace = -1
    outcome = await services.dashboard.roll_key(page.user, page.livemode, page.form.get("kind", ""), grace,
                                                page.form.get("form_key", ""))
    if outcome.status == "already":
        return await developers(page, notice="That form was sent already: the key was rolled once, and shown then.")
    return await developers(page, new_key=outcome.result)


async def settings(page: Page) -> Response:
    reads = page.request.app.state.services.dashboard_reads
    return page.render("settings.html", **await reads.settings(page.user))


async def customers(page: Page) -> Response:
    """Customers and their saved payment methods, newest first, read through the customers service."""
    service = page.request.app.state.services.customers
    after = page.request.query_params.get("starting_after") or None
    caller = Caller(page.user.account_id, page.livemode, "dashboard")
    rows, more = await service.with_methods(caller, limit=25, starting_after=after)
    next_url = page.url(f"/customers?starting_after={rows[-1][0].id}") if more and rows else None
    return page.render("customers.html", rows=rows, next_url=next_url)
