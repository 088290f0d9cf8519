"""Stripe error objects: ``{"error": {type, code, message, param, doc_url, …}}`` with their status."""

from __future__ import annotations

from typing import Any

from ..domain.errors import KassaError

DOC_URL = "https://docs.stripe.com/error-codes/"


def error_body(error: KassaError, request_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"type": error.type, "message": error.message}
    if error.code:
        body["code"] = error.code
        body["doc_url"] = DOC_URL + error.code.replace("_", "-")
    if error.param:
        body["param"] = error.param
    if request_id:
        body["request_log_url"] = None
    body.update(error.extra)
    return {"error": body}


def internal_error_body() -> dict[str, Any]:
    return {"error": {"type": "api_error",
                      "message": "An unexpected error occurred on kassa's side. The request was not "
                                 "applied; it is safe to retry it with the same Idempotency-Key."}}


def unavailable_body() -> dict[str, Any]:
    return {"error": {"type": "api_error",
                      "message": "kassa's database is unavailable for a moment. The request was not applied; "
                                 "retry it (with the same Idempotency-Key)."}}
