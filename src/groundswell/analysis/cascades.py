"""Cascades: reply trees and repost cascades, their shapes and distributions.

* Reply trees are exact and cover the movement's conversation (see
  :mod:`.conversations`): every reply that descends from a movement post or
  from its thread's root, tag or no tag, hangs under the post it replies to
  (the root may be a post without the hashtag, or one the store does not
  hold: it is then known by its id alone). The tagged and untagged replies
  are counted apart, overall and per tree.
* Repost cascades: platforms record a repost of a repost as a repost of the
  original, so who-saw-it-from-whom is lost. With a follower edge list the
  parent of each repost is inferred as in OSoMe's cascade reconstruction
  (and Goel et al. 2016, Vosoughi et al. 2018), from the store's ``follows``
  table (or a ``--followers`` file): the most recent earlier
  sharer of the same original (or its author) whom the reposter follows;
  ``confidence`` = 1 / number of such candidates, 0 when the reposter
  follows none of them and the repost is attached to the original. Without
  followers every repost hangs from the original: a *star*, labelled so.
* Per cascade: size (posts, root included), depth, maximum breadth (most
  nodes at one depth) and structural virality (Goel, Anderson, Hofman & Watts
  2016, "The structural virality of online diffusion"): the mean shortest
  path length over all pairs of nodes, computed exactly in O(n) from subtree
  sizes (Wiener index = sum over edges of s * (n - s)).

The tree arithmetic is vectorized numpy over integer-coded edge lists
(pointer jumping for roots and depths, one pass per depth level for subtree
sizes), so millions of edges take seconds. The follower reconstruction runs
in SQL on integer keys (sharers' accounts and roots numbered in temporary
tables). ``largest`` lists the biggest trees, ties broken by the root's post
id.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from groundswell.analysis import sql
from groundswell.analysis.conversations import conversation
from groundswell.analysis.scope import Scope

REPLY_EDGES_SQL = """
SELECT id AS child, reply_to_id AS parent, in_movement FROM {conv}
"""

ROOTS_TAGGED_SQL = """
SELECT id FROM {mv} WHERE id IN {ids}
"""

STAR_SQL = """
SELECT id, repost_of_id AS parent, repost_of_id AS root FROM {mv} WHERE repost_of_id IS NOT NULL
"""

# Follower reconstruction, in integer keys (accounts and roots numbered in SQL), so the one large
# intermediate result (each repost x each account its author follows: ~40 rows per repost) is
# joined on one BIGINT: key = root number * 2^32 + account number. The key can only be formed once
# the follow edge is known, so the planner cannot pair the sharers of one root with each other first
# (quadratic in a viral cascade's size).
SHARERS_SQL = """
WITH r AS (SELECT platform, id, account, created_at, repost_of_id AS root FROM {mv}
           WHERE repost_of_id IS NOT NULL)
SELECT platform, id, account, created_at, root, true AS is_repost FROM r
UNION ALL
SELECT p.platform, p.id, coalesce(p.author_id, p.author_handle) AS account, p.created_at, p.id AS root, false
FROM posts p WHERE p.id IN (SELECT root FROM r)
"""

SHARER_ACCOUNTS_SQL = """
SELECT account, row_number() OVER (ORDER BY account) AS a
FROM (SELECT DISTINCT account FROM gs_sharers WHERE account IS NOT NULL) x
"""

SHARER_ROOTS_SQL = """
SELECT platform, root, row_number() OVER (ORDER BY platform, root) AS k
FROM (SELECT DISTINCT platform, root FROM gs_sharers) x
"""

SHARES_SQL = """
SELECT row_number() OVER (ORDER BY t.k, s.created_at) AS cid, s.id, s.root, s.created_at, s.is_repost,
       a.a, t.k, t.k * 4294967296 + a.a AS ck
