"""Reach: the countries and languages of the movement's posts over time.

Languages are the platform's per-post codes; countries come from the place
attached to a post (geotagged posts only, usually a small share, reported as
``coverage``). Per interval, posts per language and per country for the ten
most frequent of each; totals for all of them.
"""

from __future__ import annotations

from typing import Any

from groundswell.analysis import sql
from groundswell.analysis.scope import Scope, bucket

TOTAL_SQL = """
SELECT {col} AS value, count(*) AS posts, count(DISTINCT account) AS accounts, min(created_at) AS first_at
FROM {mv} WHERE {col} IS NOT NULL AND {col} <> '' GROUP BY {col} ORDER BY posts DESC, value
"""

OVER_TIME_SQL = """
SELECT {bucket} AS t, {col} AS value, count(*) AS posts FROM {mv}
WHERE {col} IN {values} GROUP BY 1, 2 ORDER BY 1, 2
"""


def _dimension(store: Any, scope: Scope, col: str, total: int, top: int = 10) -> dict[str, Any]:
    tot = sql.rows(store, TOTAL_SQL, mv=scope.table, col=sql.Raw(col))
    known = sum(r["posts"] for r in tot)
    values = [r["value"] for r in tot[:top]]
    series: dict[str, dict[str, int]] = {}
    if values:
        for r in sql.rows(store, OVER_TIME_SQL, mv=scope.table, col=sql.Raw(col), bucket=bucket(scope.interval),
                          values=sql.Raw(sql.in_list(values))):
            series.setdefault(sql.iso(r["t"]) or "", {})[r["value"]] = r["posts"]
    return {
        "coverage": round(known / total, 4) if total else None,
        "totals": [{"value": r["value"], "posts": r["posts"], "accounts": r["accounts"],
                    "first": sql.iso(r["first_at"])} for r in tot],
        "over_time": [{"time": t, "posts": v} for t, v in sorted(series.items())],
    }


def reach(store: Any, scope: Scope, total_posts: int) -> dict[str, Any]:
    return {"languages": _dimension(store, scope, "lang", total_posts),
            "countries": _dimension(store, scope, "country", total_posts)}
