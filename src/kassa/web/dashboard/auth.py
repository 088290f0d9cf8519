"""Sign-in and sign-out (/dashboard/login, /dashboard/logout)."""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ...domain import sign_in
from ...domain.errors import InvalidRequest
from ...services import users
from .common import COOKIE, LOGIN_COOKIE, cookie_flags, login_csrf, plain_page, read_form, security_headers


def _next_url(value: str | None) -> str:
    """Only a Dashboard path of this server (never another site)."""
    if value and value.startswith("/dashboard/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/dashboard/test/payments"


def _login_page(request: Request, status: int = 200, error: str | None = None, email: str = "",
                next_url: str | None = None) -> Response:
    token = login_csrf()
    response = plain_page("login.html", status, csrf=token, error=error, email=email,
                          next=_next_url(next_url or request.query_params.get("next")))
    response.set_cookie(LOGIN_COOKIE, token, max_age=3600, **cookie_flags(request))
    return response


async def login_form(request: Request) -> Response:
    return _login_page(request)


async def login(request: Request) -> Response:
    db = request.app.state.services.db
    try:
        form = await read_form(request)
    except InvalidRequest as error:
        return _login_page(request, 400, error.message)
    expected = request.cookies.get(LOGIN_COOKIE) or ""
    sent = form.get("csrf_token") or ""
    if not expected or not hmac.compare_digest(expected, sent):
        return plain_page("message.html", 403, title="Refused",
                          message="This form has no valid CSRF token. Reload the page and try again.")
    email = form.get("email", "")[:254]
    address = request.client.host if request.client else "unknown"
    try:
        token = await users.sign_in_user(db, email, form.get("password", ""), address)
    except users.SignInRefused as refused:
        response = _login_page(request, 429 if refused.wait else 401, str(refused), email, form.get("next"))
        if refused.wait:
            response.headers["Retry-After"] = str(int(refused.wait) + 1)
        return response
    response = RedirectResponse(_next_url(form.get("next")), 303, headers=security_headers())
    response.set_cookie(COOKIE, token, **cookie_flags(request))  # a browser-session cookie; idle expiry on the server
    response.delete_cookie(LOGIN_COOKIE, path="/dashboard")
    return response


async def logout(request: Request) -> Response:
    db = request.app.state.services.db
    token = request.cookies.get(COOKIE)
    if token:
        try:
            form = await read_form(request)
        except InvalidRequest:
            form = {}
        if not sign_in.csrf_valid(token, form.get("csrf_token")):
            return plain_page("message.html", 403, title="Refused",
                              message="This form has no valid CSRF token. Reload the page and try again.")
        await users.sign_out(db, token)
    response = RedirectResponse("/dashboard/login", 303, headers=security_headers())
    response.delete_cookie(COOKIE, path="/dashboard")
    return response
