"""Store-wide summaries: what ``groundswell info`` and ``groundswell hashtags`` print."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

Store = Any  # any engine: DuckDB's Store or the Spark store


def info(store: Any) -> dict[str, Any]:
    """Posts by platform and kind, accounts, time span, top hashtags, rejects.

    Posts seen only embedded in other records (``is_reference``) are counted
    in ``posts`` and reported separately as ``referenced``. Works on every
    engine (it only uses ``store.sql``).
    """
    def rows(q: str) -> list[dict[str, Any]]:
        return store.sql(q).to_pylist()

    p = rows("SELECT count(*) AS n, count(*) FILTER (WHERE is_reference) AS ref, "
             "count(*) FILTER (WHERE deleted) AS del, min(created_at) AS first, max(created_at) AS last "
             "FROM posts")[0]
    accounts = rows("SELECT count(*) AS n FROM (SELECT DISTINCT platform, id FROM accounts) a")[0]["n"]
    authors = rows("SELECT count(*) AS n FROM (SELECT DISTINCT platform, author_id FROM posts "
                   "WHERE author_id IS NOT NULL) a")[0]["n"]
    rejected = rows("SELECT count(*) AS n FROM rejects")[0]["n"]
    platforms = {r["k"] or "unknown": r["n"] for r in rows(
        "SELECT platform AS k, count(*) AS n FROM posts GROUP BY platform ORDER BY n DESC, k")}
    kinds = {r["k"] or "unknown": r["n"] for r in rows(
        "SELECT kind AS k, count(*) AS n FROM posts GROUP BY kind ORDER BY n DESC, k")}
    vol = rows("SELECT count(*) AS n, sum(count) AS total FROM volumes")[0]
    sources = rows("SELECT path, format, complete, rejected FROM sources ORDER BY path")
    reject_rows = rows("SELECT source_file AS file, source_line AS line, reason FROM rejects "
                       "ORDER BY source_file, source_line LIMIT 20")
    first, last = p["first"], p["last"]
    return {
        "db": store.path,
        "engine": getattr(store, "engine", "duckdb"),
        "posts": p["n"],
        "referenced": p["ref"],
        "deleted": p["del"],
        "accounts": accounts,
        "authors": authors,
        "rejected": rejected,
        "platforms": platforms,
        "kinds": kinds,
        "first": first.isoformat() + "Z" if first else None,
        "last": last.isoformat() + "Z" if last else None,
        "top_hashtags": [{"hashtag": h, "posts": n} for h, n in hashtag_counts(store, limit=10)],
        "volume_buckets": vol["n"],
        "volume_posts": int(vol["total"] or 0),
        "sources": sources,
        "rejects": reject_rows,
    }


def hashtag_counts(store: Store, limit: int | None = None) -> list[tuple[str, int]]:
    """Hashtag uses in collected posts, most used first.

    The counting rule is twarc-hashtags': every occurrence of a (case-folded)
    hashtag in a post that was collected itself (not one seen only inside
    another's ``includes`` or as an embedded retweeted/quoted status) counts
    once; ties are ordered by hashtag, descending, as twarc-hashtags prints them.
    """
    q = ("SELECT hashtag, count(*) AS n FROM post_hashtags WHERE NOT is_reference "
         "GROUP BY hashtag ORDER BY n DESC, hashtag DESC")
    if limit:
        q += f" LIMIT {int(limit)}"
    return [(r["hashtag"], int(r["n"])) for r in store.sql(q).to_pylist()]


def hashtag_table(store: Store, limit: int | None = None) -> pa.Table:
    rows = hashtag_counts(store, limit)
    return pa.table({"hashtag": [h for h, _ in rows], "tweets": [n for _, n in rows]})
