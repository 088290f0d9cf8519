"""/v1/customers (create, retrieve, update, delete, list, search, a customer's payment methods) and
the saved-method calls on /v1/payment_methods (attach, detach, update, list)."""

from __future__ import annotations

import orjson
from sqlalchemy.dialects import postgresql, sqlite

from ...domain.errors import InvalidRequest
from ...domain.payment_method import TYPES as METHOD_TYPES
from ...services.customers import Customers
from ...services.objects import Objects
from ...store import tables
from .. import search
from ..api import Api, Call
from ..common import address, created_filter, list_body, paging, shipping
from ..params import Params
from ..render import render
from .payment_intents import _billing_details, _page_cursor

EMAIL_MAX = tables.customers.c.email.type.length
NAME_MAX = tables.customers.c.name.type.length
PHONE_MAX = tables.customers.c.phone.type.length
ID_MAX = 64
_DIALECTS = {"sqlite": sqlite.dialect(paramstyle="named"), "postgresql": postgresql.dialect(paramstyle="named")}
_SEARCH_COLUMNS = {name: tables.customers.c[name] for name in ("created", "email", "name", "phone")}


def _email(params: Params) -> str | None:
    value = params.str("email", max_length=EMAIL_MAX)
    if value is not None and ("@" not in value or value.startswith("@") or value.endswith("@") or " " in value):
        raise InvalidRequest(f"Invalid email address: {value[:100]}", code="email_invalid", param="email")
    return value


def _values(params: Params) -> dict:
    """The customer's own fields present in the request (an empty value unsets one)."""
    values: dict = {}
    if params.has("email"):
        values["email"] = _email(params)
    for name, longest in (("name", NAME_MAX), ("phone", PHONE_MAX), ("description", 5000)):
        if params.has(name):
            values[name] = params.str(name, max_length=longest)
    if params.has("address"):
        values["address"] = address(params.hash("address")) if params.data.get("address") != "" else None
        params.used.add("address")
    if params.has("shipping"):
        values["shipping"] = shipping(params)
    if params.has("preferred_locales"):
        values["preferred_locales"] = params.str_list("preferred_locales", max_items=10) or []
    return values


def _default_method(params: Params):
    settings = params.hash("invoice_settings")
    if settings is None:
        return ...
    settings.hash("rendering_options")
    settings.str("footer")
    if not settings.has("default_payment_method"):
        return ...
    return settings.str("default_payment_method", max_length=ID_MAX)


def _search_sql(query: search.Query, dialect: str) -> tuple[str, dict]:
    condition = search.to_sqlalchemy(query, _SEARCH_COLUMNS, tables.customers.c.metadata)
    compiled = condition.compile(dialect=_DIALECTS[dialect])
    sql = str(compiled).replace("customers.", "t.")
    processors = compiled._bind_processors
    values = {name: processors[name](value) if name in processors else value for name, value in compiled.params.items()}
    return " AND (" + sql + ")", values


