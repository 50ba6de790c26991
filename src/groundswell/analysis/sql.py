"""The engine-neutral layer of the analyses: every table-level query goes
through :func:`run`.

Queries are written in the DuckDB dialect, restricted to what
``sqlglot.transpile(q, read="duckdb", write="spark")`` carries over correctly:
``date_trunc``, window functions, ``unnest`` (Spark's ``explode``), ``md5``,
``min_by``/``arg_min``, ``count(DISTINCT ...)``. Not used on purpose, because
the transpiler maps them wrongly: ``list_has_any`` (becomes ``&&``),
``epoch_ms`` (becomes ``TIMESTAMP_MILLIS``), ``len`` on lists (becomes
``LENGTH``), ``strftime`` (format codes are not translated). Times are turned
into text in Python.

Parameters are written into the query as literals by :func:`literal` (strings
quoted, lists as ``[...]``, times as ``TIMESTAMP '...'``), so an engine needs
only ``store.sql(query)`` and a dialect name (``store.engine``). The two
engine-specific operations, materializing an intermediate result
(:func:`materialize`) and fetching a result, live here too. Every query issued
is recorded in :data:`ISSUED` so a test can check that it transpiles.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

ISSUED: list[str] = []
_MAX_ISSUED = 2000
_PARAM = re.compile(r"\{(\w+)\}")


def literal(value: Any) -> str:
    """One Python value as a SQL literal (safe: strings are quoted and escaped)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return repr(float(value))
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"TIMESTAMP '{value.isoformat()} 00:00:00'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, (list, tuple, set, frozenset)):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    raise TypeError(f"no SQL literal for {type(value).__name__}")


def in_list(values: Iterable[Any]) -> str:
    """``(v1, v2, ...)`` for ``x IN (...)``; never empty."""
    vals = list(values)
    return "(" + ", ".join(literal(v) for v in vals) + ")" if vals else "(NULL)"


def render(query: str, **params: Any) -> str:
    """Replace ``{name}`` with literals; ``{name}`` values of type :class:`Raw` go in as is."""

    def sub(m: re.Match[str]) -> str:
        v = params[m.group(1)]
        return v.sql if isinstance(v, Raw) else literal(v)

    return _PARAM.sub(sub, query)


class Raw:
    """A trusted SQL fragment (a table name or an expression built here)."""

    def __init__(self, sql: str) -> None:
        self.sql = sql


def _record(q: str) -> None:
    if len(ISSUED) < _MAX_ISSUED:
        ISSUED.append(q)


def con(store: Any) -> Any:
    """DuckDB: the analyses' own cursor on the store (their temporary tables live there,
    and an unfinished result left on ``store.con`` by other work does not get in the way)."""
    c = getattr(store, "_gs_analysis_con", None)
    if c is None:
        c = store.con.cursor()
        store._gs_analysis_con = c
    return c


def _fetch(store: Any, q: str) -> pa.Table:
    if getattr(store, "engine", None) == "duckdb":
        # the DuckDB store's own .sql() may not match the installed duckdb version
        # (fetch_arrow_table was renamed to_arrow_table in duckdb 1.4/2.0)
        rel = con(store).sql(q)
        if rel is None:
            return pa.table({})
        f = getattr(rel, "to_arrow_table", None) or rel.arrow
        out = f()
        return out if isinstance(out, pa.Table) else out.read_all()
    return store.sql(q)


def run(store: Any, query: str, **params: Any) -> pa.Table:
    """Render ``query`` with ``params`` and run it on the store's engine -> Arrow."""
    q = render(query, **params)
    _record(q)
    return _fetch(store, q)


def _plain(v: Any) -> Any:
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    return v


def rows(store: Any, query: str, **params: Any) -> list[dict[str, Any]]:
    """The result as dicts (DECIMAL sums become int or float, for JSON)."""
    return [{k: _plain(v) for k, v in r.items()} for r in run(store, query, **params).to_pylist()]


def scalar(store: Any, query: str, **params: Any) -> Any:
    t = run(store, query, **params)
    return t.column(0)[0].as_py() if t.num_rows else None


def materialize(store: Any, name: str, query: str, **params: Any) -> Raw:
    """Keep a query's result as a temporary table ``name`` for the session."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise ValueError(f"bad temporary table name {name!r}")
    q = render(query, **params)
    _record(q)
    if getattr(store, "engine", None) == "duckdb":
        con(store).execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {q}")
    else:  # Spark: a cached temporary view
        store.sql(f"CACHE TABLE {name} AS {q}")
    return Raw(name)


def drop(store: Any, name: str) -> None:
    if getattr(store, "engine", None) == "duckdb":
        con(store).execute(f"DROP TABLE IF EXISTS {name}")
    else:
        store.sql(f"UNCACHE TABLE IF EXISTS {name}")


def has_table(store: Any, name: str) -> bool:
    t = run(store, "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = {n}", n=name)
    return bool(t.column(0)[0].as_py())


INTERVALS = ("minute", "hour", "day")


def iso(t: datetime | None) -> str | None:
    """A UTC time as ISO 8601 with 'Z' (naive times are UTC)."""
    if t is None:
        return None
    if t.tzinfo is not None:
        t = t.astimezone(UTC).replace(tzinfo=None)
    return t.isoformat(timespec="milliseconds" if t.microsecond else "seconds") + "Z"


def register_arrow(store: Any, name: str, table: pa.Table) -> Raw:
    """Make an Arrow table queryable as the temporary table ``name``."""
    if getattr(store, "engine", None) == "duckdb":
        c = con(store)
        c.register("_gs_arrow", table)
        try:
            c.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _gs_arrow")
        finally:
            c.unregister("_gs_arrow")
        return Raw(name)
    store.register_arrow(name, table)
    return Raw(name)
