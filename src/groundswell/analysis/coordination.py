"""Coordination: groups of accounts acting in lockstep.

Follows QUT's coordination-network-toolkit (Graham et al., "Coordinated
inauthentic behaviour and information spreading on Twitter", 2020): two
accounts are linked when they repost the same post (*co-repost*) or post the
same text (*co-post*; texts compared by their MD5, never printed) within
``window`` seconds of each other; a link's weight is the number of distinct
posts or texts they did this for. Links of weight >= ``min_weight`` make the
coordination network; its connected components with at least ``min_size``
accounts are the groups. For each group, the account whose posts it reposted
most is reported as ``amplified`` (a leader the group boosts).

Bounded work: pairs are only formed inside the same or adjacent
``window``-long time buckets of one post, and (post, bucket) cells holding
more than ``crowd`` reposts (a viral moment, where lockstep cannot be told
from a crowd) are skipped.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from groundswell.analysis import sql
from groundswell.analysis.scope import Scope

# Accounts and targets are numbered first (row_number over the sorted values, so ``u < v`` means the
# same on the numbers as on the names), and the pairing and counting run on integers.
PAIRS_SQL = """
WITH r0 AS (SELECT account, {key} AS target, created_at FROM {mv} WHERE {key} IS NOT NULL AND account IS NOT NULL),
acc AS (SELECT account, row_number() OVER (ORDER BY account) AS a FROM (SELECT DISTINCT account FROM r0) x),
tg AS (SELECT target, row_number() OVER (ORDER BY target) AS g FROM (SELECT DISTINCT target FROM r0) y),
r AS (SELECT acc.a AS account, tg.g AS target, r0.created_at,
             CAST(floor(epoch(r0.created_at) / {window}) AS BIGINT) AS b
      FROM r0 JOIN acc ON acc.account = r0.account JOIN tg ON tg.target = r0.target),
dense AS (SELECT target, b FROM r GROUP BY target, b HAVING count(*) > {crowd}),
rr AS (SELECT r.* FROM r LEFT JOIN dense d ON d.target = r.target AND d.b = r.b WHERE d.target IS NULL),
pairs AS (
  SELECT a.account AS u, c.account AS v, a.target, a.created_at AS ta, c.created_at AS tc
  FROM rr a JOIN rr c ON a.target = c.target AND a.b = c.b WHERE a.account < c.account
  UNION ALL
  SELECT least(a.account, c.account), greatest(a.account, c.account), a.target, a.created_at, c.created_at
  FROM rr a JOIN rr c ON a.target = c.target AND a.b = c.b + 1 WHERE a.account <> c.account),
w AS (SELECT u, v, count(DISTINCT target) AS weight FROM pairs
      WHERE abs(epoch(ta) - epoch(tc)) <= {window}
      GROUP BY u, v HAVING count(DISTINCT target) >= {min_weight})
SELECT ua.account AS u, va.account AS v, w.weight FROM w
JOIN acc ua ON ua.a = w.u JOIN acc va ON va.a = w.v
"""

# For the members of all reported groups at once (one pass over the posts, not one per group):
# per member, whose posts it reposted; and each member's posts.
AMPLIFIED_SQL = """
SELECT m.account AS member, coalesce(p.author_id, p.author_handle) AS account, min(p.author_id) AS author_id,
       min(p.author_handle) AS handle, count(*) AS reposts
FROM {mv} m JOIN posts p ON p.platform = m.platform AND p.id = m.repost_of_id
WHERE m.account IN {members} GROUP BY 1, 2
"""

MEMBERS_SQL = """
SELECT account, min(author_id) AS author_id, min(author_handle) AS handle, count(*) AS posts
FROM {mv} WHERE account IN {members} GROUP BY account
"""


def _amplified(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The account a group reposted most (ties: the smaller account key), from its members' rows."""
    by: dict[Any, dict[str, Any]] = {}
    for r in rows:
        a = by.setdefault(r["account"], {"account": r["account"], "author_id": r["author_id"],
                                         "handle": r["handle"], "reposts": 0})
        a["reposts"] += r["reposts"]
        for k in ("author_id", "handle"):
            if r[k] is not None and (a[k] is None or r[k] < a[k]):
                a[k] = r[k]
    if not by:
        return None
    best = min(by.values(), key=lambda a: (-a["reposts"], a["account"] is None, a["account"] or ""))
    return {"account_id": best["author_id"], "handle": best["handle"], "reposts": best["reposts"]}


def coordinated_groups(store: Any, scope: Scope, window: int = 60, min_weight: int = 3, min_size: int = 3,
                       crowd: int = 50) -> dict[str, Any]:
    import igraph as ig

    out: dict[str, Any] = {"method": "co-repost and co-post (same text) within the window, "
                                     "as coordination-network-toolkit",
                           "window_seconds": window, "min_weight": min_weight, "min_size": min_size,
                           "groups": []}
    edges: dict[tuple[str, str], dict[str, int]] = {}
    for kind, key in (("co_repost", "repost_of_id"), ("co_post", "text_key")):
        for r in sql.rows(store, PAIRS_SQL, mv=scope.table, key=sql.Raw(key), window=window, crowd=crowd,
                          min_weight=min_weight):
            edges.setdefault((r["u"], r["v"]), {})[kind] = r["weight"]
    out["links"] = len(edges)
    if not edges:
        return out
    names = sorted({a for e in edges for a in e})
    idx = {a: i for i, a in enumerate(names)}
    g = ig.Graph(n=len(names), edges=[(idx[u], idx[v]) for u, v in edges])
    groups = [c for c in g.connected_components() if len(c) >= min_size]
    groups.sort(key=lambda c: -len(c))
    groups = groups[:20]
    everyone = sql.Raw(sql.in_list(names[i] for c in groups for i in c))
    reposted: dict[str, list[dict[str, Any]]] = {}
    for r in (sql.rows(store, AMPLIFIED_SQL, mv=scope.table, members=everyone) if groups else []):
        reposted.setdefault(r["member"], []).append(r)
    posts = {r["account"]: r for r in (sql.rows(store, MEMBERS_SQL, mv=scope.table, members=everyone)
                                       if groups else [])}
    for c in groups:
        members = sorted(names[i] for i in c)
        mset = set(members)
        w = [sum(k.values()) for e, k in edges.items() if e[0] in mset]
        kinds = {k for e, ks in edges.items() if e[0] in mset for k in ks}
        out["groups"].append({
            "size": len(members),
            "members": [{"account_id": r["author_id"], "handle": r["handle"], "posts": r["posts"]}
                        for r in (posts[a] for a in members if a in posts)],
            "links": len(w), "mean_weight": round(float(np.mean(w)), 3) if w else 0.0,
            "evidence": sorted(kinds),
            "amplified": _amplified([r for a in members for r in reposted.get(a, [])]),
        })
    return out
