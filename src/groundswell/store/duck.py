"""The embedded DuckDB store.

Tables follow :mod:`groundswell.model`. Writes come in batches, one
transaction each, so an ingest killed at any moment leaves the store as it
was after the last whole batch; the ``sources`` table records how far each
input got, in the same transaction, so a re-run resumes there.

Merging (one rule, applied within a batch by :func:`merge_post` and across
batches by the UPDATE of :func:`_merge_posts_sql`): a full sighting of a post beats
one seen only embedded in another record (``is_reference``); otherwise the
first value seen wins and later sightings only fill what is missing; counts
come from the newest observation; a deletion is final and clears the text.
A new version of a whole post (``posts_replace`` in a batch: a Bluesky edit,
:func:`replace_post`) replaces the stored row, a deletion still final.

This package knows only :mod:`groundswell.model` (and its errors): ingest hands
it Arrow tables or :class:`Select` queries to write, never the other way round.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from groundswell import model
from groundswell.addresses import link_statuses
from groundswell.errors import StoreError
from groundswell.model import Select  # noqa: F401 - written by write_batch; formats build them
from groundswell.store.zones import ZONE_KEYS, Zones, condition

DEFAULT_DB = "groundswell.duckdb"
SCHEMA_VERSION = "1"

_SQL_TYPES = {
    pa.string(): "VARCHAR",
    pa.timestamp("us"): "TIMESTAMP",
    pa.int64(): "BIGINT",
    pa.bool_(): "BOOLEAN",
    pa.list_(pa.string()): "VARCHAR[]",
}

_KEYS = {
    "posts": ("platform", "id"),
    "accounts": ("platform", "id", "observed_at"),
    "volumes": ("platform", "query", "start", "end"),
    "deletions": ("platform", "id"),
    "follows": ("platform", "follower_id", "followed_id"),
    "rejects": ("source_file", "source_line", "reason"),
}

COUNT_COLUMNS = ("repost_count", "reply_count", "like_count", "quote_count")
# the epoch stands for "observed at an unknown time" in accounts.observed_at
UNKNOWN_TIME = "1970-01-01 00:00:00"


# keyed without an index: an index (DuckDB's ART) stays in memory whole, about
# 60 bytes a post, so ingest memory would grow with the store; the follower
# graph runs to tens of millions of edges. write_batch keeps these tables
# unique by their keys with anti-joins (and merges posts by an UPDATE); for posts
# and accounts, a condition on the key spares the stored row groups that hold no
# key of the batch (store/zones.py), so a batch does not read a big store whole.
_UNINDEXED = frozenset({"posts", "accounts", "follows"})


# the original JSON is the bulk of a store: zstd keeps it a third of the size
# and is cheaper to write than the compression DuckDB would otherwise pick by
# trying each method on every checkpoint
_ZSTD_COLUMNS = frozenset({"raw"})


# tables whose rows may keep their original object in a page (model.RAW_REF_FIELDS)
PAGED = ("posts", "accounts")


def _ddl(table: str, zstd: bool = True) -> str:
    keys = _KEYS[table]
    cols = []
    fields = model.DOCS[table] + (model.RAW_REF_FIELDS if table in PAGED else [])
    for name, typ, _doc in fields:
        null = " NOT NULL" if name in keys else ""
        using = " USING COMPRESSION zstd" if zstd and name in _ZSTD_COLUMNS else ""
        cols.append(f'"{name}" {_SQL_TYPES[typ]}{null}{using}')
    if table not in _UNINDEXED:
        cols.append("PRIMARY KEY (" + ", ".join(f'"{k}"' for k in keys) + ")")
    return f"CREATE TABLE IF NOT EXISTS {table} (\n  " + ",\n  ".join(cols) + "\n)"


_EXTRA_DDL = [
    # input lines as they came, compressed (store.pages); rows point into them. The bodies are
    # zstd already: stored as they are, a checkpoint does not try every compression on them
    # (8x faster on the CSV fast path's pages)
    """CREATE TABLE IF NOT EXISTS pages (
        page BIGINT NOT NULL,
        source_file VARCHAR,
        source_line BIGINT,
        format VARCHAR NOT NULL,
        delimiter VARCHAR,
        body BLOB USING COMPRESSION uncompressed
    )""",
    # every post a JSON page holds (its data and includes.tweets): where a deletion must reach
    """CREATE TABLE IF NOT EXISTS page_posts (
        page BIGINT NOT NULL,
        platform VARCHAR NOT NULL,
        id VARCHAR NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS sources (
        fingerprint VARCHAR PRIMARY KEY,
        path VARCHAR NOT NULL,
        format VARCHAR,
        lines_done BIGINT NOT NULL DEFAULT 0,
        bytes_done BIGINT NOT NULL DEFAULT 0,
        records BIGINT NOT NULL DEFAULT 0,
        rejected BIGINT NOT NULL DEFAULT 0,
        complete BOOLEAN NOT NULL DEFAULT false
    )""",
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    # the latest observation of each account
    """CREATE OR REPLACE VIEW accounts_latest AS
       SELECT * EXCLUDE (rn) FROM (
         SELECT *, row_number() OVER (PARTITION BY platform, id
                                      ORDER BY observed_at DESC, source_file, source_line) AS rn
         FROM accounts) WHERE rn = 1""",
    # one row per (post, hashtag): the table most analyses start from
    """CREATE OR REPLACE VIEW post_hashtags AS
       SELECT platform, id, author_id, created_at, kind, is_reference, unnest(hashtags) AS hashtag
       FROM posts""",
    # links between posts: repost, reply, quote
    """CREATE OR REPLACE VIEW post_links AS
       SELECT platform, id AS source_id, author_id AS source_author_id, created_at,
              'repost' AS type, repost_of_id AS target_id FROM posts WHERE repost_of_id IS NOT NULL
       UNION ALL
       SELECT platform, id, author_id, created_at, 'reply', reply_to_id FROM posts WHERE reply_to_id IS NOT NULL
       UNION ALL
       SELECT platform, id, author_id, created_at, 'quote', quote_of_id FROM posts WHERE quote_of_id IS NOT NULL""",
]


RAW_UNIT = ("raw", "raw_page", "raw_at")  # the original object, inline or in a page: chosen as one


def _has_raw(t: str) -> str:
    return f"({t}.raw IS NOT NULL OR {t}.raw_page IS NOT NULL)"


def _merge_posts_sql() -> str:
    keys = _KEYS["posts"]
    full = "(posts.is_reference AND NOT EXCLUDED.is_reference)"
    newer = ("(EXCLUDED.metrics_observed_at IS NOT NULL AND (posts.metrics_observed_at IS NULL"
             " OR EXCLUDED.metrics_observed_at > posts.metrics_observed_at))")
    sets = []
    for name, typ, _doc in model.POST_FIELDS + model.RAW_REF_FIELDS:
        if name in keys:
            continue
        q = f'"{name}"'
        if name == "is_reference":
            expr = "posts.is_reference AND EXCLUDED.is_reference"
        elif name == "deleted":
            expr = "posts.deleted OR EXCLUDED.deleted"
        elif name in RAW_UNIT:
            expr = (f"CASE WHEN posts.deleted OR EXCLUDED.deleted THEN NULL WHEN {full} "
                    f"THEN (CASE WHEN {_has_raw('EXCLUDED')} THEN EXCLUDED.{q} ELSE posts.{q} END) "
                    f"ELSE (CASE WHEN {_has_raw('posts')} THEN posts.{q} ELSE EXCLUDED.{q} END) END")
        elif name == "text":
            expr = (f"CASE WHEN posts.deleted OR EXCLUDED.deleted THEN NULL WHEN {full} "
                    f"THEN COALESCE(EXCLUDED.{q}, posts.{q}) ELSE COALESCE(posts.{q}, EXCLUDED.{q}) END")
        elif name in COUNT_COLUMNS or name == "metrics_observed_at":
            expr = (f"CASE WHEN {newer} THEN COALESCE(EXCLUDED.{q}, posts.{q}) "
                    f"ELSE COALESCE(posts.{q}, EXCLUDED.{q}) END")
        elif pa.types.is_list(typ):
            expr = (f"CASE WHEN {full} AND len(EXCLUDED.{q}) > 0 THEN EXCLUDED.{q} "
                    f"WHEN len(posts.{q}) = 0 THEN EXCLUDED.{q} ELSE posts.{q} END")
        else:
            expr = (f"CASE WHEN {full} THEN COALESCE(EXCLUDED.{q}, posts.{q}) "
                    f"ELSE COALESCE(posts.{q}, EXCLUDED.{q}) END")
        sets.append(f"{q} = {expr}")
    # the stored rows a batch names are found first (_batch_match: their rowids and keys, by one
    # join that reads only the keys); the UPDATE then goes by rowid, without joining the whole table
    # again, with the batch's rows of those keys (__BATCH__: the batch's name)
    return ("UPDATE posts SET " + ", ".join(sets) + " FROM (SELECT m._rid, b.* FROM _batch_match m JOIN __BATCH__ b "
            "ON m.platform = b.platform AND m.id = b.id) AS EXCLUDED WHERE posts.rowid = EXCLUDED._rid")


_MERGE_POSTS = _merge_posts_sql()

_MASTODON_DELETIONS = """
INSERT INTO deletions
SELECT DISTINCT d.platform, p.id, d.author_id, d.deleted_at, d.reason, d.source_file, d.source_line
FROM deletions d JOIN posts p
  ON p.platform = 'mastodon' AND d.platform = 'mastodon' AND p.raw IS NOT NULL
 AND d.id = 'https://' || coalesce(json_extract_string(p.raw, '$._server'),
                                   regexp_extract(p.id, '^https?://([^/]+)/', 1))
           || '/api/v1/statuses/' || json_extract_string(p.raw, '$.id')
WHERE d.id LIKE 'https://%/api/v1/statuses/%'
ON CONFLICT DO NOTHING
"""


def merge_post(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Merge two sightings of one post, in the order they were seen (see module doc)."""
    full = bool(old.get("is_reference")) and not new.get("is_reference")
    first, second = (new, old) if full else (old, new)
    out = dict(second)
    out.update({k: v for k, v in first.items() if v is not None and v != []})
    # counts: the newest observation's, whichever sighting made it; the other only fills gaps
    o_t, n_t = old.get("metrics_observed_at"), new.get("metrics_observed_at")
    recent, other = (new, old) if n_t is not None and (o_t is None or n_t > o_t) else (old, new)
    for c in COUNT_COLUMNS + ("metrics_observed_at",):
        out[c] = recent.get(c) if recent.get(c) is not None else other.get(c)
    out["is_reference"] = bool(old.get("is_reference")) and bool(new.get("is_reference"))
    # the original object, inline or in a page, comes whole from one sighting
    has = [s for s in (first, second) if s.get("raw") is not None or s.get("raw_page") is not None]
    for k in RAW_UNIT:
        out[k] = has[0].get(k) if has else None
    if old.get("deleted") or new.get("deleted"):
        out["deleted"], out["text"] = True, None
        for k in RAW_UNIT:
            out[k] = None
    return out


def replace_post(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """A new version of a whole post (a Bluesky edit) over an older sighting:
    every field from the new one, except that a deletion stays final, the
    provenance is the first sighting's, and a full sighting stays full."""
    out = dict(new)
    for k in ("source_file", "source_line"):
        if old.get(k) is not None:
            out[k] = old[k]
    out["is_reference"] = bool(old.get("is_reference")) and bool(new.get("is_reference"))
    if old.get("deleted") or new.get("deleted"):
        out["deleted"], out["text"] = True, None
        for k in RAW_UNIT:
            out[k] = None
    return out


def _replace_posts_sql() -> str:
    sets = []
    for name, _typ, _doc in model.POST_FIELDS + model.RAW_REF_FIELDS:
        if name in _KEYS["posts"] or name in ("source_file", "source_line"):
            continue
        q = f'"{name}"'
        if name == "is_reference":
            expr = "posts.is_reference AND n.is_reference"
        elif name == "deleted":
            expr = "posts.deleted OR n.deleted"
        elif name in ("text",) + RAW_UNIT:
            expr = f"CASE WHEN posts.deleted OR n.deleted THEN NULL ELSE n.{q} END"
        else:
            expr = f"n.{q}"
        sets.append(f"{q} = {expr}")
    return ("UPDATE posts SET " + ", ".join(sets) + " FROM _batch_replace AS n "
            "WHERE posts.platform = n.platform AND posts.id = n.id")


_REPLACE_POSTS = _replace_posts_sql()


def _paged(t: pa.Table) -> pa.Table:
    """A posts or accounts batch with the page pointer columns (NULL when the batch has none)."""
    names = t.column_names
    for f in model.RAW_REF:
        if f.name not in names:
            t = t.append_column(f, pa.nulls(t.num_rows, f.type))
    return t


class Store:
    """A groundswell store on DuckDB. Use :func:`open_store` to get one."""

    engine = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection, path: str, read_only: bool) -> None:
        self.con = con
        self.path = path
        self.read_only = read_only
        self._paged: bool | None = None
        self._zones: dict[str, Zones] = {}  # table -> its Zones, read at the first merge into it

    # -- schema -----------------------------------------------------------
    def _create(self) -> None:
        for table in model.DOCS:
            try:
                self.con.execute(_ddl(table))
            except duckdb.Error:  # a DuckDB without zstd for strings: its own choice of compression
                self.con.execute(_ddl(table, zstd=False))
        for table in PAGED:  # a store made before pages: its rows point nowhere
            have = {r[0] for r in self.con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                "AND table_schema = 'main'", [table]).fetchall()}
            for name, typ, _doc in model.RAW_REF_FIELDS:
                if name not in have:
                    self.con.execute(f'ALTER TABLE {table} ADD COLUMN "{name}" {_SQL_TYPES[typ]}')
        for stmt in _EXTRA_DDL:
            try:
                self.con.execute(stmt)
            except duckdb.Error:  # a DuckDB that cannot be told a column's compression: its own choice
                if "USING COMPRESSION" not in stmt:
                    raise
                self.con.execute(stmt.replace(" USING COMPRESSION uncompressed", ""))
        self.con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])

    def has_pages(self) -> bool:
        """Whether this store can keep rows' original objects in pages (a store made before
        pages, opened read-only, cannot)."""
        if self._paged is None:
            self._paged = bool(self.con.execute(
                "SELECT count(*) FROM information_schema.columns WHERE table_name = 'posts' "
                "AND table_schema = 'main' AND column_name = 'raw_page'").fetchall()[0][0])
        return self._paged

    # -- reading ----------------------------------------------------------
    def sql(self, query: str, params: list[Any] | None = None) -> pa.Table:
        """Run SQL against the store and return an Arrow table."""
        for attempt in (1, 2):
            try:
                rel = self.con.sql(query, params=params or None)
                return rel.to_arrow_table() if rel is not None else pa.table({})
            except duckdb.ResourceInUseException:
                if attempt == 2:
                    raise
                # an earlier execute() on this connection left a result unread: finish it, then go on
                self.con.execute("SELECT 1").fetchall()
        raise AssertionError("unreachable")

    def table(self, name: str) -> pa.Table:
        """A whole table (``posts``, ``accounts``, ...) as Arrow; ``raw`` read from the pages
        where a row keeps its original object there (the model's columns only)."""
        if name not in model.DOCS and name not in ("sources", "meta", "accounts_latest",
                                                   "post_hashtags", "post_links"):
            raise StoreError(f"no table {name!r}; tables: {', '.join(model.DOCS)}")
        return self.with_raw(self.sql(f"SELECT * FROM {name}"))

    def raw_sql(self, alias: str = "") -> str:
        """The select list that carries a row's original object: ``raw`` and its page pointer
        (NULL in a store made before pages), for :meth:`with_raw` or :func:`pages.fill_rows`."""
        a = f"{alias}." if alias else ""
        if self.has_pages():
            return f"{a}raw, {a}raw_page, {a}raw_at"
        return f"{a}raw, NULL::BIGINT AS raw_page, NULL::VARCHAR AS raw_at"

    def has_raw_sql(self, alias: str = "") -> str:
        """SQL true where a row keeps its original object (inline or in a page)."""
        a = f"{alias}." if alias else ""
        return f"({a}raw IS NOT NULL OR {a}raw_page IS NOT NULL)" if self.has_pages() else f"{a}raw IS NOT NULL"

    def with_raw(self, table: pa.Table) -> pa.Table:
        """Rows read from ``posts`` or ``accounts`` (with ``raw_page`` and ``raw_at``) with
        ``raw`` filled from the pages; the pointer columns are dropped."""
        from groundswell.store.pages import fill_raw

        return fill_raw(self.con, table)

    def meta(self, key: str) -> str | None:
        rows = self.con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchall()
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str | None) -> None:
        self.con.execute("DELETE FROM meta WHERE key = ?", [key])
        if value is not None:
            self.con.execute("INSERT INTO meta VALUES (?, ?)", [key, value])

    # -- writing ----------------------------------------------------------
    def write_batch(self, tables: dict[str, pa.Table | Select] | list[dict[str, pa.Table | Select]],
                    source: dict[str, Any] | None = None, meta: dict[str, str] | None = None) -> None:
        """Write one batch of normalized records in one transaction.

        ``tables`` maps table names to Arrow tables of the model's schemas
        or :class:`Select` queries (or is a list of such maps, applied in order);
        ``source`` (fingerprint, path, format, lines_done, bytes_done,
        records, rejected, complete) records the progress of the input the
        batch came from, in the same transaction; so do ``meta`` entries
        (a live source's cursor, for example).
        """
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            for part in tables if isinstance(tables, list) else [tables]:
                self._write(part)
            if source is not None:
                con.execute(
                    "INSERT OR REPLACE INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [source["fingerprint"], source["path"], source.get("format"),
                     source.get("lines_done", 0), source.get("bytes_done", 0),
                     source.get("records", 0), source.get("rejected", 0),
                     source.get("complete", False)],
                )
            for key, value in (meta or {}).items():
                con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])
            con.execute("COMMIT")
        except BaseException:
            try:  # after an interrupt DuckDB may have ended the transaction itself
                con.execute("ROLLBACK")
            except duckdb.Error:
                pass
            raise

    def _write(self, tables: dict[str, pa.Table | Select]) -> None:
        con = self.con
        for name in ("pages", "page_posts"):  # before the rows that point into them
            t = tables.get(name)
            if isinstance(t, pa.Table) and t.num_rows:
                con.register("_batch", t)
                con.execute(f"INSERT INTO {name} SELECT * FROM _batch")
                con.unregister("_batch")
        got = tables.get("posts")
        posts = _paged(got) if isinstance(got, pa.Table) else None  # posts come as Arrow (their merge needs the rows)
        if posts is not None and posts.num_rows:
            self._write_posts(posts)
        replace = tables.get("posts_replace")
        if isinstance(replace, pa.Table) and replace.num_rows:
            replace = _paged(replace)
            # new versions of whole posts (model: formats.base.REPLACES): each replaces the stored row
            con.register("_batch_replace", replace)
            con.execute(_REPLACE_POSTS)
            con.execute("INSERT INTO posts SELECT * FROM _batch_replace b WHERE NOT EXISTS "
                        "(SELECT 1 FROM posts p WHERE p.platform = b.platform AND p.id = b.id)")
            con.unregister("_batch_replace")
            posts = replace if posts is None or not posts.num_rows else pa.concat_tables([posts, replace])
        for name in ("accounts", "volumes", "deletions", "follows", "rejects"):
            t = tables.get(name)
            if t is None or (isinstance(t, pa.Table) and not t.num_rows):
                continue
            if isinstance(t, Select):
                src, params = f"({t.sql})", t.params
            else:
                con.register("_batch", _paged(t) if name in PAGED else t)
                src, params = "_batch", []
            if name in _UNINDEXED:  # first sighting wins, within the batch and against the table
                on = " AND ".join(f'x."{k}" = b."{k}"' for k in _KEYS[name])
                if name in ZONE_KEYS and not isinstance(t, Select):
                    on += self._narrow(name, "x", t.column(ZONE_KEYS[name]), "_batch")
                part = ", ".join(f'"{k}"' for k in _KEYS[name])
                con.execute(f"INSERT INTO {name} SELECT * EXCLUDE (_n) FROM (SELECT *, row_number() OVER "
                            f"(PARTITION BY {part} ORDER BY source_file, source_line) AS _n FROM {src}) b "
                            f"WHERE _n = 1 AND NOT EXISTS (SELECT 1 FROM {name} x WHERE {on})", params)
            else:
                con.execute(f"INSERT INTO {name} SELECT * FROM {src} ON CONFLICT DO NOTHING", params)
            if not isinstance(t, Select):
                con.unregister("_batch")
        got_dels = tables.get("deletions")
        dels = got_dels if isinstance(got_dels, pa.Table) else None
        if (dels is not None and dels.num_rows) or (posts is not None and posts.num_rows):
            self._apply_deletions(posts, dels)
        if posts is not None and posts.num_rows:  # Mastodon replies to the stored parents' URIs
            link_statuses(con, posts)
        new_pages = tables.get("pages")
        if isinstance(new_pages, pa.Table) and new_pages.num_rows:
            self._drop_unused_pages(new_pages)
            if posts is not None and posts.num_rows:
                self._blank_unpointed(new_pages, posts)

    def _drop_unused_pages(self, new_pages: pa.Table) -> None:
        """Pages of this batch that no row points to (every post and user in them was stored
        already, from elsewhere) are not kept, nor their index rows."""
        import pyarrow.compute as pc

        lo, hi = (int(x) for x in pc.min_max(new_pages.column("page")).values())
        used = ("SELECT raw_page FROM posts WHERE raw_page BETWEEN $1 AND $2 UNION "
                "SELECT raw_page FROM accounts WHERE raw_page BETWEEN $1 AND $2")
        gone = self.con.execute(f"SELECT count(*) FROM pages WHERE page BETWEEN $1 AND $2 AND page NOT IN ({used})",
                                [lo, hi]).fetchall()[0][0]
        if gone:
            self.con.execute(f"DELETE FROM page_posts WHERE page BETWEEN $1 AND $2 AND page NOT IN ({used})", [lo, hi])
            self.con.execute(f"DELETE FROM pages WHERE page BETWEEN $1 AND $2 AND page NOT IN ({used})", [lo, hi])

    def _blank_unpointed(self, new_pages: pa.Table, posts: pa.Table) -> None:
        """Records of this batch's CSV pages that no row points to any more (the row lost the merge
        to a stored sighting of the same post, or the post is deleted) are blanked
        (:func:`pages.blank_csv`): a CSV record is kept only where its row points. Cheap when
        every row of the batch kept its pointer (one count)."""
        import pyarrow.compute as pc

        from groundswell.store import pages

        csv = new_pages.filter(pc.equal(new_pages.column("format"), "csv"))
        if not csv.num_rows:
            return
        lo, hi = (int(x) for x in pc.min_max(csv.column("page")).values())
        rp = posts.column("raw_page")
        ptr = posts.select(["raw_page", "raw_at"]).filter(pc.and_(pc.greater_equal(rp, lo), pc.less_equal(rp, hi)))
        if not ptr.num_rows:
            return
        have = self.con.execute("SELECT count(*) FROM posts WHERE raw_page BETWEEN $1 AND $2",
                                [lo, hi]).fetchall()[0][0]
        if have >= ptr.num_rows:
            return
        self.con.register("_gs_ptr", ptr)
        try:
            lost = self.con.execute(
                "SELECT b.raw_page, b.raw_at FROM _gs_ptr b JOIN pages g ON g.page = b.raw_page "
                "WHERE g.format = 'csv' AND NOT EXISTS (SELECT 1 FROM posts p WHERE p.raw_page BETWEEN $1 AND $2 "
                "AND p.raw_page = b.raw_page AND p.raw_at = b.raw_at)", [lo, hi]).fetchall()
        finally:
            self.con.unregister("_gs_ptr")
        pages.blank_csv(self.con, lost)

    def _narrow(self, table: str, alias: str, keys: pa.ChunkedArray | pa.Array, batch: str) -> str:
        """" AND <a condition on alias's key>" that spares the stored row groups of ``table`` holding
        no key of the batch (:mod:`groundswell.store.zones`), or "" to look at every row. Given only
        when every key of ``batch`` (a relation with the key column) passes it: then it is exact."""
        zones = self._zones.get(table)
        if zones is None:
            zones = self._zones[table] = Zones(self.con, table)
        ranges = zones.ranges(keys)
        if not ranges:
            return ""
        col = f'"{ZONE_KEYS[table]}"'
        missed = self.con.execute(f"SELECT count(*) FROM {batch} b WHERE b.{col} IS NOT NULL "
                                  f"AND NOT {condition('b.' + col, ranges)}").fetchall()[0][0]
        return "" if missed else f" AND {condition(alias + '.' + col, ranges)}"

    def _write_posts(self, posts: pa.Table) -> None:
        """Merge a batch of posts into the table (the module's rule).

        Stored posts a batch names are merged by one UPDATE; the others are
        inserted. A post the batch holds more than once is applied one sighting
        at a time, in the batch's order (round k holds each post's k-th sighting).
        """
        con = self.con
        con.register("_batch_in", posts)
        try:
            rounds = con.execute("SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM _batch_in "
                                 "GROUP BY platform, id)").fetchall()[0][0]
            stored = self._narrow("posts", "p", posts.column("id"), "_batch_in")
            if rounds <= 1:
                self._merge_round("_batch_in", stored)
                return
            seq = posts.append_column("_seq", pa.array(range(posts.num_rows), pa.int64()))
            con.register("_batch_seq", seq)
            con.execute("CREATE OR REPLACE TEMP TABLE _batch_rounds AS SELECT *, row_number() OVER "
                        "(PARTITION BY platform, id ORDER BY _seq) AS _round FROM _batch_seq")
            con.unregister("_batch_seq")
            for k in range(1, rounds + 1):
                con.execute("CREATE OR REPLACE TEMP VIEW _batch_round AS SELECT * EXCLUDE (_seq, _round) "
                            f"FROM _batch_rounds WHERE _round = {k}")
                self._merge_round("_batch_round", stored)
            con.execute("DROP VIEW _batch_round")
            con.execute("DROP TABLE _batch_rounds")
        finally:
            con.unregister("_batch_in")

    def _merge_round(self, batch: str, stored: str = "") -> None:
        """Merge ``batch`` (one row per post) into ``posts``: update, then insert the rest.

        The stored table is read once, for its keys (the batch's rows that are stored, with
        their rowids); the update goes by rowid and the insert checks the batch against those
        rows only, so a batch into a big store costs one scan of the keys, not three joins.
        ``stored`` (from :meth:`_narrow`) narrows that scan to the row groups that may hold
        a key of the batch."""
        con = self.con
        # keys only: the join's hash table holds no batch column it need not (a fifth of the time)
        con.execute(f"CREATE OR REPLACE TEMP TABLE _batch_match AS SELECT p.rowid AS _rid, p.platform, p.id "
                    f"FROM posts p JOIN (SELECT platform, id FROM {batch}) b "
                    f"ON p.platform = b.platform AND p.id = b.id{stored}")
        if con.execute("SELECT count(*) FROM _batch_match").fetchall()[0][0]:
            con.execute(_MERGE_POSTS.replace("__BATCH__", batch))
        con.execute(f"INSERT INTO posts SELECT * FROM {batch} b WHERE NOT EXISTS "
                    "(SELECT 1 FROM _batch_match m WHERE m.platform = b.platform AND m.id = b.id)")
        con.execute("DROP TABLE _batch_match")

    def _resolve_mastodon_deletions(self) -> bool:
        """Mastodon delete events name a status by its server-local number
        (``https://SERVER/api/v1/statuses/N``); posts are kept by URI. Add a
        deletion under the URI of every stored status that address names.
        True when some were added."""
        n = self.con.execute(_MASTODON_DELETIONS).fetchall()
        return bool(n and n[0][0])

    def _apply_deletions(self, posts: pa.Table | None, dels: pa.Table | None) -> None:
        import pyarrow.compute as pc

        def has_mastodon(t: pa.Table | None) -> bool:
            return t is not None and bool(pc.any(pc.equal(t.column("platform"), "mastodon")).as_py())

        if (has_mastodon(dels) or has_mastodon(posts)) and self._resolve_mastodon_deletions():
            self._blank_csv_of("SELECT platform, id FROM deletions WHERE platform = 'mastodon'")
            self.con.execute(
                "UPDATE posts SET text = NULL, raw = NULL, raw_page = NULL, raw_at = NULL, deleted = true "
                "FROM deletions d "
                "WHERE posts.platform = 'mastodon' AND d.platform = 'mastodon' AND posts.id = d.id "
                "AND NOT posts.deleted")
        parts = []
        if dels is not None and dels.num_rows:
            self.con.register("_batch_dels", dels.select(["platform", "id"]))
            parts.append("SELECT platform, id FROM _batch_dels")
        if posts is not None and posts.num_rows:
            self.con.register("_batch_keys", posts.select(["platform", "id"]))
            parts.append("SELECT d.platform, d.id FROM deletions d JOIN _batch_keys k USING (platform, id)")
        gone = " UNION ".join(parts)
        try:
            if parts and self.con.execute(f"SELECT count(*) FROM ({gone})").fetchall()[0][0]:
                self._blank_csv_of(gone)
                self.con.execute(
                    "UPDATE posts SET text = NULL, raw = NULL, raw_page = NULL, raw_at = NULL, deleted = true "
                    f"FROM ({gone}) x WHERE posts.platform = x.platform AND posts.id = x.id AND NOT posts.deleted")
        finally:
            for name in ("_batch_dels", "_batch_keys"):
                try:
                    self.con.unregister(name)
                except Exception:  # noqa: BLE001 - not registered in this batch
                    pass

    def _blank_csv_of(self, keys: str) -> None:
        """The CSV records of the posts ``keys`` (a SELECT of platform, id) names are blanked
        (:func:`pages.blank_csv`) before their rows lose the pointer to them: a CSV page holds a
        record only where a row points."""
        if not self.has_pages():
            return
        from groundswell.store import pages

        lost = self.con.execute(
            f"SELECT p.raw_page, p.raw_at FROM posts p JOIN ({keys}) x ON p.platform = x.platform AND p.id = x.id "
            "JOIN pages g ON g.page = p.raw_page WHERE g.format = 'csv' AND NOT p.deleted").fetchall()
        if lost:
            pages.blank_csv(self.con, lost)

    def add_posts(self, posts: Iterable[dict[str, Any]]) -> None:
        """Insert (merge) posts given as dicts keyed by model column names."""
        from groundswell.store.records import records_to_table

        self.write_batch({"posts": records_to_table("posts", list(posts))})

    def source(self, fingerprint: str) -> dict[str, Any] | None:
        cur = self.con.execute("SELECT * FROM sources WHERE fingerprint = ?", [fingerprint])
        rows = cur.fetchall()
        if not rows:
            return None
        return dict(zip([d[0] for d in cur.description], rows[0]))

    def checkpoint(self) -> None:
        self.con.execute("CHECKPOINT")

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file


