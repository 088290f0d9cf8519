"""Stripe search query language: parsing, errors, and SQL/Python agreement."""

from __future__ import annotations

import random

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql

from kassa.wire.search import Clause, Query, SearchQueryError, matches, parse, to_sqlalchemy

# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    "text, expected",
    [
        ("status:'succeeded'", Query((Clause("status", ":", "succeeded"),), "AND")),
        ('status:"succeeded"', Query((Clause("status", ":", "succeeded"),), "AND")),
        ("currency:'USD'", Query((Clause("currency", ":", "USD"),), "AND")),
        ("customer:'cus_123'", Query((Clause("customer", ":", "cus_123"),), "AND")),
        ("customer:123", Query((Clause("customer", ":", "123"),), "AND")),
        ("customer:null", Query((Clause("customer", ":", None),), "AND")),
        ("customer:NULL", Query((Clause("customer", ":", None),), "AND")),
        ("customer:'null'", Query((Clause("customer", ":", "null"),), "AND")),
        ("-status:'canceled'", Query((Clause("status", ":", "canceled", negated=True),), "AND")),
        ("metadata['order_id']:'123'", Query((Clause("metadata", ":", "123", key="order_id"),), "AND")),
        ('metadata["order_id"]:"123"', Query((Clause("metadata", ":", "123", key="order_id"),), "AND")),
        ("metadata['gift-note']:'x'", Query((Clause("metadata", ":", "x", key="gift-note"),), "AND")),
        ("metadata['k']:null", Query((Clause("metadata", ":", None, key="k"),), "AND")),
        ("-metadata['k']:null", Query((Clause("metadata", ":", None, negated=True, key="k"),), "AND")),
        ("-metadata['k']:'v'", Query((Clause("metadata", ":", "v", negated=True, key="k"),), "AND")),
        ("amount:1000", Query((Clause("amount", ":", 1000),), "AND")),
        ("amount>1000", Query((Clause("amount", ">", 1000),), "AND")),
        ("amount>=1000", Query((Clause("amount", ">=", 1000),), "AND")),
        ("amount<1000", Query((Clause("amount", "<", 1000),), "AND")),
        ("amount<=1000", Query((Clause("amount", "<=", 1000),), "AND")),
        ('amount>="10"', Query((Clause("amount", ">=", 10),), "AND")),
        ("amount:'1000'", Query((Clause("amount", ":", 1000),), "AND")),
        ("-amount>5", Query((Clause("amount", ">", 5, negated=True),), "AND")),
        ("created>1700000000", Query((Clause("created", ">", 1700000000),), "AND")),
        ("created<='1700000000'", Query((Clause("created", "<=", 1700000000),), "AND")),
        # escaping inside quotes
        (r"metadata['n']:'it\'s'", Query((Clause("metadata", ":", "it's", key="n"),), "AND")),
        (r'metadata["n"]:"say \"hi\""', Query((Clause("metadata", ":", 'say "hi"', key="n"),), "AND")),
        (r"metadata['n']:'a\\b'", Query((Clause("metadata", ":", "a\\b", key="n"),), "AND")),
        (r"metadata['it\'s']:'x'", Query((Clause("metadata", ":", "x", key="it's"),), "AND")),
        ("metadata['n']:'two words AND OR'", Query((Clause("metadata", ":", "two words AND OR", key="n"),), "AND")),
        ("status:''", Query((Clause("status", ":", ""),), "AND")),
    ],
)
def test_parse_single_clause(text, expected):
    assert parse(text) == expected


A, B, C = Clause("status", ":", "succeeded"), Clause("currency", ":", "usd"), Clause("amount", ">", 100)


@pytest.mark.parametrize(
    "text, conjunction",
    [
        ("status:'succeeded' AND currency:'usd' AND amount>100", "AND"),
        ("status:'succeeded' and currency:'usd' And amount>100", "AND"),
        ("status:'succeeded' currency:'usd' amount>100", "AND"),  # whitespace alone means AND
        ("status:'succeeded' AND currency:'usd' amount>100", "AND"),
        ("status:'succeeded' OR currency:'usd' OR amount>100", "OR"),
        ("status:'succeeded' or currency:'usd' OR amount>100", "OR"),
        ("  status:'succeeded'\tAND\n currency:'usd'   AND amount>100  ", "AND"),
        ("status : 'succeeded' AND currency: 'usd' AND amount >100", "AND"),
    ],
)
def test_parse_compound(text, conjunction):
    assert parse(text) == Query((A, B, C), conjunction)


def test_parse_ten_clauses_is_allowed():
    query = parse(" AND ".join(f"amount>{i}" for i in range(10)))
    assert len(query.clauses) == 10 and query.conjunction == "AND"


