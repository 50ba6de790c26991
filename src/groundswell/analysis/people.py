"""People: who amplified the movement, who joined when, and across which
communities it travelled.

* ``top_amplifiers``: PageRank (Brin & Page 1998; igraph) on the directed,
  weighted account graph of the movement's interactions: an edge from each
  account to the account it reposts, replies to, quotes or mentions, so rank
  flows to the voices the movement amplified; listed are accounts with
  movement posts of their own or posts the movement reposted, replied to or
  quoted: an account that is only mentioned was addressed, not amplified. ``top_reposters`` lists the
  accounts that did the most reposting.
* ``notable``: verified accounts that posted in the movement, with the time
  each joined and that post: its first movement post at or after the
  movement's start (the ignition post's time, else the start of the takeoff
  interval), so a stray use of the hashtag days before the movement is not
  a join (``first_use`` keeps it); accounts that used the hashtag only before
  the start are not listed. ``most_followed``: the participants with the most
  followers (latest observation).
* ``new_participants``: accounts posting for the first time, per interval,
  and their running total.
* ``communities``: Leiden (Traag, Waltman & van Eck 2019; igraph's
  ``community_leiden``, modularity at resolution ``resolution``, by default
  ``LEIDEN_RESOLUTION`` = 1.5. That value was first picked on simulated
  movements; it is not tuned further. How the results move with it is
  measured instead (``scripts/sim_accuracy.py --leiden``, docs/simulate.md):
  over the 100 development shapes, agreement with the true communities rises
  from 0.5 to 1.5 and is flat above (NMI 0.79 / 0.84 / 0.85 / 0.85 / 0.86,
  ARI 0.68 / 0.78 / 0.79 / 0.79 / 0.79 at 0.5 / 1 / 1.5 / 2 / 3), so no
  conclusion hinges on the exact value; real archives carry no community
  truth to check it against), ``LEIDEN_ITERATIONS`` passes, the best partition of
  ``LEIDEN_RUNS`` seeds on graphs of up to ``RUNS_MAX_EDGES`` edges; one run
  of ``LEIDEN_ITERATIONS_LARGE`` pass on larger graphs, where a second pass
  moved 1 of 275k accounts on a 3M-post simulated movement) on the
  follower graph among the participants (plus the seed account) when the
  store has a ``follows`` table for the platform (or ``--followers`` is
  given): who follows whom is the stable social structure a movement crosses,
  while its own reposts and replies are exactly the cross-community links
  whose share is being measured. Without followers, the undirected
  interaction graph is used (``basis`` says which). Clusters of fewer than
  ``MIN_COMMUNITY`` accounts are not communities: their accounts count as
  unknown. The *seed community* is the cluster of the ignition account (else
  of the first post's author); ``outside_seed`` gives, per interval, the
  share of posts (by accounts whose community is known) from outside it, as
  Milano's call crossed from entertainment into other circles.

Accounts are numbered in SQL (``gs_nodes``), so graphs reach igraph as numpy
integer arrays, never as Python lists of names; the undirected graph is
simplified (self-loops dropped, parallel edges summed) in numpy before igraph
sees it. Graph sizes: one node per participating or mentioned account (3M
simulated posts: 275k nodes, 1.2M interaction and 7M follower edges).
"""

from __future__ import annotations

import itertools
import random
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa

from groundswell.analysis import sql
from groundswell.analysis.scope import Scope, bucket

LEIDEN_ITERATIONS = 2
LEIDEN_RUNS = 3  # on graphs of up to RUNS_MAX_EDGES edges; one run of LEIDEN_ITERATIONS_LARGE above
LEIDEN_ITERATIONS_LARGE = 1
MIN_KNOWN_POSTS = 30
MIN_KNOWN_SHARE = 0.3  # below these, the outside-the-seed share is shown but not claimed
RUNS_MAX_EDGES = 500_000
LEIDEN_RESOLUTION = 1.5
MIN_COMMUNITY = 3

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
       sum(CASE WHEN type = 'repost' THEN 1 ELSE 0 END) AS reposts,
       sum(CASE WHEN type <> 'mention' THEN 1 ELSE 0 END) AS responses
FROM links WHERE src IS NOT NULL AND dst IS NOT NULL AND src <> dst GROUP BY src, dst
"""

NODES_SQL = """
SELECT v AS account, row_number() OVER (ORDER BY v) - 1 AS node FROM
  (SELECT account AS v FROM {mv} WHERE account IS NOT NULL
   UNION SELECT dst FROM gs_edges UNION SELECT v FROM (SELECT {seed} AS v) s WHERE v IS NOT NULL) x