def check_store_path(path: str) -> None:
    """Refuse a ``--db`` that is neither a DuckDB database file nor a path that
    does not exist yet (DuckDB would otherwise silently open an in-memory
    database over a CSV, JSON or Parquet file, and the ingested data would be lost)."""
    p = Path(path)
    if not p.exists():
        if p.parent != Path("") and not p.parent.is_dir():
            raise StoreError(f"cannot create the store {path}: the folder {p.parent} does not exist "
                             "(create it, or choose another --db)")
        return
    if p.is_dir():
        raise StoreError(f"{path} is a folder, not a store file: give a file name such as "
                         f"{p / DEFAULT_DB} (a Spark store is a folder: add --engine spark)")
    try:
        with open(p, "rb") as f:
            head = f.read(16)
    except OSError as e:
        raise StoreError(f"cannot read {path}: {e.strerror}") from None
    if head[8:12] != _DUCKDB_MAGIC:
        kind = _sniff_kind(head)
        raise StoreError(f"{path} is not a DuckDB store ({kind}); it was left untouched: give --db a "
                         f"new file name (e.g. {p.with_suffix('.duckdb').name}) or an existing store")


def _sniff_kind(head: bytes) -> str:
    if not head:
        return "an empty file"
    if head[:4] == b"PAR1":
        return "it looks like a Parquet file"
    if head[:2] == b"\x1f\x8b" or head[:4] == b"\x28\xb5\x2f\xfd":
        return "it looks like a compressed file"
    if head[:15] == b"SQLite format 3":
        return "it looks like an SQLite database"
    if head.lstrip()[:1] in (b"{", b"["):
        return "it looks like JSON"
    return "it looks like text or another kind of file"