def routes(api: Api, service: Customers, methods: Objects):
    async def create(call: Call):
        params = call.params
        values = _values(params)
        metadata = {k: v for k, v in (params.metadata() or {}).items() if v is not None}
        default = _default_method(params)
        params.finish()
        return await service.create(call.caller, values, metadata, None if default is ... else default)

    async def retrieve(call: Call):
        call.params.finish()
        found = await service.retrieve(call.caller, call.path["customer"])
        if found.deleted:
            return {"id": found.id, "object": "customer", "deleted": True}
        return found

    async def update(call: Call):
        params = call.params
        values = _values(params)
        metadata = params.metadata()
        default = _default_method(params)
        params.finish()
        return await service.update(call.caller, call.path["customer"], values, metadata, default)

    async def delete(call: Call):
        call.params.finish()
        return await service.delete(call.caller, call.path["customer"])

    async def list_(call: Call):
        params = call.params
        page = paging(params)
        where, values = created_filter(params)
        email = params.str("email", max_length=EMAIL_MAX)
        if email:
            where += " AND t.email = :email"
            values["email"] = email
        params.str("test_clock")
        params.finish()
        data, more, _ = await service.list(call.caller, limit=page.limit, starting_after=page.starting_after,
                                           ending_before=page.ending_before, where=where, params=values)
        return list_body("/v1/customers", [render(c) for c in data], more)

    async def search_(call: Call):
        params = call.params
        text = params.str("query", required=True)
        limit = params.int("limit")
        if limit is not None and not 1 <= limit <= 100:
            raise InvalidRequest("Invalid limit: must be between 1 and 100", param="limit")
        after = _page_cursor(params.str("page"))
        params.finish()
        try:
            query = search.parse(text, search.CUSTOMERS)
        except search.SearchQueryError as error:
            raise InvalidRequest(str(error), param="query") from None
        sql, values = _search_sql(query, service.db.dialect)
        data, more, last = await service.list(call.caller, limit=limit or 10, starting_after=None,
                                              ending_before=None, where=sql, params=values, after_seq=after)
        next_page = orjson.dumps({"seq": last}).hex() if more and last is not None else None
        return {"object": "search_result", "data": [render(c) for c in data], "has_more": more,
                "next_page": next_page, "url": "/v1/customers/search"}

    async def customer_methods(call: Call):
        params = call.params
        page = paging(params)
        kind = params.enum("type", METHOD_TYPES)
        params.str("allow_redisplay")
        params.finish()
        data, more = await service.methods(call.caller, call.path["customer"], limit=page.limit,
                                           starting_after=page.starting_after, ending_before=page.ending_before,
                                           method_type=kind)
        return list_body(f"/v1/customers/{call.path['customer']}/payment_methods", [render(m) for m in data], more)

    async def customer_method(call: Call):
        call.params.finish()
        return await service.method_of(call.caller, call.path["customer"], call.path["method"])

    async def list_methods(call: Call):
        params = call.params
        page = paging(params)
        customer = params.str("customer", max_length=ID_MAX)
        kind = params.enum("type", METHOD_TYPES)
        params.finish()
        if customer:
            data, more = await service.methods(call.caller, customer, limit=page.limit,
                                               starting_after=page.starting_after, ending_before=page.ending_before,
                                               method_type=kind)
        else:
            where, values = "", {}
            if kind:
                where, values = " AND " + _json_type(service.db.dialect) + " = :ty", {"ty": kind}
            data, more = await methods.list(call.caller, limit=page.limit, starting_after=page.starting_after,
                                            ending_before=page.ending_before, where=where, params=values)
        return list_body("/v1/payment_methods", [render(m) for m in data], more)

    async def attach(call: Call):
        customer = call.params.str("customer", required=True, max_length=ID_MAX)
        call.params.finish()
        return await service.attach(call.caller, call.path["method"], customer)

    async def detach(call: Call):
        call.params.finish()
        return await service.detach(call.caller, call.path["method"])

    async def update_method(call: Call):
        params = call.params
        billing = _billing_details(params.hash("billing_details"))
        if billing is not None:
            billing = {k: v for k, v in billing.items() if v is not None or k in params.data["billing_details"]}
        metadata = params.metadata()
        redisplay = params.enum("allow_redisplay", ("always", "limited", "unspecified"))
        card = params.hash("card")
        if card is not None:
            card.str("exp_month")
            card.str("exp_year")
        params.finish()
        return await service.update_method(call.caller, call.path["method"], billing, metadata, redisplay)

    return [
        ("/v1/customers", "POST", api.endpoint(create)),
        ("/v1/customers", "GET", api.endpoint(list_)),
        ("/v1/customers/search", "GET", api.endpoint(search_)),
        ("/v1/customers/{customer}", "GET", api.endpoint(retrieve)),
        ("/v1/customers/{customer}", "POST", api.endpoint(update)),
        ("/v1/customers/{customer}", "DELETE", api.endpoint(delete)),
        ("/v1/customers/{customer}/payment_methods", "GET", api.endpoint(customer_methods)),
        ("/v1/customers/{customer}/payment_methods/{method}", "GET", api.endpoint(customer_method)),
        ("/v1/payment_methods", "GET", api.endpoint(list_methods)),
        ("/v1/payment_methods/{method}", "POST", api.endpoint(update_method)),
        ("/v1/payment_methods/{method}/attach", "POST", api.endpoint(attach)),
        ("/v1/payment_methods/{method}/detach", "POST", api.endpoint(detach)),
    ]


def _json_type(dialect: str) -> str:
    if dialect == "postgresql":
        return "(CAST(t.data AS json) ->> 'type')"
    return "json_extract(t.data, '$.type')"