# --------------------------------------------------------------------------- errors

UNPARSABLE = "We were unable to parse your search query."


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "query is empty"),
        ("   ", "query is empty"),
        ("asdf", UNPARSABLE),
        (
            "foo:'bar'",
            "Field `foo` is an unsupported search field for resource `payment_intents`. "
            "See https://docs.stripe.com/search#query-fields-for-payment-intents for a list of supported fields.",
        ),
        ("Status:'succeeded'", "Field `Status` is an unsupported search field"),
        ("email~'amy'", "Field `email` is an unsupported search field"),
        ("payment_method_details.card.last4:4242", "unsupported search field"),
        ("status:'succeeded", "never closed"),
        ('status:"succeeded', "never closed"),
        (r"status:'succeeded\'", "never closed"),
        ("metadata['k:'v'", UNPARSABLE),
        ("status>'a'", "Field `status` does not support the `>` operator"),
        ("currency<='usd'", "Field `currency` does not support the `<=` operator"),
        ("metadata['k']>'1'", "Field `metadata` does not support the `>` operator"),
        ("status~'succ'", "does not support substring matching"),
        ("amount:'abc'", "Field `amount` expects an integer value, but got `abc`"),
        ("amount>1.5", "expects an integer value"),
        ("amount>'10.5'", "expects an integer value"),
        ("created>'2024-01-01'", "expects an integer value"),
        ("amount:'null'", "expects an integer value"),
        ("amount>99999999999999999999", "expects an integer value"),
        ("amount>null", "`null` can only be used with `:`"),
        ("amount>-5", UNPARSABLE),
        ("status:succeeded", "String values must be quoted"),
        ("status:'a' AND currency:'usd' OR amount>1", "AND and OR cannot be combined"),
        ("status:'a' currency:'usd' OR amount>1", "AND and OR cannot be combined"),
        (" AND ".join(f"amount>{i}" for i in range(11)), "at most 10 clauses"),
        (" ".join(f"amount>{i}" for i in range(11)), "at most 10 clauses"),
        ("status:'a' AND", "ends with `AND`"),
        ("status:'a' or", "ends with `or`"),
        ("AND status:'a'", "Expected a clause before `AND`"),
        ("status:'a' AND AND currency:'usd'", "Expected a clause before `AND`"),
        ("status:'a' OR OR currency:'usd'", "Expected a clause before `OR`"),
        ("status", "Expected an operator"),
        ("status:", "Expected a value after `status:`"),
        ("status::'a'", "Expected a value after `status:`"),
        (":'a'", "Expected a field name"),
        ("-", "Expected a field name"),
        ("--status:'a'", "Expected a field name"),
        ("'succeeded'", "Expected a field name"),
        ("metadata:'x'", "need a non-empty quoted key"),
        ("metadata['']:'x'", "need a non-empty quoted key"),
        ("metadata[k]:'x'", "Expected a quoted metadata key"),
        ("metadata['k':'x'", "Expected `]`"),
        ("status['k']:'x'", "does not take a [key]"),
        ("status:'a' @ currency:'usd'", "Unexpected character `@` at position 11"),
        ("(status:'a')", "Unexpected character `(`"),
        ("status='a'", "Unexpected character `=`"),
    ],
)
def test_parse_errors(text, message):
    with pytest.raises(SearchQueryError) as info:
        parse(text)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


# --------------------------------------------------------------------------- matching in Python

PI = {
    "amount": 1500,
    "created": 1_700_000_000,
    "currency": "usd",
    "customer": None,
    "status": "succeeded",
    "metadata": {"order_id": "A-1", "tier": "Gold"},
}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("status:'succeeded'", True),
        ("status:'SUCCEEDED'", True),  # token fields match case-insensitively
        ("currency:'USD'", True),
        ("amount>1000 AND amount<2000", True),
        ("amount>=1500 AND amount<=1500 AND amount:1500", True),
        ("amount>1500", False),
        ("created>1700000000", False),
        ("created>=1700000000", True),
        ("metadata['tier']:'gold'", True),
        ("metadata['order_id']:'a-1'", True),
        ("metadata['order_id']:'A-2'", False),
        ("metadata['missing']:'x'", False),
        ("-metadata['missing']:'x'", True),  # an absent key matches a negated clause
        ("metadata['missing']:null", True),
        ("-metadata['missing']:null", False),
        ("-metadata['tier']:null", True),
        ("customer:null", True),
        ("-customer:'cus_1'", True),  # an empty field matches a negated clause
        ("customer:'cus_1'", False),
        ("-status:'succeeded' OR amount<100", False),
        ("-status:'succeeded' OR amount>100", True),
    ],
)
def test_matches(text, expected):
    assert matches(parse(text), PI) is expected


