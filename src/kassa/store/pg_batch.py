"""Several writes as one PostgreSQL statement, so that they cost one round trip and run all or none.

Each write is a numbered statement (``$1 …``), its parameter count and its values. The INSERTs of
one text become one multi-row INSERT; every other statement, and each multi-row INSERT but the
last, becomes a data-modifying ``WITH`` part. The parts of one statement see the same snapshot and
cannot see each other's changes, so callers only combine writes that touch different rows (see
`_PostgresTx.add`).
"""

from __future__ import annotations

import re

_NUMBERED = re.compile(r"\$(\d+)")
_VALUES = re.compile(r"(\s*INSERT\s+INTO\s.*?\bVALUES\s*)\((.*)\)\s*\Z", re.IGNORECASE | re.DOTALL)

_CLAUSES = re.compile(r"\b(ON\s+CONFLICT|RETURNING|SELECT)\b", re.IGNORECASE)

Write = tuple[str, int, list]  # (numbered text, parameter count, values)

_plans: dict[tuple[str, ...], tuple[str, list[int]]] = {}


def _shifted(text: str, offset: int) -> str:
    return _NUMBERED.sub(lambda found: f"${int(found.group(1)) + offset}", text) if offset else text


def _rows_of(text: str) -> tuple[str, str] | None:
    """``INSERT INTO t (…) VALUES`` and its one row, for a plain single-row INSERT; else None."""
    found = _VALUES.match(text)
    if found is None or _CLAUSES.search(found.group(2)):
        return None
    return found.group(1), found.group(2)


def _plan(writes: list[Write]) -> tuple[str, list[int]]:
    """The statement for writes of these texts, and the order in which their values follow."""
    inserts: dict[str, list[int]] = {}
    layout: list[tuple[str, object]] = []  # ("rows", text) or ("one", index)
    for index, (text, _, _) in enumerate(writes):
        if _rows_of(text) is not None:
            if text not in inserts:
                inserts[text] = []
                layout.append(("rows", text))
            inserts[text].append(index)
        else:
            layout.append(("one", index))
    parts, order, offset = [], [], 0
    for kind, what in layout:
        if kind == "rows":
            head, row = _rows_of(what)
            rows = []
            for index in inserts[what]:
                rows.append(f"({_shifted(row, offset)})")
                offset += writes[index][1]
                order.append(index)
            parts.append(head + ", ".join(rows))
        else:
            text, count, _ = writes[what]
            parts.append(_shifted(text, offset))
            offset += count
            order.append(what)
    if len(parts) == 1:
        return parts[0], order
    return "WITH " + ", ".join(f"w{i} AS ({part})" for i, part in enumerate(parts[:-1])) + " " + parts[-1], order


def combine(writes: list[Write]) -> tuple[str, list]:
    """One statement doing all of `writes`, and its values."""
    if len(writes) == 1:
        return writes[0][0], writes[0][2]
    key = tuple(text for text, _, _ in writes)
    plan = _plans.get(key)
    if plan is None:
        plan = _plan(writes)
        if len(_plans) < 2_000:
            _plans[key] = plan
    text, order = plan
    return text, [value for index in order for value in writes[index][2]]
