"""/v1/payment_intents: create, retrieve, update, confirm, capture, cancel, list, search."""

from __future__ import annotations

import orjson
from sqlalchemy.dialects import postgresql, sqlite

from ...domain import money
from ...domain import payment_intent as pi
from ...domain.errors import InvalidRequest
from ...domain.payment_method import CardInput
from ...services.payment_intents import PaymentIntents
from ...store import tables
from .. import search
from ..api import Api, Call
from ..common import ADDRESS_FIELDS, card_input, created_filter, list_body, paging, shipping
from ..params import Params
from ..render import render

STATEMENT_DESCRIPTOR_MAX = 22
# The customer is stored in its own column, String(64): longer values must be refused, not crash.
CUSTOMER_MAX_LENGTH = tables.payment_intents.c.customer.type.length


def _method_options(params: Params) -> dict | None:
    options = params.hash("payment_method_options")
    if options is None:
        return None
    parsed: dict = {}
    amazon = options.hash("amazon_pay")
    if amazon is not None:
        entry = {}
        capture = amazon.enum("capture_method", ("manual",)) if amazon.data.get("capture_method") else None
        amazon.used.add("capture_method")
        if capture:
            entry["capture_method"] = capture
        usage = amazon.enum("setup_future_usage", ("none", "off_session"))
        if usage:
            entry["setup_future_usage"] = usage
        parsed["amazon_pay"] = entry
    card = options.hash("card")
    if card is not None:
        entry = {}
        capture = card.enum("capture_method", ("manual",)) if card.data.get("capture_method") else None
        card.used.add("capture_method")
        if capture:
            entry["capture_method"] = capture
        secure = card.enum("request_three_d_secure", ("any", "automatic", "challenge"))
        if secure:
            entry["request_three_d_secure"] = secure
        usage = card.enum("setup_future_usage", ("none", "off_session", "on_session"))
        if usage:
            entry["setup_future_usage"] = usage
        parsed["card"] = entry
    return parsed


def _automatic(params: Params) -> dict | None:
    value = params.hash("automatic_payment_methods")
    if value is None:
        return None
    enabled = value.bool("enabled", required=True)
    allow = value.enum("allow_redirects", ("always", "never"))
    result = {"enabled": enabled}
    if allow:
        result["allow_redirects"] = allow
    return result if enabled else None


def _descriptor(params: Params, key: str) -> str | None:
    value = params.str(key)
    if value is not None and (len(value) > STATEMENT_DESCRIPTOR_MAX or any(c in value for c in "<>\\'\"*")):
        raise InvalidRequest(
            f"The {key} must be at most {STATEMENT_DESCRIPTOR_MAX} characters and may not contain < > \\ ' \" *.",
            param=key)
    return value


def _email(params: Params) -> str | None:
    value = params.str("receipt_email", max_length=800)
    if value is not None and ("@" not in value or value.startswith("@") or value.endswith("@") or " " in value):
        raise InvalidRequest(f"Invalid email address: {value[:100]}", code="email_invalid", param="receipt_email")
    return value


def _method_types(params: Params) -> tuple[str, ...] | None:
    types = params.str_list("payment_method_types")
    return tuple(types) if types is not None else None


def _create_command(params: Params, confirming: bool = False) -> pi.CreateIntent:
    amount = params.int("amount", required=True)
    currency = money.validate_currency(params.str("currency", required=True))
    return pi.CreateIntent(
        amount=amount,
        currency=currency,
        payment_method_types=_method_types(params),
        automatic_payment_methods=_automatic(params),
        capture_method=params.enum("capture_method", pi.CAPTURE_METHODS),
        confirmation_method=params.enum("confirmation_method", pi.CONFIRMATION_METHODS),
        payment_method_options=None if confirming else _method_options(params),
        description=params.str("description", max_length=DESCRIPTION_MAX_LENGTH),
        customer=params.str("customer", max_length=CUSTOMER_MAX_LENGTH),
        metadata={k: v for k, v in (params.metadata() or {}).items() if v is not None},
        receipt_email=None if confirming else _email(params),
        setup_future_usage=None if confirming else params.enum("setup_future_usage", pi.SETUP_FUTURE_USAGE),
        shipping=None if confirming else shipping(params),
        statement_descriptor=_descriptor(params, "statement_descriptor"),
        statement_descriptor_suffix=_descriptor(params, "statement_descriptor_suffix"),
        transfer_group=params.str("transfer_group"),
        payment_method=None if confirming else params.str("payment_method"),
    )


DESCRIPTION_MAX_LENGTH = 1000
# Updatable string fields and their longest accepted values.
_UPDATABLE_STRINGS = {"customer": None, "description": DESCRIPTION_MAX_LENGTH, "payment_method": 5000,
                      "transfer_group": 5000}


