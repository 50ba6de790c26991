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

PAIRS_SQL = """
WITH r AS (SELECT account, {key} AS target, created_at,
                  CAST(floor(epoch(created_at) / {window}) AS BIGINT) AS b
           FROM {mv} WHERE {key} IS NOT NULL AND account IS NOT NULL),
dense AS (SELECT target, b FROM r GROUP BY target, b HAVING count(*) > {crowd}),
rr AS (SELECT r.* FROM r LEFT JOIN dense d ON d.target = r.target AND d.b = r.b WHERE d.target IS NULL),
pairs AS (
  SELECT a.account AS u, c.account AS v, a.target, a.created_at AS ta, c.created_at AS tc
  FROM rr a JOIN rr c ON a.target = c.target AND a.b = c.b WHERE a.account < c.account
  UNION ALL
  SELECT least(a.account, c.account), greatest(a.account, c.account), a.target, a.created_at, c.created_at
  FROM rr a JOIN rr c ON a.target = c.target AND a.b = c.b + 1 WHERE a.account <> c.account)
SELECT u, v, count(DISTINCT target) AS weight FROM pairs
WHERE abs(epoch(ta) - epoch(tc)) <= {window}
GROUP BY u, v HAVING count(DISTINCT target) >= {min_weight}
"""

AMPLIFIED_SQL = """
SELECT coalesce(p.author_id, p.author_handle) AS account, min(p.author_id) AS author_id,
       min(p.author_handle) AS handle, count(*) AS reposts
FROM {mv} m JOIN posts p ON p.platform = m.platform AND p.id = m.repost_of_id
WHERE m.account IN {members} GROUP BY 1 ORDER BY reposts DESC, account LIMIT 1
"""

MEMBERS_SQL = """
SELECT account, min(author_id) AS author_id, min(author_handle) AS handle, count(*) AS posts
FROM {mv} WHERE account IN {members} GROUP BY account ORDER BY account
"""


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
    for c in groups[:20]:
        members = [names[i] for i in c]
        mset = set(members)
        w = [sum(k.values()) for e, k in edges.items() if e[0] in mset]
        kinds = {k for e, ks in edges.items() if e[0] in mset for k in ks}
        lst = sql.Raw(sql.in_list(members))
        amp = sql.rows(store, AMPLIFIED_SQL, mv=scope.table, members=lst)
        out["groups"].append({
            "size": len(members),
            "members": [{"account_id": r["author_id"], "handle": r["handle"], "posts": r["posts"]}
                        for r in sql.rows(store, MEMBERS_SQL, mv=scope.table, members=lst)],
            "links": len(w), "mean_weight": round(float(np.mean(w)), 3) if w else 0.0,
            "evidence": sorted(kinds),
            "amplified": ({"account_id": amp[0]["author_id"], "handle": amp[0]["handle"],
                           "reposts": amp[0]["reposts"]} if amp else None),
        })
    return out
