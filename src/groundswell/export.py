"""Export the store: CSV (twarc-csv's columns for Twitter), Parquet, JSON lines.

Rows are read in batches and written by one writer per format. An account
observed at an unknown time (kept in the store as the epoch, part of the
accounts' key) is written with ``observed_at`` NULL. A
``transform`` (what :func:`groundswell.privacy.export_safely` passes: the
field declaration of :mod:`groundswell.privacy.fields` applied, pseudonyms,
rewritten links, withheld text, redaction) is applied to every batch before it is
written; it receives the batch and its layout (``posts``, ``accounts``, ...,
or ``twarc-csv`` for twarc-csv's 84 string columns).
"""

from __future__ import annotations

import csv
import itertools
import os
import sys
from collections.abc import Callable, Iterator
from typing import IO, Any

import orjson
import pyarrow as pa

from groundswell import model
from groundswell.errors import UsageError
from groundswell.formats.base import is_json_line
from groundswell.store.duck import UNKNOWN_TIME, Store
from groundswell.store.pages import PageReader, fill_raw, fill_rows

EXPORT_FORMATS = ("csv", "parquet", "jsonl")
TABLES = ("posts", "accounts", "volumes", "deletions", "follows", "rejects")
CHUNK = 10_000

Transform = Callable[[pa.Table, str], pa.Table]


def _platforms(store: Store) -> list[str]:
    return [r[0] for r in store.con.execute("SELECT DISTINCT platform FROM posts ORDER BY 1").fetchall()]


def _where(platform: str | None, include_referenced: bool) -> tuple[str, list[Any]]:
    conds, params = [], []
    if platform:
        conds.append("platform = ?")
        params.append(platform)
    if not include_referenced:
        conds.append("NOT is_reference")
    return (" WHERE " + " AND ".join(conds)) if conds else "", params


def export(store: Store, fmt: str, output: str, *, table: str = "posts", platform: str | None = None,
           include_referenced: bool = False, raw: bool = False, transform: Transform | None = None,
           notes: list[str] | None = None) -> int:
    """Write ``table`` to ``output`` ('-' for stdout) and return the rows written; ``notes``
    receives what the user should know about the rows (twarc-csv rows written without their page)."""
    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
    if table not in TABLES:
        raise UsageError(f"no table {table!r}; tables: {', '.join(TABLES)}")
    if fmt == "parquet" and output == "-":
        raise UsageError("parquet cannot be written to stdout: give --output FILE.parquet")
    if raw and transform is not None:
        raise UsageError("--raw writes the original JSON, which holds every name and every text: it needs "
                         "--identify --no-redact --show-disclosure-text --private (a private output)")
    if fmt == "csv" and table == "posts":
        plats = _platforms(store)
        if platform is None:
            if len(plats) > 1:
                raise UsageError(f"the store holds posts of {', '.join(plats)}: a CSV has one set of "
                                 "columns, choose one with --platform")
            platform = plats[0] if plats else "twitter"
        if platform == "twitter":
            return write(_twarc_csv_batches(store, include_referenced, notes), fmt, output, "twarc-csv", transform,
                         empty=twarc_csv_empty())
    where, params = _where(platform, include_referenced) if table == "posts" else ("", [])
    paged = table in ("posts", "accounts")
    if paged:  # the model's columns: raw, when asked for, read through the pages
        names = [f'"{n}"' for n in model.SCHEMAS[table].names if n != "raw"]
        if table == "accounts":  # the store's mark for "observed at an unknown time" is written as NULL
            names = [(f"CASE WHEN observed_at = TIMESTAMP '{UNKNOWN_TIME}' THEN NULL ELSE observed_at END "
                      "AS observed_at") if n == '"observed_at"' else n for n in names]
        cols = ", ".join(names + ([store.raw_sql()] if raw else []))
    else:
        cols = "*"
    order = "platform, created_at, id" if table == "posts" else "ALL"
    query = f"SELECT {cols} FROM {table}{where} ORDER BY {order}"
    if transform is None and fmt == "parquet" and not (raw and paged):
        # nothing to change on the way: let DuckDB write it
        n = store.con.execute(f"SELECT count(*) FROM ({query})", params).fetchall()[0][0]
        store.con.execute(f"COPY ({query}) TO '{output.replace(chr(39), chr(39) * 2)}' "
                          "(FORMAT parquet, COMPRESSION zstd)", params)
        return int(n)
    cur = store.con.cursor()  # a cursor of its own: a transform may query the store between batches
    try:
        reader = cur.sql(query, params=params or None).to_arrow_reader(CHUNK)
        batches: Iterator[pa.Table] = (pa.Table.from_batches([b]) for b in reader)
        empty = reader.schema.empty_table()
        if raw and paged:
            pr = PageReader(store.con)
            batches = (fill_raw(store.con, b, pr) for b in batches)
            empty = fill_raw(store.con, empty)
        return write(batches, fmt, output, table, transform, empty=empty)
    finally:
        cur.close()


