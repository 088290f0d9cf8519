"""A small merchant shop taking payments by card and with Amazon Pay, written the way Stripe's guide
"Accept a payment with Amazon Pay" tells a merchant to, against kassa instead of Stripe.

The server creates the PaymentIntent with the official `stripe` package, with the payment methods
the account allows (`automatic_payment_methods`, Stripe's default); the checkout page loads
kassa.js from kassa, mounts the Payment Element and calls confirmPayment; the return page
(/complete) reads the outcome in the browser with retrievePaymentIntent. The returning buyer's page
(/account) saves a method with a SetupIntent (the Payment Element in setup mode, confirmSetup) and
then buys again in one click: an off-session PaymentIntent. The only kassa-specific
line is ``base_addresses={"api": kassa_url}``.

    python examples/shop/app.py --kassa-url http://127.0.0.1:4242 --port 4243 \\
        --secret-key sk_test_… --publishable-key pk_test_…

(or KASSA_URL, SHOP_PORT, STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY, SHOP_PUBLIC_URL; with
STRIPE_WEBHOOK_SECRET, /webhook takes kassa's signed events).
"""

from __future__ import annotations

import argparse
import os
from urllib.parse import quote
from dataclasses import dataclass
from pathlib import Path

import stripe
import uvicorn
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

HERE = Path(__file__).resolve().parent
TEMPLATES = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
PRODUCT = {"name": "kassa T-shirt", "description": "Organic cotton, one size fits most.",
           "amount": 1099, "currency": "usd", "price": "$10.99"}
INTENT_COOKIE = "shop_payment_intent"
BUYER_COOKIE = "shop_customer"
# An intent the buyer has not paid yet is reused, so that after a decline the Payment Element
# shows what went wrong; a paid or canceled one is not.
UNFINISHED = {"requires_payment_method", "requires_confirmation", "requires_action"}


@dataclass(frozen=True)
class Config:
    kassa_url: str
    secret_key: str
    publishable_key: str
    public_url: str | None = None
    webhook_secret: str | None = None


