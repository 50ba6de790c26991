"""Store-wide summaries: what ``groundswell info`` and ``groundswell hashtags`` print."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

Store = Any  # any engine: DuckDB's Store or the Spark store


def info(store: Any) -> dict[str, Any]:
    """Posts by platform and kind, accounts, time span, top hashtags, rejects.

    ``posts``, ``platforms``, ``kinds``, ``deleted`` and the time span
    (``first``, ``last``) count the *collected* posts: those the archive holds
    as records of their own. Posts seen only embedded in other records
    (``is_reference``: a retweet's original, a page's ``includes``) are counted
    apart: ``referenced``, with ``referenced_platforms`` and ``referenced_kinds``.
    ``top_hashtags`` gives per tag the collected ``posts`` carrying it and its
    ``occurrences`` (:func:`hashtag_counts`). ``volume_posts`` are the
    platform's counts (``twarc2 counts``), not stored posts. Works on every
    engine (it only uses ``store.sql``).
    """
    def rows(q: str) -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = store.sql(q).to_pylist()  # a pyarrow Table's rows
        return got

    ref = "coalesce(is_reference, false)"
    p = rows(f"SELECT count(*) FILTER (WHERE NOT {ref}) AS n, count(*) FILTER (WHERE {ref}) AS ref, "
             f"count(*) FILTER (WHERE deleted AND NOT {ref}) AS del, "
             f"min(created_at) FILTER (WHERE NOT {ref}) AS first, "
             f"max(created_at) FILTER (WHERE NOT {ref}) AS last FROM posts")[0]
    accounts = rows("SELECT count(*) AS n FROM (SELECT DISTINCT platform, id FROM accounts) a")[0]["n"]
    authors = rows("SELECT count(*) AS n FROM (SELECT DISTINCT platform, author_id FROM posts "
                   "WHERE author_id IS NOT NULL) a")[0]["n"]
    rejected = rows("SELECT count(*) AS n FROM rejects")[0]["n"]

    def by(col: str, referenced: bool) -> dict[str, int]:
        cond = ref if referenced else f"NOT {ref}"
        return {r["k"] or "unknown": r["n"] for r in rows(
            f"SELECT {col} AS k, count(*) AS n FROM posts WHERE {cond} GROUP BY {col} ORDER BY n DESC, k")}

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
        "platforms": by("platform", False),
        "kinds": by("kind", False),
        "referenced_platforms": by("platform", True),
        "referenced_kinds": by("kind", True),
        "first": first.isoformat() + "Z" if first else None,
        "last": last.isoformat() + "Z" if last else None,
        "top_hashtags": hashtag_counts(store, limit=10),
        "volume_buckets": vol["n"],
        "volume_posts": int(vol["total"] or 0),
        "sources": sources,
        "rejects": reject_rows,
    }


# per hashtag of collected posts: the posts carrying it and how often it is written in them
_HASHTAGS_SQL = """
SELECT hashtag, count(*) AS posts, sum(n) AS occurrences FROM (
  SELECT platform, id, hashtag, count(*) AS n FROM post_hashtags WHERE NOT is_reference
  GROUP BY platform, id, hashtag) per_post
GROUP BY hashtag
"""


def hashtag_counts(store: Store, limit: int | None = None) -> list[dict[str, Any]]:
    """Per hashtag, most carried first: ``posts`` carrying it and its ``occurrences``.

    Two numbers, never one under the other's name: a post that writes #MeToo
    twice is one post and two occurrences. Only posts that were collected
    themselves count (not one seen only inside another's ``includes`` or as an
    embedded retweeted/quoted status); tags are case-folded. These are not a
    movement's posts either: ``analyze`` also counts the untagged reposts of
    tagged posts. Ties are ordered by occurrences, then by hashtag.
    """
    q = _HASHTAGS_SQL + "ORDER BY posts DESC, occurrences DESC, hashtag"
    if limit:
        q += f" LIMIT {int(limit)}"
    return [{"hashtag": r["hashtag"], "posts": int(r["posts"]), "occurrences": int(r["occurrences"])}
            for r in store.sql(q).to_pylist()]


def hashtag_occurrences(store: Store, limit: int | None = None) -> list[tuple[str, int]]:
    """Occurrences per hashtag as twarc-hashtags counts and orders them (its CSV calls them
    ``tweets``): every occurrence in a collected post once, most first, ties by hashtag
    descending, as twarc-hashtags prints them."""
    q = _HASHTAGS_SQL + "ORDER BY occurrences DESC, hashtag DESC"
    if limit:
        q += f" LIMIT {int(limit)}"
    return [(r["hashtag"], int(r["occurrences"])) for r in store.sql(q).to_pylist()]


def hashtag_table(store: Store, limit: int | None = None) -> pa.Table:
    """:func:`hashtag_counts` as an Arrow table (hashtag, posts, occurrences)."""
    rows = hashtag_counts(store, limit)
    return pa.table({"hashtag": pa.array([r["hashtag"] for r in rows], pa.string()),
                     "posts": pa.array([r["posts"] for r in rows], pa.int64()),
                     "occurrences": pa.array([r["occurrences"] for r in rows], pa.int64())})
