"""A lean router for the API: one dictionary look-up for fixed paths, a short list of patterns for
paths with an id. Everything else (hosted pages, kassa.js, health) goes on to the Starlette app,
but for a few routes named `direct` (the button of the test authorization page, one request of
every flow), which are called as the API's are.

The API's endpoints already render every outcome, errors included, so nothing of Starlette's
middleware stack is needed on this path; skipping it is worth about a sixth of a retrieve.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from ..domain.errors import InvalidRequest
from ..domain.ids import random_base62
from .api import error_response

Endpoint = Callable[[Request], Awaitable[Response]]
_PARAM = re.compile(r"\{(\w+)\}")
log = logging.getLogger("kassa.router")


def _pattern(path: str) -> re.Pattern:
    return re.compile("^" + _PARAM.sub(r"(?P<\1>[^/]+)", path) + "$")


class ApiRouter:
    def __init__(self, table: list[tuple[str, str, Endpoint]], fallback, direct: list[Route] = ()):
        self.fixed: dict[tuple[str, str], Endpoint] = {}
        self.fixed_paths: set[str] = set()
        self.patterns: list[tuple[re.Pattern, str, Endpoint]] = []
        for path, method, endpoint in table:
            if "{" in path:
                self.patterns.append((_pattern(path), method, endpoint))
            else:
                self.fixed[(method, path)] = endpoint
                self.fixed_paths.add(path)
        # (method, path prefix before the first parameter, pattern, endpoint): pages whose handler
        # renders every outcome itself; an unexpected error is a plain 500, as Starlette answers it.
        self.direct = [(method, route.path.split("{")[0], _pattern(route.path), route.endpoint)
                       for route in direct for method in route.methods or ()]
        self.fallback = fallback

    def match(self, method: str, path: str) -> tuple[Endpoint | None, dict, bool]:
        """(endpoint, path parameters, whether the path exists for another method)."""
        endpoint = self.fixed.get((method, path))
        if endpoint is not None:
            return endpoint, {}, True
        known = path in self.fixed_paths
        for regex, pattern_method, pattern_endpoint in self.patterns:
            found = regex.match(path)
            if found:
                if pattern_method == method:
                    return pattern_endpoint, found.groupdict(), True
                known = True
        return None, {}, known

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/v1/") or scope["method"] == "OPTIONS":
            if scope["type"] == "http" and await self._direct(scope, receive, send, path):
                return
            await self.fallback(scope, receive, send)
            return
        endpoint, params, known = self.match(scope["method"], path)
        if endpoint is None:
            error = InvalidRequest(f"Unrecognized request URL ({scope['method']}: {path[:200]}).")
            response = error_response(error, "req_" + random_base62(14))
            response.status_code = 405 if known else 404
            await response(scope, receive, send)
            return
        scope["path_params"] = params
        response = await endpoint(Request(scope, receive))
        await response(scope, receive, send)

    async def _direct(self, scope, receive, send, path: str) -> bool:
        """Serve `path` if a direct route takes it; False to leave it to the Starlette app."""
        method = scope["method"]
        for route_method, prefix, regex, endpoint in self.direct:
            if route_method != method or not path.startswith(prefix):
                continue
            found = regex.match(path)
            if found is None:
                continue
            scope["path_params"] = found.groupdict()
            try:
                response = await endpoint(Request(scope, receive))
            except Exception:
                log.exception("%s %s failed", method, path[:200])
                response = PlainTextResponse("Internal Server Error", status_code=500)
            await response(scope, receive, send)
            return True
        return False


__all__ = ["ApiRouter"]
