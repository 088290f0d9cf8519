"""The API router's direct routes: called without Starlette's stack, anything else left to it."""

from __future__ import annotations

import asyncio

import httpx
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from kassa.wire.router import ApiRouter


async def _fallback(scope, receive, send):
    await PlainTextResponse("fallback", status_code=404)(scope, receive, send)


async def _button(request):
    if request.path_params["token"] == "broken":
        raise RuntimeError("a bug")
    return PlainTextResponse("pressed " + request.path_params["token"])


def _get(method: str, path: str) -> httpx.Response:
    router = ApiRouter([], fallback=_fallback, direct=[Route("/pages/{token}", _button, methods=["POST"])])

    async def go():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=router), base_url="http://kassa.test") as client:
            return await client.request(method, path)

    return asyncio.run(go())


def test_a_direct_route_gets_its_path_parameters():
    response = _get("POST", "/pages/tok_1")
    assert (response.status_code, response.text) == (200, "pressed tok_1")


def test_other_methods_and_paths_go_to_the_fallback():
    assert _get("GET", "/pages/tok_1").text == "fallback"
    assert _get("POST", "/pages/tok_1/more").text == "fallback"
    assert _get("POST", "/pages/").text == "fallback"
    assert _get("POST", "/other/tok_1").text == "fallback"


def test_an_unexpected_error_is_a_plain_500_and_logged(caplog):
    response = _get("POST", "/pages/broken")
    assert (response.status_code, response.text) == (500, "Internal Server Error")
    assert any("/pages/broken failed" in record.getMessage() and record.exc_info for record in caplog.records)
