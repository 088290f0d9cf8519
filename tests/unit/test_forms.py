"""Stripe's form encoding (`kassa.wire.forms`): bracket keys, both list styles, decoding, limits."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kassa.domain.errors import InvalidRequest
from kassa.wire.forms import MAX_DEPTH, MAX_KEY_LENGTH, MAX_PAIRS, FormError, as_list, decode, decode_form, parse_pairs

try:  # the encoder stripe-python itself uses for request bodies
    from stripe._encode import _api_encode
except ImportError:  # pragma: no cover - a stand-in with the same output
    def _api_encode(data):
        for key, value in data.items():
            if isinstance(value, (list, tuple)):
                value = {str(index): item for index, item in enumerate(value)}
            if isinstance(value, dict):
                yield from _api_encode({f"{key}[{sub}]": item for sub, item in value.items()})
            else:
                yield key, value


def stripe_encode(params: dict) -> str:
    """A body exactly as stripe-python sends it (brackets left literal)."""
    return urlencode(list(_api_encode(params))).replace("%5B", "[").replace("%5D", "]")


# --------------------------------------------------------------------------- pairs and decoding


def test_parse_pairs_decodes_plus_and_percent_escapes():
    assert parse_pairs(b"a+b=c+d%2B&e=x%26y%3Dz") == [("a b", "c d+"), ("e", "x&y=z")]


def test_parse_pairs_skips_empty_chunks_and_keeps_keys_without_value():
    assert parse_pairs(b"&a=1&&b&c=") == [("a", "1"), ("b", ""), ("c", "")]


def test_utf8_is_decoded_after_percent_decoding():
    assert decode_form(b"name=%C3%A9t%C3%A9&emoji=%F0%9F%92%B3") == {"name": "été", "emoji": "💳"}


def test_str_input_is_read_as_latin1_bytes_like_a_wsgi_query_string():
    assert decode_form("name=\xc3\xa9") == {"name": "é"}
    assert decode_form("a=1&b[c]=2") == {"a": "1", "b": {"c": "2"}}


@pytest.mark.parametrize("raw", [b"a=%ff", b"a=%C3", b"%ff=1", b"a=%ED%A0%80", b"a=\xff"])
def test_invalid_utf8_is_a_form_error(raw):
    with pytest.raises(FormError) as info:
        decode_form(raw)
    assert "UTF-8" in info.value.message
    assert isinstance(info.value, InvalidRequest) and info.value.status == 400


def test_invalid_percent_escape_is_kept_literally():
    assert decode_form(b"a=%zz&b=100%") == {"a": "%zz", "b": "100%"}


def test_percent_encoded_brackets_nest_like_literal_ones():
    assert decode_form(b"a%5Bb%5D%5Bc%5D=1") == {"a": {"b": {"c": "1"}}}


def test_nested_hashes_merge():
    assert decode_form(b"a[b][c]=1&a[b][d]=2&a[e]=3&f=4") == {"a": {"b": {"c": "1", "d": "2"}, "e": "3"}, "f": "4"}


def test_a_repeated_scalar_key_keeps_the_last_value():
    assert decode_form(b"a=1&a=2&b[c]=x&b[c]=y") == {"a": "2", "b": {"c": "y"}}


def test_empty_value_is_an_empty_string():
    assert decode_form(b"metadata[k]=&description=") == {"metadata": {"k": ""}, "description": ""}


# --------------------------------------------------------------------------- lists


def test_append_style_list_becomes_a_list_in_order():
    assert decode_form(b"expand[]=a&other=1&expand[]=b&expand[]=a") == {"expand": ["a", "b", "a"], "other": "1"}


def test_append_style_list_of_hashes():
    assert decode_form(b"items[][price]=p1&items[][price]=p2") == {"items": [{"price": "p1"}, {"price": "p2"}]}


def test_append_style_list_of_hashes_merges_keys_into_the_last_hash_like_rack():
    body = b"items[][price]=p1&items[][quantity]=2&items[][price]=p2"
    assert decode_form(body) == {"items": [{"price": "p1", "quantity": "2"}, {"price": "p2"}]}


def test_indexed_list_stays_a_dict_with_digit_keys():
    decoded = decode_form(b"payment_method_types[0]=amazon_pay&payment_method_types[1]=card")
    assert decoded == {"payment_method_types": {"0": "amazon_pay", "1": "card"}}
    assert as_list(decoded["payment_method_types"]) == ["amazon_pay", "card"]


def test_indexed_list_of_hashes_reads_as_a_list():
    decoded = decode_form(b"a[1][x]=2&a[0][x]=1&a[0][y]=3")
    assert as_list(decoded["a"]) == [{"x": "1", "y": "3"}, {"x": "2"}]


def test_as_list_orders_indexes_numerically_not_as_text():
    indexed = {str(index): f"v{index}" for index in (10, 2, 0, 1, 11, 3, 4, 5, 6, 7, 8, 9)}
    assert as_list(indexed) == [f"v{index}" for index in range(12)]


def test_as_list_accepts_gaps_and_returns_a_list_unchanged():
    assert as_list({"5": "b", "0": "a"}) == ["a", "b"]
    items = ["x"]
    assert as_list(items) is items


@pytest.mark.parametrize("value", [{}, {"0": "a", "b": "c"}, {"-1": "a"}, {"123456": "a"}, "a", None])
def test_as_list_refuses_what_is_not_a_list(value):
    assert as_list(value) is None


def test_as_list_refuses_unicode_digit_like_keys_without_crashing():
    assert as_list({"²": "x"}) is None


@pytest.mark.parametrize("body", [b"a[]=1&a[0]=2", b"a[0]=1&a[]=2", b"a[]=1&a[b]=2", b"a[b]=1&a[]=2"])
def test_mixing_list_styles_or_a_list_and_a_hash_is_refused(body):
    with pytest.raises(FormError) as info:
        decode_form(body)
    assert info.value.param == "a"


def test_a_list_inside_a_list_element_is_refused():
    with pytest.raises(FormError) as info:
        decode_form(b"a[][]=x")
    assert info.value.param == "a"


# --------------------------------------------------------------------------- malformed keys and limits


@pytest.mark.parametrize("key", ["a[b", "a[", "a]", "a]b", "a[b]c", "a[b][", "a[b]]", "a[[b]]", "[a]", "[]", "", "a[b[c]]"])
def test_malformed_brackets_are_refused(key):
    with pytest.raises(FormError) as info:
        decode([(key, "v")])
    assert "Invalid parameter name" in info.value.message


def test_malformed_key_is_named_in_param():
    with pytest.raises(FormError) as info:
        decode_form(b"metadata[order=1")
    assert info.value.param == "metadata[order"


def test_depth_limit():
    deepest = "a" + "[x]" * (MAX_DEPTH - 1)
    value = decode([(deepest, "v")])
    for _ in range(MAX_DEPTH - 1):
        value = next(iter(value.values()))
    assert value == {"x": "v"}
    with pytest.raises(FormError) as info:
        decode([(deepest + "[x]", "v")])
    assert info.value.param == "a" and f"deeper than {MAX_DEPTH}" in info.value.message


def test_key_length_limit():
    assert decode([("k" * MAX_KEY_LENGTH, "v")]) == {"k" * MAX_KEY_LENGTH: "v"}
    with pytest.raises(FormError):
        decode([("k" * (MAX_KEY_LENGTH + 1), "v")])


@pytest.mark.parametrize("body, param", [
    (b"a=1&a[b]=2", "a"),
    (b"a[b]=2&a=1", "a"),
    (b"a[b]=1&a[b][c]=2", "a[b]"),
    (b"a[b][c]=2&a[b]=1", "a[b]"),
    (b"a=1&a[]=2", "a"),
    (b"a[]=2&a=1", "a"),
])
def test_a_value_and_a_hash_under_one_key_is_refused(body, param):
    with pytest.raises(FormError) as info:
        decode_form(body)
    assert info.value.param == param


def test_too_many_pairs():
    at_limit = "&".join(f"k{i}=v" for i in range(MAX_PAIRS)).encode()
    assert len(decode_form(at_limit)) == MAX_PAIRS
    with pytest.raises(FormError) as info:
        decode_form(at_limit + b"&one=more")
    assert "Too many parameters" in info.value.message


# --------------------------------------------------------------------------- round trip with stripe-python's encoder

KEYS = st.text(st.characters(blacklist_characters="[]", blacklist_categories=("Cs",)), min_size=1, max_size=6)
VALUES = st.text(st.characters(blacklist_categories=("Cs",)), max_size=10)


def trees(depth: int):
    """Nested dicts and lists of strings (non-empty containers: stripe-python omits empty ones)."""
    leaf = st.one_of(VALUES, st.lists(VALUES, min_size=1, max_size=12))
    if depth == 0:
        return leaf
    child = trees(depth - 1)
    return st.one_of(leaf, st.dictionaries(KEYS, child, min_size=1, max_size=3),
                     st.lists(child, min_size=1, max_size=3))


def through_as_list(decoded, like):
    """`decoded` shaped like `like`, indexed lists read with `as_list`; fails on any other shape."""
    if isinstance(like, list):
        items = as_list(decoded)
        assert items is not None and len(items) == len(like), (decoded, like)
        return [through_as_list(item, sample) for item, sample in zip(items, like)]
    if isinstance(like, dict):
        assert isinstance(decoded, dict) and decoded.keys() == like.keys(), (decoded, like)
        return {key: through_as_list(decoded[key], like[key]) for key in like}
    return decoded


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(KEYS, trees(3), min_size=1, max_size=4))  # ≤ 6 levels, ≤ 1296 pairs
def test_decode_form_inverts_stripe_python_encoding(params):
    body = stripe_encode(params)
    assert through_as_list(decode_form(body.encode("ascii")), params) == params


def test_round_trip_example_at_full_depth():
    params = {"a": {"b": [{"c": {"d": ["e", {"f": {"g": "h i&j=k+l"}}]}}]}}
    body = stripe_encode(params)
    assert "a[b][0][c][d][1][f][g]=" in body  # MAX_DEPTH parts
    assert through_as_list(decode_form(body.encode()), params) == params