"""

INT_EDGES_SQL = """
SELECT a.node AS src, b.node AS dst, e.weight FROM gs_edges e
JOIN gs_nodes a ON a.account = e.src JOIN gs_nodes b ON b.account = e.dst
"""

REPOSTERS_SQL = """
SELECT src AS account, sum(reposts) AS reposts FROM gs_edges
GROUP BY src HAVING sum(reposts) > 0 ORDER BY reposts DESC, account LIMIT {top}
"""

POSTS_BY_SQL = "SELECT account, count(*) AS posts FROM {mv} WHERE account IN {ids} GROUP BY account"

JOINED_SQL = """
SELECT platform, account, min(created_at) AS first_use,
       min(CASE WHEN created_at >= {since} THEN created_at END) AS joined_at,
       arg_min(CASE WHEN created_at >= {since} THEN id END,
               CASE WHEN created_at >= {since} THEN created_at END) AS join_post_id,
       count(*) AS posts FROM {mv} GROUP BY platform, account
"""

NOTABLE_SQL = """
SELECT a.id AS account_id, a.handle, a.followers, a.verified, j.first_use, j.joined_at, j.join_post_id, j.posts
FROM gs_joined j JOIN accounts_latest a ON a.platform = j.platform AND a.id = j.account
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
SELECT a.node AS src, b.node AS dst FROM {follows} f
JOIN gs_nodes a ON a.account = f.follower_id JOIN gs_nodes b ON b.account = f.followed_id
WHERE a.node <> b.node
"""

HANDLES_SQL = """
SELECT coalesce(author_id, author_handle) AS account, min(author_id) AS author_id,
       min(author_handle) AS handle
FROM posts WHERE coalesce(author_id, author_handle) IN {ids} GROUP BY 1
"""


def _np(col: pa.ChunkedArray, dtype: Any = np.int64) -> np.ndarray:
    return col.to_numpy().astype(dtype, copy=False) if len(col) else np.zeros(0, dtype=dtype)


def _edge_pairs(src: np.ndarray, dst: np.ndarray, chunk: int = 1 << 18) -> Any:
    """(src, dst) pairs of Python ints, a chunk at a time: igraph reads any iterable of pairs, and
    a list of all pairs (or a 2-column numpy array, which igraph turns into nested lists) would
    cost ~150 bytes per edge at once."""
    return itertools.chain.from_iterable(zip(src[i:i + chunk].tolist(), dst[i:i + chunk].tolist())
                                         for i in range(0, len(src), chunk))


def _graph(n: int, src: np.ndarray, dst: np.ndarray, directed: bool) -> Any:
    import igraph as ig

    return ig.Graph(n=n, edges=_edge_pairs(src, dst), directed=directed)


def _simple(n: int, src: np.ndarray, dst: np.ndarray,
            weight: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The undirected simple graph of an edge list, as igraph's ``simplify(combine_edges="sum")``
    makes it (self-loops dropped, parallel edges merged with their weights summed, edges sorted
    by their end points), in numpy: on millions of edges igraph's version is ~10x slower.
    ``weight`` None: every edge weighs 1."""
    lo, hi = np.minimum(src, dst), np.maximum(src, dst)
    keep = lo != hi
    key = lo[keep] * np.int64(n) + hi[keep]
    del lo, hi
    if weight is None:
        uk, cnt = np.unique(key, return_counts=True)
        w: np.ndarray = cnt.astype(np.float64)
    else:
        uk, inv = np.unique(key, return_inverse=True)
        w = np.bincount(inv, weights=np.asarray(weight, dtype=np.float64)[keep], minlength=len(uk))
    return uk // n, uk % n, w


def _who(store: Any, accounts: list[str]) -> dict[str, dict[str, Any]]:
    if not accounts:
        return {}
    return {r["account"]: r for r in sql.rows(store, HANDLES_SQL, ids=sql.Raw(sql.in_list(accounts)))}


def _ident(account: str, who: dict[str, dict[str, Any]]) -> dict[str, Any]:
    r = who.get(account)
    if r is None:  # seen only as a mention target
        return {"account_id": None, "handle": account}
    return {"account_id": r["author_id"], "handle": r["handle"]}


