"""What every Dashboard page shares: the session cookie, CSRF, the signed-in user, headers, templates."""

from __future__ import annotations

import datetime
import logging
import secrets
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ...domain import money, sign_in
from ...domain.errors import InvalidRequest, KassaError
from ...services import dashboard as dashboard_service
from ...services import users
from ...store.database import StoreUnavailable
from ...wire.forms import FormError, parse_pairs

log = logging.getLogger("kassa.dashboard")
COOKIE = "kassa_session"
LOGIN_COOKIE = "kassa_login_csrf"
MAX_FORM_BYTES = 16 * 1024
HERE = Path(__file__).parent

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def security_headers() -> dict[str, str]:
    return {"Content-Security-Policy": CSP, "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin", "Cache-Control": "no-store"}


def _when(value: Any) -> str:
    if value is None:
        return "—"
    return datetime.datetime.fromtimestamp(float(value), datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()


templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
templates.filters.update(money=lambda amount, currency: money.format_amount(int(amount or 0), currency),
                         major=lambda amount, currency: f"{int(amount) / 10 ** money.decimals(currency):.{money.decimals(currency)}f}",
                         when=_when, json=_json, label=lambda text: (text or "").replace("_", " "))


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def cookie_flags(request: Request) -> dict:
    return {"httponly": True, "samesite": "lax", "secure": is_https(request), "path": "/dashboard"}


@dataclass
class Page:
    """One request of a signed-in user in one mode."""

    request: Request
    user: users.SignedIn
    livemode: bool
    token: str
    form: dict[str, str]

    @property
    def base(self) -> str:
        return "/dashboard" if self.livemode else "/dashboard/test"

    @property
    def csrf(self) -> str:
        return sign_in.csrf_token(self.token)

    @property
    def switch_url(self) -> str:
        """The same section in the other mode (its list: an object of one mode is not in the other)."""
        rest = self.request.url.path.removeprefix(self.base).strip("/").split("/")[0] or "payments"
        return ("/dashboard/test/" if self.livemode else "/dashboard/") + rest

    def url(self, path: str) -> str:
        return self.base + path

    def render(self, template: str, status: int = 200, **context) -> HTMLResponse:
        return HTMLResponse(templates.get_template(template).render(
            page=self, user=self.user, livemode=self.livemode, base=self.base, csrf=self.csrf,
            new_form_key=dashboard_service.new_form_key, **context), status, headers=security_headers())

    def redirect(self, path: str) -> RedirectResponse:
        return RedirectResponse(self.base + path, 303, headers=security_headers())


def plain_page(template: str, status: int = 200, **context) -> HTMLResponse:
    return HTMLResponse(templates.get_template(template).render(**context), status, headers=security_headers())


async def read_form(request: Request) -> dict[str, str]:
    """A urlencoded form (first value of each name); too large or malformed is an InvalidRequest."""
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_FORM_BYTES):
        raise InvalidRequest("The form is too large.")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise InvalidRequest("The form is too large.")
    try:
        pairs = parse_pairs(body)
    except FormError as error:
        raise InvalidRequest(str(error)) from None
    form: dict[str, str] = {}
    for key, value in pairs:
        if "\x00" in key or "\x00" in value:
            raise InvalidRequest("The form may not contain NUL characters.")
        form.setdefault(key, value)
    return form


def signed_in(handler, *, livemode: bool):
    """An endpoint for a signed-in user: to the sign-in page without a live session; a POST needs
    the session's CSRF token (403 without it)."""

    async def endpoint(request: Request) -> Response:
        db = request.app.state.services.db
        token = request.cookies.get(COOKIE)
        user = await users.session_user(db, token)
        if user is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/dashboard/login?next={quote(target, safe='')}", 303,
                                    headers=security_headers())
        form: dict[str, str] = {}
        if request.method == "POST":
            try:
                form = await read_form(request)
            except InvalidRequest as error:
                return plain_page("message.html", 400, title="Bad request", message=error.message)
            if not sign_in.csrf_valid(token, form.get("csrf_token")):
                return plain_page("message.html", 403, title="Refused",
                                  message="This form has no valid CSRF token. Reload the page and try again.")
        page = Page(request, user, livemode, token, form)
        try:
            return await handler(page)
        except dashboard_service.Forbidden as error:
            return page.render("message.html", 403, title="Not allowed", message=str(error))
        except KassaError as error:
            status = error.status if error.status in (400, 402, 404, 409) else 400
            title = "Not found" if status == 404 else "Could not do that"
            return page.render("message.html", status, title=title, message=error.message)
        except StoreUnavailable:
            return page.render("message.html", 503, title="Try again",
                               message="The database is not answering just now. Try again in a moment.")
        except Exception:
            log.exception("dashboard page %s %s failed", request.method, request.url.path)
            return page.render("message.html", 500, title="Something went wrong",
                               message="This page failed. The error is in kassa's log.")

    return endpoint


def parse_amount(text: str | None, currency: str) -> int | None:
    """An amount typed in major units ('12.50') as minor units; empty is None (the whole amount)."""
    text = (text or "").strip().replace(",", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidRequest(f"Enter an amount such as 12.50, not {text[:20]!r}.") from None
    digits = money.decimals(currency)
    minor = value * (10 ** digits)
    if not value.is_finite() or minor != minor.to_integral_value() or minor <= 0 or minor > money.MAXIMUM_AMOUNT:
        raise InvalidRequest(f"Enter a positive amount with at most {digits} decimals.")
    return int(minor)


def login_csrf() -> str:
    return secrets.token_urlsafe(24)
