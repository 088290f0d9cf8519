"""Stripe's search query language, as used by ``GET /v1/payment_intents/search?query=...``.

A query is one to ten clauses joined by ``AND`` or by ``OR`` (never both; whitespace alone means
``AND``; the keywords are case-insensitive)::

    status:'succeeded' AND amount>=1000 AND -metadata['order_id']:null

Following https://docs.stripe.com/search#search-query-language:

* ``field:value`` is an exact, case-insensitive match; ``>``, ``>=``, ``<``, ``<=`` work on numeric
  fields only (``amount``, ``created``).
* String values must be quoted (``'...'`` or ``"..."``, a backslash escapes the next character);
  numbers may be bare (``amount>1000``) or quoted (``amount>="10"``).
* An unquoted ``null`` matches an empty field or an absent metadata key; ``-field:null`` a present one.
* A leading ``-`` negates a clause; a negated clause also matches objects whose field is empty.

:func:`parse` turns the text into a :class:`Query`; :func:`to_sqlalchemy` and :func:`matches`
evaluate it in SQL and in Python with the same result.
"""

from __future__ import annotations

import operator
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import String, and_, func, literal, not_, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement

RESOURCE = "payment_intents"
MAX_CLAUSES = 10
NUMERIC_FIELDS = frozenset({"amount", "created"})
TOKEN_FIELDS = frozenset({"currency", "customer", "status", "metadata"})
_FIELDS_URL = "https://docs.stripe.com/search#query-fields-for-payment-intents"
_PARSE_ERROR = "We were unable to parse your search query."
_INT64 = 2**63

_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<op>>=|<=|[:<>~])
      | (?P<punct>[\[\]-])
      | (?P<word>[A-Za-z0-9_.]+)""",
    re.X | re.S,
)
_INTEGER = re.compile(r"-?[0-9]+")
_COMPARE = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


class SearchQueryError(ValueError):
    """The query cannot be parsed or uses something payment intent search does not support."""


@dataclass(frozen=True)
class Resource:
    """What one resource's search takes: its numeric and token fields, and those that also take
    ``~`` (a case-insensitive substring of at least three characters)."""

    name: str
    numeric: frozenset
    tokens: frozenset
    substring: frozenset = frozenset()
    fields_url: str = _FIELDS_URL


PAYMENT_INTENTS = Resource(RESOURCE, NUMERIC_FIELDS, TOKEN_FIELDS)
CUSTOMERS = Resource("customers", frozenset({"created"}), frozenset({"email", "name", "phone", "metadata"}),
                     frozenset({"email", "name"}), "https://docs.stripe.com/search#query-fields-for-customers")


@dataclass(frozen=True)
class Clause:
    """One ``[-]field[op]value`` term; ``value`` is ``None`` for the ``null`` token."""

    field: str
    op: str
    value: str | int | None
    negated: bool = False
    key: str | None = None


@dataclass(frozen=True)
class Query:
    """The clauses of a query and the single conjunction joining them."""

    clauses: tuple[Clause, ...]
    conjunction: str = "AND"


@dataclass(frozen=True)
class _Token:
    kind: str  # 'str' | 'op' | 'punct' | 'word'
    text: str  # unescaped contents for 'str'
    pos: int


def _syntax(detail: str) -> SearchQueryError:
    return SearchQueryError(f"{_PARSE_ERROR} {detail}")


def _tokenize(query: str) -> list[_Token]:
    """Split the query into tokens, dropping whitespace and unescaping quoted strings."""
    tokens, pos = [], 0
    while pos < len(query):
        m = _TOKEN.match(query, pos)
        if m is None:
            char = query[pos]
            if char in "'\"":
                raise _syntax(f"The quoted string starting at position {pos} is never closed.")
            raise _syntax(f"Unexpected character `{char}` at position {pos}.")
        if m.lastgroup == "str":
            tokens.append(_Token("str", re.sub(r"\\(.)", r"\1", m.group()[1:-1], flags=re.S), pos))
        elif m.lastgroup != "space":
            tokens.append(_Token(m.lastgroup, m.group(), pos))
        pos = m.end()
    return tokens


def _describe(tok: _Token | None) -> str:
    if tok is None:
        return "the end of the query"
    return f"`{tok.text}` at position {tok.pos}" if tok.kind != "str" else f"a quoted string at position {tok.pos}"


class _Parser:
    """A cursor over the token list."""

    def __init__(self, tokens: list[_Token], resource: Resource = PAYMENT_INTENTS):
        self.tokens, self.i, self.resource = tokens, 0, resource

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, kind: str, text: str | None = None, *, wanted: str) -> _Token:
        tok = self.peek()
        if tok is None or tok.kind != kind or (text is not None and tok.text != text):
            raise _syntax(f"Expected {wanted} but found {_describe(tok)}.")
        self.i += 1
        return tok

    def clause(self) -> Clause:
        """``[-]field[['key']]op value`` followed by validation against the field's type."""
        tok = self.peek()
        negated = tok is not None and tok.kind == "punct" and tok.text == "-"
        if negated:
            self.i += 1
        field = self.take("word", wanted="a field name").text
        if field.upper() in ("AND", "OR"):
            raise _syntax(f"Expected a clause before `{field}`.")
        key = None
        if (tok := self.peek()) is not None and tok.text == "[" and tok.kind == "punct":
            self.i += 1
            key = self.take("str", wanted="a quoted metadata key").text
            self.take("punct", "]", wanted="`]`")
        op = self.take("op", wanted=f"an operator (`:`, `>`, `>=`, `<`, `<=`) after `{field}`").text
        tok = self.peek()
        if tok is None or tok.kind not in ("str", "word"):
            raise _syntax(f"Expected a value after `{field}{op}` but found {_describe(tok)}.")
        self.i += 1
        return _check(field, key, op, tok, negated, self.resource)


