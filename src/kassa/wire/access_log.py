"""The access log: one JSON line per API request (``--access-log`` or ``KASSA_ACCESS_LOG=1``).

Each line: time, request id, method, path (never the query), status, duration in milliseconds,
account, mode, idempotency key. Never a key, a client secret or a card number: the query string
(where a client secret may travel) and the body are not logged.
"""

from __future__ import annotations

import logging
import sys
import time

import orjson

log = logging.getLogger("kassa.access")


def enable() -> None:
    """Access lines go to standard output, one JSON object each, nothing around it."""
    if any(getattr(handler, "kassa_access", False) for handler in log.handlers):
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.kassa_access = True
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def record(request, response, started: float) -> None:
    owner = request.scope.get("kassa.owner")
    headers = dict(response.raw_headers)
    key = next((value.decode("latin-1") for name, value in request.scope["headers"] if name == b"idempotency-key"),
               None)
    line = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(started)) + f".{int(started % 1 * 1000):03d}Z",
        "request_id": headers.get(b"request-id", b"").decode("latin-1") or None,
        "method": request.method,
        "path": request.scope["path"],
        "status": response.status_code,
        "duration_ms": round((time.time() - started) * 1000, 2),
        "account": owner[0] if owner else None,
        "mode": ("live" if owner[1] else "test") if owner else None,
        "idempotency_key": key[:255] if key else None,
    }
    log.info(orjson.dumps(line).decode())
