"""The fast builder and replace of the domain's dataclasses make exactly what the class would."""

from __future__ import annotations

import dataclasses
import inspect

import orjson
import pytest

from kassa.domain import payment_intent as pi
from kassa.domain.charge import Charge
from kassa.domain.payment_method import PaymentMethod
from kassa.domain.records import Records, quick_init


def _intent() -> pi.PaymentIntent:
    intent, _ = pi.create(pi.CreateIntent(amount=1099, currency="usd", metadata={"order": "42"}),
                          livemode=False, now=1_700_000_000)
    return intent


def test_a_stored_intent_reads_back_equal_and_frozen():
    intent = _intent()
    read = pi.PaymentIntent.from_record(orjson.loads(orjson.dumps(intent)))
    assert read == intent and type(read) is pi.PaymentIntent
    assert read.payment_method_types == ("card", "amazon_pay")  # stored as a JSON list, read as a tuple
    with pytest.raises(dataclasses.FrozenInstanceError):
        read.status = "succeeded"


def test_a_record_missing_a_field_takes_the_class_default():
    record = orjson.loads(orjson.dumps(_intent()))
    del record["attempt"], record["metadata"]  # a record written before these fields existed
    read = pi.PaymentIntent.from_record(record)
    assert read.attempt is None and read.metadata == {}


def test_a_record_with_an_unknown_field_is_refused_as_the_constructor_refuses_it():
    record = {**orjson.loads(orjson.dumps(PaymentMethod("pm_1", "amazon_pay", False, 1))), "colour": "red"}
    with pytest.raises(TypeError):
        PaymentMethod.from_record(record)


def test_replace_equals_dataclasses_replace_and_leaves_the_original():
    intent = _intent()
    records = Records(pi.PaymentIntent)
    changed = records.replace(intent, {"status": pi.SUCCEEDED, "amount_received": 1099})
    assert changed == dataclasses.replace(intent, status=pi.SUCCEEDED, amount_received=1099)
    assert intent.status == pi.REQUIRES_PAYMENT_METHOD and intent.amount_received == 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        changed.amount = 1


def test_replace_refuses_a_field_the_class_does_not_have():
    with pytest.raises(TypeError, match="amount_recieved"):
        Records(pi.PaymentIntent).replace(_intent(), {"amount_recieved": 5})


def test_a_transition_names_what_changed():
    intent = _intent()
    updated, events = pi._transition(intent, "payment_intent.canceled", status=pi.CANCELED,
                                     amount=intent.amount)
    assert updated.status == pi.CANCELED and updated.amount == intent.amount
    assert events[0].previous_attributes == {"status": pi.REQUIRES_PAYMENT_METHOD}


def test_every_stored_kind_reads_back_equal():
    charge = Charge("ch_1", False, 1099, "usd", 1, "pi_1", "pm_1", True, amount_captured=1099,
                    metadata={"a": "b"})
    assert Charge.from_record(orjson.loads(orjson.dumps(charge))) == charge
    method = PaymentMethod("pm_1", "amazon_pay", False, 1, billing_details={"name": "A"})
    assert PaymentMethod.from_record(orjson.loads(orjson.dumps(method))) == method


def test_a_class_without_slots_is_refused():
    @dataclasses.dataclass(frozen=True)
    class Plain:
        x: int

    with pytest.raises(TypeError):
        Records(Plain)


def test_quick_init_makes_the_same_objects_with_the_same_parameters_and_stays_frozen():
    @dataclasses.dataclass(frozen=True, slots=True)
    class Slow:
        kind: str
        subject: object
        changes: dict = dataclasses.field(default_factory=dict)
        count: int = 3

    Quick = quick_init(dataclasses.make_dataclass(  # the same class, its __init__ replaced
        "Slow", [("kind", str), ("subject", object), ("changes", dict, dataclasses.field(default_factory=dict)),
                 ("count", int, 3)], frozen=True, slots=True))
    for args, kwargs in [(("a", 1), {}), (("a", 1, {"x": 1}, 5), {}), ((), {"kind": "b", "subject": 2, "count": 7})]:
        slow, quick = Slow(*args, **kwargs), Quick(*args, **kwargs)
        assert dataclasses.astuple(slow) == dataclasses.astuple(quick)
    assert Quick("a", 1).changes is not Quick("a", 1).changes  # a fresh default for each object
    with pytest.raises(TypeError):
        Quick("a")  # a field without a default is required, as before
    with pytest.raises(TypeError):
        Quick("a", 1, colour="red")
    with pytest.raises(dataclasses.FrozenInstanceError):
        Quick("a", 1).kind = "c"
    assert [name for name in inspect.signature(Quick).parameters] == ["kind", "subject", "changes", "count"]


def test_quick_init_is_on_the_hot_value_classes_and_refuses_what_it_cannot_copy():
    from kassa.domain.events import DomainEvent
    from kassa.methods.base import Attempt, AuthorizationRequest, Decision

    for cls in (pi.PaymentIntent, pi.CreateIntent, pi.Confirm, DomainEvent, Attempt, AuthorizationRequest, Decision):
        assert cls.__init__.__code__.co_filename == "<string>" and "set0" in cls.__init__.__code__.co_names
    intent = _intent()
    assert pi.PaymentIntent(**{f.name: getattr(intent, f.name) for f in dataclasses.fields(intent)}) == intent

    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        x: int

        def __post_init__(self):
            pass

    @dataclasses.dataclass(slots=True)
    class Mutable:
        x: int

    for cls in (Checked, Mutable):
        with pytest.raises(TypeError):
            quick_init(cls)