FROM gs_sharers s LEFT JOIN gs_sharer_accounts a ON a.account = s.account
JOIN gs_sharer_roots t ON t.platform = s.platform AND t.root = s.root
"""

SHARER_FOLLOWS_SQL = """
SELECT fa.a AS fr, fb.a AS fd FROM {follows} f
JOIN gs_sharer_accounts fa ON fa.account = f.follower_id JOIN gs_sharer_accounts fb ON fb.account = f.followed_id
"""

RECONSTRUCT_SQL = """
WITH pairs AS (
  SELECT r.cid, c.cid AS cand, c.created_at AS cand_at
  FROM gs_shares r JOIN gs_sharer_follows f ON f.fr = r.a
  JOIN gs_shares c ON c.ck = r.k * 4294967296 + f.fd
  WHERE r.is_repost AND c.created_at <= r.created_at AND c.cid <> r.cid),
best AS (SELECT cid, arg_max(cand, cand_at) AS parent, count(*) AS k FROM pairs GROUP BY cid)
SELECT r.id, coalesce(pc.id, r.root) AS parent, r.root,
       CASE WHEN best.k IS NULL THEN 0.0 ELSE 1.0 / best.k END AS confidence
FROM gs_shares r LEFT JOIN best ON best.cid = r.cid LEFT JOIN gs_shares pc ON pc.cid = best.parent
WHERE r.is_repost
"""

_RECONSTRUCT_STEPS = (("gs_sharers", SHARERS_SQL), ("gs_sharer_accounts", SHARER_ACCOUNTS_SQL),
                      ("gs_sharer_roots", SHARER_ROOTS_SQL), ("gs_shares", SHARES_SQL),
                      ("gs_sharer_follows", SHARER_FOLLOWS_SQL))


HAS_FOLLOWS_SQL = """
SELECT count(*) AS n FROM (SELECT 1 FROM follows WHERE platform IN (SELECT DISTINCT platform FROM {mv}) LIMIT 1) x
"""


def store_follows(store: Any, scope: Scope) -> sql.Raw | None:
    """The store's ``follows`` table for the movement's platforms, when it has rows for them."""
    if not sql.has_table(store, "follows") or not sql.scalar(store, HAS_FOLLOWS_SQL, mv=scope.table):
        return None
    return sql.Raw("(SELECT follower_id, followed_id FROM follows "
                   f"WHERE platform IN (SELECT DISTINCT platform FROM {scope.table.sql}))")


def load_follows(store: Any, path: str) -> sql.Raw:
    """A follower edge list (Parquet: follower_id, followed_id; or source_id follows target_id)."""
    import pyarrow.parquet as pq

    from groundswell.errors import UsageError

    try:
        t = pq.read_table(path)
    except FileNotFoundError:
        raise UsageError(f"--followers {path}: no such file") from None
    except (pa.ArrowInvalid, OSError):
        raise UsageError(f"--followers {path}: not a Parquet file; a follower CSV goes into the store "
                         f"instead (groundswell ingest {path} --db STORE), where analyze finds it") from None
    names = set(t.column_names)
    if {"follower_id", "followed_id"} <= names:
        t = t.select(["follower_id", "followed_id"])
    elif {"source_id", "target_id"} <= names:
        t = t.select(["source_id", "target_id"]).rename_columns(["follower_id", "followed_id"])
    else:
        from groundswell.errors import UsageError

        raise UsageError(f"{path}: a follower list needs columns follower_id, followed_id "
                         f"(or source_id, target_id); it has {', '.join(t.column_names)}")
    t = t.cast(pa.schema([("follower_id", pa.string()), ("followed_id", pa.string())]))
    return sql.register_arrow(store, "gs_follows", t)


def repost_parents(store: Any, scope: Scope, follows: sql.Raw | None = None) -> pa.Table:
    """One row per repost: id, parent, root, confidence, and ``method`` (followers or star)."""
    if follows is None:
        t = sql.run(store, STAR_SQL, mv=scope.table)
        t = t.append_column("confidence", pa.nulls(t.num_rows, pa.float64()))
        return t.append_column("method", pa.array(["star"] * t.num_rows, pa.string()))
    for name, q in _RECONSTRUCT_STEPS:
        sql.materialize(store, name, q, mv=scope.table, follows=follows)
    try:
        t = sql.run(store, RECONSTRUCT_SQL)
    finally:
        for name, _ in reversed(_RECONSTRUCT_STEPS):
            sql.drop(store, name)
    return t.append_column("method", pa.array(["followers"] * t.num_rows, pa.string()))


def _strings(x: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous string array (``pa.chunked_array([chunked])`` would convert it value by value)."""
    if isinstance(x, pa.ChunkedArray):
        x = x.combine_chunks()
    return x.cast(pa.string())


