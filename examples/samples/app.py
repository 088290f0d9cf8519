"""Sample merchant pages written the way Stripe's guides and samples write them, run against kassa:

- ``/``          the Payment Element with a Link Authentication Element and a shipping Address
                 Element; the page asks the server for a PaymentIntent first (Stripe's quickstart);
- ``/deferred``  Elements made before any intent (``mode``, ``amount``, ``currency``): the buyer
                 changes the quantity (``elements.update``), presses Pay, ``elements.submit()``,
                 the server creates the intent, ``confirmPayment({elements, clientSecret})``;
- ``/express``   the Express Checkout Element (Amazon Pay), deferred as in Stripe's guide;
- ``/react``     the same checkout in React with ``@stripe/react-stripe-js``, from a bundle built
                 elsewhere (``--react-bundle``: a folder with ``react.js``; see ``react/``);
- ``/complete``  the return page: the server reads the intent with the ``stripe`` package.

The server side uses the official ``stripe`` package; the only kassa-specific things are its
base address and the script tag in ``templates/layout.html``.

    python examples/samples/app.py --kassa-url http://127.0.0.1:4242 --port 4244 \\
        --secret-key sk_test_… --publishable-key pk_test_…
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import stripe
import uvicorn
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

HERE = Path(__file__).resolve().parent
TEMPLATES = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
UNIT_PRICE = 1099  # cents: one kassa T-shirt
CURRENCY = "usd"


def order_amount(payload: dict) -> int:
    """The amount is computed on the server from what is bought, never taken from the browser."""
    try:
        quantity = int(payload.get("quantity", 1))
    except (TypeError, ValueError):
        quantity = 1
    return UNIT_PRICE * min(max(quantity, 1), 10)


def create_app(kassa_url: str, secret_key: str, publishable_key: str, react_bundle: Path | None = None) -> Starlette:
    client = stripe.StripeClient(secret_key, base_addresses={"api": kassa_url})
    kassa = kassa_url.rstrip("/")
    csp = (f"default-src 'self'; script-src 'self' {kassa}; frame-src {kassa}; connect-src 'self' {kassa}; "
           "img-src 'self' data:; style-src 'self'; base-uri 'none'; form-action 'self'")

    def page(template: str, **context) -> HTMLResponse:
        html = TEMPLATES.get_template(template).render(kassa_url=kassa, publishable_key=publishable_key,
                                                       unit_price=UNIT_PRICE, currency=CURRENCY, **context)
        return HTMLResponse(html, headers={"Content-Security-Policy": csp, "Cache-Control": "no-store"})

    async def body(request: Request) -> dict:
        try:
            payload = await request.json()
        except ValueError:
            return {}
        return payload if isinstance(payload, dict) else {}

    async def create_payment_intent(request: Request) -> Response:
        """Stripe's quickstart: the page asks for an intent, the server answers its client secret."""
        intent = client.v1.payment_intents.create(params={
            "amount": order_amount(await body(request)), "currency": CURRENCY,
            "automatic_payment_methods": {"enabled": True}})
        return JSONResponse({"clientSecret": intent.client_secret})

    async def create_intent(request: Request) -> Response:
        """The deferred flow: called after elements.submit(); answers {client_secret} or {error}."""
        try:
            intent = client.v1.payment_intents.create(params={
                "amount": order_amount(await body(request)), "currency": CURRENCY,
                "automatic_payment_methods": {"enabled": True}})
        except stripe.StripeError as error:
            return JSONResponse({"error": {"message": error.user_message or str(error)}}, status_code=400)
        return JSONResponse({"client_secret": intent.client_secret})

    def complete(request: Request) -> Response:
        intent_id = request.query_params.get("payment_intent", "")
        try:
            intent = client.v1.payment_intents.retrieve(intent_id)
        except stripe.StripeError:
            return page("complete.html", status="unknown", intent_id=intent_id)
        return page("complete.html", status=intent.status, intent_id=intent.id)

    def react_bundle_file(request: Request) -> Response:
        if react_bundle is None or not (react_bundle / "react.js").is_file():
            return Response("the React sample's bundle was not built (see examples/samples/react/)", status_code=404)
        return FileResponse(react_bundle / "react.js", media_type="text/javascript")

    routes = [
        Route("/", lambda request: page("payment.html")),
        Route("/deferred", lambda request: page("deferred.html")),
        Route("/express", lambda request: page("express.html")),
        Route("/react", lambda request: page("react.html")),
        Route("/react.js", react_bundle_file),
        Route("/create-payment-intent", create_payment_intent, methods=["POST"]),
        Route("/create-intent", create_intent, methods=["POST"]),
        Route("/complete", complete),
        Route("/healthz", lambda request: JSONResponse({"status": "ok"})),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    return Starlette(routes=routes)


def main(argv: list[str] | None = None) -> None:
    env = os.environ.get
    parser = argparse.ArgumentParser(description="Stripe-style sample pages against kassa.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(env("SAMPLES_PORT", "4244")))
    parser.add_argument("--kassa-url", default=env("KASSA_URL", "http://127.0.0.1:4242"))
    parser.add_argument("--secret-key", default=env("STRIPE_SECRET_KEY"))
    parser.add_argument("--publishable-key", default=env("STRIPE_PUBLISHABLE_KEY"))
    parser.add_argument("--react-bundle", type=Path, default=None, help="a folder holding react.js (the built React sample)")
    args = parser.parse_args(argv)
    if not args.secret_key or not args.publishable_key:
        parser.error("pass --secret-key and --publishable-key (or STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY)")
    app = create_app(args.kassa_url, args.secret_key, args.publishable_key, args.react_bundle)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
