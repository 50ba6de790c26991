"""Export the store: CSV (twarc-csv's columns for Twitter), Parquet, JSON lines."""

from __future__ import annotations

import csv
import sys
from typing import IO, Any, Iterator

import orjson

from groundswell.errors import UsageError
from groundswell.store.duck import Store

EXPORT_FORMATS = ("csv", "parquet", "jsonl")
CHUNK = 10_000


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
           include_referenced: bool = False, raw: bool = False) -> int:
    """Write ``table`` to ``output`` ('-' for stdout) and return the rows written."""
    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
    if fmt == "csv" and table == "posts":
        plats = _platforms(store)
        if platform is None:
            if len(plats) > 1:
                raise UsageError(f"the store holds posts of {', '.join(plats)}: a CSV has one set of "
                                 "columns, choose one with --platform")
            platform = plats[0] if plats else "twitter"
        if platform == "twitter":
            return _twarc_csv(store, output, include_referenced)
    where, params = _where(platform, include_referenced) if table == "posts" else ("", [])
    cols = "*" if raw or table != "posts" else "* EXCLUDE (raw)"
    query = f"SELECT {cols} FROM {table}{where} ORDER BY ALL"
    if table == "posts":
        query = f"SELECT {cols} FROM {table}{where} ORDER BY platform, created_at, id"
    if output == "-" or fmt == "csv":
        return _stream(store, query, params, fmt, output)
    n = store.con.execute(f"SELECT count(*) FROM ({query})", params).fetchone()[0]  # type: ignore[index]
    opts = "FORMAT parquet, COMPRESSION zstd" if fmt == "parquet" else "FORMAT json"
    store.con.execute(f"COPY ({query}) TO '{_quote(output)}' ({opts})", params)
    return int(n)


def _quote(path: str) -> str:
    return path.replace("'", "''")


def _open_out(output: str, binary: bool = False) -> IO[Any]:
    if output == "-":
        return sys.stdout.buffer if binary else sys.stdout
    return open(output, "wb") if binary else open(output, "w", newline="", encoding="utf-8")


def _stream(store: Store, query: str, params: list[Any], fmt: str, output: str) -> int:
    if fmt == "parquet":
        raise UsageError("parquet cannot be written to stdout: give --output FILE.parquet")
    cur = store.con.execute(query, params)
    names = [d[0] for d in cur.description]
    n = 0
    out = _open_out(output, binary=(fmt == "jsonl"))
    try:
        writer = csv.writer(out) if fmt == "csv" else None
        if writer:
            writer.writerow(names)
        while rows := cur.fetchmany(CHUNK):
            for row in rows:
                if writer:
                    writer.writerow(["" if v is None else _cell(v) for v in row])
                else:
                    out.write(orjson.dumps(dict(zip(names, row)), default=str,
                                           option=orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z) + b"\n")
                n += 1
    finally:
        if output != "-":
            out.close()
    return n


def _cell(v: Any) -> str:
    if isinstance(v, list):
        return " ".join(str(x) for x in v)
    if hasattr(v, "isoformat"):
        return v.isoformat() + "Z"
    return str(v)


def _twarc_csv(store: Store, output: str, include_referenced: bool) -> int:
    """Twitter posts with twarc-csv's 84 columns, in its order."""
    from groundswell.formats import twarc_csv_export as tc

    where, params = _where("twitter", include_referenced)
    cur = store.con.execute(
        f"SELECT * FROM posts{where} ORDER BY source_file, source_line, created_at DESC, id DESC", params)
    names = [d[0] for d in cur.description]
    out = _open_out(output)
    n = 0
    try:
        w = csv.writer(out)
        w.writerow(tc.COLUMNS)
        while rows := cur.fetchmany(CHUNK):
            posts = [dict(zip(names, r)) for r in rows]
            for row in _twarc_rows(store, posts, tc):
                w.writerow(row)
                n += 1
    finally:
        if output != "-":
            out.close()
    return n


def _twarc_rows(store: Store, posts: list[dict[str, Any]], tc: Any) -> Iterator[list[str]]:
    raws = {p["id"]: orjson.loads(p["raw"]) for p in posts if p.get("raw")}
    v2 = {k: v for k, v in raws.items() if isinstance(v, dict) and "id_str" not in v}
    ref_ids = {r.get("id") for t in v2.values() for r in (t.get("referenced_tweets") or []) if isinstance(r, dict)}
    ref_ids.discard(None)
    tweets = dict(v2)
    missing = [i for i in ref_ids if i not in tweets]
    if missing:
        for pid, raw in store.con.execute(
                "SELECT id, raw FROM posts WHERE platform = 'twitter' AND raw IS NOT NULL AND id IN "
                "(SELECT unnest(?::VARCHAR[]))", [missing]).fetchall():
            tweets[pid] = orjson.loads(raw)
    user_ids = set()
    for t in tweets.values():
        for k in ("author_id", "in_reply_to_user_id"):
            if t.get(k):
                user_ids.add(t[k])
    users: dict[str, Any] = {}
    if user_ids:
        for uid, raw in store.con.execute(
                "SELECT id, raw FROM accounts_latest WHERE platform = 'twitter' AND raw IS NOT NULL AND id IN "
                "(SELECT unnest(?::VARCHAR[]))", [sorted(user_ids)]).fetchall():
            users[uid] = orjson.loads(raw)
    for p in posts:
        t = v2.get(p["id"])
        yield tc.row(t, users, tweets) if t is not None else tc.row_from_post(p)
