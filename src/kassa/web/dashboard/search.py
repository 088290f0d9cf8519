"""kassa's search language (wire.search) as a SQL condition on the payment_intents table `t`."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite

from ...domain.errors import InvalidRequest
from ...store import tables
from ...wire import search

_COLUMNS = {name: tables.payment_intents.c[name] for name in ("amount", "created", "currency", "customer", "status")}
_DIALECTS = {"sqlite": sqlite.dialect(paramstyle="named"), "postgresql": postgresql.dialect(paramstyle="named")}


def search_sql(text: str, dialect: str) -> tuple[str, dict]:
    """(" AND (…)", parameters) for a query such as ``status:'succeeded' AND amount>1000``."""
    try:
        query = search.parse(text)
    except search.SearchQueryError as error:
        raise InvalidRequest(f"{error} Search takes an id, an email, or a query such as "
                             "status:'succeeded' AND amount>1000.") from None
    compiled = search.to_sqlalchemy(query, _COLUMNS, tables.payment_intents.c.metadata).compile(
        dialect=_DIALECTS[dialect])
    processors = compiled._bind_processors
    values = {name: processors[name](value) if name in processors else value for name, value in compiled.params.items()}
    return " AND (" + str(compiled).replace("payment_intents.", "t.") + ")", values
