"""A volume series as CSV (``volume-csv``): posts counted per time bucket, into ``volumes``.

Aggregates published without the posts (a dataset's daily counts, a
dashboard's export) are the same kind of evidence as twarc2 ``counts``
pages: how many posts the platform (or the collection) had per bucket.
Each row is one bucket::

    created_at,id                      <- the Dataverse #MeToo file: the day and its count
    2017-10-15 00:00:00+00:00,19891

Columns, matched case-insensitively, or named with ``--columns``
(``start=created_at,count=id``):

* ``start`` (required): the bucket's start, ISO 8601 (a date alone is its
  midnight; an offset is converted to UTC); synonyms ``start``, ``date``,
  ``day``, ``time``, ``timestamp``, ``created_at``, ``bucket``;
* ``count`` (required): a whole number of posts (``19891``, ``19891.0``);
  synonyms ``count``, ``tweet_count``, ``posts``, ``volume``, ``n``;
* ``end`` (optional): the bucket's end; without it, every bucket lasts the
  series' usual step: the most common gap between consecutive starts (one day
  for a daily series; the shortest of equally common ones); a series of one row needs an ``end`` column;
* ``query`` (optional): the query the counts were made for, per row; else
  ``--query TEXT`` (the movement's query: ``#metoo``), which is required when
  the file has no query column (``analyze --hashtag metoo`` finds the counts
  whose query names the hashtag);
* ``platform`` (optional), else ``--platform``, else ``twitter``.

A row whose time or count cannot be read is rejected with its reason; the
other rows are kept. The file is read whole before it is written (a series of
a few thousand buckets), so the step is known for every row.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TextIO

from groundswell.errors import RecordError, UsageError
from groundswell.formats.base import Sink, iso_time

NAME = "volume-csv"

SYNONYMS: dict[str, tuple[str, ...]] = {
    "start": ("start", "date", "day", "time", "timestamp", "created_at", "bucket"),
    "end": ("end",),
    "count": ("count", "tweet_count", "posts", "volume", "n"),
    "query": ("query",),
    "platform": ("platform",),
}


def _columns(header: list[str], given: dict[str, str] | None) -> dict[str, int]:
    low = [h.strip().lower() for h in header]
    out: dict[str, int] = {}
    for key, name in (given or {}).items():
        if key not in SYNONYMS:
            raise UsageError(f"--columns {key}=...: a volume series has the columns "
                              f"{', '.join(SYNONYMS)}")
        if name.strip().lower() not in low:
            raise UsageError(f"--columns {key}={name}: the file has no column {name!r} "
                              f"(it has {', '.join(header[:12])})")
        out[key] = low.index(name.strip().lower())
    for key, names in SYNONYMS.items():
        if key not in out:
            found = next((low.index(n) for n in names if n in low), None)
            if found is not None and found not in out.values():
                out[key] = found
    for key in ("start", "count"):
        if key not in out:
            raise UsageError(f"no {key} column (have {', '.join(header[:12])}); "
                              f"name it with --columns {key}=COLUMN")
    return out


def _count(value: str) -> int:
    v = value.strip().replace("_", "")
    try:
        n = int(v)
    except ValueError:
        try:
            f = float(v)
        except ValueError:
            raise RecordError(f"count {value[:20]!r} is not a number") from None
        if not f.is_integer():
            raise RecordError(f"count {value[:20]!r} is not a whole number") from None
        n = int(f)
    if n < 0:
        raise RecordError("count is negative")
    return n


def _step(starts: list[datetime]) -> timedelta | None:
    ordered = sorted(set(starts))
    gaps = Counter(b - a for a, b in zip(ordered, ordered[1:]))
    return min(gaps, key=lambda g: (-gaps[g], g)) if gaps else None  # the most common; the shortest of a tie


def read(text: TextIO, sink: Sink, *, columns: dict[str, str] | None = None, platform: str | None = None,
         set_line: Callable[[int], None], delimiter: str | None = None, encoding: str | None = None,
         query: str | None = None) -> None:
    """Read a volume series (see the module doc) into ``sink.volume``."""
    reader = csv.reader(text, delimiter=delimiter or ",")
    header = next(reader, None)
    if not header:
        return
    cols = _columns(header, columns)
    if "query" not in cols and not (query and query.strip()):
        raise UsageError("the file has no query column: give --query TEXT, the query the counts were "
                          "made for (e.g. --query '#metoo'), so analyze --hashtag finds them")
    rows: list[tuple[int, dict[str, Any]]] = []
    for row in reader:
        line = reader.line_num
        set_line(line)
        if not row or not any(c.strip() for c in row):
            continue
        try:
            if max(cols.values()) >= len(row):
                raise RecordError(f"{len(row)} fields, want at least {max(cols.values()) + 1}")
            start = iso_time(row[cols["start"]].strip())
            if start is None:
                raise RecordError("no start time")
            end = iso_time(row[cols["end"]].strip()) if "end" in cols else None
            q = row[cols["query"]].strip() if "query" in cols else ""
            rec: dict[str, Any] = {
                "platform": (row[cols["platform"]].strip() if "platform" in cols else "") or platform or "twitter",
                "query": q or (query or "").strip(), "start": start, "end": end, "count": _count(row[cols["count"]])}
        except RecordError as e:
            sink.reject(str(e))
            continue
        rows.append((line, rec))
    step = _step([r["start"] for _, r in rows])
    for line, rec in rows:
        set_line(line)
        if rec["end"] is None:
            if step is None:
                sink.reject("one bucket and no end column: its length cannot be known (add an end column)")
                continue
            rec["end"] = rec["start"] + step
        if rec["end"] <= rec["start"]:
            sink.reject("the bucket ends before it starts")
            continue
        sink.volume(rec)
