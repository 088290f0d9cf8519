"""kassa.js (the Stripe.js-shaped client) and the Elements' frames (Payment, Link Authentication,
Address, Express Checkout), with their static files.

Scripts and styles are read once, when the routes are built, and served with an ETag. The frame
page references its own files with ``?v=<digest>`` so that they can be cached for a year.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from .pages import templates

STATIC = Path(__file__).with_name("static")

JAVASCRIPT = "text/javascript; charset=utf-8"
CSS = "text/css; charset=utf-8"
SHORT_CACHE = "public, max-age=300"
LONG_CACHE = "public, max-age=31536000, immutable"

# The frame: scripts and styles from kassa only, API calls to kassa only, embeddable anywhere.
FRAME_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors *",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@dataclass(frozen=True, slots=True)
class Asset:
    """A static file held in memory, with its digest (the ETag and the ``v`` of its URL)."""

    body: bytes
    media_type: str
    version: str

    @classmethod
    def load(cls, name: str, media_type: str) -> Asset:
        return cls.join((name,), media_type)

    @classmethod
    def join(cls, names: Sequence[str], media_type: str, *, head: str = "", tail: str = "") -> Asset:
        """Static files served as one: ``head``, each file in order (a blank line between two),
        then ``tail``. The digest is the joined body's."""
        body = head.encode() + b"\n".join((STATIC / name).read_bytes() for name in names) + tail.encode()
        return cls(body, media_type, hashlib.sha256(body).hexdigest()[:16])

    def response(self, request: Request, *, cross_origin: bool = False) -> Response:
        versioned = request.query_params.get("v") == self.version
        headers = {"ETag": f'"{self.version}"', "Cache-Control": LONG_CACHE if versioned else SHORT_CACHE,
                   "X-Content-Type-Options": "nosniff"}
        if cross_origin:  # loaded by merchants' pages, also with crossorigin/integrity attributes
            headers.update({"Access-Control-Allow-Origin": "*", "Cross-Origin-Resource-Policy": "cross-origin"})
        if request.headers.get("if-none-match") == headers["ETag"]:
            return Response(status_code=304, headers=headers)
        return Response(self.body, headers=headers, media_type=self.media_type)


# kassa.js is kept in parts, one concept each, and served as one script: the parts joined in this
# order inside one strict-mode function, so that they share its scope and the page gets only the
# globals the last part sets.
KASSA_JS_PARTS = ("kassa/client.js", "kassa/elements.js", "kassa/globals.js")
KASSA_JS_HEAD = "(() => {\n  'use strict';\n\n"
KASSA_JS_TAIL = "})();\n"

# The other Elements' frames: (route, template, script), each also using frame.js and both stylesheets.
OTHER_FRAMES = (
    ("link-authentication", "link_authentication_element.html", "link-authentication-element.js"),
    ("address", "address_element.html", "address-element.js"),
    ("express-checkout", "express_checkout_element.html", "express-checkout-element.js"),
)


def routes() -> list[Route]:
    kassa_js = Asset.join(KASSA_JS_PARTS, JAVASCRIPT, head=KASSA_JS_HEAD, tail=KASSA_JS_TAIL)
    frame_js = Asset.load("payment-element.js", JAVASCRIPT)
    frame_css = Asset.load("payment-element.css", CSS)
    shared_js = Asset.load("element-frame.js", JAVASCRIPT)
    extra_css = Asset.load("elements.css", CSS)
    frame_html = templates.get_template("payment_element.html").render(
        script=f"payment.js?v={frame_js.version}", stylesheet=f"payment.css?v={frame_css.version}")

    async def script(request: Request) -> Response:
        return kassa_js.response(request, cross_origin=True)

    async def frame(request: Request) -> Response:
        """The Payment Element. Its settings (keys included) come in the URL's fragment, which
        never reaches a server or a log."""
        return HTMLResponse(frame_html, headers=FRAME_HEADERS)

    def asset_route(path: str, asset: Asset) -> Route:
        async def serve(request: Request) -> Response:
            return asset.response(request)
        return Route(path, serve, methods=["GET"])

    def page_route(path: str, html: str) -> Route:
        async def serve(request: Request) -> Response:
            """An Element's frame, with its settings in the URL's fragment, as the Payment Element's."""
            return HTMLResponse(html, headers=FRAME_HEADERS)
        return Route(path, serve, methods=["GET"])

    others: list[Route] = [asset_route("/v3/elements/frame.js", shared_js),
                           asset_route("/v3/elements/elements.css", extra_css)]
    for name, template, script_name in OTHER_FRAMES:
        own_js = Asset.load(script_name, JAVASCRIPT)
        html = templates.get_template(template).render(
            script=f"{name}.js?v={own_js.version}", frame_script=f"frame.js?v={shared_js.version}",
            stylesheet=f"payment.css?v={frame_css.version}", extra_stylesheet=f"elements.css?v={extra_css.version}")
        others += [page_route(f"/v3/elements/{name}", html), asset_route(f"/v3/elements/{name}.js", own_js)]

    return [
        Route("/v3/kassa.js", script, methods=["GET"]),
        Route("/v3/", script, methods=["GET"]),
        Route("/v3/elements/payment", frame, methods=["GET"]),
        asset_route("/v3/elements/payment.js", frame_js),
        asset_route("/v3/elements/payment.css", frame_css),
        *others,
    ]
