"""Which stored rows a merge must look at: a condition on the key that spares the table's row groups
no key of the batch can be in.

A merge of a batch into ``posts`` (and the first-sighting insert into ``accounts``) joins the batch
with the stored table on its key. Without an index (see ``duck._UNINDEXED``), DuckDB reads the key
column of every stored row for it: into a store of 5M posts, a scan per batch. Yet the rows of a
store lie in the order they were ingested, and the keys the merge joins on mostly grow with time
(Twitter's and Mastodon's ids, Bluesky's record keys, the time an account was seen), so most of the
table's row groups hold no key of a new batch. DuckDB skips a row group by its statistics (the least
and greatest value of each column segment) when a condition on the column rules it out; the join by
itself gives it only the batch's least and greatest key, and a batch's keys (the posts it quotes
and replies to, of any age) often span the whole store.

:class:`Zones` reads those statistics once (``pragma_storage_info``: cheap, no data is read) and,
for a batch, writes the condition ``key BETWEEN a AND b OR key BETWEEN c AND d ...``: its ranges
hold every key of the batch and are cut where a stored segment lies between two of them.

The condition is exact whatever the statistics say: it is a test of the key's value alone, and
:meth:`Zones.condition`'s caller checks that every key of the batch passes it (the store's order
of text is DuckDB's, not Python's), so every stored row with a key of the batch passes it too.
Statistics that are stale, missing, or cut short (text keeps a prefix of at most 12 bytes) only
make the ranges cut less. The statistics are read again once the rows added since outnumber
``STALE_ROWS``. A DuckDB before 2.0 reports them as text, which is not read: no narrowing there.
"""

from __future__ import annotations

import bisect
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

# the column whose statistics narrow each table's merge (a key column that grows with time)
ZONE_KEYS = {"posts": "id", "accounts": "observed_at"}
# what its values and bounds are compared as (text: by its UTF-8 bytes, as DuckDB orders it)
_AS = {"id": bytes, "observed_at": datetime}
# rows added since the read beyond which it is renewed (reading it costs about 11 ms per million rows)
STALE_ROWS = 1_000_000
# the most ranges a condition has (the heaviest cuts are kept): each is a test for every row read
MAX_RANGES = 32
# cuts sparing fewer stored rows than this (about a row group) are not worth a condition
MIN_SPARED = 100_000


def _bound(value: Any) -> Any:
    """A statistic as comparable with the batch's keys (bytes for text: DuckDB orders by bytes),
    or None where it cannot be read as one (text past ASCII is reported escaped, "\\xC3")."""
    if isinstance(value, str):
        return None if "\\" in value or not value.isascii() else value.encode("ascii")
    if isinstance(value, datetime) and value.tzinfo is None:
        return value
    return None


def _literal(value: bytes | datetime) -> str:
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    return "'" + value.decode("utf-8").replace("'", "''") + "'"


class Zones:
    """The stored segments of one table's key column (their rows and bounds), read when needed."""

    def __init__(self, con: duckdb.DuckDBPyConnection, table: str) -> None:
        self.con = con
        self.table = table
        self.column = ZONE_KEYS[table]
        self._as = _AS[self.column]
        self._segments: list[tuple[int, Any, Any]] | None = None  # (rows, least, greatest or its prefix)
        self._read_at = 0  # the table's row count when they were read

    def _read(self, count: int) -> None:
        self._segments, self._read_at = [], count
        # the statistics are a VARIANT from DuckDB 2 on (text before, not read here: no narrowing).
        # Their type is asked first: a statement that failed would end the ingest's transaction
        kind = self.con.execute("SELECT stats FROM pragma_storage_info(?) LIMIT 0", [self.table]).description
        if not kind or str(kind[0][1]).upper() != "VARIANT":
            return
        rows = self.con.execute(
            "SELECT count, stats.min, stats.max FROM pragma_storage_info(?) "
            "WHERE column_name = ? AND segment_type <> 'VALIDITY'", [self.table, self.column]).fetchall()
        for n, lo, hi in rows:
            # a time beyond Python's (year 10000, infinity) comes as text: that segment is left alone
            lo, hi = _bound(lo), _bound(hi)
            if isinstance(lo, self._as) and isinstance(hi, self._as):
                self._segments.append((int(n), lo, hi))

    def ranges(self, keys: pa.Array | pa.ChunkedArray) -> list[tuple[str, str]]:
        """Ranges (SQL literals, least and greatest) that hold every one of ``keys`` and leave out
        the stored segments between them; [] when they would spare little. Made into a condition
        by :func:`condition`; the caller must check that every key passes it (see the module doc)."""
        count = int(self.con.execute(f"SELECT count(*) FROM {self.table}").fetchall()[0][0])
        if self._segments is None or count - self._read_at > STALE_ROWS or count < self._read_at:
            self._read(count)
        if not self._segments:
            return []
        keys = pc.drop_null(keys)
        if pa.types.is_string(keys.type) or pa.types.is_large_string(keys.type):
            if self._as is not bytes or pc.any(pc.match_substring(keys, "\x00")).as_py():
                return []
            keys = pc.cast(keys, pa.binary())
        elif not (pa.types.is_timestamp(keys.type) and keys.type.tz is None and keys.type.unit != "ns"
                  and self._as is datetime):
            return []
        try:
            vals = pc.unique(keys).sort().to_pylist()
        except (OverflowError, ValueError):  # a time beyond Python's (year 10000, infinity)
            return []
        if not vals:
            return []
        # gap g: the stored rows between vals[g - 1] and vals[g] (0: below the least key, len(vals):
        # above the greatest; the first and last range spare those without a cut)
        spared: dict[int, int] = {}
        for n, lo, hi in self._segments:
            g = bisect.bisect_right(vals, lo)  # vals[g - 1] <= lo < vals[g]
            if g and vals[g - 1] == lo:
                continue  # holds a key
            upper = None if g == len(vals) else vals[g][:len(hi)] if isinstance(hi, bytes) else vals[g]
            if upper is None or upper > hi:  # the segment's greatest is below vals[g]: the gap holds it
                spared[g] = spared.get(g, 0) + n
        ends = spared.pop(0, 0) + spared.pop(len(vals), 0)
        cuts = sorted(sorted(spared, key=spared.__getitem__, reverse=True)[:MAX_RANGES - 1])
        if ends + sum(spared[g] for g in cuts) < MIN_SPARED:
            return []
        out, first = [], 0
        for g in cuts + [len(vals)]:
            out.append((_literal(vals[first]), _literal(vals[g - 1])))
            first = g
        return out


def condition(column: str, ranges: list[tuple[str, str]]) -> str:
    """``column`` within one of ``ranges`` (from :meth:`Zones.ranges`), as SQL."""
    return "(" + " OR ".join(f"{column} = {a}" if a == b else f"{column} BETWEEN {a} AND {b}"
                             for a, b in ranges) + ")"
