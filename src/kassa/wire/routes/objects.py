"""/v1/payment_methods, /v1/charges, /v1/refunds."""

from __future__ import annotations

from ...domain import refund as refunds
from ...services.objects import Objects, PaymentMethods
from ...services.refunds import Refunds
from ..api import Api, Call
from ..common import card_input, created_filter, list_body, paging
from ..render import render
from .payment_intents import _billing_details


def _list(api: Api, service: Objects, url: str, filters: tuple[str, ...] = ()):
    async def handler(call: Call):
        params = call.params
        page = paging(params)
        where, values = created_filter(params)
        for name in filters:
            value = params.str(name)
            if value:
                where += f" AND t.{name} = :f_{name}"
                values[f"f_{name}"] = value
        params.finish()
        data, more = await service.list(call.caller, limit=page.limit, starting_after=page.starting_after,
                                        ending_before=page.ending_before, where=where, params=values)
        return list_body(url, [render(obj) for obj in data], more)

    return api.endpoint(handler)


def _retrieve(api: Api, service: Objects, path_name: str):
    async def handler(call: Call):
        call.params.finish()
        return await service.retrieve(call.caller, call.path[path_name])

    return api.endpoint(handler)


def routes(api: Api, methods: PaymentMethods, charges: Objects, refund_objects: Objects, refund_service: Refunds):
    async def create_method(call: Call):
        params = call.params
        kind = params.str("type", required=True)
        billing = _billing_details(params.hash("billing_details"))
        metadata = {k: v for k, v in (params.metadata() or {}).items() if v is not None}
        params.enum("allow_redisplay", ("always", "limited", "unspecified"))
        amazon = params.hash("amazon_pay")
        card = card_input(params.hash("card"), "card")
        params.finish()
        del amazon  # the amazon_pay hash takes no parameters
        return await methods.create(call.caller, kind, billing, metadata, card=card)

    async def create_refund(call: Call):
        params = call.params
        command = dict(
            payment_intent=params.str("payment_intent"), charge=params.str("charge"),
            amount=params.int("amount", minimum=1), reason=params.enum("reason", refunds.REASONS),
            metadata={k: v for k, v in (params.metadata() or {}).items() if v is not None})
        params.str("instructions_email")
        params.finish()
        return await refund_service.create(call.caller, **command)

    async def update_refund(call: Call):
        metadata = call.params.metadata()
        call.params.finish()
        return await refund_service.update(call.caller, call.path["refund"], metadata)

    return [
        ("/v1/payment_methods", "POST", api.endpoint(create_method, publishable=True)),
        ("/v1/payment_methods/{method}", "GET", _retrieve(api, methods, "method")),
        ("/v1/charges", "GET", _list(api, charges, "/v1/charges", ("payment_intent",))),
        ("/v1/charges/{charge}", "GET", _retrieve(api, charges, "charge")),
        ("/v1/refunds", "POST", api.endpoint(create_refund)),
        ("/v1/refunds", "GET", _list(api, refund_objects, "/v1/refunds", ("payment_intent", "charge"))),
        ("/v1/refunds/{refund}", "GET", _retrieve(api, refund_objects, "refund")),
        ("/v1/refunds/{refund}", "POST", api.endpoint(update_refund)),
    ]
