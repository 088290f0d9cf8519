"""Building and changing the domain's frozen, slotted dataclasses quickly.

Keyword construction and ``dataclasses.replace`` of a PaymentIntent (33 fields) cost 7–9 µs, most
of it matching keyword arguments to parameters and the frozen class's guarded ``__setattr__``;
setting each slot through its descriptor costs about a quarter of that. Every read of an object
and every transition builds one, so the hot paths use these. The objects are the same frozen
instances the class's own constructor makes; anything unusual (a record missing a field, with a
field the class does not have) goes through the constructor, with its defaults and its errors.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
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
        self._build, self._replace = _compiled(cls, [name for name, _ in self.slots])

    def build(self, record: dict[str, Any]) -> T:
        """The object of a record holding every field (as stored by ``orjson.dumps(obj)``)."""
        if record.keys() != self.names:
            return self.cls(**record)
        return self._build(record)

    def replace(self, obj: T, changes: dict[str, Any]) -> T:
        """``dataclasses.replace(obj, **changes)``."""
        if not changes.keys() <= self.names:
            raise TypeError(f"{self.cls.__name__} has no field {sorted(changes.keys() - self.names)[0]!r}")
        return self._replace(obj, changes)


def quick_init(cls: type[T]) -> type[T]:
    """Give a frozen, slotted dataclass an ``__init__`` that sets each slot through its descriptor
    instead of calling ``object.__setattr__`` per field (three to five times faster for ten fields):
    the same parameters and defaults (a default factory is called for each object), the same
    objects, still frozen. Applied on top of ``@dataclass(frozen=True, slots=True)``."""
    if hasattr(cls, "__post_init__") or "__slots__" not in cls.__dict__ or not cls.__dataclass_params__.frozen:
        raise TypeError(f"{cls.__name__}: frozen, slots and no __post_init__ are needed")
    namespace: dict[str, Any] = {"MISSING": MISSING}
    parameters, body = ["self"], []
    for index, field in enumerate(fields(cls)):
        if not field.init or field.kw_only:
            raise TypeError(f"{cls.__name__}.{field.name}: every field must be an ordinary parameter")
        name = field.name
        namespace[f"set{index}"] = cls.__dict__[name].__set__
        if field.default is not MISSING:
            namespace[f"default{index}"] = field.default
            parameters.append(f"{name}=default{index}")
        elif field.default_factory is not MISSING:
            namespace[f"factory{index}"] = field.default_factory
            parameters.append(f"{name}=MISSING")
            body.append(f"    if {name} is MISSING: {name} = factory{index}()")
        else:
            parameters.append(name)
        body.append(f"    set{index}(self, {name})")
    exec(f"def __init__({', '.join(parameters)}):\n" + "\n".join(body or ["    pass"]), namespace)  # own fields
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init
    return cls


def _compiled(cls: type, names: list[str]):
    """`build` and `replace` of `cls` as straight-line functions (one statement per field, each
    slot's setter and getter bound once), made when the class is registered."""
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls}
    build = ["def build(record):", "    obj = new(cls)"]
    replace = ["def replace(old, changes):", "    obj = new(cls)"]
    for index, name in enumerate(names):
        slot = cls.__dict__[name]
        namespace[f"set{index}"], namespace[f"get{index}"] = slot.__set__, slot.__get__
        build.append(f"    set{index}(obj, record[{name!r}])")
        replace.append(f"    set{index}(obj, changes[{name!r}] if {name!r} in changes else get{index}(old))")
    build.append("    return obj")
    replace.append("    return obj")
    exec("\n".join(build) + "\n\n" + "\n".join(replace), namespace)  # names are the class's own fields
    return namespace["build"], namespace["replace"]
