"""Building and changing the domain's frozen, slotted dataclasses quickly.

Keyword construction and ``dataclasses.replace`` of a PaymentIntent (33 fields) cost 7–9 µs, most
of it matching keyword arguments to parameters and the frozen class's guarded ``__setattr__``;
setting each slot through its descriptor costs about a quarter of that. Every read of an object
and every transition builds one, so the hot paths use these. The objects are the same frozen
instances the class's own constructor makes; anything unusual (a record missing a field, with a
field the class does not have) goes through the constructor, with its defaults and its errors.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Records(Generic[T]):
    """Fast construction (`build`) and copy-with-changes (`replace`) for one dataclass with
    ``slots=True`` and no ``__post_init__``."""

    def __init__(self, cls: type[T]):
        if hasattr(cls, "__post_init__") or "__slots__" not in cls.__dict__:
            raise TypeError(f"{cls.__name__}: slots and no __post_init__ are needed")
        self.cls = cls
        self.slots = tuple((f.name, cls.__dict__[f.name]) for f in fields(cls))
        self.names = frozenset(name for name, _ in self.slots)

    def build(self, record: dict[str, Any]) -> T:
        """The object of a record holding every field (as stored by ``orjson.dumps(obj)``)."""
        if record.keys() != self.names:
            return self.cls(**record)
        new = object.__new__(self.cls)
        for name, slot in self.slots:
            slot.__set__(new, record[name])
        return new

    def replace(self, obj: T, changes: dict[str, Any]) -> T:
        """``dataclasses.replace(obj, **changes)``."""
        if not changes.keys() <= self.names:
            raise TypeError(f"{self.cls.__name__} has no field {sorted(changes.keys() - self.names)[0]!r}")
        new = object.__new__(self.cls)
        for name, slot in self.slots:
            slot.__set__(new, changes[name] if name in changes else slot.__get__(obj))
        return new