def people(store: Any, scope: Scope, series: list[dict[str, Any]], seed_account: str | None,
           follows: sql.Raw | None = None, top: int = 10, seed: int = 0,
           since: datetime | None = None, resolution: float = LEIDEN_RESOLUTION) -> dict[str, Any]:
    """``since``: the movement's start; a notable account joins at its first movement post from then on.
    ``resolution``: Leiden's modularity resolution (see :func:`communities`)."""
    sql.materialize(store, "gs_edges", EDGES_SQL, mv=scope.table)
    sql.materialize(store, "gs_nodes", NODES_SQL, mv=scope.table, seed=seed_account)
    e = sql.run(store, INT_EDGES_SQL)
    n = int(sql.scalar(store, "SELECT count(*) FROM gs_nodes") or 0)
    out: dict[str, Any] = {"graph": {"nodes": n, "edges": e.num_rows}}
    src, dst = _np(e.column("src")), _np(e.column("dst"))
    weight = _np(e.column("weight"), np.float64)
    if e.num_rows:
        g = _graph(n, src, dst, True)
        pr = np.asarray(g.pagerank(weights=weight.tolist()))
        del g
        # the best-ranked participants: an account only mentioned, with no movement post, was addressed,
        # not amplified
        cand = np.argsort(-pr, kind="stable")[:top * 20]
        names = {r["node"]: r["account"] for r in sql.rows(
            store, "SELECT node, account FROM gs_nodes WHERE node IN {nodes}",
            nodes=sql.Raw(sql.in_list(int(i) for i in cand)))}
        cand_ids = sql.Raw(sql.in_list(names[int(i)] for i in cand))
        posts_by = {r["account"]: r["posts"] for r in sql.rows(store, POSTS_BY_SQL, mv=scope.table, ids=cand_ids)}
        answered = {r["dst"] for r in sql.rows(store, "SELECT DISTINCT dst FROM gs_edges WHERE dst IN {ids} "
                                                      "AND responses > 0", ids=cand_ids)}
        best = [int(i) for i in cand if posts_by.get(names[int(i)], 0) > 0 or names[int(i)] in answered][:top]
        ids = [names[i] for i in best]
        rep = sql.rows(store, REPOSTERS_SQL, top=top)
        who = _who(store, ids + [r["account"] for r in rep])
        out["top_amplifiers"] = [{**_ident(a, who), "pagerank": round(float(pr[i]), 6),
                                  "posts": posts_by.get(a, 0)} for a, i in zip(ids, best)]
        out["top_reposters"] = [{**_ident(r["account"], who), "reposts": int(r["reposts"])} for r in rep]
    else:
        out["top_amplifiers"], out["top_reposters"] = [], []

    def notable_rows(cond: str, order: str) -> list[dict[str, Any]]:
        return [{"account_id": r["account_id"], "handle": r["handle"], "followers": r["followers"],
                 "verified": bool(r["verified"]), "joined_at": sql.iso(r["joined_at"]),
                 "join_post_id": r["join_post_id"], "first_use": sql.iso(r["first_use"]), "posts": r["posts"]}
                for r in sql.rows(store, NOTABLE_SQL, cond=sql.Raw(cond), order=sql.Raw(order),
                                  limit=1000 if cond != "true" else top)]

    sql.materialize(store, "gs_joined", JOINED_SQL, mv=scope.table, since=since or datetime(1970, 1, 1))
    out["notable"] = notable_rows("a.verified AND j.joined_at IS NOT NULL", "j.joined_at, a.id")
    out["notable_since"] = sql.iso(since)
    out["most_followed"] = notable_rows("true", "a.followers DESC NULLS LAST, a.id")
    sql.drop(store, "gs_joined")
    out["new_participants"] = [{"time": sql.iso(r["time"]), "new": r["new_authors"],
                                "total": r["participants"]} for r in series]
    out["communities"] = communities(store, scope, n, src, dst, weight, seed_account, follows, seed, resolution)
    for name in ("gs_edges", "gs_nodes"):
        sql.drop(store, name)
    return out


