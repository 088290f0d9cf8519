"""A small merchant shop taking payments by card and with Amazon Pay, written the way Stripe's guide
"Accept a payment with Amazon Pay" tells a merchant to, against kassa instead of Stripe.

The server creates the PaymentIntent with the official `stripe` package, with the payment methods
the account allows (`automatic_payment_methods`, Stripe's default); the checkout page loads
kassa.js from kassa, mounts the Payment Element and calls confirmPayment; the return page
(/complete) reads the outcome in the browser with retrievePaymentIntent. The only kassa-specific
line is ``base_addresses={"api": kassa_url}``.

    python examples/shop/app.py --kassa-url http://127.0.0.1:4242 --port 4243 \\
        --secret-key sk_test_… --publishable-key pk_test_…

(or KASSA_URL, SHOP_PORT, STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY, SHOP_PUBLIC_URL; with
STRIPE_WEBHOOK_SECRET, /webhook takes kassa's signed events).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

import stripe
import uvicorn
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

HERE = Path(__file__).resolve().parent
TEMPLATES = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
PRODUCT = {"name": "kassa T-shirt", "description": "Organic cotton, one size fits most.",
           "amount": 1099, "currency": "usd", "price": "$10.99"}
INTENT_COOKIE = "shop_payment_intent"
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