def _update_command(params: Params) -> pi.UpdateIntent:
    changes: dict = {}
    if params.has("amount"):
        changes["amount"] = params.int("amount", required=True)
    if params.has("currency"):
        changes["currency"] = money.validate_currency(params.str("currency", required=True))
    for name, longest in _UPDATABLE_STRINGS.items():
        if params.has(name):
            changes[name] = params.str(name, max_length=longest or CUSTOMER_MAX_LENGTH)
    if params.has("receipt_email"):
        changes["receipt_email"] = _email(params)
    if params.has("capture_method"):
        changes["capture_method"] = params.enum("capture_method", pi.CAPTURE_METHODS, required=True)
    if params.has("setup_future_usage"):
        changes["setup_future_usage"] = params.enum("setup_future_usage", pi.SETUP_FUTURE_USAGE)
    for name in ("statement_descriptor", "statement_descriptor_suffix"):
        if params.has(name):
            changes[name] = _descriptor(params, name)
    if params.has("shipping"):
        changes["shipping"] = shipping(params)
    if params.has("payment_method_types"):
        changes["payment_method_types"] = _method_types(params)
    if params.has("payment_method_options"):
        changes["payment_method_options"] = _method_options(params)
    return pi.UpdateIntent(changes, params.metadata())


_SEARCH_COLUMNS = {name: tables.payment_intents.c[name] for name in ("amount", "created", "currency",
                                                                     "customer", "status")}
_DIALECTS = {"sqlite": sqlite.dialect(paramstyle="named"), "postgresql": postgresql.dialect(paramstyle="named")}


def _search_sql(query: search.Query, dialect: str) -> tuple[str, dict]:
    condition = search.to_sqlalchemy(query, _SEARCH_COLUMNS, tables.payment_intents.c.metadata)
    compiled = condition.compile(dialect=_DIALECTS[dialect])
    sql = str(compiled).replace("payment_intents.", "t.")
    # Bind processors turn e.g. a JSON path key into the dialect's form ('$."order"' on SQLite).
    processors = compiled._bind_processors
    values = {name: processors[name](value) if name in processors else value
              for name, value in compiled.params.items()}
    return " AND (" + sql + ")", values


def _billing_details(params: Params | None) -> dict | None:
    if params is None:
        return None
    address = params.hash("address")
    return {"address": {name: address.str(name) for name in ADDRESS_FIELDS} if address else None,
            "email": params.str("email", max_length=800), "name": params.str("name"),
            "phone": params.str("phone")}


def confirm_command(params: Params) -> pi.Confirm:
    """The parameters of a confirmation (also taken by create with confirm=true)."""
    data = params.hash("payment_method_data")
    method_type = billing = card = None
    if data is not None:
        method_type = data.str("type", required=True)
        billing = _billing_details(data.hash("billing_details"))
        data.metadata()
        card = card_input(data.hash("card"), "payment_method_data[card]")
    error_on_requires_action = params.bool("error_on_requires_action") or False
    off_session = _off_session(params)
    params.bool("use_stripe_sdk")
    method_id = params.str("payment_method")
    if method_id and method_id.startswith(TEST_CARD_METHODS):  # Stripe's pm_card_visa & co: a new card each
        if method_type is not None:
            raise InvalidRequest("You may only specify one of these parameters: payment_method, "
                                 "payment_method_data.", param="payment_method_data")
        method_id, method_type, card = None, "card", CardInput("payment_method", test_method=method_id)
    mandate = params.hash("mandate_data")
    if mandate is not None:
        mandate.used.update(mandate.data)  # accepted and ignored: Amazon Pay takes no mandate here
    command = pi.Confirm(
        payment_method=method_id,
        payment_method_type=method_type,
        return_url=params.str("return_url", max_length=2048),
        receipt_email=_email(params),
        setup_future_usage=params.enum("setup_future_usage", pi.SETUP_FUTURE_USAGE),
        shipping=shipping(params),
        payment_method_options=_method_options(params),
        billing_details=billing,
        card=card,
        off_session=off_session,
        error_on_requires_action=error_on_requires_action,
    )
    if command.payment_method and command.payment_method_type:
        raise InvalidRequest("You may only specify one of these parameters: payment_method, payment_method_data.",
                             param="payment_method_data")
    return command


TEST_CARD_METHODS = "pm_card_"


def _off_session(params: Params) -> bool:
    """Stripe takes true/false, or one_off / recurring (both off session)."""
    value = params.str("off_session")
    if value in (None, "false"):
        return False
    if value in ("true", "one_off", "recurring"):
        return True
    raise InvalidRequest(f"Invalid off_session: {value[:60]}", code="parameter_invalid_string", param="off_session")


