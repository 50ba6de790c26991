"""Store-wide summaries: what ``groundswell info`` and ``groundswell hashtags`` print."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from groundswell.store.duck import Store


def info(store: Store) -> dict[str, Any]:
    """Posts by platform and kind, accounts, time span, top hashtags, rejects.

    Posts seen only embedded in other records (``is_reference``) are counted
    in ``posts`` and reported separately as ``referenced``.
    """
    con = store.con
    one = lambda q: con.execute(q).fetchone()  # noqa: E731
    posts, referenced, deleted = one(
        "SELECT count(*), count(*) FILTER (WHERE is_reference), count(*) FILTER (WHERE deleted) FROM posts")
    first, last = one("SELECT min(created_at), max(created_at) FROM posts")
    accounts = one("SELECT count(*) FROM (SELECT DISTINCT platform, id FROM accounts)")[0]
    authors = one("SELECT count(*) FROM (SELECT DISTINCT platform, author_id FROM posts WHERE author_id IS NOT NULL)")[0]
    rejected = one("SELECT count(*) FROM rejects")[0]
    platforms = dict(con.execute("SELECT platform, count(*) FROM posts GROUP BY 1 ORDER BY 2 DESC, 1").fetchall())
    kinds = dict(con.execute("SELECT kind, count(*) FROM posts GROUP BY 1 ORDER BY 2 DESC, 1").fetchall())
    volumes = one("SELECT count(*), sum(count) FROM volumes")
    top = hashtag_counts(store, limit=10)
    sources = con.execute(
        "SELECT path, format, complete, rejected FROM sources ORDER BY path").fetchall()
    reject_rows = con.execute(
        "SELECT source_file, source_line, reason FROM rejects ORDER BY source_file, source_line LIMIT 20").fetchall()
    return {
        "db": store.path,
        "posts": posts,
        "referenced": referenced,
        "deleted": deleted,
        "accounts": accounts,
        "authors": authors,
        "rejected": rejected,
        "platforms": {k or "unknown": v for k, v in platforms.items()},
        "kinds": {k or "unknown": v for k, v in kinds.items()},
        "first": first.isoformat() + "Z" if first else None,
        "last": last.isoformat() + "Z" if last else None,
        "top_hashtags": [{"hashtag": h, "posts": n} for h, n in top],
        "volume_buckets": volumes[0],
        "volume_posts": int(volumes[1] or 0),
        "sources": [{"path": p, "format": f, "complete": c, "rejected": r} for p, f, c, r in sources],
        "rejects": [{"file": f, "line": ln, "reason": r} for f, ln, r in reject_rows],
    }


def hashtag_counts(store: Store, limit: int | None = None) -> list[tuple[str, int]]:
    """Hashtag uses in collected posts, most used first.

    The counting rule is twarc-hashtags': every occurrence of a (case-folded)
    hashtag in a post that was collected itself (not one seen only inside
    another's ``includes`` or as an embedded retweeted/quoted status) counts
    once; ties are ordered by hashtag, descending, as twarc-hashtags prints them.
    """
    q = ("SELECT hashtag, count(*) AS n FROM (SELECT unnest(hashtags) AS hashtag FROM posts "
         "WHERE NOT is_reference) GROUP BY hashtag ORDER BY n DESC, hashtag DESC")
    if limit:
        q += f" LIMIT {int(limit)}"
    return [(h, int(n)) for h, n in store.con.execute(q).fetchall()]


def hashtag_table(store: Store, limit: int | None = None) -> pa.Table:
    rows = hashtag_counts(store, limit)
    return pa.table({"hashtag": [h for h, _ in rows], "tweets": [n for _, n in rows]})