def test_matches_without_metadata():
    assert matches(parse("metadata['k']:null"), {**PI, "metadata": None})
    assert matches(parse("-metadata['k']:'v'"), {**PI, "metadata": None})


# --------------------------------------------------------------------------- SQL agrees with Python

STATUSES = ["requires_payment_method", "requires_confirmation", "processing", "succeeded", "canceled"]
CUSTOMERS = [None, "cus_Abc123", "cus_xyz", "cus_XYZ"]
AMOUNTS = [0, 50, 999, 1000, 1001, 2500, 10000, 99999999]
CREATEDS = [1_699_999_999, 1_700_000_000, 1_700_000_001, 1_700_050_000, 1_700_100_000]
METADATAS = [
    None,
    {},
    {"order_id": "1001"},
    {"order_id": "1002", "tier": "Gold"},
    {"tier": "gold"},
    {"tier": "CAFÉ"},
    {"with space": "Café"},
    {"gift-note": 'it\'s "here"'},
    {"path": "back\\slash", "order_id": ""},
]

table = sa.Table(
    "payment_intents",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("created", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String, nullable=False),
    sa.Column("customer", sa.String),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("metadata", sa.JSON),
)
COLUMNS = {name: table.c[name] for name in ("amount", "created", "currency", "customer", "status")}


def _rows() -> list[dict]:
    rng = random.Random(20240601)
    return [
        {
            "id": i,
            "amount": rng.choice(AMOUNTS),
            "created": rng.choice(CREATEDS),
            "currency": rng.choice(["usd", "eur", "jpy"]),
            "customer": rng.choice(CUSTOMERS),
            "status": rng.choice(STATUSES),
            "metadata": rng.choice(METADATAS),
        }
        for i in range(1, 51)
    ]


ROWS = _rows()


@pytest.fixture(scope="module")
def conn():
    engine = sa.create_engine("sqlite://")
    table.metadata.create_all(engine)
    with engine.connect() as connection:
        connection.execute(table.insert(), ROWS)
        yield connection


def _sql_ids(conn, query: Query) -> list[int]:
    where = to_sqlalchemy(query, COLUMNS, table.c.metadata)
    return list(conn.scalars(sa.select(table.c.id).where(where).order_by(table.c.id)))


def _python_ids(query: Query) -> list[int]:
    return [row["id"] for row in ROWS if matches(query, row)]


QUERIES = [
    "status:'succeeded'",
    "-status:'succeeded'",
    "status:'SUCCEEDED' OR status:'canceled'",
    "currency:'USD'",
    "currency:'usd' AND amount>1000",
    "currency:'usd' amount>1000",
    "amount:1000",
    "amount>=1000 AND amount<=2500",
    "amount<1000 OR amount>10000",
    "-amount>1000",
    "created>1700000000",
    "created<=1700000000 AND -currency:'jpy'",
    "customer:'cus_abc123'",
    "customer:'cus_xyz'",
    "customer:null",
    "-customer:null",
    "-customer:'cus_xyz'",
    "metadata['order_id']:'1001'",
    "metadata['order_id']:''",
    "metadata['tier']:'GOLD'",
    "metadata['tier']:'cafÉ'",
    "metadata['with space']:'CAFé'",
    "-metadata['tier']:'gold'",
    "metadata['tier']:null",
    "-metadata['tier']:null",
    "metadata['missing']:null",
    r"""metadata['gift-note']:'it\'s "here"'""",
    r"metadata['path']:'back\\slash'",
    "-metadata['order_id']:'1001' AND -metadata['tier']:null AND status:'processing'",
    "metadata['tier']:'gold' OR customer:null OR amount:0",
]


@pytest.mark.parametrize("text", QUERIES)
def test_sql_agrees_with_python(conn, text):
    query = parse(text)
    assert _sql_ids(conn, query) == _python_ids(query)


def test_sql_results_are_the_expected_ones(conn):
    """Guard against SQL and Python agreeing on a wrong answer."""
    by_id = {row["id"]: row for row in ROWS}

    def ids(pred):
        return [i for i, row in by_id.items() if pred(row)]

    cases = {
        "status:'Succeeded'": ids(lambda r: r["status"] == "succeeded"),
        "amount>1000 currency:'eur'": ids(lambda r: r["amount"] > 1000 and r["currency"] == "eur"),
        "customer:'CUS_XYZ'": ids(lambda r: r["customer"] in ("cus_xyz", "cus_XYZ")),
        "-customer:'cus_xyz'": ids(lambda r: r["customer"] not in ("cus_xyz", "cus_XYZ")),
        "metadata['tier']:'gold'": ids(lambda r: (r["metadata"] or {}).get("tier") in ("gold", "Gold")),
        "-metadata['tier']:null": ids(lambda r: "tier" in (r["metadata"] or {})),
    }
    for text, expected in cases.items():
        assert 0 < len(expected) < len(ROWS), text  # the data exercises the clause
        assert _sql_ids(conn, parse(text)) == expected, text


