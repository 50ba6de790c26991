"""Export the store: CSV (twarc-csv's columns for Twitter), Parquet, JSON lines.

Rows are read in batches and written by one writer per format. A
``transform`` (what :func:`groundswell.privacy.export_safely` passes: the
field declaration of :mod:`groundswell.privacy.fields` applied, pseudonyms,
rewritten links, withheld text, redaction) is applied to every batch before it is
written; it receives the batch and its layout (``posts``, ``accounts``, ...,
or ``twarc-csv`` for twarc-csv's 84 string columns).
"""

from __future__ import annotations

import csv
import sys
from typing import IO, Any, Callable, Iterator

import orjson
import pyarrow as pa

from groundswell import model
from groundswell.errors import UsageError
from groundswell.store.duck import Store
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
           include_referenced: bool = False, raw: bool = False, transform: Transform | None = None) -> int:
    """Write ``table`` to ``output`` ('-' for stdout) and return the rows written."""
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
            return write(_twarc_csv_batches(store, include_referenced), fmt, output, "twarc-csv", transform,
                         empty=twarc_csv_empty())
    where, params = _where(platform, include_referenced) if table == "posts" else ("", [])
    paged = table in ("posts", "accounts")
    if paged:  # the model's columns: raw, when asked for, read through the pages
        names = [f'"{n}"' for n in model.SCHEMAS[table].names if n != "raw"]
        cols = ", ".join(names + ([store.raw_sql()] if raw else []))
        order = "platform, created_at, id" if table == "posts" else ", ".join(names)
    else:
        cols, order = "*", "ALL"
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


def _cell(v: Any) -> str:
    if isinstance(v, list):
        return " ".join(str(x) for x in v)
    if hasattr(v, "isoformat"):
        return v.isoformat() + "Z"
    return str(v)


def _twarc_csv_batches(store: Store, include_referenced: bool) -> Iterator[pa.Table]:
    """Twitter posts with twarc-csv's 84 columns, in its order, as string tables."""
    from groundswell.formats import twarc_csv_export as tc

    where, params = _where("twitter", include_referenced)
    cur = store.con.cursor()
    try:
        cols = ", ".join(f'"{n}"' for n in model.SCHEMAS["posts"].names if n != "raw")
        res = cur.execute(f"SELECT {cols}, {store.raw_sql()} FROM posts{where} "
                          "ORDER BY source_file, source_line, created_at DESC, id DESC", params)
        names = [d[0] for d in res.description]
        pr = PageReader(store.con)
        while rows := res.fetchmany(CHUNK):
            posts = fill_rows(store.con, [dict(zip(names, r)) for r in rows], pr)
            out = list(_twarc_rows(store, posts, tc, pr))
            yield pa.table({c: pa.array([r[i] for r in out], pa.string()) for i, c in enumerate(tc.COLUMNS)})
    finally:
        cur.close()


def twarc_csv_empty() -> pa.Table:
    from groundswell.formats import twarc_csv_export as tc

    return pa.table({c: pa.array([], pa.string()) for c in tc.COLUMNS})


def _v2_files(store: Store) -> set[str]:
    """The input files whose raw records are twarc2 (API v2) tweets."""
    return {r[0] for r in store.con.execute(
        "SELECT DISTINCT path FROM sources WHERE format LIKE 'twitter-v2%'").fetchall()}


def _twarc_rows(store: Store, posts: list[dict[str, Any]], tc: Any, pr: PageReader) -> Iterator[list[str]]:
    v2_files = _v2_files(store)
    raws = {p["id"]: orjson.loads(p["raw"]) for p in posts if p.get("raw")}
    # a v2 tweet is its own raw (id and text); a CSV row or a v1.1 tweet is written from the post
    v2 = {k: v for k, v in raws.items() if isinstance(v, dict) and "id_str" not in v and v.get("id") == k
          and "text" in v and not all(isinstance(x, str) for x in v.values())}
    v2 = {p["id"]: v2[p["id"]] for p in posts if p["id"] in v2 and (p.get("source_file") in v2_files
                                                                     or "edit_history_tweet_ids" in v2[p["id"]])}
    ref_ids = {r.get("id") for t in v2.values() for r in (t.get("referenced_tweets") or []) if isinstance(r, dict)}
    ref_ids.discard(None)
    tweets = dict(v2)
    missing = [i for i in ref_ids if i not in tweets]
    if missing:
        cur = store.con.execute(
            f"SELECT id, {store.raw_sql()} FROM posts WHERE platform = 'twitter' AND {store.has_raw_sql()} "
            "AND id IN (SELECT unnest(?::VARCHAR[]))", [missing])
        for r in fill_rows(store.con, [dict(zip(("id", "raw", "raw_page", "raw_at"), x)) for x in cur.fetchall()], pr):
            if r["raw"] is not None:
                tweets[r["id"]] = orjson.loads(r["raw"])
    user_ids = set()
    for t in tweets.values():
        for k in ("author_id", "in_reply_to_user_id"):
            if t.get(k):
                user_ids.add(t[k])
    users: dict[str, Any] = {}
    if user_ids:
        cur = store.con.execute(
            f"SELECT id, {store.raw_sql()} FROM accounts_latest WHERE platform = 'twitter' AND {store.has_raw_sql()} "
            "AND id IN (SELECT unnest(?::VARCHAR[]))", [sorted(user_ids)])
        for r in fill_rows(store.con, [dict(zip(("id", "raw", "raw_page", "raw_at"), x)) for x in cur.fetchall()], pr):
            if r["raw"] is not None:
                users[r["id"]] = orjson.loads(r["raw"])
    for p in posts:
        t = v2.get(p["id"])
        yield tc.row(t, users, tweets) if t is not None else tc.row_from_post(p)
