"""Reading the store from the privacy modules (DuckDB's connection, else the engine's ``sql``)."""

from __future__ import annotations

from typing import Any


def rows(store: Any, query: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """Rows of a query on the store's engine."""
    con = getattr(store, "con", None)
    if con is not None:
        # a cursor of its own: the caller may hold an unfinished result on the store's connection
        cur = con.cursor()
        try:
            return cur.execute(query, params).fetchall()  # type: ignore[no-any-return]
        finally:
            cur.close()
    return [tuple(r.values()) for r in store.sql(query, params).to_pylist()]


def columns(store: Any, table: str) -> dict[str, str]:
    """Column name -> type of a table of the store's main schema (empty when there is no such table)."""
    got = rows(store, "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
                      "AND table_schema = 'main' ORDER BY ordinal_position", [table])
    return {n: t for n, t in got}


def tables(store: Any) -> list[str]:
    """The base tables of the store's main schema."""
    return [r[0] for r in rows(store, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
                                      "AND table_type = 'BASE TABLE' ORDER BY 1", [])]


def platforms(store: Any) -> list[str]:
    return [r[0] for r in rows(store, "SELECT DISTINCT platform FROM posts ORDER BY 1", [])]
