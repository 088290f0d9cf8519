"""``expand[]``: replace ids in a rendered object by the objects they name, along dot paths."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ..domain.errors import InvalidRequest
from ..services.context import Caller
from ..store.database import Tx

# object type → fields that may be expanded
EXPANDABLE: dict[str, frozenset[str]] = {
    "payment_intent": frozenset({"customer", "latest_charge", "payment_method", "application",
                                 "on_behalf_of", "review"}),
    "charge": frozenset({"payment_intent", "balance_transaction", "customer", "application", "review",
                         "on_behalf_of", "source_transfer"}),
    "refund": frozenset({"charge", "payment_intent", "balance_transaction"}),
    "payment_method": frozenset({"customer"}),
}

# id prefix → loader of the rendered object with that id (filled in by the modules that own them)
Loader = Callable[[Tx, Caller, str], Awaitable[dict | None]]
LOADERS: dict[str, Loader] = {}

MAX_DEPTH = 4


def check_paths(paths: list[str]) -> list[str]:
    for path in paths:
        if not path or path.count(".") >= MAX_DEPTH or any(not part for part in path.split(".")):
            raise InvalidRequest(f"Invalid expand path: {path[:100]}", param="expand")
    return paths


async def expand(tx: Tx, caller: Caller, obj: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    for path in paths:
        await _expand_path(tx, caller, obj, path.split("."), path)
    return obj


async def _expand_path(tx: Tx, caller: Caller, obj: Any, parts: list[str], path: str) -> None:
    if not isinstance(obj, dict):
        return
    head, rest = parts[0], parts[1:]
    if obj.get("object") == "list" or obj.get("object") == "search_result":
        if head != "data":
            raise InvalidRequest(f"This property cannot be expanded ({path}).", param="expand")
        for item in obj["data"]:
            if rest:
                await _expand_path(tx, caller, item, rest, path)
        return
    kind = obj.get("object")
    if head not in EXPANDABLE.get(kind, ()):
        raise InvalidRequest(f"This property cannot be expanded ({path}).", param="expand")
    value = obj.get(head)
    if isinstance(value, str):
        loader = LOADERS.get(value.split("_", 1)[0])
        loaded = await loader(tx, caller, value) if loader else None
        if loaded is not None:
            obj[head] = value = loaded
    if rest:
        await _expand_path(tx, caller, value, rest, path)
