"""Stripe's form encoding: ``a[b][c]=v``, lists as ``a[]=x`` or ``a[0]=x``, decoded to nested values."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from ..domain.errors import InvalidRequest

MAX_DEPTH = 8
MAX_PAIRS = 2_000
MAX_KEY_LENGTH = 1_000


class FormError(InvalidRequest):
    """The body or query string cannot be decoded."""


def _unquote(raw: bytes) -> str:
    try:
        return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise FormError("Invalid request: the parameters are not valid UTF-8 after URL decoding.") from None


def parse_pairs(raw: bytes | str) -> list[tuple[str, str]]:
    """Split an ``application/x-www-form-urlencoded`` string into decoded (key, value) pairs."""
    if isinstance(raw, str):
        raw = raw.encode("latin-1", "replace")
    pairs = []
    for chunk in raw.split(b"&"):
        if not chunk:
            continue
        key, _, value = chunk.partition(b"=")
        pairs.append((_unquote(key), _unquote(value)))
        if len(pairs) > MAX_PAIRS:
            raise FormError(f"Too many parameters: at most {MAX_PAIRS} are accepted.")
    return pairs


def _split_key(key: str) -> list[str]:
    """``a[b][]`` → ``['a', 'b', '']``; malformed brackets are an error naming the key."""
    if len(key) > MAX_KEY_LENGTH:
        raise FormError(f"Invalid parameter name: longer than {MAX_KEY_LENGTH} characters.")
    head, bracket, rest = key.partition("[")
    if not head or "]" in head:
        raise FormError(f"Invalid parameter name: {key[:100]}", param=key[:100])
    parts = [head]
    while bracket:
        inner, closed, rest = rest.partition("]")
        if not closed or "[" in inner:
            raise FormError(f"Invalid parameter name: {key[:100]}", param=key[:100])
        parts.append(inner)
        if not rest:
            break
        if rest[0] != "[":
            raise FormError(f"Invalid parameter name: {key[:100]}", param=key[:100])
        rest = rest[1:]
    if len(parts) > MAX_DEPTH:
        raise FormError(f"Invalid parameter name: nested deeper than {MAX_DEPTH} levels.", param=head)
    return parts


class _List(list):
    """A list built from ``a[]=`` pairs (kept apart from indexed dicts until the end)."""


def decode(pairs: list[tuple[str, str]]) -> dict:
    """Nest decoded pairs: hashes become dicts, both list styles become lists."""
    root: dict = {}
    for key, value in pairs:
        parts = _split_key(key)
        node: dict | list = root
        path = parts[0]
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            next_is_append = not last and parts[index + 1] == ""
            if part == "":
                if not isinstance(node, _List):
                    raise FormError(f"Invalid array parameter: {path}", param=path)
                if last:
                    node.append(value)
                    break
                # As Rack (behind Stripe's API) does: ``a[][x]=1&a[][y]=2`` fill one hash; a key
                # already present in the last hash starts the next one.
                if node and isinstance(node[-1], dict) and parts[index + 1] not in node[-1]:
                    node = node[-1]
                    continue
                child = {}
                node.append(child)
                node = child
                continue
            if not isinstance(node, dict):
                raise FormError(f"Invalid hash parameter: {path}", param=path)
            if index:
                path = f"{path}[{part}]"
            if last:
                if isinstance(node.get(part), (dict, list)):
                    raise FormError(f"Invalid parameter: {path} is given both as a value and a hash.", param=path)
                node[part] = value
                break
            child = node.get(part)
            if child is None:
                child = _List() if next_is_append else {}
                node[part] = child
            elif isinstance(child, str) or (next_is_append != isinstance(child, _List)):
                raise FormError(f"Invalid parameter: {path} mixes a value, a hash and a list.", param=path)
            node = child
    return _finish(root)


def _finish(value):
    """Plain lists and dicts all the way down. Indexed lists (``a[0]=x``) stay dicts with digit
    keys here; the parameter layer reads them as lists where it expects one (see `as_list`)."""
    if isinstance(value, list):
        return [_finish(item) for item in value]
    if isinstance(value, dict):
        return {k: _finish(v) for k, v in value.items()}
    return value


def as_list(value):
    """A list parameter in either style: a list, or a dict whose keys are all indexes."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and value and all(k.isascii() and k.isdigit() and len(k) < 6 for k in value):
        return [value[k] for k in sorted(value, key=int)]
    return None


def decode_form(raw: bytes | str) -> dict:
    """Decode a whole body or query string."""
    return decode(parse_pairs(raw))
