"""Typed parameter reading (`kassa.wire.params`): every getter, its errors, and unknown parameters."""

from __future__ import annotations

import pytest

from kassa.domain.errors import InvalidRequest
from kassa.wire.forms import decode_form
from kassa.wire.params import INT64_MAX, Params


def error_of(call) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as info:
        call()
    return info.value


def params(body: bytes) -> Params:
    return Params(decode_form(body))


# --------------------------------------------------------------------------- required and names


@pytest.mark.parametrize("getter", [
    lambda p: p.str("amount", required=True),
    lambda p: p.int("amount", required=True),
    lambda p: p.bool("amount", required=True),
    lambda p: p.enum("amount", ("a", "b"), required=True),
    lambda p: p.str_list("amount", required=True),
    lambda p: p.hash("amount", required=True),
])
def test_a_missing_required_param_names_it(getter):
    error = error_of(lambda: getter(Params({})))
    assert error.code == "missing_required_parameter"
    assert error.param == "amount"
    assert error.message == "Missing required param: amount."


def test_a_missing_nested_param_is_named_with_brackets():
    address = params(b"shipping[address][line2]=Apt+1").hash("shipping").hash("address")
    error = error_of(lambda: address.str("line1", required=True))
    assert error.param == "shipping[address][line1]"
    assert error.code == "missing_required_parameter"


def test_absent_optional_params_read_as_none():
    p = Params(None)
    assert p.data == {}
    assert [p.str("a"), p.int("b"), p.bool("c"), p.enum("d", ("x",)), p.str_list("e"), p.hash("f"),
            p.metadata()] == [None] * 7
    assert p.expand() == []
    p.finish()


def test_has_tells_presence_without_marking_as_used():
    p = params(b"a=1")
    assert p.has("a") and not p.has("b")
    with pytest.raises(InvalidRequest):
        p.finish()


# --------------------------------------------------------------------------- str


def test_str_reads_a_value():
    assert params(b"description=Hello+world").str("description") == "Hello world"


def test_str_empty_means_unset():
    assert params(b"description=").str("description") is None


def test_str_required_but_empty_is_parameter_invalid_empty():
    error = error_of(lambda: params(b"currency=").str("currency", required=True))
    assert error.code == "parameter_invalid_empty"
    assert error.param == "currency"
    assert "You passed an empty string for 'currency'" in error.message


def test_str_max_length():
    assert params(b"d=" + b"x" * 10).str("d", max_length=10) == "x" * 10
    error = error_of(lambda: params(b"d=" + b"x" * 11).str("d", max_length=10))
    assert error.param == "d" and error.code == "parameter_invalid_string"


@pytest.mark.parametrize("body", [b"d[x]=1", b"d[]=1", b"d[0]=1"])
def test_str_refuses_a_hash_or_a_list(body):
    error = error_of(lambda: params(body).str("d"))
    assert error.code == "parameter_invalid_string" and error.param == "d"


# --------------------------------------------------------------------------- int


@pytest.mark.parametrize("raw, expected", [("0", 0), ("1099", 1099), ("-5", -5), ("007", 7),
                                           (str(INT64_MAX), INT64_MAX)])
def test_int_reads_integers(raw, expected):
    assert Params({"n": raw}).int("n") == expected


@pytest.mark.parametrize("raw", ["1.5", "1e3", " 1", "1 ", "+1", "0x10", "ten", "--1", "1_000",
                                 str(INT64_MAX + 1), "1" * 20])
def test_int_refuses_what_is_not_an_int64(raw):
    error = error_of(lambda: Params({"n": raw}).int("n"))
    assert error.code == "parameter_invalid_integer" and error.param == "n"
    assert error.message == f"Invalid integer: {raw}"


def test_int_refuses_non_ascii_digits():
    error = error_of(lambda: Params({"n": "١٢٣"}).int("n"))
    assert error.code == "parameter_invalid_integer"


def test_int_refuses_values_below_int64_min():
    error = error_of(lambda: Params({"n": str(-(2**63) - 1)}).int("n"))
    assert error.code == "parameter_invalid_integer"


