"""The Stripe-shaped edge of every API call: request id, key, parameters, idempotency, errors.

`endpoint()` turns a handler ``async (call) -> result`` into a Starlette endpoint. The handler
sees a typed `Call`; it returns a domain object (rendered, expanded, and for a publishable key
reduced), a ready dict, or a `Sealed` body that a unit of work already rendered and stored.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from ..domain.errors import AuthenticationError, InvalidRequest, KassaError, Refusal
from ..domain.ids import random_base62
from ..domain.keys import hash_key
from ..services import client_secrets
from ..services.context import Caller, Replayed
from ..store import repo
from ..store.database import Database, StoreUnavailable, Tx, UniqueViolation
from . import auth, idempotency
from .errors import error_body, internal_error_body, unavailable_body
from .expand import check_paths, expand
from .forms import FormError, decode, parse_pairs
from .rate_limit import RateLimiter
from .params import Params
from .render import publishable_view, render
from .render_saved import setup_publishable_view

log = logging.getLogger("kassa.api")

MAX_BODY_BYTES = 256 * 1024
KEY_CACHE_SECONDS = 5.0  # a key's record is read again after this (rolled keys stop within it)
LAST_USED_EVERY_SECONDS = 60
JSON = "application/json"


@dataclass(slots=True)
class Sealed:
    """A response body rendered (and stored for replay) inside the unit of work."""

    body: bytes
    status: int = 200


@dataclass(slots=True)
class Call:
    """One API request as a handler sees it."""

    caller: Caller
    params: Params
    path: dict[str, str]
    request: Request
    expand: list[str] = field(default_factory=list)

    def base_url(self, public_url: str | None = None) -> str:
        """Where this request reached kassa, with no trailing slash (``public_url`` when one is
        configured): ``str(request.base_url).rstrip("/")``, read from the scope directly."""
        return public_url or base_url_of(self.request.scope)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def base_url_of(scope: dict) -> str:
    """Starlette's ``request.base_url`` without its trailing slash: the Host header (else the
    server's address) under the scope's scheme and root path."""
    scheme = scope.get("scheme", "http")
    root = scope.get("app_root_path", scope.get("root_path", "")).rstrip("/")
    for name, value in scope["headers"]:
        if name == b"host":
            return f"{scheme}://{value.decode('latin-1')}{root}"
    server = scope.get("server")
    if server is None:
        return root
    host, port = server
    return f"{scheme}://{host if port == _DEFAULT_PORTS.get(scheme) else f'{host}:{port}'}{root}"


_API_HEADERS = [(b"content-type", JSON.encode()), (b"stripe-version", b"2026-09-30.endive"),
                (b"cache-control", b"no-cache, no-store"), (b"x-content-type-options", b"nosniff"),
                (b"access-control-allow-origin", b"*"), (b"access-control-expose-headers", b"Request-Id")]


class ApiResponse(Response):
    """A JSON response with the headers every API answer carries, built from bytes made once."""

    media_type = JSON

    def __init__(self, body: bytes, status: int, request_id: str, extra: dict[str, str] | None = None):
        self.status_code = status
        self.background = None
        self.body = body
        self.raw_headers = [(b"content-length", str(len(body)).encode()), (b"request-id", request_id.encode()),
                            *_API_HEADERS]
        if extra:
            self.raw_headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()]


def json_response(body: bytes, status: int, request_id: str, extra: dict[str, str] | None = None) -> Response:
    return ApiResponse(body, status, request_id, extra)


def _replayed(replay: idempotency.Replay, request_id: str) -> Response:
    return json_response(replay.body, replay.status, request_id,
                         {"Idempotent-Replayed": "true", "Original-Request": "stored"})


def error_response(error: KassaError, request_id: str) -> Response:
    headers = {"WWW-Authenticate": 'Bearer realm="kassa"'} if isinstance(error, AuthenticationError) else None
    if error.retry_as_is:  # as Stripe says it: stripe-python and the other libraries retry then
        headers = {**(headers or {}), "Stripe-Should-Retry": "true"}
    return json_response(orjson.dumps(error_body(error, request_id)), error.status, request_id, headers)


class Api:
    """What every endpoint shares: the database, the key cache, keys in flight."""

    def __init__(self, db: Database, request_log: Callable[[Request, Response, float], None] | None = None,
                 rate_limiter: RateLimiter | None = None):
        self.db = db
        self.rate_limiter = rate_limiter  # KASSA_RATE_LIMIT: requests a second per key, or None
        self.keys: dict[bytes, tuple[auth.KeyRecord, float]] = {}  # by digest: the record, when read
        self._background: set[asyncio.Task] = set()
        self.in_flight = idempotency.InFlight()
        # Told of every answered request (Developers → Logs in the Dashboard); must return at once.
        self.request_log = request_log

    async def authenticate(self, header: str | None) -> auth.KeyRecord:
        """The key's record: from this process's cache, read again from the database every
        KEY_CACHE_SECONDS (so a rolled or expired key stops working in every process within that)."""
        key = auth.key_from_header(header)
        digest = hash_key(key)
        now = time.time()
        cached = self.keys.get(digest)
        if cached is not None and now - cached[1] < KEY_CACHE_SECONDS:
            record = cached[0]
        else:
            async def read(tx: Tx):
                return await repo.find_key(tx, digest)

            row = await self.db.read(read)
            if row is None or not auth.same_hash(bytes(row["key_hash"]), digest):
                self.keys.pop(digest, None)
                raise auth.invalid_key(key)
            record = auth.KeyRecord(digest, row["account_id"], bool(row["livemode"]), row["kind"],
                                    row["country"], row["name"], bool(row["amazon_pay_enabled"]), row["expires_at"])
            self.keys[digest] = (record, now)
            if row["last_used"] is None or row["last_used"] < now - LAST_USED_EVERY_SECONDS:
                self._note_use(digest, int(now))
        if record.expires_at is not None and record.expires_at <= now:
            raise auth.expired_key(key)
        return record

    def _note_use(self, digest: bytes, now: int) -> None:
        """Record when a key was last used, off the request's path (at most once a minute)."""

        async def write(tx: Tx):
            await repo.touch_key(tx, digest, now)

        async def run() -> None:
            try:
                await self.db.write(write)
            except Exception:  # noqa: BLE001 - a statistic; the request does not depend on it
                log.warning("could not record when an API key was last used", exc_info=True)

        task = asyncio.ensure_future(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def present(self, tx: Tx | None, call: Call, obj: Any, rendered: dict | None = None) -> dict:
        """The JSON of a result for this caller: rendered, reduced for publishable keys, expanded."""
        body = obj if isinstance(obj, dict) else rendered if rendered is not None else render(obj)
        if call.caller.publishable and body.get("object") in ("payment_intent", "setup_intent"):
            body = publishable_view(body) if body["object"] == "payment_intent" else setup_publishable_view(body)
        if call.expand:
            body = await expand(tx, call.caller, body, call.expand)
        return body

    def endpoint(self, handler: Callable[[Call], Awaitable[Any]], *, publishable: bool = False,
                 replay_in_unit: Callable[[Call], bool] | None = None):
        """Wrap `handler`; `publishable` lets a publishable key in (the handler checks the secret).
        `replay_in_unit(call)` says that the handler starts with its unit of work, before anything
        that a replay must not repeat or could answer differently: the unit then looks up the
        Idempotency-Key with its first statement, instead of a read of its own before."""

        async def run(request: Request) -> Response:
            request_id = "req_" + random_base62(14)
            scope = None
            caller = None
            try:
                record = await self.authenticate(request.headers.get("authorization"))
                request.scope["kassa.owner"] = (record.account_id, record.livemode)
                if self.rate_limiter is not None:
                    self.rate_limiter.take(record.key_hash)
                if record.kind == "publishable" and not publishable:
                    raise auth.publishable_not_allowed()
                if any("\x00" in value for value in request.path_params.values()):  # ids: as for parameters
                    raise FormError("Invalid request: the URL may not contain NUL characters (%00).")
                pairs = await self._pairs(request)
                params = Params(decode(pairs))
                caller = Caller(record.account_id, record.livemode, record.kind, record.country,
                                record.account_name, request_id, amazon_pay_enabled=record.amazon_pay_enabled)
                call = Call(caller, params, request.path_params, request)
                if request.method != "GET":
                    key = request.headers.get("idempotency-key") if request.method == "POST" else None
                    if key is not None:
                        key = idempotency.check_key(key)
                        print_ = idempotency.fingerprint(request.method, request.scope["path"], pairs)
                        if replay_in_unit is not None and replay_in_unit(call):
                            caller.replay_check = (key, print_)
                        else:
                            replay = await idempotency.find_replay(self.db, record.account_id, record.livemode,
                                                                   key, print_)
                            if replay is not None:
                                return _replayed(replay, request_id)
                        scope = (record.account_id, record.livemode, key)
                        self.in_flight.claim(scope)
                        caller.idempotency_key = key
                    caller.seal = self._sealer(call, print_ if key is not None else None)
                call.expand = check_paths(params.expand())
                try:
                    result = await handler(call)
                except Replayed as found:
                    return _replayed(idempotency.stored_replay(found.row, key, print_), request_id)
                except KassaError:
                    if caller.replay_check is None:
                        raise
                    # Refused before a unit looked the key up (a parameter, say): a key used before
                    # answers as it would have, its stored response or an idempotency_error.
                    replay = await idempotency.find_replay(self.db, record.account_id, record.livemode, key, print_)
                    if replay is None:
                        raise
                    return _replayed(replay, request_id)
                except UniqueViolation:
                    if scope is None:
                        raise
                    # Another process committed the same key first: answer with its response.
                    replay = await idempotency.find_replay(self.db, record.account_id, record.livemode,
                                                           scope[2], print_)
                    if replay is None:
                        raise
                    return json_response(replay.body, replay.status, request_id, {"Idempotent-Replayed": "true"})
                if isinstance(result, Sealed):
                    return json_response(result.body, result.status, request_id)
                if isinstance(result, Refusal):  # committed, not sealed: answered as its error
                    raise result.error
                if isinstance(result, Response):
                    result.headers["Request-Id"] = request_id
                    return result

                if call.expand:  # expanding reads the objects named
                    async def read(tx: Tx):
                        return await self.present(tx, call, result)

                    body = await self.db.read(read)
                else:
                    body = await self.present(None, call, result)
                return json_response(orjson.dumps(body), 200, request_id)
            except KassaError as error:
                if isinstance(error.extra.get("payment_intent"), str) and caller is not None:
                    await self._attach_intent(error, caller)
                return error_response(error, request_id)
            except StoreUnavailable:
                log.warning("request %s: database unavailable", request_id)
                return json_response(orjson.dumps(unavailable_body()), 503, request_id,
                                     {"Stripe-Should-Retry": "true", "Retry-After": "1"})
            except Exception:
                log.exception("request %s failed: %s %s", request_id, request.method, request.scope["path"])
                return json_response(orjson.dumps(internal_error_body()), 500, request_id)
            finally:
                if caller is not None:
                    caller.seal = None  # the sealer holds the call, which holds the caller: no cycle left
                if scope is not None:
                    self.in_flight.release(scope)

        if self.request_log is None:
            return run
        request_log = self.request_log

        route = handler.__name__

        async def logged(request: Request) -> Response:
            started = time.time()
            request.scope["kassa.route"] = route
            response = await run(request)
            request_log(request, response, started)
            return response

        return logged

    async def _attach_intent(self, error: KassaError, caller: Caller) -> None:
        """As Stripe does, an error about a PaymentIntent carries the intent itself (the view the
        caller's key may see), not only its id."""
        intent_id = error.extra["payment_intent"]

        async def read(tx: Tx):
            return await repo.get_intent(tx, caller.account_id, caller.livemode, intent_id)

        try:
            intent = await self.db.read(read)
        except StoreUnavailable:
            return
        if intent is not None:
            body = render(intent)
            error.extra = {**error.extra, "payment_intent": publishable_view(body) if caller.publishable else body}

    def _sealer(self, call: Call, print_: str | None):
        async def seal(tx: Tx, result: Any, rendered: dict | None = None) -> Sealed:
            if isinstance(result, Refusal):
                status, body = result.error.status, self._refusal_body(call, result, rendered)
            else:
                status, body = 200, orjson.dumps(await self.present(tx, call, result, rendered))
            if print_ is not None:
                caller = call.caller
                kept = client_secrets.current().stored(body.decode())  # no client secret at rest
                await repo.save_idempotent(tx, caller.account_id, caller.livemode, caller.idempotency_key,
                                           print_, status, kept, int(time.time()))
            return Sealed(body, status)

        return seal

    @staticmethod
    def _refusal_body(call: Call, refusal: Refusal, rendered: dict | None) -> bytes:
        """A committed refusal's error, carrying its subject (the intent) as the caller's key sees it."""
        error = refusal.error
        if refusal.subject is not None:
            body = rendered if rendered is not None else render(refusal.subject)
            if body.get("object") == "setup_intent":  # a refused setup carries the SetupIntent
                view = setup_publishable_view(body) if call.caller.publishable else body
                error.extra = {**error.extra, "setup_intent": view}
                return orjson.dumps(error_body(error, call.caller.request_id))
            error.extra = {**error.extra, "payment_intent": publishable_view(body) if call.caller.publishable
                           else body}
        return orjson.dumps(error_body(error, call.caller.request_id))

    async def _pairs(self, request: Request) -> list[tuple[str, str]]:
        pairs = parse_pairs(request.scope.get("query_string", b""))
        if request.method != "GET":
            length = request.headers.get("content-length")
            if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
                raise InvalidRequest(f"Request bodies are limited to {MAX_BODY_BYTES} bytes.")
            body = b""
            async for chunk in request.stream():
                body += chunk
                if len(body) > MAX_BODY_BYTES:
                    raise InvalidRequest(f"Request bodies are limited to {MAX_BODY_BYTES} bytes.")
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if body and content_type not in ("application/x-www-form-urlencoded", ""):
                raise FormError("Invalid request: kassa, like Stripe, takes form-encoded bodies "
                                "(Content-Type: application/x-www-form-urlencoded).")
            pairs += parse_pairs(body)
        if any("\x00" in key or "\x00" in value for key, value in pairs):
            # No text column can store a NUL (PostgreSQL refuses it in any text parameter).
            raise FormError("Invalid request: the parameters may not contain NUL characters (%00).")
        return pairs