def create_app(config: Config) -> Starlette:
    client = stripe.StripeClient(config.secret_key, base_addresses={"api": config.kassa_url})
    kassa = config.kassa_url.rstrip("/")
    csp = (f"default-src 'self'; script-src 'self' {kassa}; frame-src {kassa}; connect-src {kassa}; "
           "img-src 'self' data:; style-src 'self'; base-uri 'none'; form-action 'self'")

    def page(template: str, request: Request, **context) -> HTMLResponse:
        shop_url = config.public_url or str(request.base_url).rstrip("/")
        html = TEMPLATES.get_template(template).render(
            kassa_url=kassa, publishable_key=config.publishable_key, shop_url=shop_url, product=PRODUCT, **context)
        return HTMLResponse(html, headers={"Content-Security-Policy": csp, "Cache-Control": "no-store",
                                           "Referrer-Policy": "same-origin", "X-Content-Type-Options": "nosniff"})

    def unfinished_intent(intent_id: str | None):
        if not intent_id:
            return None
        try:
            intent = client.v1.payment_intents.retrieve(intent_id)
        except stripe.StripeError:
            return None
        return intent if intent.status in UNFINISHED else None

    def checkout(request: Request) -> Response:
        """The checkout page, with the client secret of a new (or unfinished) PaymentIntent."""
        intent = unfinished_intent(request.cookies.get(INTENT_COOKIE)) or client.v1.payment_intents.create(
            params={"amount": PRODUCT["amount"], "currency": PRODUCT["currency"],
                    "automatic_payment_methods": {"enabled": True}})
        response = page("checkout.html", request, client_secret=intent.client_secret)
        response.set_cookie(INTENT_COOKIE, intent.id, httponly=True, samesite="lax")
        return response

    # ---- the returning buyer: a saved payment method and a one-click purchase ----------------------

    def buyer(request: Request):
        """The buyer of this browser (a Customer, remembered by a cookie), made on the first visit."""
        customer_id = request.cookies.get(BUYER_COOKIE)
        if customer_id:
            try:
                found = client.v1.customers.retrieve(customer_id)
                if not getattr(found, "deleted", False):
                    return found
            except stripe.StripeError:
                pass
        return client.v1.customers.create(params={"name": "Returning buyer", "metadata": {"shop": "demo"}})

    def saved_method(customer_id: str):
        methods = client.v1.customers.payment_methods.list(customer_id, params={"limit": 1}).data
        return methods[0] if methods else None

    def describe(method) -> str:
        if method.type == "card":
            return f"{method.card.brand.capitalize()} ending in {method.card.last4}"
        return "Amazon Pay"

    def account(request: Request) -> Response:
        """The returning buyer's page: the saved method and Buy again, or the Payment Element in setup
        mode (a SetupIntent) to save one."""
        customer = buyer(request)
        method = saved_method(customer.id)
        setup = None
        if method is None:
            setup = client.v1.setup_intents.create(params={"customer": customer.id, "usage": "off_session",
                                                           "automatic_payment_methods": {"enabled": True}})
        response = page("account.html", request, method=method, described=describe(method) if method else None,
                        client_secret=setup.client_secret if setup else None, bought=request.query_params.get("bought"),
                        failed=request.query_params.get("failed"))
        response.set_cookie(BUYER_COOKIE, customer.id, httponly=True, samesite="lax")
        return response

    async def buy_again(request: Request) -> Response:
        """One click: the saved method is charged off-session with one API call."""
        customer = buyer(request)
        method = saved_method(customer.id)
        if method is None:
            return RedirectResponse("/account", 303)
        try:
            intent = client.v1.payment_intents.create(params={
                "amount": PRODUCT["amount"], "currency": PRODUCT["currency"], "customer": customer.id,
                "payment_method": method.id, "off_session": True, "confirm": True})
        except stripe.StripeError as error:
            return RedirectResponse(f"/account?failed={quote(error.user_message or 'declined')}", 303)
        return RedirectResponse(f"/account?bought={intent.id}", 303)

    def complete(request: Request) -> Response:
        """The return_url: the browser reads the intent and shows its outcome."""
        return page("complete.html", request)

    def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def webhook(request: Request) -> Response:
        """Events from kassa, checked with the endpoint's signing secret, as Stripe's guide does."""
        payload = await request.body()
        if not config.webhook_secret:
            return JSONResponse({"error": "no STRIPE_WEBHOOK_SECRET"}, 400)
        try:
            event = stripe.Webhook.construct_event(payload, request.headers.get("stripe-signature", ""),
                                                   config.webhook_secret)
        except (ValueError, stripe.SignatureVerificationError):
            return JSONResponse({"error": "bad signature"}, 400)
        return JSONResponse({"received": event.type})

    return Starlette(routes=[
        Route("/", checkout),
        Route("/complete", complete),
        Route("/account", account),
        Route("/account/buy", buy_again, methods=["POST"]),
        Route("/healthz", healthz),
        Route("/webhook", webhook, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ])


def main(argv: list[str] | None = None) -> None:
    env = os.environ.get
    parser = argparse.ArgumentParser(description="The kassa demo shop (a merchant taking cards and Amazon Pay).")
    parser.add_argument("--host", default=env("SHOP_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env("SHOP_PORT", "4243")))
    parser.add_argument("--kassa-url", default=env("KASSA_URL", "http://127.0.0.1:4242"))
    parser.add_argument("--secret-key", default=env("STRIPE_SECRET_KEY"), help="or STRIPE_SECRET_KEY")
    parser.add_argument("--publishable-key", default=env("STRIPE_PUBLISHABLE_KEY"), help="or STRIPE_PUBLISHABLE_KEY")
    parser.add_argument("--public-url", default=env("SHOP_PUBLIC_URL"),
                        help="the shop's address as buyers see it (default: from each request)")
    args = parser.parse_args(argv)
    if not args.secret_key or not args.publishable_key:
        parser.error("the shop needs --secret-key and --publishable-key (or STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY)")
    config = Config(args.kassa_url.rstrip("/"), args.secret_key, args.publishable_key, args.public_url,
                    env("STRIPE_WEBHOOK_SECRET"))
    uvicorn.run(create_app(config), host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