def _creates_first(call: Call) -> bool:
    """A create starts with its unit of work, except a live one that confirms at once (its
    Amazon Pay account is looked up first): see `Api.endpoint`."""
    return not (call.caller.livemode and call.params.data.get("confirm") not in (None, "", "false"))


def _test_mode(call: Call) -> bool:
    """Update, confirm, capture and cancel start with their unit of work in test mode; in live mode
    Amazon Pay is called first (see `Api.endpoint`)."""
    return not call.caller.livemode


def routes(api: Api, service: PaymentIntents, public_url: str | None = None):
    def base_url(call: Call) -> str:
        return call.base_url(public_url)

    async def create(call: Call):
        params = call.params
        confirm = params.bool("confirm")
        if confirm:
            confirmation = confirm_command(params)
            command = _create_command(params, confirming=True)
        else:
            command = _create_command(params)
        params.finish()
        return await service.create(call.caller, command, confirmation if confirm else None,
                                    base_url(call) if confirm else "")

    async def confirm(call: Call):
        params = call.params
        client_secret = params.str("client_secret")
        command = confirm_command(params)
        params.finish()
        return await service.confirm(call.caller, call.path["intent"], command, client_secret=client_secret,
                                     base_url=base_url(call))

    async def capture(call: Call):
        params = call.params
        amount = params.int("amount_to_capture", minimum=1)
        params.int("application_fee_amount")
        params.str("statement_descriptor")
        params.str("statement_descriptor_suffix")
        params.metadata()
        params.bool("final_capture")
        params.finish()
        return await service.capture(call.caller, call.path["intent"], amount)

    async def retrieve(call: Call):
        client_secret = call.params.str("client_secret")
        call.params.finish()
        return await service.retrieve(call.caller, call.path["intent"], client_secret)

    async def update(call: Call):
        command = _update_command(call.params)
        call.params.finish()
        return await service.update(call.caller, call.path["intent"], command)

    async def cancel(call: Call):
        reason = call.params.enum("cancellation_reason", pi.CANCELLATION_REASONS)
        call.params.finish()
        return await service.cancel(call.caller, call.path["intent"], reason)

    async def list_(call: Call):
        params = call.params
        page = paging(params)
        sql, values = created_filter(params)
        customer = params.str("customer")
        if customer:
            sql += " AND t.customer = :customer"
            values["customer"] = customer
        params.finish()
        result = await service.list(call.caller, limit=page.limit, starting_after=page.starting_after,
                                    ending_before=page.ending_before, filters_sql=sql, filters=values)
        return list_body("/v1/payment_intents", [render(intent) for intent in result.data],
                         result.has_more)

    async def search_(call: Call):
        params = call.params
        text = params.str("query", required=True)
        limit = params.int("limit")
        if limit is not None and not 1 <= limit <= 100:
            raise InvalidRequest("Invalid limit: must be between 1 and 100", param="limit")
        page = params.str("page")
        params.finish()
        try:
            query = search.parse(text)
        except search.SearchQueryError as error:
            raise InvalidRequest(str(error), param="query") from None
        after = _page_cursor(page)
        sql, values = _search_sql(query, service.db.dialect)
        result = await service.search(call.caller, limit=limit or 10, after_seq=after, filters_sql=sql,
                                      filters=values)
        data = [render(intent) for intent in result.data]
        next_page = None
        if result.has_more and result.last_seq is not None:
            next_page = orjson.dumps({"seq": result.last_seq}).hex()
        return {"object": "search_result", "data": data, "has_more": result.has_more,
                "next_page": next_page, "url": "/v1/payment_intents/search"}

    return [
        ("/v1/payment_intents", "POST", api.endpoint(create, replay_in_unit=_creates_first)),
        ("/v1/payment_intents", "GET", api.endpoint(list_)),
        ("/v1/payment_intents/search", "GET", api.endpoint(search_)),
        ("/v1/payment_intents/{intent}", "GET", api.endpoint(retrieve, publishable=True)),
        ("/v1/payment_intents/{intent}", "POST", api.endpoint(update, replay_in_unit=_test_mode)),
        ("/v1/payment_intents/{intent}/cancel", "POST", api.endpoint(cancel, replay_in_unit=_test_mode)),
        ("/v1/payment_intents/{intent}/confirm", "POST",
         api.endpoint(confirm, publishable=True, replay_in_unit=_test_mode)),
        ("/v1/payment_intents/{intent}/capture", "POST", api.endpoint(capture, replay_in_unit=_test_mode)),
    ]


def _page_cursor(page: str | None) -> int | None:
    if not page:
        return None
    try:
        seq = orjson.loads(bytes.fromhex(page))["seq"]
        if not isinstance(seq, int) or isinstance(seq, bool) or not -2**63 <= seq < 2**63:
            raise ValueError
        return seq
    except (ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        raise InvalidRequest("Invalid page: use the next_page value of a previous search result.",
                             param="page") from None

