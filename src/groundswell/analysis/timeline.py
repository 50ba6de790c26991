"""Timeline: posts, distinct authors and new authors per interval, by kind.

``hashtag_timeline`` counts the movement's posts in each interval (minute,
hour or day, UTC), split by kind (original, repost, reply, quote), the
distinct accounts posting in it, and the accounts posting for the first time
(their first movement post falls in it), with the running total of
participants. Empty intervals between the first and last post are included
with zeros, so the series can be plotted and fed to burst detection as is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from groundswell.analysis import sql
from groundswell.analysis.scope import Scope, bucket
from groundswell.model import KINDS

TIMELINE_SQL = """
WITH b AS (SELECT {bucket} AS t, account, kind FROM {mv}),
firsts AS (SELECT t, count(*) AS new_authors FROM
             (SELECT account, min(t) AS t FROM b GROUP BY account) f GROUP BY t),
per AS (SELECT t, count(*) AS posts, count(DISTINCT account) AS authors,
               sum(CASE WHEN kind = 'original' THEN 1 ELSE 0 END) AS original,
               sum(CASE WHEN kind = 'repost' THEN 1 ELSE 0 END) AS repost,
               sum(CASE WHEN kind = 'reply' THEN 1 ELSE 0 END) AS reply,
               sum(CASE WHEN kind = 'quote' THEN 1 ELSE 0 END) AS quote
        FROM b GROUP BY t)
SELECT per.*, coalesce(firsts.new_authors, 0) AS new_authors
FROM per LEFT JOIN firsts ON per.t = firsts.t ORDER BY per.t
"""

FIELDS = ("posts", "authors", "new_authors") + KINDS
MAX_INTERVALS = 200_000  # a timeline longer than this (half a year of minutes) is refused, not written


def series_times(first: datetime, last: datetime, scope: Scope) -> list[datetime]:
    out, t = [], first
    while t <= last:
        out.append(t)
        t = t + scope.step if scope.interval != "day" else t.replace() + scope.step
    return out


def timeline_rows(store: Any, scope: Scope) -> list[dict[str, Any]]:
    """One dict per interval (zeros filled), with ``time`` as a datetime."""
    got = {r["t"]: r for r in sql.rows(store, TIMELINE_SQL, mv=scope.table, bucket=bucket(scope.interval))}
    if not got:
        return []
    n = (max(got) - min(got)) // scope.step + 1
    if n > MAX_INTERVALS:
        from groundswell.errors import UsageError

        coarser = {"minute": "hour", "hour": "day"}.get(scope.interval)
        raise UsageError(f"the movement spans {n:,} {scope.interval}s ({sql.iso(min(got))} to {sql.iso(max(got))}): "
                         + (f"use --interval {coarser}, or " if coarser else "")
                         + "narrow it with --start and --end")
    out: list[dict[str, Any]] = []
    for t in series_times(min(got), max(got), scope):
        r = got.get(t)
        out.append({"time": t, **{k: int(r[k]) if r else 0 for k in FIELDS}})
    total = 0
    for r in out:
        total += r["new_authors"]
        r["participants"] = total
    return out


def hashtag_timeline(store: Any, scope: Scope, rows: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    rows = timeline_rows(store, scope) if rows is None else rows
    return {
        "interval": scope.interval,
        "fields": ["time", *FIELDS, "participants"],
        "rows": [{**r, "time": sql.iso(r["time"])} for r in rows],
        "posts": sum(r["posts"] for r in rows),
        "authors": rows[-1]["participants"] if rows else 0,
        "peak": sql.iso(max(rows, key=lambda r: r["posts"])["time"]) if rows else None,
    }