def communities(store: Any, scope: Scope, n: int, src: np.ndarray, dst: np.ndarray, weight: np.ndarray | None,
                seed_account: str | None, follows: sql.Raw | None, seed: int,
                resolution: float = LEIDEN_RESOLUTION) -> dict[str, Any]:
    """Leiden communities of the participants (see the module docstring); leaves the account ->
    community table ``gs_membership`` for the caller. ``resolution`` > 1 favours more, smaller
    communities, < 1 fewer, larger ones."""
    import igraph as ig

    if not resolution > 0:
        raise ValueError(f"the Leiden resolution must be positive, got {resolution!r}")

    if follows is not None:
        fe = sql.run(store, FOLLOW_EDGES_SQL, follows=follows)
        src, dst = _np(fe.column("src")), _np(fe.column("dst"))
        del fe
        weight = None  # every follow edge weighs 1
        basis = "followers among participants"
    else:
        basis = "interactions"
    empty = {"basis": basis, "count": 0, "seed_community": None, "outside_seed": [], "largest": []}
    if len(src) == 0:
        return empty
    src, dst, weight = _simple(n, src, dst, weight)
    g = _graph(n, src, dst, False)
    del src, dst
    part = None
    small = g.ecount() <= RUNS_MAX_EDGES
    runs, iterations = (LEIDEN_RUNS, LEIDEN_ITERATIONS) if small else (1, LEIDEN_ITERATIONS_LARGE)
    try:
        for run in range(runs):  # the best of a few seeds: one run may merge two small communities
            ig.set_random_number_generator(random.Random(seed * 1000 + run))
            p = g.community_leiden(objective_function="modularity", weights=weight,
                                   resolution=resolution, n_iterations=iterations)
            if part is None or p.modularity > part.modularity:
                part = p
    finally:
        ig.set_random_number_generator(random)
    assert part is not None  # runs >= 1
    memb = np.asarray(part.membership, dtype=np.int64)
    sizes = np.bincount(memb)
    real = sizes >= MIN_COMMUNITY
    comm = pa.array(memb, mask=~real[memb])
    sql.register_arrow(store, "gs_node_community", pa.table({"node": pa.array(np.arange(n)), "community": comm}))
    sql.materialize(store, "gs_membership", "SELECT n.account, m.community FROM gs_node_community m "
                                            "JOIN gs_nodes n ON n.node = m.node WHERE m.community IS NOT NULL")
    sql.drop(store, "gs_node_community")
    seed_c = None
    seed_from = None
    if seed_account is not None:
        hit = sql.scalar(store, "SELECT community FROM gs_membership WHERE account = {a}", a=seed_account)
        seed_c = None if hit is None else int(hit)
        seed_from = None if hit is None else "the ignition's account"
    if seed_c is None:
        first = sql.rows(store, "SELECT m.account, c.community FROM {mv} m JOIN gs_membership c "
                                "ON c.account = m.account ORDER BY m.created_at, m.id LIMIT 1", mv=scope.table)
        seed_c = int(first[0]["community"]) if first else None
        seed_from = "the first poster's account" if first else None
    rows = sql.rows(store, OUTSIDE_SQL, mv=scope.table, bucket=bucket(scope.interval),
                    seed=-1 if seed_c is None else seed_c)
    order = np.argsort(-sizes, kind="stable")
    order = order[real[order]][:10]
    largest = [{"community": int(c), "accounts": int(sizes[c]), "seed": int(c) == seed_c} for c in order]
    known = sum(r["known"] for r in rows)
    outside = sum(r["outside"] or 0 for r in rows)
    total = sum(r["posts"] for r in rows)
    weak = []
    if seed_from != "the ignition's account":
        weak.append("the seed community is " + ("that of " + seed_from if seed_from else "unknown")
                    + ", not the ignition's (undetermined)")
    if total and (known < MIN_KNOWN_POSTS or known / total < MIN_KNOWN_SHARE):
        weak.append(f"only {known:,} of {total:,} movement posts ({100 * known / total:.0f}%) have an author placed "
                    f"in a community")
    return {
        "basis": basis,
        "resolution": resolution,
        "algorithm": f"leiden (modularity, resolution {resolution:g}, "
                     f"{iterations} iteration{'s' if iterations != 1 else ''}, best of {runs} seed(s))",
        "count": int(real.sum()),
        "modularity": round(float(part.modularity), 4) if part.modularity == part.modularity else None,
        "seed_community": seed_c, "seed_community_accounts": int(sizes[seed_c]) if seed_c is not None else 0,
        "seed_from": seed_from,
        "outside_seed_share": round(outside / known, 4) if known else None,
        "outside_seed_counts": "movement posts whose author is placed in a community (known); of them, those "
                               "from outside the seed community",
        "known_posts": known, "movement_posts": total,
        "outside_seed_claimed": not weak, "outside_seed_note": "; ".join(weak) or None,
        "outside_seed": [{"time": sql.iso(r["t"]), "posts": r["posts"], "known": r["known"],
                          "outside": int(r["outside"] or 0),
                          "share": round((r["outside"] or 0) / r["known"], 4) if r["known"] else None}
                         for r in rows],
        "largest": largest,
    }