def write(batches: Iterator[pa.Table], fmt: str, output: str | IO[Any], layout: str,
          transform: Transform | None = None, empty: pa.Table | None = None) -> int:
    """Write Arrow batches as ``fmt`` to ``output``; the one writer every export goes through.

    ``output`` is a path, '-' for stdout, or an open stream (text for CSV,
    binary for JSON lines and Parquet), which is left open.
    """
    n = 0
    first = True
    out: IO[Any] | None = None
    pq_writer = None
    w = None
    try:
        for t in batches:
            if transform is not None:
                t = transform(t, layout)
            if first:
                if fmt == "parquet":
                    import pyarrow.parquet as pq

                    pq_writer = pq.ParquetWriter(output, t.schema, compression="zstd")
                else:
                    out = _open_out(output, binary=(fmt == "jsonl"))
                    if fmt == "csv":
                        w = csv.writer(out)
                        w.writerow(t.column_names)
                first = False
            if pq_writer is not None:
                pq_writer.write_table(t)
            elif w is not None:
                for row in zip(*(c.to_pylist() for c in t.columns)):
                    w.writerow(["" if v is None else _cell(v) for v in row])
            else:
                names = t.column_names
                assert out is not None
                for row in zip(*(c.to_pylist() for c in t.columns)):
                    out.write(orjson.dumps(dict(zip(names, row)), default=str,
                                           option=orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z) + b"\n")
            n += t.num_rows
        if first:  # no rows: still a header (CSV) or a schema (Parquet)
            t = empty if empty is not None else pa.table({})
            if transform is not None:
                t = transform(t, layout)
            if fmt == "parquet":
                import pyarrow.parquet as pq

                pq.write_table(t, output, compression="zstd")
            else:
                out = _open_out(output, binary=(fmt == "jsonl"))
                if fmt == "csv":
                    csv.writer(out).writerow(t.column_names)
    finally:
        if pq_writer is not None:
            pq_writer.close()
        if out is not None and isinstance(output, str) and output != "-":
            out.close()
    return n


def _open_out(output: str | IO[Any], binary: bool = False) -> IO[Any]:
    if not isinstance(output, str):
        return output
    if output == "-":
        return sys.stdout.buffer if binary else sys.stdout
    return open(output, "wb") if binary else open(output, "w", newline="", encoding="utf-8")


def _obj(v: Any) -> dict[str, Any]:
    """A JSON object, or an empty one for anything else (a field a page may lack or hold wrong)."""
    return v if isinstance(v, dict) else {}


def _cell(v: Any) -> str:
    if isinstance(v, list):
        return " ".join(str(x) for x in v)
    if hasattr(v, "isoformat"):
        return str(v.isoformat()) + "Z"
    return str(v)