def test_int_minimum_and_maximum():
    assert Params({"n": "1"}).int("n", minimum=1) == 1
    error = error_of(lambda: Params({"n": "0"}).int("n", minimum=1))
    assert error.code == "parameter_invalid_integer" and error.param == "n"
    assert error.message == "This value must be greater than or equal to 1."
    assert Params({"n": "100"}).int("n", maximum=100) == 100
    error = error_of(lambda: Params({"n": "101"}).int("n", maximum=100))
    assert error.code == "parameter_invalid_integer" and error.param == "n"


def test_int_empty_is_unset_unless_required():
    assert Params({"n": ""}).int("n") is None
    assert error_of(lambda: Params({"n": ""}).int("n", required=True)).code == "parameter_invalid_empty"


def test_int_error_names_nested_param():
    error = error_of(lambda: Params({"gt": "x"}, "created").int("gt"))
    assert error.param == "created[gt]"


# --------------------------------------------------------------------------- bool and enum


def test_bool():
    assert Params({"b": "true"}).bool("b") is True
    assert Params({"b": "false"}).bool("b") is False
    assert Params({"b": ""}).bool("b") is None


@pytest.mark.parametrize("raw", ["True", "1", "yes", "on", "t"])
def test_bool_accepts_only_true_and_false(raw):
    error = error_of(lambda: Params({"b": raw}).bool("b"))
    assert error.param == "b" and error.message == f"Invalid boolean: {raw}"


def test_enum_reads_a_choice():
    assert Params({"c": "manual"}).enum("c", ("automatic", "automatic_async", "manual")) == "manual"
    assert Params({"c": ""}).enum("c", ("manual",)) is None


def test_enum_refusal_lists_the_choices_as_stripe_does():
    error = error_of(lambda: Params({"capture_method": "later"}).enum(
        "capture_method", ("automatic", "automatic_async", "manual")))
    assert error.code == "parameter_invalid_string" and error.param == "capture_method"
    assert error.message == "Invalid capture_method: must be one of automatic, automatic_async, or manual"


def test_enum_refusal_with_one_choice():
    error = error_of(lambda: Params({"c": "auto"}).enum("c", iter(["manual"])))
    assert error.message == "Invalid c: must be one of manual"


def test_enum_is_case_sensitive():
    assert error_of(lambda: Params({"c": "Manual"}).enum("c", ("manual",))).param == "c"


# --------------------------------------------------------------------------- str_list and expand


@pytest.mark.parametrize("body", [b"t[]=amazon_pay&t[]=card", b"t[0]=amazon_pay&t[1]=card",
                                  b"t[1]=card&t[0]=amazon_pay"])
def test_str_list_reads_both_list_styles(body):
    assert params(body).str_list("t") == ["amazon_pay", "card"]


def test_str_list_empty_value_is_an_empty_list():
    assert Params({"t": ""}).str_list("t") == []


def test_str_list_required_but_empty_is_missing():
    error = error_of(lambda: Params({"t": ""}).str_list("t", required=True))
    assert error.code == "missing_required_parameter" and error.param == "t"


@pytest.mark.parametrize("body", [b"t=amazon_pay", b"t[a]=x", b"t[0][a]=x", b"t[][a]=x"])
def test_str_list_refuses_a_scalar_a_hash_or_nested_items(body):
    error = error_of(lambda: params(body).str_list("t"))
    assert error.code == "parameter_invalid_string" and error.param == "t"


def test_str_list_max_items():
    assert Params({"t": ["x"] * 3}).str_list("t", max_items=3) == ["x"] * 3
    assert error_of(lambda: Params({"t": ["x"] * 4}).str_list("t", max_items=3)).param == "t"


def test_expand_reads_a_list_of_paths():
    p = params(b"expand[0]=customer&expand[1]=latest_charge.balance_transaction")
    assert p.expand() == ["customer", "latest_charge.balance_transaction"]
    p.finish()


def test_expand_defaults_to_empty():
    assert Params({}).expand() == []
    assert Params({"expand": ""}).expand() == []


# --------------------------------------------------------------------------- hash and unknown params


def test_hash_gives_a_child_named_with_brackets():
    shipping = params(b"shipping[name]=Jo&shipping[address][line1]=1+Main+St").hash("shipping")
    assert shipping.prefix == "shipping"
    assert shipping.str("name") == "Jo"
    address = shipping.hash("address")
    assert address.prefix == "shipping[address]"
    assert address.str("line1") == "1 Main St"


