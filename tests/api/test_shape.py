"""Every PaymentIntent kassa returns has exactly Stripe's fields, with Stripe's JSON types.

The field list is the newer one in the reference's `_amazon_pay_supplement` (it wins where it
differs from the 2023 schema), minus the fields docs/compatibility.md lists as not implemented.
Types come from the 2023 schema where it describes the field.
"""

from __future__ import annotations

import json

import httpx
import pytest

from support import REFERENCE as REFERENCE_DIR

REFERENCE = json.loads((REFERENCE_DIR / "stripe-openapi-payment-intents.json").read_text())
NOT_IMPLEMENTED = {"amount_details", "hooks", "managed_payments", "payment_details", "presentment_details",
                   "payment_record", "allowed_payment_method_types"}
FIELDS = set(REFERENCE["_amazon_pay_supplement"]["payment_intent.properties(latest, stripe-python 16.1.0)"])
SCHEMA = REFERENCE["components"]["schemas"]["payment_intent"]["properties"]

JSON_TYPES = {"integer": (int,), "string": (str,), "boolean": (bool,), "object": (dict,), "array": (list,),
              "number": (int, float)}


def allowed_types(spec: dict) -> tuple[type, ...]:
    if "type" in spec:
        return JSON_TYPES[spec["type"]]
    kinds: tuple[type, ...] = ()
    for option in spec.get("anyOf", []):
        kinds += JSON_TYPES[option["type"]] if "type" in option else (dict,)
    return kinds or (dict,)


def check_shape(obj: dict) -> None:
    assert obj["object"] == "payment_intent"
    assert set(obj) == FIELDS - NOT_IMPLEMENTED, (set(obj) ^ (FIELDS - NOT_IMPLEMENTED))
    for name, value in obj.items():
        spec = SCHEMA.get(name)
        if spec is None:
            assert value is None, f"{name} is outside the 2023 schema and must be null"
            continue
        if value is None:
            assert spec.get("nullable"), f"{name} is null but not nullable"
            continue
        kinds = allowed_types(spec)
        if isinstance(value, bool):  # bool is an int in Python, not in JSON
            assert bool in kinds, f"{name}={value!r} is not {kinds}"
        else:
            assert isinstance(value, kinds), f"{name}={value!r} is not {kinds}"
        if "enum" in spec:
            assert value in spec["enum"], f"{name}={value!r} not in {spec['enum']}"


def test_reference_is_consistent():
    assert "status" in FIELDS and "client_secret" in FIELDS
    assert NOT_IMPLEMENTED <= FIELDS


def test_every_returned_intent_has_the_reference_shape(server):
    auth = (server.secret_key, "")
    seen = []

    def call(method, path, **data):
        response = httpx.request(method, server.url + path, data=data or None, auth=auth)
        assert response.status_code == 200, response.text
        seen.append(response.json())
        return response.json()

    plain = call("POST", "/v1/payment_intents", amount="1099", currency="usd")
    full = call("POST", "/v1/payment_intents", amount="5000", currency="usd", description="d", customer="cus_x",
                **{"metadata[a]": "b", "capture_method": "manual", "receipt_email": "a@b.co",
                   "shipping[name]": "N", "shipping[address][line1]": "L",
                   "automatic_payment_methods[enabled]": "true", "setup_future_usage": "off_session",
                   "statement_descriptor": "SHOP"})
    call("GET", f"/v1/payment_intents/{plain['id']}")
    call("POST", f"/v1/payment_intents/{full['id']}", description="changed")
    call("POST", f"/v1/payment_intents/{plain['id']}/cancel", cancellation_reason="duplicate")
    listed = httpx.get(server.url + "/v1/payment_intents", params={"limit": 5}, auth=auth).json()
    searched = httpx.get(server.url + "/v1/payment_intents/search", params={"query": "amount>0"}, auth=auth).json()
    objects = seen + listed["data"] + searched["data"]
    assert len(objects) >= 7
    for obj in objects:
        check_shape(obj)


def test_shape_check_can_fail():
    good = {name: None for name in FIELDS - NOT_IMPLEMENTED}
    good.update(object="payment_intent", amount="12")
    with pytest.raises(AssertionError):
        check_shape(good)
