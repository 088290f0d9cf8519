"""/v1/setup_intents: create, retrieve, update, confirm, cancel, list."""

from __future__ import annotations

from ...domain import setup_intent as si
from ...domain.errors import InvalidRequest
from ...domain.payment_method import CardInput
from ...domain.payment_method_types import SUPPORTED, CardsUnavailable
from ...services.setup_intents import SetupConfirm, SetupIntents
from ..api import Api, Call
from ..common import card_input, created_filter, list_body, paging
from ..params import Params
from ..render import render
from .payment_intents import TEST_CARD_METHODS, _billing_details

ID_MAX = 64


def _types(params: Params, livemode: bool, amazon_pay_enabled: bool) -> tuple[tuple[str, ...], dict | None]:
    requested = params.str_list("payment_method_types")
    automatic = params.hash("automatic_payment_methods")
    if automatic is not None:
        automatic.bool("enabled", required=True)
        automatic.enum("allow_redirects", ("always", "never"))
    if requested is None:
        offered = ([] if livemode else ["card"]) + (["amazon_pay"] if amazon_pay_enabled or livemode else [])
        return tuple(offered), {"enabled": True, "allow_redirects": "always"}
    if not requested:
        raise InvalidRequest("payment_method_types must contain at least one payment method type.",
                             param="payment_method_types")
    for index, kind in enumerate(requested):
        if kind not in SUPPORTED:
            raise InvalidRequest(f"The payment method type provided: {kind[:60]} is invalid. This SetupIntent can only "
                                 f"accept: {', '.join(SUPPORTED)}.", code="setup_intent_invalid_parameter",
                                 param=f"payment_method_types[{index}]")
        if kind == "card" and livemode:
            raise CardsUnavailable(f"payment_method_types[{index}]")
    return tuple(dict.fromkeys(requested)), None


def _options(params: Params) -> dict | None:
    options = params.hash("payment_method_options")
    if options is None:
        return None
    parsed: dict = {}
    card = options.hash("card")
    if card is not None:
        secure = card.enum("request_three_d_secure", ("any", "automatic", "challenge"))
        parsed["card"] = {"request_three_d_secure": secure} if secure else {}
    if options.hash("amazon_pay") is not None:
        parsed["amazon_pay"] = {}
    return parsed


def _mandate_data(params: Params) -> dict | None:
    data = params.hash("mandate_data")
    if data is None:
        return None
    acceptance = data.hash("customer_acceptance", required=True)
    kind = acceptance.enum("type", ("online", "offline"), required=True)
    acceptance.str("accepted_at")
    online = acceptance.hash("online")
    offline = acceptance.hash("offline")
    del offline
    given: dict = {"type": kind}
    if online is not None:
        online.bool("infer_from_client")
        given["online"] = {"ip_address": online.str("ip_address", max_length=64),
                           "user_agent": online.str("user_agent", max_length=1000)}
    return given


def confirm_command(params: Params) -> SetupConfirm:
    data = params.hash("payment_method_data")
    method_type = billing = card = None
    if data is not None:
        method_type = data.enum("type", SUPPORTED, required=True)
        billing = _billing_details(data.hash("billing_details"))
        data.metadata()
        data.hash("amazon_pay")
        card = card_input(data.hash("card"), "payment_method_data[card]")
    method_id = params.str("payment_method", max_length=ID_MAX)
    if method_id and method_type:
        raise InvalidRequest("You may only specify one of these parameters: payment_method, payment_method_data.",
                             param="payment_method_data")
    if method_id and method_id.startswith(TEST_CARD_METHODS):  # pm_card_visa & co: a new card each
        method_id, method_type, card = None, "card", CardInput("payment_method", test_method=method_id)
    params.bool("use_stripe_sdk")
    _options(params)
    return SetupConfirm(payment_method=method_id, method_type=method_type, card=card, billing_details=billing,
                        return_url=params.str("return_url", max_length=2048), mandate_data=_mandate_data(params))


def routes(api: Api, service: SetupIntents, public_url: str | None = None):
    def base_url(call: Call) -> str:
        return call.base_url(public_url)

    async def create(call: Call):
        params = call.params
        caller = call.caller
        types, automatic = _types(params, caller.livemode, caller.amazon_pay_enabled)
        confirm = params.bool("confirm")
        confirmation = confirm_command(params) if confirm else None
        method = None if confirm else params.str("payment_method", max_length=ID_MAX)
        command = si.CreateSetup(
            payment_method_types=types, automatic_payment_methods=automatic,
            usage=params.enum("usage", si.USAGES), customer=params.str("customer", max_length=ID_MAX),
            payment_method=method, description=params.str("description", max_length=1000),
            metadata={k: v for k, v in (params.metadata() or {}).items() if v is not None},
            payment_method_options=None if confirm else _options(params),
            return_url=None if confirm else params.str("return_url", max_length=2048))
        if not confirm:
            params.hash("payment_method_data")
            params.hash("mandate_data")
            params.bool("use_stripe_sdk")
        params.str_list("flow_directions")
        params.bool("attach_to_self")
        params.finish()
        return await service.create(caller, command, confirmation, base_url(call) if confirm else "")

    async def retrieve(call: Call):
        client_secret = call.params.str("client_secret")
        call.params.finish()
        return await service.retrieve(call.caller, call.path["intent"], client_secret)

    async def update(call: Call):
        params = call.params
        changes: dict = {}
        for name in ("customer", "payment_method", "description"):
            if params.has(name):
                changes[name] = params.str(name, max_length=ID_MAX if name != "description" else 1000)
        if params.has("payment_method_types"):
            changes["payment_method_types"], changes["automatic_payment_methods"] = _types(
                params, call.caller.livemode, call.caller.amazon_pay_enabled)
        if params.has("payment_method_options"):
            changes["payment_method_options"] = _options(params) or {}
        metadata = params.metadata()
        params.str_list("flow_directions")
        params.finish()
        return await service.update(call.caller, call.path["intent"], changes, metadata)

    async def confirm(call: Call):
        params = call.params
        client_secret = params.str("client_secret")
        command = confirm_command(params)
        params.finish()
        return await service.confirm(call.caller, call.path["intent"], command, client_secret=client_secret,
                                     base_url=base_url(call))

    async def cancel(call: Call):
        reason = call.params.enum("cancellation_reason", si.CANCELLATION_REASONS)
        call.params.finish()
        return await service.cancel(call.caller, call.path["intent"], reason)

    async def list_(call: Call):
        params = call.params
        page = paging(params)
        where, values = created_filter(params)
        for name in ("customer", "payment_method"):
            value = params.str(name, max_length=ID_MAX)
            if value:
                where += f" AND t.{name} = :f_{name}"
                values[f"f_{name}"] = value
        params.bool("attach_to_self")
        params.finish()
        data, more = await service.list(call.caller, limit=page.limit, starting_after=page.starting_after,
                                        ending_before=page.ending_before, where=where, params=values)
        return list_body("/v1/setup_intents", [render(s) for s in data], more)

    return [
        ("/v1/setup_intents", "POST", api.endpoint(create)),
        ("/v1/setup_intents", "GET", api.endpoint(list_)),
        ("/v1/setup_intents/{intent}", "GET", api.endpoint(retrieve, publishable=True)),
        ("/v1/setup_intents/{intent}", "POST", api.endpoint(update)),
        ("/v1/setup_intents/{intent}/confirm", "POST", api.endpoint(confirm, publishable=True)),
        ("/v1/setup_intents/{intent}/cancel", "POST", api.endpoint(cancel)),
    ]

