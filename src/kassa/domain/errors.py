"""Errors the domain raises; the wire edge renders them as Stripe error objects."""

from __future__ import annotations


class KassaError(Exception):
    """Base of every error that reaches the merchant as a Stripe error object."""

    status = 400
    type = "invalid_request_error"
    retry_as_is = False  # the same request, sent again, may succeed (a conflict that has passed)

    def __init__(self, message: str, *, code: str | None = None, param: str | None = None,
                 extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.param = param
        self.extra = extra or {}


class InvalidRequest(KassaError):
    """A 400: the request is wrong."""


class IdempotencyError(KassaError):
    status = 400
    type = "idempotency_error"


def key_reused(key: str) -> IdempotencyError:
    return IdempotencyError(
        "Keys for idempotent requests can only be used with the same parameters they were first used "
        f"with. Try using a key other than '{key[:60]}' if you meant to execute a different request.")


class IdempotencyKeyInUse(KassaError):
    status = 409
    type = "invalid_request_error"


class AuthenticationError(KassaError):
    status = 401
    type = "authentication_error"


class PermissionDenied(KassaError):
    status = 403
    type = "invalid_request_error"


class PaymentFailed(KassaError):
    """A 402: a payment attempt failed (Stripe's card_error style)."""

    status = 402
    type = "card_error"


class NotFound(KassaError):
    status = 404
    type = "invalid_request_error"

    def __init__(self, message: str, *, param: str | None = None, code: str = "resource_missing"):
        super().__init__(message, code=code, param=param)


class RateLimited(KassaError):
    status = 429
    type = "rate_limit_error"


def missing_param(param: str) -> InvalidRequest:
    return InvalidRequest(f"Missing required param: {param}.", code="missing_required_parameter", param=param)


def no_such(kind: str, object_id: str, param: str = "id") -> NotFound:
    return NotFound(f"No such {kind}: '{object_id}'", param=param)


class Refusal:
    """The result of a change that is kept (its state and events commit) and yet answers with an
    error, as Stripe's declined card does: the intent is stored in ``requires_payment_method`` and
    the caller gets the 402. `subject` is the object the error carries (the updated intent); the
    edge renders both, and the sealed response (what a replay returns) is the error."""

    __slots__ = ("error", "subject")

    def __init__(self, error: KassaError, subject=None) -> None:
        self.error = error
        self.subject = subject
