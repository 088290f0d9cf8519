"""kassa.js (the Stripe.js-shaped client) and the Payment Element frame, with their static files.

Scripts and styles are read once, when the routes are built, and served with an ETag. The frame
page references its own files with ``?v=<digest>`` so that they can be cached for a year.
"""

from __future__ import annotations

import hashlib
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
        body = (STATIC / name).read_bytes()
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


def routes() -> list[Route]:
    kassa_js = Asset.load("kassa.js", JAVASCRIPT)
    frame_js = Asset.load("payment-element.js", JAVASCRIPT)
    frame_css = Asset.load("payment-element.css", CSS)
    frame_html = templates.get_template("payment_element.html").render(
        script=f"payment.js?v={frame_js.version}", stylesheet=f"payment.css?v={frame_css.version}")

    async def script(request: Request) -> Response:
        return kassa_js.response(request, cross_origin=True)

    async def frame(request: Request) -> Response:
        """The Payment Element. Its settings (keys included) come in the URL's fragment, which
        never reaches a server or a log."""
        return HTMLResponse(frame_html, headers=FRAME_HEADERS)

    async def frame_script(request: Request) -> Response:
        return frame_js.response(request)

    async def frame_style(request: Request) -> Response:
        return frame_css.response(request)

    return [
        Route("/v3/kassa.js", script, methods=["GET"]),
        Route("/v3/", script, methods=["GET"]),
        Route("/v3/elements/payment", frame, methods=["GET"]),
        Route("/v3/elements/payment.js", frame_script, methods=["GET"]),
        Route("/v3/elements/payment.css", frame_style, methods=["GET"]),
    ]
