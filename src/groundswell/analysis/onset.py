"""Onset: when the movement took off, its first post, and what ignited it.

* ``takeoff``: the start of the burst, the maximum-likelihood change point of
  the Poisson rate of movement posts per interval (see :mod:`bursts`; the
  two-state case of Kleinberg 2002 with fitted rates), with the Kleinberg
  burst levels of the same series for comparison.
* ``first_post``: the earliest post carrying the hashtag(s).
* ``ignition``: the post and account whose direct and indirect responses
  explain the takeoff. Every movement post made from one interval before the
  takeoff to a few intervals after it (at least three hours) is traced up its
  repost / reply / quote links, through posts that need not carry the
  hashtag, to its root; a root scores the number of those posts descending
  from it. Mentions link accounts, not posts: a mention of an account by an
  unlinked post scores for that account. The ignition account is the account
  with the highest score (its roots plus its mentions); the ignition post is
  that account's best-scoring root, or, when only mentions point to it, its
  last post before it was first mentioned. The ancestor walk is a bounded
  loop of joins (no recursive SQL), so it runs on any engine.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from groundswell.analysis import sql
from groundswell.analysis.bursts import burst_periods, change_point, kleinberg_states
from groundswell.analysis.scope import Scope

MAX_HOPS = 60

FIRST_SQL = """
SELECT id, author_id, author_handle, created_at, kind FROM {mv}
ORDER BY created_at, id LIMIT 1
"""

ANC0_SQL = """
SELECT platform, id, coalesce(repost_of_id, reply_to_id, quote_of_id) AS first_parent,
       coalesce(repost_of_id, reply_to_id, quote_of_id) AS parent, id AS cur, 0 AS hops
FROM {mv} WHERE created_at >= {ws} AND created_at < {we}
"""

ANC_STEP_SQL = """
SELECT a.platform, a.id, a.first_parent,
       CASE WHEN a.parent IS NULL THEN NULL
            ELSE coalesce(p.repost_of_id, p.reply_to_id, p.quote_of_id) END AS parent,
       coalesce(a.parent, a.cur) AS cur,
       a.hops + CASE WHEN a.parent IS NULL THEN 0 ELSE 1 END AS hops
FROM {anc} a LEFT JOIN posts p ON p.platform = a.platform AND p.id = a.parent
"""

ROOTS_SQL = """
WITH r AS (SELECT platform, cur AS root, count(*) AS cascade FROM {anc} WHERE cur <> id GROUP BY platform, cur),
d AS (SELECT platform, first_parent AS root, count(*) AS responses FROM {anc}
      WHERE first_parent IS NOT NULL GROUP BY platform, first_parent)
SELECT r.platform, r.root, r.cascade, coalesce(d.responses, 0) AS responses,
       p.author_id, p.author_handle, coalesce(p.author_id, p.author_handle) AS account, p.created_at,
       CASE WHEN m.id IS NULL THEN false ELSE true END AS carries_hashtag
FROM r LEFT JOIN d ON r.platform = d.platform AND r.root = d.root
LEFT JOIN posts p ON p.platform = r.platform AND p.id = r.root
LEFT JOIN {mv} m ON m.platform = r.platform AND m.id = r.root
ORDER BY r.cascade DESC, p.created_at LIMIT 200
"""

MENTIONS_SQL = """
WITH mm AS (SELECT lower(h) AS h, min(created_at) AS first_at, count(*) AS n FROM
             (SELECT account, created_at, author_handle, unnest(mentions) AS h FROM {mv}
              WHERE created_at >= {ws} AND created_at < {we}
                AND repost_of_id IS NULL AND reply_to_id IS NULL AND quote_of_id IS NULL) x
            WHERE lower(h) <> lower(coalesce(author_handle, '')) GROUP BY lower(h)),
acc AS (SELECT lower(author_handle) AS h, min(coalesce(author_id, author_handle)) AS account,
               min(author_id) AS author_id, min(author_handle) AS author_handle
        FROM posts WHERE lower(author_handle) IN (SELECT h FROM mm) GROUP BY lower(author_handle))
SELECT mm.h, mm.n, mm.first_at, coalesce(acc.account, mm.h) AS account, acc.author_id,
       coalesce(acc.author_handle, mm.h) AS author_handle
