"""People: who amplified the movement, who joined when, and across which
communities it travelled.

* ``top_amplifiers``: PageRank (Brin & Page 1998; igraph) on the directed,
  weighted account graph of the movement's interactions: an edge from each
  account to the account it reposts, replies to, quotes or mentions, so rank
  flows to the voices the movement amplified. ``top_reposters`` lists the
  accounts that did the most reposting.
* ``notable``: verified accounts that posted in the movement, with the time
  each joined (its first movement post) and that post; ``most_followed``:
  the participants with the most followers (latest observation).
* ``new_participants``: accounts posting for the first time, per interval,
  and their running total.
* ``communities``: Leiden (Traag, Waltman & van Eck 2019; igraph's
  ``community_leiden``, modularity) on the undirected interaction graph, or
  on the follower graph among participants when one is given. The *seed
  community* is the ignition account's (else the first post's);
  ``outside_seed`` gives, per interval, the share of posts (by accounts whose
  community is known) from outside it, as Milano's call crossed from
  entertainment into other circles.

Graph sizes: one node per participating or mentioned account, one edge per
interacting pair; 10M movement posts make ~1M nodes and a few million edges,
which igraph handles in seconds and ~1 GB.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from groundswell.analysis import sql
from groundswell.analysis.scope import Scope, bucket

EDGES_SQL = """
WITH handles AS (
  SELECT lower(author_handle) AS h, min(account) AS account FROM {mv}
  WHERE author_handle IS NOT NULL GROUP BY lower(author_handle)),
links AS (
  SELECT m.account AS src, coalesce(p.author_id, p.author_handle, m.reply_to_id) AS dst, m.kind AS type
  FROM {mv} m JOIN posts p ON p.platform = m.platform
   AND p.id = coalesce(m.repost_of_id, m.quote_of_id, m.reply_to_id)
  UNION ALL
  SELECT x.account, coalesce(h.account, x.h), 'mention' FROM
    (SELECT account, lower(unnest(mentions)) AS h FROM {mv} WHERE kind <> 'repost') x
    LEFT JOIN handles h ON h.h = x.h)
SELECT src, dst, count(*) AS weight,
       sum(CASE WHEN type = 'repost' THEN 1 ELSE 0 END) AS reposts
FROM links WHERE src IS NOT NULL AND dst IS NOT NULL AND src <> dst GROUP BY src, dst
"""

POSTS_BY_SQL = "SELECT account, count(*) AS posts FROM {mv} GROUP BY account"

NOTABLE_SQL = """
WITH j AS (SELECT platform, account, min(created_at) AS joined_at, arg_min(id, created_at) AS join_post_id,
                  count(*) AS posts FROM {mv} GROUP BY platform, account)
SELECT a.id AS account_id, a.handle, a.followers, a.verified, j.joined_at, j.join_post_id, j.posts
FROM j JOIN accounts_latest a ON a.platform = j.platform AND a.id = j.account
WHERE {cond}
ORDER BY {order} LIMIT {limit}
"""

OUTSIDE_SQL = """
SELECT {bucket} AS t, count(*) AS posts, count(c.community) AS known,
       sum(CASE WHEN c.community <> {seed} THEN 1 ELSE 0 END) AS outside
FROM {mv} m LEFT JOIN gs_membership c ON c.account = m.account
GROUP BY 1 ORDER BY 1
"""

FOLLOW_EDGES_SQL = """
SELECT f.follower_id AS src, f.followed_id AS dst FROM {follows} f
WHERE f.follower_id IN (SELECT account FROM {mv}) AND f.followed_id IN (SELECT account FROM {mv})
"""

HANDLES_SQL = """
SELECT coalesce(author_id, author_handle) AS account, min(author_id) AS author_id,
       min(author_handle) AS handle