def _twarc_csv_batches(store: Store, include_referenced: bool,
                       notes: list[str] | None = None) -> Iterator[pa.Table]:
    """Twitter posts with twarc-csv's 84 columns, in its order, as string tables.

    Rows are made as twarc-csv makes them from the pages of the input file,
    100 lines at a time (its batch: one float rule per batch): the tweet as the
    store keeps it, the users and referenced tweets the page included (as the
    store keeps them), and what the store does not keep of a page, read again
    from the input file (:class:`_Pages`). ``notes`` receives a line when some
    rows had to be written without their page."""
    from groundswell.formats import twarc_csv_export as tc

    where, params = _where("twitter", include_referenced)
    cur = store.con.cursor()
    pages = _Pages()
    try:
        cols = ", ".join(f'"{n}"' for n in model.SCHEMAS["posts"].names if n != "raw")
        res = cur.execute(f"SELECT {cols}, {store.raw_sql()} FROM posts{where} "
                          "ORDER BY source_file, source_line, created_at DESC, id DESC", params)
        names = [d[0] for d in res.description]
        pr = PageReader(store.con)
        group: list[dict[str, Any]] = []
        key: Any = None
        out: list[list[str]] = []
        while rows := res.fetchmany(CHUNK):
            for r in rows:
                p = dict(zip(names, r))
                k = (p.get("source_file"), (int(p.get("source_line") or 1) - 1) // tc.BATCH_LINES)
                if group and k != key:
                    out += _twarc_rows(store, fill_rows(store.con, group, pr), tc, pages, pr)
                    group = []
                    if len(out) >= CHUNK:
                        yield _string_table(out, tc.COLUMNS)
                        out = []
                key = k
                group.append(p)
        if group:
            out += _twarc_rows(store, fill_rows(store.con, group, pr), tc, pages, pr)
        if out:
            yield _string_table(out, tc.COLUMNS)
    finally:
        cur.close()
        pages.close()
    if notes is not None and pages.missed:
        notes.append(f"{pages.missed:,} rows written without their page's context (geo places, media and poll "
                     f"objects, __twarc, matching_rules): {pages.why()}")


def _string_table(rows: list[list[str]], columns: list[str]) -> pa.Table:
    return pa.table({c: pa.array([r[i] for r in rows], pa.string()) for i, c in enumerate(columns)})


def twarc_csv_empty() -> pa.Table:
    from groundswell.formats import twarc_csv_export as tc

    return pa.table({c: pa.array([], pa.string()) for c in tc.COLUMNS})


def _v2_files(store: Store) -> set[str]:
    """The input files whose raw records are twarc2 (API v2) tweets."""
    return {r[0] for r in store.con.execute(
        "SELECT DISTINCT path FROM sources WHERE format LIKE 'twitter-v2%'").fetchall()}


class _Pages:
    """The twarc2 pages of the input files, read again (in line order, each file once) for what
    the store does not keep of a page: ``__twarc``, ``matching_rules``, the ``includes`` media,
    polls and places, and which users and tweets it included.

    A page is used for a post only when it holds that very tweet as the store keeps it (the
    file is the one ingested, unchanged at that line); a file gone, moved or changed leaves its
    rows without context (:attr:`missed`, :meth:`why`). Posts the store deleted or forgot are
    never looked up (their raw is gone), and the page's users and tweets come from the store,
    so nothing forgotten comes back from the file."""

    def __init__(self) -> None:
        self._path: str | None = None
        self._lines: Iterator[bytes] | None = None
        self._at = 0
        self._fh: Any = None
        self._doc: list[Any] | None = None
        self._cache: dict[int, Any] = {}
        self.missed = 0
        self._reasons: dict[str, int] = {}

    def why(self) -> str:
        return "; ".join(f"{r} ({n:,})" for r, n in sorted(self._reasons.items(), key=lambda x: -x[1]))

    def miss(self, reason: str) -> None:
        self.missed += 1
        self._reasons[reason] = self._reasons.get(reason, 0) + 1

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
        self._fh = self._lines = self._doc = None
        self._path, self._at, self._cache = None, 0, {}

    def _open(self, path: str) -> bool:
        self.close()
        self._path = path
        if path == "-" or not os.path.isfile(path):
            return False
        try:
            fh = _open_any(path)
        except (OSError, ValueError, ImportError):
            return False
        try:
            first = fh.readline()
            if first.strip() and not is_json_line(first):  # a whole-document file: records numbered within it
                doc = orjson.loads(first + fh.read())
                self._doc = doc if isinstance(doc, list) else [doc]
                fh.close()
                return True
        except (orjson.JSONDecodeError, OSError, EOFError, ValueError):
            fh.close()
            return False
        self._fh = fh
        self._lines = itertools.chain([first], fh)
        return True

    def page(self, path: str | None, line: int | None) -> Any:
        """The decoded record at ``line`` of ``path``, or None."""
        if not path or not line:
            return None
        if path != self._path:
            if not self._open(path):
                return None
        elif self._fh is None and self._doc is None:
            return None
        if self._doc is not None:
            return self._doc[line - 1] if 0 < line <= len(self._doc) else None
        if line in self._cache:
            return self._cache[line]
        if line < self._at or self._lines is None:  # not in line order: start again
            if not self._open(path) or self._lines is None:
                return None
        try:
            for raw in self._lines:
                self._at += 1
                if self._at == line:
                    try:
                        got = orjson.loads(raw)
                    except orjson.JSONDecodeError:
                        got = None
                    self._cache = {line: got}
                    return got
        except (OSError, EOFError, ValueError):
            return None
        return None

    def context(self, post: dict[str, Any], tweet: dict[str, Any]) -> Any:
        """The page of ``post`` when it holds ``tweet`` (its stored raw) unchanged, else None."""
        path, line = post.get("source_file"), post.get("source_line")
        if path is None or path == "-":
            self.miss("read from stdin")
            return None
        if path != self._path and not os.path.isfile(path):
            self.miss(f"input file not found: {path}")
            return None
        page = self.page(path, line)
        if not isinstance(page, dict):
            self.miss(f"input file changed: {path}")
            return None
        if "data" not in page and page.get("id") == tweet.get("id"):  # twarc2 flatten: a tweet a line
            from groundswell.formats.twitter_v2_flat import unflatten

            if unflatten(page) != tweet:
                self.miss(f"input file changed: {path}")
                return None
            return _flat_page(page, tweet)
        data = page.get("data")
        inc = _obj(page.get("includes"))
        candidates = (data if isinstance(data, list) else [data]) + list(inc.get("tweets") or [])
        if not any(isinstance(t, dict) and t.get("id") == tweet.get("id") and t == tweet for t in candidates):
            self.miss(f"input file changed: {path}")
            return None
        return page


def _flat_page(flat: dict[str, Any], tweet: dict[str, Any]) -> dict[str, Any]:
    """A page made of one ``twarc2 flatten`` line: its tweet, what it carried expanded inline
    (users, referenced tweets, media, poll, place) as includes, its ``__twarc`` and rules."""
    users: dict[str, Any] = {}
    tweets: dict[str, Any] = {}
    media: dict[str, Any] = {}
    polls: dict[str, Any] = {}
    places: dict[str, Any] = {}

    def take(t: Any, depth: int) -> None:
        if not isinstance(t, dict):
            return
        for key in ("author", "in_reply_to_user"):
            u = t.get(key)
            if isinstance(u, dict) and isinstance(u.get("id"), str):
                users[u["id"]] = {"id": u["id"]}
        ent = _obj(t.get("entities"))
        for m in ent.get("mentions") or ():
            if isinstance(m, dict) and isinstance(m.get("id"), str) and "name" in m:
                users[m["id"]] = {"id": m["id"]}
        att = _obj(t.get("attachments"))
        for m in att.get("media") or ():
            if isinstance(m, dict) and isinstance(m.get("media_key"), str):
                media[m["media_key"]] = m
        poll = att.get("poll")
        if isinstance(poll, dict) and isinstance(poll.get("id"), str):
            polls[poll["id"]] = poll
        geo = t.get("geo")
        if isinstance(geo, dict) and isinstance(geo.get("place_id"), str) and "full_name" in geo:
            places[geo["place_id"]] = {k: v for k, v in geo.items() if k not in ("place_id", "coordinates")}
        if depth == 0:
            for r in t.get("referenced_tweets") or ():
                if isinstance(r, dict) and isinstance(r.get("id"), str) and "text" in r:
                    tweets[r["id"]] = {"id": r["id"]}
                    take(r, 1)

    take(flat, 0)
    page: dict[str, Any] = {"data": [tweet],
                            "includes": {"users": list(users.values()), "tweets": list(tweets.values()),
                                         "media": list(media.values()), "polls": list(polls.values()),
                                         "places": [{"id": k, **v} for k, v in places.items()]}}
    for key in ("__twarc", "matching_rules"):
        if key in flat:
            page[key] = flat[key]
    return page




def _open_any(path: str) -> Any:
    """A file for binary reading, decompressed by its magic bytes (gzip, zstd, bz2, xz)."""
    import bz2
    import gzip
    import io
    import lzma

    raw = open(path, "rb")
    magic = raw.peek(6)[:6]
    if magic[:2] == b"\x1f\x8b":
        return io.BufferedReader(gzip.GzipFile(fileobj=raw))
    if magic[:4] == b"\x28\xb5\x2f\xfd":
        import zstandard

        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True))
    if magic[:3] == b"BZh":
        return io.BufferedReader(bz2.BZ2File(raw))
    if magic[:6] == b"\xfd7zXZ\x00":
        return io.BufferedReader(lzma.LZMAFile(raw))
    return raw


