"""Spread: reposts, replies and quotes, as observed in the data and as the
platform reported them.

The *observed* counts are the links found in the store: the movement's
reposts and quotes, and the replies of the movement's conversation (see
:mod:`.conversations`: the replies carrying the hashtag and those without it
that descend from a movement post or share its thread), split into
``replies_tagged`` and ``replies_untagged``. The *reported* counts are the
platform's counters on the movement's own posts (reposts excluded;
``repost_count`` ... as last observed). ``coverage`` compares like with like:
the movement's reposts and quotes with the reported ones, and the replies
whose parent is a movement post (``replies_to_movement_posts``) with the
reported replies. ``counted`` says all this in words, next to the figures.
For every post the movement and its conversation point to (repost of, reply
to, quote of), ``most_shared`` gives the same observed and reported counts,
ranked by observed reposts + quotes, then by reported ones.
"""

from __future__ import annotations

from typing import Any

from groundswell.analysis import sql
from groundswell.analysis.conversations import conversation
from groundswell.analysis.scope import Scope

TOTALS_SQL = """
SELECT count(*) AS posts,
       sum(CASE WHEN kind = 'repost' THEN 1 ELSE 0 END) AS reposts,
       sum(CASE WHEN kind = 'quote' THEN 1 ELSE 0 END) AS quotes,
       sum(CASE WHEN kind <> 'repost' THEN repost_count END) AS reported_reposts,
       sum(CASE WHEN kind <> 'repost' THEN reply_count END) AS reported_replies,
       sum(CASE WHEN kind <> 'repost' THEN quote_count END) AS reported_quotes,
       sum(CASE WHEN kind <> 'repost' THEN like_count END) AS reported_likes
FROM {mv}
"""

TOP_SQL = """
WITH l AS (
  SELECT platform, repost_of_id AS target, 1 AS r, 0 AS y, 0 AS q FROM {mv} WHERE repost_of_id IS NOT NULL
  UNION ALL SELECT platform, reply_to_id, 0, 1, 0 FROM {conv}
  UNION ALL SELECT platform, quote_of_id, 0, 0, 1 FROM {mv} WHERE quote_of_id IS NOT NULL),
o AS (SELECT platform, target, sum(r) AS reposts, sum(y) AS replies, sum(q) AS quotes FROM l
      GROUP BY platform, target)
SELECT o.target AS post_id, p.author_id AS account_id, p.author_handle AS handle, p.created_at, p.kind,
       o.reposts, o.replies, o.quotes, p.repost_count, p.reply_count, p.quote_count, p.like_count,
       CASE WHEN m.id IS NULL THEN false ELSE true END AS carries_hashtag
FROM o LEFT JOIN posts p ON p.platform = o.platform AND p.id = o.target
LEFT JOIN {mv} m ON m.platform = o.platform AND m.id = o.target
ORDER BY o.reposts + o.quotes DESC, coalesce(p.repost_count, 0) + coalesce(p.quote_count, 0) DESC, o.target
LIMIT {limit}
"""

TOP_REPORTED_SQL = """
SELECT id AS post_id, author_id AS account_id, author_handle AS handle, created_at, kind,
       repost_count, reply_count, quote_count, like_count
FROM {mv} WHERE kind <> 'repost' AND repost_count IS NOT NULL
ORDER BY coalesce(repost_count, 0) + coalesce(quote_count, 0) DESC, id LIMIT {limit}
"""


def _row(r: dict[str, Any]) -> dict[str, Any]:
    out = {"post_id": r["post_id"], "account_id": r["account_id"], "handle": r["handle"],
           "time": sql.iso(r["created_at"]), "kind": r["kind"]}
    if "reposts" in r:
        out["observed"] = {"reposts": int(r["reposts"]), "replies": int(r["replies"]), "quotes": int(r["quotes"])}
        out["carries_hashtag"] = r["carries_hashtag"]
    out["reported"] = {"reposts": r["repost_count"], "replies": r["reply_count"],
                       "quotes": r["quote_count"], "likes": r["like_count"]}
    return out


COUNTED = {
    "reposts": "reposts in the movement (reposts of posts carrying the hashtag)",
    "quotes": "quotes carrying the hashtag",
    "replies": "replies in the movement's conversation: those carrying the hashtag (replies_tagged) and "
               "those without it that descend from a movement post or share its thread (replies_untagged)",
    "reported": "the platform's counters summed over the movement's own posts (reposts excluded), as last "
                "observed; null where the archive's format carries no such counter (v1.1 tweets have no reply "
                "or quote counts)",
    "coverage": "observed / reported; for replies, the observed replies whose parent is a movement post "
                "(replies_to_movement_posts) / reported replies",
}


def _ratio(a: int, b: int | None) -> float | None:
    return round(a / b, 4) if b else None


def spread(store: Any, scope: Scope, limit: int = 10) -> dict[str, Any]:
    t = sql.rows(store, TOTALS_SQL, mv=scope.table)[0]
    # a counter the platform never gave stays None ("not reported"), never 0
    t = {k: (None if v is None and k.startswith("reported_") else int(v or 0)) for k, v in t.items()}
    conv = conversation(store, scope)
    direct = conv.direct
    observed = {"reposts": t["reposts"], "replies": conv.tagged + conv.untagged, "quotes": t["quotes"],
                "replies_tagged": conv.tagged, "replies_untagged": conv.untagged,
                "replies_to_movement_posts": direct}
    reported = {"reposts": t["reported_reposts"], "replies": t["reported_replies"],
                "quotes": t["reported_quotes"], "likes": t["reported_likes"]}
    coverage = {"reposts": _ratio(t["reposts"], reported["reposts"]), "replies": _ratio(direct, reported["replies"]),
                "quotes": _ratio(t["quotes"], reported["quotes"])}
    return {
        "posts": t["posts"],
        "observed": observed,
        "reported": reported,
        "coverage": coverage,
        "counted": dict(COUNTED),
        "most_shared": [_row(r) for r in sql.rows(store, TOP_SQL, mv=scope.table, conv=conv.table, limit=limit)],
        "most_shared_reported": [_row(r) for r in sql.rows(store, TOP_REPORTED_SQL, mv=scope.table, limit=limit)],
    }
