"""Parameter shapes several endpoints share: list paging, created filters, shipping, addresses."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.errors import InvalidRequest
from ..domain.payment_method import CardInput
from .params import Params

ADDRESS_FIELDS = ("city", "country", "line1", "line2", "postal_code", "state")


@dataclass(frozen=True, slots=True)
class Paging:
    limit: int
    starting_after: str | None
    ending_before: str | None


def paging(params: Params) -> Paging:
    limit = params.int("limit")
    if limit is not None and not 1 <= limit <= 100:
        raise InvalidRequest("Invalid limit: must be between 1 and 100", code="parameter_invalid_integer",
                             param="limit")
    starting_after = params.str("starting_after")
    ending_before = params.str("ending_before")
    if starting_after and ending_before:
        raise InvalidRequest("You may only specify one of these parameters: ending_before, starting_after.",
                             param="ending_before")
    return Paging(limit or 10, starting_after, ending_before)


def created_filter(params: Params, column: str = "t.created") -> tuple[str, dict]:
    """``created=T`` or ``created[gt|gte|lt|lte]=T`` as SQL and its parameters."""
    if not params.has("created"):
        params.used.add("created")
        return "", {}
    if isinstance(params.data.get("created"), dict):
        bounds = params.hash("created")
        sql, values = "", {}
        for op, symbol in (("gt", ">"), ("gte", ">="), ("lt", "<"), ("lte", "<=")):
            value = bounds.int(op)
            if value is not None:
                sql += f" AND {column} {symbol} :created_{op}"
                values[f"created_{op}"] = value
        return sql, values
    value = params.int("created")
    return f" AND {column} = :created_eq", {"created_eq": value}


def list_body(url: str, data: list[dict], has_more: bool) -> dict:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def address(params: Params | None) -> dict | None:
    if params is None:
        return None
    return {name: params.str(name) for name in ADDRESS_FIELDS}


def shipping(params: Params, key: str = "shipping") -> dict | None:
    """Stripe's shipping hash: name and address required, phone, carrier, tracking number."""
    if not params.has(key):
        return None
    value = params.hash(key)
    if not value.data:
        return None
    name = value.str("name", required=True)
    addr = address(value.hash("address", required=True))
    if not addr.get("line1"):
        raise InvalidRequest("Missing required param: shipping[address][line1].",
                             code="missing_required_parameter", param="shipping[address][line1]")
    return {"address": addr, "carrier": value.str("carrier"), "name": name, "phone": value.str("phone"),
            "tracking_number": value.str("tracking_number")}


def card_input(params: Params | None, prefix: str):
    """Card data as sent (``card[number]``, ``exp_month``, ``exp_year``, ``cvc``, or ``card[token]``),
    handed unread to the card connector; None when there is no card hash."""
    if params is None:
        return None
    token = params.str("token", max_length=200)
    values = {name: params.str(name, max_length=64) for name in ("number", "exp_month", "exp_year", "cvc")}
    networks = params.hash("networks")
    if networks is not None:
        networks.enum("preferred", ("cartes_bancaires", "mastercard", "visa"))
    if token is not None:
        if any(value is not None for value in values.values()):
            raise InvalidRequest(f"You may only specify one of these parameters: {prefix}[token], {prefix}[number].",
                                 param=f"{prefix}[token]")
        return CardInput(prefix, token=token)
    return CardInput(prefix, **values)