def _check(field: str, key: str | None, op: str, tok: _Token, negated: bool,
           resource: Resource = PAYMENT_INTENTS) -> Clause:
    """Validate one clause against the resource's search fields and convert its value."""
    numeric_fields, token_fields = resource.numeric, resource.tokens
    if field not in numeric_fields | token_fields:
        raise SearchQueryError(
            f"Field `{field}` is an unsupported search field for resource `{resource.name}`. "
            f"See {resource.fields_url} for a list of supported fields."
        )
    if field == "metadata" and not key:
        raise _syntax("Metadata clauses need a non-empty quoted key, as in metadata['key']:'value'.")
    if field != "metadata" and key is not None:
        raise _syntax(f"Field `{field}` does not take a [key]; only metadata['key'] does.")
    if op == "~" and field in resource.substring:
        if tok.kind != "str" or len(tok.text) < 3:
            raise SearchQueryError(f"Substring matching on `{field}` needs a quoted value of at least 3 characters.")
        return Clause(field, op, tok.text, negated, key)
    if op == "~":
        raise SearchQueryError(f"Field `{field}` does not support substring matching (`~`); use `:` for an exact match.")
    if field in token_fields and op != ":":
        raise SearchQueryError(f"Field `{field}` does not support the `{op}` operator; only `:` is supported.")
    if tok.kind == "word" and tok.text.lower() == "null":
        if op != ":":
            raise SearchQueryError(f"`null` can only be used with `:`, as in {field}:null.")
        return Clause(field, op, None, negated, key)
    if field in numeric_fields:
        if not _INTEGER.fullmatch(tok.text) or abs(int(tok.text)) >= _INT64:
            raise SearchQueryError(f"Field `{field}` expects an integer value, but got `{tok.text}`.")
        return Clause(field, op, int(tok.text), negated, key)
    if tok.kind == "word" and not _INTEGER.fullmatch(tok.text):
        raise _syntax(f"String values must be quoted: use {field}:'{tok.text}' instead of {field}:{tok.text}.")
    return Clause(field, op, tok.text, negated, key)


