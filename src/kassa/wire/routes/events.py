"""/v1/events and /v1/webhook_endpoints."""

from __future__ import annotations


from ...domain import return_url as urls
from ...domain.errors import InvalidRequest
from ...services.events import Events, WebhookEndpoints
from ..api import Api, Call
from ..common import created_filter, list_body, paging

MAX_TYPES = 20


def _type_filter(call: Call) -> tuple[str, dict]:
    params = call.params
    single = params.str("type")
    many = params.str_list("types")
    if single and many:
        raise InvalidRequest("You may only specify one of these parameters: type, types.", param="types")
    patterns = [single] if single else (many or [])
    if len(patterns) > MAX_TYPES:
        raise InvalidRequest(f"types may list at most {MAX_TYPES} event types.", param="types")
    if not patterns:
        return "", {}
    clauses, values = [], {}
    for index, pattern in enumerate(patterns):
        if "*" in pattern:
            values[f"t{index}"] = pattern.replace("%", "").replace("_", "\\_").replace("*", "%")
            clauses.append(f"t.type LIKE :t{index} ESCAPE '\\'")
        else:
            values[f"t{index}"] = pattern
            clauses.append(f"t.type = :t{index}")
    return " AND (" + " OR ".join(clauses) + ")", values


def _url(call: Call, value: str | None) -> str:
    if value is None:
        raise InvalidRequest("Missing required param: url.", code="missing_required_parameter", param="url")
    return urls.validate(value, livemode=call.caller.livemode, param="url")


def routes(api: Api, events: Events, endpoints: WebhookEndpoints):
    async def list_events(call: Call):
        params = call.params
        page = paging(params)
        where, values = created_filter(params)
        types_sql, type_values = _type_filter(call)
        params.bool("delivery_success")
        params.finish()
        data, more = await events.list(call.caller, limit=page.limit, starting_after=page.starting_after,
                                       ending_before=page.ending_before, where=where + types_sql,
                                       params={**values, **type_values})
        return list_body("/v1/events", data, more)

    async def retrieve_event(call: Call):
        call.params.finish()
        return await events.retrieve(call.caller, call.path["event"])

    async def event_deliveries(call: Call):
        call.params.finish()
        data = await events.deliveries(call.caller, call.path["event"])
        return list_body(f"/v1/events/{call.path['event']}/deliveries", data, False)

    async def create_endpoint(call: Call):
        params = call.params
        url = _url(call, params.str("url", required=True, max_length=2048))
        enabled = params.str_list("enabled_events", required=True)
        description = params.str("description")
        metadata = params.metadata()
        api_version = params.str("api_version")
        params.bool("connect")
        params.finish()
        return await endpoints.create(call.caller, url=url, enabled_events=enabled, description=description,
                                      metadata=metadata, api_version=api_version)

    async def retrieve_endpoint(call: Call):
        call.params.finish()
        return await endpoints.retrieve(call.caller, call.path["endpoint"])

    async def update_endpoint(call: Call):
        params = call.params
        changes: dict = {}
        if params.has("url"):
            changes["url"] = _url(call, params.str("url", required=True, max_length=2048))
        if params.has("enabled_events"):
            changes["enabled_events"] = params.str_list("enabled_events", required=True)
        if params.has("disabled"):
            changes["disabled"] = params.bool("disabled", required=True)
        if params.has("description"):
            changes["description"] = params.str("description")
        metadata = params.metadata()
        params.finish()
        return await endpoints.update(call.caller, call.path["endpoint"], changes, metadata)

    async def delete_endpoint(call: Call):
        call.params.finish()
        return await endpoints.delete(call.caller, call.path["endpoint"])

    async def list_endpoints(call: Call):
        params = call.params
        page = paging(params)
        params.finish()
        data, more = await endpoints.list(call.caller, limit=page.limit, starting_after=page.starting_after,
                                          ending_before=page.ending_before)
        return list_body("/v1/webhook_endpoints", data, more)

    return [
        ("/v1/events", "GET", api.endpoint(list_events)),
        ("/v1/events/{event}", "GET", api.endpoint(retrieve_event)),
        ("/v1/events/{event}/deliveries", "GET", api.endpoint(event_deliveries)),
        ("/v1/webhook_endpoints", "POST", api.endpoint(create_endpoint)),
        ("/v1/webhook_endpoints", "GET", api.endpoint(list_endpoints)),
        ("/v1/webhook_endpoints/{endpoint}", "GET", api.endpoint(retrieve_endpoint)),
        ("/v1/webhook_endpoints/{endpoint}", "POST", api.endpoint(update_endpoint)),
        ("/v1/webhook_endpoints/{endpoint}", "DELETE", api.endpoint(delete_endpoint)),
    ]



