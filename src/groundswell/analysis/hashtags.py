"""Hashtags: what the movement's posts also carry, and how those related
movements ran over time.

``co_hashtags`` counts, for every other hashtag on the movement's posts, the
posts and distinct accounts using both (and the lift: the share of the
tag's posts that are movement posts). ``related_timelines`` gives, for the
most co-occurring tags, their own posts per interval over the whole store
(with or without the movement's hashtags), on the movement's time axis.
Every figure counts posts (a post writing a tag twice is one post), never
occurrences of the tag.
"""

from __future__ import annotations

from typing import Any

from groundswell.analysis import sql
from groundswell.analysis.scope import Scope, bucket

# a post writing a tag twice is one post: tags are counted once per post (platform, id)
CO_SQL = """
WITH t AS (SELECT DISTINCT platform, id, account, tag FROM
           (SELECT platform, id, account, unnest(hashtags) AS tag FROM {mv}) x),
co AS (SELECT tag, count(*) AS posts, count(DISTINCT account) AS accounts FROM t
       WHERE tag NOT IN {tags} GROUP BY tag ORDER BY posts DESC, tag LIMIT {limit}),
total AS (SELECT tag, count(*) AS all_posts FROM
          (SELECT DISTINCT platform, id, tag FROM (SELECT platform, id, unnest(hashtags) AS tag FROM posts) x) y
          WHERE tag IN (SELECT tag FROM co) GROUP BY tag)
SELECT co.tag, co.posts, co.accounts, total.all_posts FROM co JOIN total ON co.tag = total.tag
ORDER BY co.posts DESC, co.tag
"""

RELATED_SQL = """
SELECT tag, {bucket} AS t, count(*) AS posts FROM
  (SELECT DISTINCT platform, id, created_at, tag FROM
   (SELECT platform, id, created_at, unnest(hashtags) AS tag FROM posts WHERE {window}) x) y
WHERE tag IN {tags} GROUP BY tag, {bucket} ORDER BY tag, t
"""


def co_hashtags(store: Any, scope: Scope, limit: int = 20) -> list[dict[str, Any]]:
    out = []
    for r in sql.rows(store, CO_SQL, mv=scope.table, tags=sql.Raw(sql.in_list(scope.hashtags)), limit=limit):
        out.append({"hashtag": r["tag"], "posts": r["posts"], "accounts": r["accounts"],
                    "all_posts": r["all_posts"],
                    "share_in_movement": round(r["posts"] / r["all_posts"], 4) if r["all_posts"] else None})
    return out


def related_timelines(store: Any, scope: Scope, tags: list[str]) -> dict[str, list[dict[str, Any]]]:
    if not tags:
        return {}
    out: dict[str, list[dict[str, Any]]] = {t: [] for t in tags}
    for r in sql.rows(store, RELATED_SQL, tags=sql.Raw(sql.in_list(tags)), bucket=bucket(scope.interval),
                      window=scope.window_sql()):
        out[r["tag"]].append({"time": sql.iso(r["t"]), "posts": r["posts"]})
    return out


def hashtags(store: Any, scope: Scope, related: int = 5) -> dict[str, Any]:
    co = co_hashtags(store, scope)
    return {"co_occurring": co,
            "related_timelines": related_timelines(store, scope, [c["hashtag"] for c in co[:related]])}
