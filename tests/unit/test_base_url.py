"""The API's base URL, read from the ASGI scope, is what Starlette's `request.base_url` gives."""

import pytest
from starlette.requests import Request

from kassa.wire.api import base_url_of


def scope(**changes):
    return {"type": "http", "scheme": "http", "headers": [], "server": ("127.0.0.1", 4242), "root_path": "",
            "path": "/v1/payment_intents", "query_string": b"a=1", **changes}


@pytest.mark.parametrize("case", [
    scope(headers=[(b"host", b"127.0.0.1:4242")]),
    scope(scheme="https", server=("shop.example", 443), root_path="/kassa"),
    scope(server=("shop.example", 8080), root_path="/a/"),
    scope(scheme="https", server=("shop.example", 80)),
    scope(server=None),
    scope(scheme="https", headers=[(b"accept", b"*/*"), (b"host", b"pay.example")], app_root_path="/r"),
])
def test_same_as_starlette(case):
    assert base_url_of(case) == str(Request(case).base_url).rstrip("/")