def open_store(path: str | os.PathLike[str] = DEFAULT_DB, *, read_only: bool = False,
               create: bool = True) -> Store:
    """Open (and create, unless ``read_only`` or ``create=False``) a store file."""
    p = str(path)
    if (read_only or not create) and p != ":memory:" and not Path(p).exists():
        raise StoreError(f"no store at {p}: run 'groundswell ingest FILE --db {p}' first")
    if p != ":memory:":
        check_store_path(p)
    try:
        con = duckdb.connect(p, read_only=read_only)
    except duckdb.IOException as e:
        msg = str(e).splitlines()[0]
        if "lock" in msg.lower():
            raise StoreError(f"{p} is in use by another groundswell process (DuckDB lets one process "
                             f"open a file that is being written): wait for it to finish, or while "
                             f"'groundswell follow' runs, read its live board with 'follow --http PORT' or "
                             f"run the dashboard in the same process with 'serve --follow URL'") from None
        raise StoreError(f"cannot open {p}: {msg}") from None
    except duckdb.Error as e:
        raise StoreError(f"{p} is not a DuckDB store: {str(e).splitlines()[0]}") from None
    con.execute("SET enable_progress_bar = false")  # progress is ours, on stderr, when asked
    store = Store(con, p, read_only)
    have = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if have and not {"posts", "meta"} <= have:
        con.close()
        raise StoreError(f"{p} is a DuckDB database but not a groundswell store (it has no "
                         f"{'posts' if 'posts' not in have else 'meta'} table); it was left untouched: "
                         f"choose another --db")
    if not read_only:
        store._create()
    else:
        have = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if "posts" not in have:
            con.close()
            raise StoreError(f"{p} is not a groundswell store (no posts table)")
    return store