def test_hash_empty_value_is_an_empty_child():
    p = Params({"shipping": ""})
    child = p.hash("shipping")
    assert child.data == {} and child.prefix == "shipping"
    p.finish()


@pytest.mark.parametrize("body", [b"shipping=x", b"shipping[]=x"])
def test_hash_refuses_a_scalar_or_an_appended_list(body):
    error = error_of(lambda: params(body).hash("shipping"))
    assert error.code == "parameter_invalid_string" and error.param == "shipping"


def test_finish_accepts_when_every_param_was_read():
    p = params(b"amount=1099&currency=usd&shipping[name]=Jo")
    assert (p.int("amount"), p.str("currency"), p.hash("shipping").str("name")) == (1099, "usd", "Jo")
    assert p.finish() is None  # no unknown parameter left: nothing raised


def test_unknown_top_level_param():
    p = params(b"amount=1099&amout=5")
    p.int("amount")
    error = error_of(p.finish)
    assert error.code == "parameter_unknown" and error.param == "amout"
    assert error.message == "Received unknown parameter: amout"


def test_unknown_nested_param_is_named_in_full():
    p = params(b"shipping[name]=Jo&shipping[foo]=1")
    p.hash("shipping").str("name")
    error = error_of(p.finish)
    assert error.code == "parameter_unknown" and error.param == "shipping[foo]"


def test_unknown_param_two_levels_down():
    p = params(b"shipping[address][line1]=x&shipping[address][zip]=1")
    p.hash("shipping").hash("address").str("line1")
    error = error_of(p.finish)
    assert error.param == "shipping[address][zip]"


def test_a_hash_nobody_asked_for_is_unknown_as_a_whole():
    p = params(b"shipping[name]=Jo")
    assert error_of(p.finish).param == "shipping"


# --------------------------------------------------------------------------- metadata


def test_metadata_values_and_removals():
    changes = params(b"metadata[order_id]=42&metadata[gone]=").metadata()
    assert changes == {"order_id": "42", "gone": None}


def test_metadata_empty_value_clears_all():
    assert Params({"metadata": ""}).metadata() == {}


def test_metadata_under_another_name():
    assert Params({"tags": {"a": "b"}}).metadata("tags") == {"a": "b"}


@pytest.mark.parametrize("body", [b"metadata=x", b"metadata[]=x"])
def test_metadata_must_be_a_hash(body):
    error = error_of(lambda: params(body).metadata())
    assert error.param == "metadata" and error.code == "parameter_invalid_string"


def test_metadata_values_must_be_strings():
    error = error_of(lambda: params(b"metadata[a][b]=c").metadata())
    assert error.param == "metadata[a]"


def test_metadata_key_limit_of_50():
    fifty = {f"k{i}": "v" for i in range(50)}
    assert Params({"metadata": fifty}).metadata() == fifty
    error = error_of(lambda: Params({"metadata": {**fifty, "k50": "v"}}).metadata())
    assert error.param == "metadata" and "50" in error.message


def test_metadata_key_length_limit_of_40():
    assert Params({"metadata": {"k" * 40: "v"}}).metadata() == {"k" * 40: "v"}
    error = error_of(lambda: Params({"metadata": {"k" * 41: "v"}}).metadata())
    assert error.param == f"metadata[{'k' * 41}]" and "40" in error.message


def test_metadata_value_length_limit_of_500():
    assert Params({"metadata": {"k": "v" * 500}}).metadata() == {"k": "v" * 500}
    error = error_of(lambda: Params({"metadata": {"k": "v" * 501}}).metadata())
    assert error.param == "metadata[k]" and "500" in error.message and "501" in error.message


def test_metadata_limits_count_characters_not_bytes():
    assert Params({"metadata": {"é" * 40: "€" * 500}}).metadata() == {"é" * 40: "€" * 500}


def test_metadata_error_inside_a_hash_names_the_full_param():
    nested = Params({"metadata": {"k" * 41: "v"}}, "payment_method_data")
    assert error_of(nested.metadata).param == f"payment_method_data[metadata][{'k' * 41}]"


def test_metadata_is_marked_as_used():
    p = params(b"metadata[a]=b")
    assert p.metadata() == {"a": "b"}
    assert p.finish() is None  # metadata[a] counts as read: nothing raised