def _by(items: Any, key: str = "id") -> dict[str, dict[str, Any]]:
    if not isinstance(items, list):
        return {}
    return {i[key]: i for i in items if isinstance(i, dict) and isinstance(i.get(key), str)}


def _media_from_posts(posts: list[dict[str, Any]], tweets: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Media objects as far as the store knows them (``media`` holds 'type:url-or-key' in the order of
    the tweet's media keys): for rows written without their page, so no attachment is an empty object."""
    out: dict[str, dict[str, Any]] = {}
    for p in posts:
        t = tweets.get(p["id"])
        keys = ((t or {}).get("attachments") or {}).get("media_keys") if isinstance(t, dict) else None
        media = p.get("media") or []
        if not isinstance(keys, list) or len(keys) != len(media):
            continue
        for k, m in zip(keys, media):
            kind, _, where = str(m).partition(":")
            obj: dict[str, Any] = {"media_key": k, "type": kind}
            if where.startswith("http"):
                obj["url"] = where
            out[str(k)] = obj
    return out


def _twarc_rows(store: Store, posts: list[dict[str, Any]], tc: Any, pages: _Pages,
                pr: PageReader) -> list[list[str]]:
    """The rows of one twarc-csv batch (posts from one input file's 100 lines, or others)."""
    from groundswell.errors import RecordError
    from groundswell.formats.base import iso_time

    v2_files = _v2_files(store)
    raws = {p["id"]: orjson.loads(p["raw"]) for p in posts if p.get("raw")}
    # a v2 tweet is its own raw (id and text); a CSV row or a v1.1 tweet is written from the post
    v2 = {k: v for k, v in raws.items() if isinstance(v, dict) and "id_str" not in v and v.get("id") == k
          and "text" in v and not all(isinstance(x, str) for x in v.values())}
    v2 = {p["id"]: v2[p["id"]] for p in posts if p["id"] in v2 and (p.get("source_file") in v2_files
                                                                     or "edit_history_tweet_ids" in v2[p["id"]])}
    ctx = {p["id"]: pages.context(p, v2[p["id"]]) for p in posts if p["id"] in v2}
    ref_ids = {r.get("id") for t in v2.values() for r in (t.get("referenced_tweets") or []) if isinstance(r, dict)}
    for page in ctx.values():
        if page is not None:
            ref_ids |= set(_by((page.get("includes") or {}).get("tweets")))
    ref_ids.discard(None)
    tweets: dict[str, Any] = dict(v2)
    ref_posts: list[dict[str, Any]] = []
    missing = [i for i in ref_ids if i not in tweets]
    if missing:
        cur = store.con.execute(
            f"SELECT id, {store.raw_sql()}, media FROM posts WHERE platform = 'twitter' AND {store.has_raw_sql()} "
            "AND id IN (SELECT unnest(?::VARCHAR[]))", [missing])
        got = [dict(zip(("id", "raw", "raw_page", "raw_at", "media"), x)) for x in cur.fetchall()]
        for r in fill_rows(store.con, got, pr):
            if r["raw"] is not None:
                tweets[r["id"]] = orjson.loads(r["raw"])
                ref_posts.append({"id": r["id"], "media": r["media"]})
    user_ids = set()
    for t in tweets.values():
        if isinstance(t, dict):
            for k in ("author_id", "in_reply_to_user_id"):
                if t.get(k):
                    user_ids.add(t[k])
    for page in ctx.values():
        if page is not None:
            user_ids |= set(_by((page.get("includes") or {}).get("users")))
    latest: dict[str, Any] = {}
    observed: dict[tuple[str, Any], Any] = {}
    if user_ids:
        cur = store.con.execute(
            f"SELECT id, observed_at, {store.raw_sql()} FROM accounts WHERE platform = 'twitter' "
            f"AND {store.has_raw_sql()} AND id IN (SELECT unnest(?::VARCHAR[])) ORDER BY id, observed_at",
            [sorted(user_ids)])
        accs = [dict(zip(("id", "observed_at", "raw", "raw_page", "raw_at"), x)) for x in cur.fetchall()]
        for r in fill_rows(store.con, accs, pr):
            if r["raw"] is None:
                continue
            uid, when, obj = r["id"], r["observed_at"], orjson.loads(r["raw"])
            latest[uid] = obj
            observed[(uid, when)] = obj
    fallback_media = _media_from_posts(posts + ref_posts, tweets)
    plain = tc.Expander(latest, tweets, fallback_media, {}, {})
    expanders: dict[int, Any] = {}
    items: list[tuple[int, Any]] = []  # (position, item or None for a post written from its columns)
    for i, p in enumerate(posts):
        t = v2.get(p["id"])
        if t is None:
            items.append((i, None))
            continue
        page = ctx.get(p["id"])
        if page is None:
            items.append((i, (t, plain, None, None)))
            continue
        exp = expanders.get(id(page))
        if exp is None:
            inc = _obj(page.get("includes"))
            tw = _obj(page.get("__twarc"))
            try:
                when = iso_time(tw.get("retrieved_at"))
            except RecordError:
                when = None
            users = {u: observed.get((u, when), latest.get(u)) for u in _by(inc.get("users"))}
            page_tweets = {k: tweets[k] for k in _by(inc.get("tweets")) if k in tweets}
            exp = tc.Expander({u: o for u, o in users.items() if o is not None}, page_tweets,
                              _by(inc.get("media"), "media_key"), _by(inc.get("polls")), _by(inc.get("places")))
            expanders[id(page)] = exp
        items.append((i, (t, exp, page.get("__twarc"), page.get("matching_rules"))))
    made = tc.batch_of([it for _, it in items if it is not None])
    out: list[list[str]] = []
    next_made = 0
    for pos, it in items:
        if it is None:
            out.append(tc.row_from_post(posts[pos]))
        else:
            out.append(made[next_made])
            next_made += 1
    return out