FROM posts WHERE coalesce(author_id, author_handle) IN {ids} GROUP BY 1
"""


def _graph(src: pa.ChunkedArray, dst: pa.ChunkedArray, weight: Any, directed: bool) -> tuple[Any, pa.Array]:
    import igraph as ig

    both = pa.chunked_array(src.chunks + dst.chunks, type=pa.string())
    enc = pc.dictionary_encode(both).combine_chunks()
    codes = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    m = len(src)
    g = ig.Graph(n=len(enc.dictionary), edges=np.column_stack([codes[:m], codes[m:]]).tolist(),
                 directed=directed)
    if weight is not None:
        g.es["weight"] = np.asarray(weight, dtype=float).tolist()
    return g, enc.dictionary


def _who(store: Any, scope: Scope, accounts: list[str]) -> dict[str, dict[str, Any]]:
    if not accounts:
        return {}
    return {r["account"]: r for r in sql.rows(store, HANDLES_SQL, mv=scope.table,
                                              ids=sql.Raw(sql.in_list(accounts)))}


def _ident(account: str, who: dict[str, dict[str, Any]]) -> dict[str, Any]:
    r = who.get(account)
    if r is None:  # seen only as a mention target
        return {"account_id": None, "handle": account}
    return {"account_id": r["author_id"], "handle": r["handle"]}


def people(store: Any, scope: Scope, series: list[dict[str, Any]], seed_account: str | None,
           follows: sql.Raw | None = None, top: int = 10, seed: int = 0) -> dict[str, Any]:
    import igraph as ig

    e = sql.run(store, EDGES_SQL, mv=scope.table)
    out: dict[str, Any] = {"graph": {"nodes": 0, "edges": e.num_rows}}
    posts_by = {r["account"]: r["posts"] for r in sql.rows(store, POSTS_BY_SQL, mv=scope.table)}
    if e.num_rows:
        g, names = _graph(e.column("src"), e.column("dst"), e.column("weight"), True)
        out["graph"]["nodes"] = g.vcount()
        pr = np.asarray(g.pagerank(weights="weight"))
        best = np.argsort(-pr, kind="stable")[:top]
        ids = [names[int(i)].as_py() for i in best]
        rep = {}
        for s, r in zip(e.column("src").to_pylist(), e.column("reposts").to_pylist()):
            rep[s] = rep.get(s, 0) + int(r)
        reposters = sorted((a for a in rep if rep[a]), key=lambda a: (-rep[a], a))[:top]
        who = _who(store, scope, ids + reposters)
        out["top_amplifiers"] = [{**_ident(a, who), "pagerank": round(float(pr[i]), 6),
                                  "posts": posts_by.get(a, 0)} for a, i in zip(ids, best)]
        out["top_reposters"] = [{**_ident(a, who), "reposts": rep[a]} for a in reposters]
    else:
        out["top_amplifiers"], out["top_reposters"] = [], []

    def notable_rows(cond: str, order: str) -> list[dict[str, Any]]:
        return [{"account_id": r["account_id"], "handle": r["handle"], "followers": r["followers"],
                 "verified": bool(r["verified"]), "joined_at": sql.iso(r["joined_at"]),
                 "join_post_id": r["join_post_id"], "posts": r["posts"]}
                for r in sql.rows(store, NOTABLE_SQL, mv=scope.table, cond=sql.Raw(cond),
                                  order=sql.Raw(order), limit=1000 if cond != "true" else top)]

    out["notable"] = notable_rows("a.verified", "j.joined_at, a.id")
    out["most_followed"] = notable_rows("true", "a.followers DESC NULLS LAST, a.id")
    out["new_participants"] = [{"time": sql.iso(r["time"]), "new": r["new_authors"],
                                "total": r["participants"]} for r in series]
    out["communities"] = communities(store, scope, e, seed_account, follows, seed)
    return out


def communities(store: Any, scope: Scope, e: pa.Table, seed_account: str | None,
                follows: sql.Raw | None, seed: int) -> dict[str, Any]:
    import igraph as ig

    if follows is not None:
        fe = sql.run(store, FOLLOW_EDGES_SQL, follows=follows, mv=scope.table)
        src = pa.chunked_array(e.column("src").chunks + fe.column("src").chunks, type=pa.string())
        dst = pa.chunked_array(e.column("dst").chunks + fe.column("dst").chunks, type=pa.string())
        weight = np.concatenate([e.column("weight").to_numpy(), np.ones(fe.num_rows)])
        basis = "followers + interactions"
    else:
        src, dst, weight, basis = e.column("src"), e.column("dst"), e.column("weight").to_numpy(), "interactions"
    if len(src) == 0:
        return {"basis": basis, "count": 0, "seed_community": None, "outside_seed": [], "largest": []}
    g, names = _graph(src, dst, weight, False)
    g.simplify(combine_edges={"weight": "sum"})
    ig.set_random_number_generator(random.Random(seed))
    try:
        part = g.community_leiden(objective_function="modularity", weights="weight", n_iterations=-1)
    finally:
        ig.set_random_number_generator(random)
    memb = np.asarray(part.membership, dtype=np.int64)
    sql.register_arrow(store, "gs_membership", pa.table({"account": names, "community": pa.array(memb)}))
    seed_c = None
    if seed_account is not None:
        hit = pc.index(names, seed_account).as_py()
        if hit >= 0:
            seed_c = int(memb[hit])
    if seed_c is None:
        first = sql.rows(store, "SELECT m.account, c.community FROM {mv} m JOIN gs_membership c "
                                "ON c.account = m.account ORDER BY m.created_at, m.id LIMIT 1", mv=scope.table)
        seed_c = int(first[0]["community"]) if first else None
    rows = sql.rows(store, OUTSIDE_SQL, mv=scope.table, bucket=bucket(scope.interval),
                    seed=-1 if seed_c is None else seed_c)
    sizes = np.bincount(memb)
    order = np.argsort(-sizes, kind="stable")[:10]
    largest = [{"community": int(c), "accounts": int(sizes[c]), "seed": int(c) == seed_c} for c in order]
    known = sum(r["known"] for r in rows)
    outside = sum(r["outside"] or 0 for r in rows)
    return {
        "basis": basis, "algorithm": "leiden (modularity)", "count": int(len(sizes)),
        "modularity": round(float(part.modularity), 4) if part.modularity == part.modularity else None,
        "seed_community": seed_c, "seed_community_accounts": int(sizes[seed_c]) if seed_c is not None else 0,
        "outside_seed_share": round(outside / known, 4) if known else None,
        "outside_seed": [{"time": sql.iso(r["t"]), "posts": r["posts"], "known": r["known"],
                          "outside": int(r["outside"] or 0),
                          "share": round((r["outside"] or 0) / r["known"], 4) if r["known"] else None}
                         for r in rows],
        "largest": largest,
    }