# Values drawn from the data (in various cases) plus some that match nothing.
TOKEN_VALUES = {
    "currency": ["usd", "USD", "eur", "jpy", "gbp"],
    "customer": ["cus_Abc123", "cus_abc123", "cus_xyz", "cus_XYZ", "cus_none"],
    "status": STATUSES + ["Succeeded", "unknown"],
}
META_KEYS = ["order_id", "tier", "gift-note", "with space", "path", "missing"]
META_VALUES = ["1001", "1002", "", "gold", "Gold", "GOLD", "CAFÉ", "Café", 'it\'s "here"', "back\\slash", "nope"]
INT_VALUES = {"amount": AMOUNTS + [1, 5000], "created": CREATEDS + [0]}


@st.composite
def quoted(draw, value: str) -> str:
    quote = draw(st.sampled_from("'\""))
    return quote + value.replace("\\", "\\\\").replace(quote, "\\" + quote) + quote


@st.composite
def clauses(draw) -> tuple[Clause, str]:
    """A random valid clause and one of its textual renderings."""
    negated = draw(st.booleans())
    kind = draw(st.sampled_from(["token", "metadata", "numeric", "null"]))
    if kind == "numeric":
        field, op = draw(st.sampled_from(sorted(INT_VALUES))), draw(st.sampled_from([":", ">", ">=", "<", "<="]))
        value = draw(st.sampled_from(INT_VALUES[field]))
        rendered = str(value) if draw(st.booleans()) else draw(quoted(str(value)))
        clause, text = Clause(field, op, value, negated), f"{field}{op}{rendered}"
    elif kind == "null":
        field = draw(st.sampled_from(["customer", "metadata"]))
        key = draw(st.sampled_from(META_KEYS)) if field == "metadata" else None
        target = f"metadata[{draw(quoted(key))}]" if key else field
        clause, text = Clause(field, ":", None, negated, key), f"{target}:{draw(st.sampled_from(['null', 'NULL']))}"
    elif kind == "metadata":
        key, value = draw(st.sampled_from(META_KEYS)), draw(st.sampled_from(META_VALUES))
        clause = Clause("metadata", ":", value, negated, key)
        text = f"metadata[{draw(quoted(key))}]:{draw(quoted(value))}"
    else:
        field = draw(st.sampled_from(sorted(TOKEN_VALUES)))
        value = draw(st.sampled_from(TOKEN_VALUES[field]))
        clause, text = Clause(field, ":", value, negated), f"{field}:{draw(quoted(value))}"
    return clause, ("-" if negated else "") + text


@st.composite
def queries(draw) -> tuple[Query, str]:
    """A random valid query and its text, with assorted separators."""
    parts = draw(st.lists(clauses(), min_size=1, max_size=10))
    conjunction = draw(st.sampled_from(["AND", "OR"]))
    separators = [" AND ", " and ", " ", "\tAND  "] if conjunction == "AND" else [" OR ", " or ", "  OR\n"]
    text = parts[0][1]
    for _, rendered in parts[1:]:
        text += draw(st.sampled_from(separators)) + rendered
    conjunction = conjunction if len(parts) > 1 else "AND"
    return Query(tuple(clause for clause, _ in parts), conjunction), text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(queries())
def test_generated_queries_parse_and_agree(conn, generated):
    expected, text = generated
    query = parse(text)
    assert query == expected
    assert _sql_ids(conn, query) == _python_ids(query)


# --------------------------------------------------------------------------- PostgreSQL rendering


def test_postgresql_compilation():
    query = parse("-metadata['order_id']:'1001' AND metadata['tier']:null AND currency:'USD' AND amount>=100")
    expr = to_sqlalchemy(query, COLUMNS, table.c.metadata)
    sql = str(expr.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    assert "payment_intents.metadata ->> 'order_id'" in sql
    assert "payment_intents.metadata ->> 'tier'" in sql
    assert "lower(payment_intents.currency) = lower('USD')" in sql
    assert "IS NULL" in sql and " OR " in sql and " AND " in sql
    assert "payment_intents.amount >= 100" in sql
    # with bound parameters, as a driver would see it
    assert "->>" in str(expr.compile(dialect=postgresql.dialect()))


def test_or_query_renders_as_or():
    expr = to_sqlalchemy(parse("status:'a' OR status:'b'"), COLUMNS, table.c.metadata)
    assert " OR " in str(expr.compile(dialect=postgresql.dialect()))
