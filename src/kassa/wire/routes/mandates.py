"""/v1/mandates/:id."""

from __future__ import annotations

from ...domain.mandate import Mandate
from ...services.objects import Objects
from ..api import Api, Call


def mandate_objects(runner) -> Objects:
    return Objects(runner, "mandates", Mandate, "mandate", "mandate")


def routes(api: Api, mandates: Objects):
    async def retrieve(call: Call):
        call.params.finish()
        return await mandates.retrieve(call.caller, call.path["mandate"])

    return [("/v1/mandates/{mandate}", "GET", api.endpoint(retrieve))]