FROM mm LEFT JOIN acc ON mm.h = acc.h ORDER BY mm.n DESC LIMIT 200
"""

LAST_POST_SQL = """
SELECT p.id, p.created_at, CASE WHEN m.id IS NULL THEN false ELSE true END AS carries_hashtag
FROM posts p LEFT JOIN {mv} m ON m.platform = p.platform AND m.id = p.id
WHERE coalesce(p.author_id, p.author_handle) = {account} AND p.created_at <= {before}
ORDER BY p.created_at DESC LIMIT 1
"""


def _post(r: dict[str, Any] | None) -> dict[str, Any] | None:
    if r is None:
        return None
    return {"post_id": r["id"], "account_id": r["author_id"], "handle": r["author_handle"],
            "time": sql.iso(r["created_at"]), "kind": r.get("kind")}


def takeoff_index(series: list[dict[str, Any]]) -> int | None:
    counts = [r["posts"] for r in series]
    cp = change_point(counts)
    if cp is None and counts:
        cp = max(range(len(counts)), key=lambda i: counts[i])
    return cp


def ignition(store: Any, scope: Scope, takeoff: Any) -> dict[str, Any] | None:
    if takeoff is None:
        return None
    ws = takeoff - scope.step
    we = takeoff + max(2 * scope.step, timedelta(hours=3))
    anc = sql.materialize(store, "gs_anc", ANC0_SQL, mv=scope.table, ws=ws, we=we)
    total = sql.scalar(store, "SELECT count(*) FROM gs_anc")
    for _ in range(MAX_HOPS):
        if not sql.scalar(store, "SELECT count(*) FROM gs_anc WHERE parent IS NOT NULL"):
            break
        sql.materialize(store, "gs_anc_next", ANC_STEP_SQL, anc=anc)
        sql.materialize(store, "gs_anc", "SELECT * FROM gs_anc_next")
        sql.drop(store, "gs_anc_next")
    roots = sql.rows(store, ROOTS_SQL, anc=anc, mv=scope.table)
    mentions = sql.rows(store, MENTIONS_SQL, mv=scope.table, ws=ws, we=we)
    sql.drop(store, "gs_anc")
    score: dict[str, dict[str, Any]] = {}
    for r in roots:
        key = r["account"] or f"post:{r['root']}"
        s = score.setdefault(key, {"account": r["account"], "account_id": r["author_id"],
                                   "handle": r["author_handle"], "cascade": 0, "mentions": 0, "roots": []})
        s["cascade"] += r["cascade"]
        s["roots"].append(r)
    for m in mentions:
        s = score.setdefault(m["account"], {"account": m["account"], "account_id": m["author_id"],
                                            "handle": m["author_handle"], "cascade": 0, "mentions": 0,
                                            "roots": []})
        s["mentions"] += m["n"]
        s.setdefault("first_mention", m["first_at"])
    if not score:
        return None
    best = max(score.values(), key=lambda s: (s["cascade"] + s["mentions"], s["cascade"]))
    out: dict[str, Any] = {"account_id": best["account_id"], "handle": best["handle"],
                           "window": {"start": sql.iso(ws), "end": sql.iso(we), "posts": int(total or 0)},
                           "account_cascade": best["cascade"], "mentions": best["mentions"]}
    if best["roots"]:
        r = best["roots"][0]
        out.update({"post_id": r["root"], "time": sql.iso(r["created_at"]), "carries_hashtag": r["carries_hashtag"],
                    "responses": r["responses"], "cascade": r["cascade"], "found_by": "links"})
    else:
        last = sql.rows(store, LAST_POST_SQL, mv=scope.table, account=best["account"],
                        before=best.get("first_mention") or we)
        p = last[0] if last else None
        out.update({"post_id": p["id"] if p else None, "time": sql.iso(p["created_at"]) if p else None,
                    "carries_hashtag": p["carries_hashtag"] if p else None, "responses": 0, "cascade": 0,
                    "found_by": "mentions"})
    out["share"] = round((best["cascade"] + best["mentions"]) / total, 4) if total else 0.0
    out["runners_up"] = [
        {"account_id": s["account_id"], "handle": s["handle"], "score": s["cascade"] + s["mentions"]}
        for s in sorted(score.values(), key=lambda s: -(s["cascade"] + s["mentions"]))[1:4]]
    return out


def onset(store: Any, scope: Scope, series: list[dict[str, Any]]) -> dict[str, Any]:
    first = sql.rows(store, FIRST_SQL, mv=scope.table)
    i = takeoff_index(series)
    takeoff = series[i]["time"] if i is not None else None
    states = kleinberg_states([r["posts"] for r in series])
    bursts = [{"start": sql.iso(series[a]["time"]), "end": sql.iso(series[b]["time"] + scope.step), "level": lv}
              for a, b, lv in burst_periods(states)]
    return {
        "takeoff": sql.iso(takeoff),
        "method": "poisson change point (two-state burst model, fitted rates)",
        "takeoff_posts": series[i]["posts"] if i is not None else 0,
        "baseline_per_interval": (round(sum(r["posts"] for r in series[:i]) / i, 3) if i else 0.0),
        "first_post": _post(first[0] if first else None),
        "ignition": ignition(store, scope, takeoff),
        "bursts": bursts[:20],
    }