def parse(query: str, resource: Resource = PAYMENT_INTENTS) -> Query:
    """Parse a search query, raising :class:`SearchQueryError` with a readable message."""
    parser = _Parser(_tokenize(query), resource)
    if not parser.tokens:
        raise _syntax("The query is empty; it needs at least one clause such as status:'succeeded'.")
    clauses, conjunctions = [parser.clause()], set()
    while (tok := parser.peek()) is not None:
        if tok.kind == "word" and tok.text.upper() in ("AND", "OR"):
            conjunctions.add(tok.text.upper())
            parser.i += 1
            if parser.peek() is None:
                raise _syntax(f"The query ends with `{tok.text}`; a clause must follow it.")
        else:
            conjunctions.add("AND")  # clauses separated by whitespace only
        clauses.append(parser.clause())
    if len(conjunctions) > 1:
        raise SearchQueryError(
            "AND and OR cannot be combined in the same query (clauses separated only by a space are joined with AND)."
        )
    if len(clauses) > MAX_CLAUSES:
        raise SearchQueryError(f"A search query can have at most {MAX_CLAUSES} clauses, but this one has {len(clauses)}.")
    return Query(tuple(clauses), conjunctions.pop() if conjunctions else "AND")


def _fold(text: str) -> str:
    """ASCII-only lowercasing, the same as SQLite's ``lower()``."""
    return text.translate(_ASCII_LOWER)


class _MetadataValue(ColumnElement):
    """The text of ``metadata[key]``, NULL when the key is absent."""

    inherit_cache = False
    type = String()

    def __init__(self, column: ColumnElement, metadata_key: str):
        self.column = column
        self.metadata_key = metadata_key


@compiles(_MetadataValue)
def _metadata_value(element: _MetadataValue, compiler, **kw) -> str:
    return compiler.process(element.column[element.metadata_key].as_string(), **kw)


@compiles(_MetadataValue, "sqlite")
def _metadata_value_sqlite(element: _MetadataValue, compiler, **kw) -> str:
    # A SQLite JSON path cannot quote a key holding a double quote ('$."a"b"' is an error, not a
    # miss), so the key is looked up among the object's keys rather than through a path.
    column = compiler.process(element.column, **kw)
    key = compiler.process(literal(element.metadata_key, String()), **kw)
    return f"(SELECT value FROM json_each({column}) WHERE key = {key})"


def _clause_sql(clause: Clause, columns: Mapping[str, ColumnElement], metadata_column: ColumnElement) -> ColumnElement[bool]:
    target = _MetadataValue(metadata_column, clause.key) if clause.field == "metadata" else columns[clause.field]
    if clause.value is None:
        return target.is_not(None) if clause.negated else target.is_(None)
    if clause.op == "~":
        pattern = clause.value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        cond = func.lower(target).like("%" + pattern.lower() + "%", escape="\\")
    elif clause.op != ":":
        cond = _COMPARE[clause.op](target, clause.value)
    elif isinstance(clause.value, int):
        cond = target == clause.value
    else:
        cond = func.lower(target) == func.lower(literal(clause.value, String()))
    return or_(target.is_(None), not_(cond)) if clause.negated else cond


def to_sqlalchemy(query: Query, columns: Mapping[str, ColumnElement], metadata_column: ColumnElement) -> ColumnElement[bool]:
    """Turn the query into a SQLAlchemy Core boolean expression.

    ``columns`` maps ``amount``, ``created``, ``currency``, ``customer`` and ``status`` to columns;
    ``metadata_column`` is a JSON column holding an object of string values. String matches compare
    ``lower()`` of both sides, so they are case-insensitive on SQLite (ASCII) and PostgreSQL (Unicode).
    """
    parts = [_clause_sql(c, columns, metadata_column) for c in query.clauses]
    return and_(*parts) if query.conjunction == "AND" else or_(*parts)


def _clause_matches(clause: Clause, obj: Mapping) -> bool:
    if clause.field == "metadata":
        actual = (obj.get("metadata") or {}).get(clause.key)
    else:
        actual = obj.get(clause.field)
    if clause.value is None:
        hit = actual is None
    elif actual is None:
        hit = False
    elif clause.op == "~":
        hit = _fold(clause.value) in _fold(str(actual))
    elif clause.op != ":":
        hit = _COMPARE[clause.op](actual, clause.value)
    elif isinstance(clause.value, int):
        hit = actual == clause.value
    else:
        hit = _fold(str(actual)) == _fold(clause.value)
    return hit != clause.negated


def matches(query: Query, obj: Mapping) -> bool:
    """Evaluate the query against a PaymentIntent-shaped dict, as :func:`to_sqlalchemy` does on SQLite."""
    hits = (_clause_matches(c, obj) for c in query.clauses)
    return all(hits) if query.conjunction == "AND" else any(hits)