def tree_metrics(child: pa.Array, parent: pa.Array, flag: pa.Array | None = None) -> dict[str, np.ndarray]:
    """Per tree (root): root index into ``nodes``, size, depth, breadth, structural virality;
    with ``flag`` (one boolean per edge, say "the child carries the hashtag"), ``flagged``: how
    many of the tree's non-root nodes are flagged."""
    both = pa.chunked_array([_strings(child), _strings(parent)])
    enc = pc.dictionary_encode(both).combine_chunks()
    codes = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    nodes = enc.dictionary
    m = len(child)
    c, p = codes[:m], codes[m:]
    n = len(nodes)
    par = np.full(n, -1, dtype=np.int64)
    par[c] = p
    # cycles (bad data) would never converge: cut them at the smaller id
    idx = np.arange(n)
    jump = np.where(par < 0, idx, par)
    dist = (par >= 0).astype(np.int64)
    for _ in range(64):
        nxt = jump[jump]
        if np.array_equal(nxt, jump):
            break
        dist = dist + dist[jump]
        jump = nxt
    else:  # not converged: cycles; treat their members as roots
        bad = jump[jump] != jump
        par[bad] = -1
        keep = ~bad[c]
        return tree_metrics(pa.array(nodes.to_numpy(zero_copy_only=False)[c][keep]),
                            pa.array(nodes.to_numpy(zero_copy_only=False)[p][keep]),
                            None if flag is None else pa.array(_flags(flag)[keep]))
    root, depth = jump, dist
    size = np.bincount(root, minlength=n)
    roots = np.flatnonzero(par < 0)
    roots = roots[size[roots] > 1]
    maxd = np.zeros(n, dtype=np.int64)
    np.maximum.at(maxd, root, depth)
    top = int(depth.max()) + 1 if n else 1
    key = root * top + depth
    uk, cnt = np.unique(key, return_counts=True)
    breadth = np.zeros(n, dtype=np.int64)
    np.maximum.at(breadth, uk // top, cnt)
    sub = np.ones(n, dtype=np.int64)
    order = np.argsort(-depth, kind="stable")
    d_sorted = depth[order]
    bounds = np.flatnonzero(np.diff(d_sorted)) + 1
    for grp in np.split(order, bounds):
        if len(grp) == 0 or depth[grp[0]] == 0:
            continue
        np.add.at(sub, par[grp], sub[grp])
    nonroot = par >= 0
    w = np.zeros(n, dtype=np.float64)
    np.add.at(w, root[nonroot], sub[nonroot] * (size[root[nonroot]] - sub[nonroot]).astype(np.float64))
    s = size[roots].astype(np.float64)
    sv = 2.0 * w[roots] / (s * (s - 1))
    out = {"root": roots, "nodes": nodes, "size": size[roots], "depth": maxd[roots],
           "breadth": breadth[roots], "virality": sv}
    if flag is not None:
        out["flagged"] = np.bincount(root[c], weights=_flags(flag), minlength=n).astype(np.int64)[roots]
    return out


def _flags(x: pa.Array | pa.ChunkedArray) -> np.ndarray:
    if isinstance(x, pa.ChunkedArray):
        x = x.combine_chunks()
    return np.asarray(x.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _summary(x: np.ndarray) -> dict[str, Any]:
    if len(x) == 0:
        return {"count": 0}
    return {"count": int(len(x)), "mean": round(float(x.mean()), 4), "median": float(np.median(x)),
            "p90": float(np.percentile(x, 90)), "max": float(x.max())}


def _histogram(x: np.ndarray) -> list[dict[str, int]]:
    """Counts in powers-of-two bins: [1,2), [2,4), [4,8), ..."""
    if len(x) == 0:
        return []
    b = np.floor(np.log2(np.maximum(x, 1))).astype(np.int64)
    out = np.bincount(b)
    return [{"from": 2 ** i, "to": 2 ** (i + 1), "cascades": int(v)} for i, v in enumerate(out) if v]


def _largest(tm: dict[str, Any], top: int) -> tuple[list[int], list[str]]:
    """The ``top`` largest trees, by size, ties by root post id (so the order does not depend on
    the order in which the engine returned the rows); -> (indices into the per-tree arrays, root ids)."""
    size = tm["size"]
    if len(size) == 0:
        return [], []
    cut = np.partition(size, len(size) - min(top, len(size)))[len(size) - min(top, len(size))]
    cand = np.flatnonzero(size >= cut)
    ids = tm["nodes"].take(pa.array(tm["root"][cand])).to_pylist()
    best = sorted(zip(cand.tolist(), ids), key=lambda x: (-int(size[x[0]]), x[1]))[:top]
    return [i for i, _ in best], [pid for _, pid in best]


def describe(tm: dict[str, np.ndarray], store: Any, label: str, top: int = 10) -> dict[str, Any]:
    order, ids = _largest(tm, top)
    authors = {}
    if ids:
        for r in sql.rows(store, "SELECT id, author_id, author_handle FROM posts WHERE id IN {ids}",
                          ids=sql.Raw(sql.in_list(ids))):
            authors[r["id"]] = r
    largest = []
    for i, pid in zip(order, ids):
        a = authors.get(pid, {})
        largest.append({"post_id": pid, "account_id": a.get("author_id"), "handle": a.get("author_handle"),
                        "size": int(tm["size"][i]), "depth": int(tm["depth"][i]),
                        "max_breadth": int(tm["breadth"][i]),
                        "structural_virality": round(float(tm["virality"][i]), 4)})
        if "flagged" in tm:
            largest[-1]["replies_tagged"] = int(tm["flagged"][i])
            largest[-1]["replies_untagged"] = int(tm["size"][i]) - 1 - int(tm["flagged"][i])
    return {
        "shape": label,
        "cascades": int(len(tm["size"])),
        "size": _summary(tm["size"]), "depth": _summary(tm["depth"]),
        "max_breadth": _summary(tm["breadth"]), "structural_virality": _summary(tm["virality"]),
        "size_histogram": _histogram(tm["size"]),
        "largest": largest,
    }


def reply_trees(store: Any, scope: Scope) -> dict[str, Any]:
    """The reply trees of the movement's conversation; ``replies`` counts their replies with and
    without the hashtag, ``untagged`` says where the untagged ones hang, and each of the
    ``largest`` trees gives its own split and whether its root carries the hashtag."""
    conv = conversation(store, scope)
    e = sql.run(store, REPLY_EDGES_SQL, conv=conv.table)
    tm = tree_metrics(e.column("child"), e.column("parent"), e.column("in_movement"))
    out = describe(tm, store, "exact")
    out["counts"] = ("trees of the movement's conversation: every reply descending from a movement post or "
                     "from the root of its thread, with or without the hashtag")
    out.update(conv.describe())
    if out["largest"]:
        ids = [t["post_id"] for t in out["largest"]]
        tagged_roots = {r["id"] for r in sql.rows(store, ROOTS_TAGGED_SQL, mv=scope.table,
                                                   ids=sql.Raw(sql.in_list(ids)))}
        for t in out["largest"]:
            t["root_carries_hashtag"] = t["post_id"] in tagged_roots
    return out


def repost_cascades(store: Any, scope: Scope, follows: sql.Raw | None = None) -> dict[str, Any]:
    t = repost_parents(store, scope, follows)
    out = describe(tree_metrics(t.column("id"), t.column("parent")), store,
                   "star" if follows is None else "reconstructed")
    if follows is None:
        out["parent_inference"] = {"method": "star", "reposts": t.num_rows,
                                   "note": "no follower graph: every repost hangs from the original"}
    else:
        conf = t.column("confidence").to_numpy(zero_copy_only=False)
        out["parent_inference"] = {
            "method": "followers (most recent followed earlier sharer)", "reposts": t.num_rows,
            "with_followed_candidate": int((conf > 0).sum()),
            "mean_confidence": round(float(conf.mean()), 4) if len(conf) else None,
        }
    return out


def cascades(store: Any, scope: Scope, follows: sql.Raw | None = None) -> dict[str, Any]:
    return {"replies": reply_trees(store, scope), "reposts": repost_cascades(store, scope, follows)}
