"""Trending: the rank of every hashtag per interval, and when the movement
reached the top.

Score (Mastodon, ``app/models/trends/tags.rb`` in mastodon/mastodon): for a
tag in an interval, ``observed`` = distinct accounts using it (a reposter
counts for the reposted post's tags, as Mastodon counts reblogs),
``expected`` = distinct accounts in the interval before (Mastodon compares
with the day before; at ``--interval day`` this is the same), at least 1.
The raw score is ``(observed - expected)**2 / expected`` when
``observed >= expected`` and ``observed >= threshold`` (5, Mastodon's
``threshold``), else 0.

Minimum activity (groundswell's addition): a tag is also only eligible in an
interval where at least ``threshold`` distinct accounts wrote it in posts of
their own (originals, replies, quotes). Reposts alone do not qualify it: in a
quiet hour of a small archive, one stray post and a handful of its reposts
would otherwise top the ranking (nothing else is eligible there), days
before a movement exists. A tag keeps its best raw score for a
cooldown of 2 days, decaying with a half-life of 2 hours:
``score = max_score * 0.5 ** ((t - t_max) / 2h)``. Tags with a positive score
are ranked by score (then accounts, then name). The movement's rank at each
interval is the best rank of its hashtags.

Burst states (Kleinberg 2002, see :mod:`bursts`) of the movement's count
series are given beside the ranks. :func:`volume_trends` runs the same score
on the platform's counts (twarc2 ``counts``, the ``volumes`` table), one
series per query, with counts standing in for accounts.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np

from groundswell.analysis import sql
from groundswell.analysis.bursts import burst_periods, kleinberg_states
from groundswell.analysis.scope import STEP, Scope, bucket

THRESHOLD = 5
HALFLIFE = timedelta(hours=2)
COOLDOWN = timedelta(days=2)

TAG_ACCOUNTS_SQL = """
WITH t AS (SELECT {bucket} AS t, coalesce(author_id, author_handle) AS account,
                  CASE WHEN kind <> 'repost' THEN 1 ELSE 0 END AS own, unnest(hashtags) AS tag
           FROM posts WHERE {window}),
a AS (SELECT tag, t, account, max(own) AS own FROM t WHERE account IS NOT NULL GROUP BY tag, t, account),
c AS (SELECT tag, t, count(*) AS accounts, count(CASE WHEN own = 1 THEN 1 END) AS authors FROM a GROUP BY tag, t)
SELECT tag, t, accounts, authors FROM c
WHERE accounts >= 2 AND tag IN (SELECT tag FROM c WHERE authors >= {threshold})
"""

VOLUMES_SQL = """
SELECT coalesce(query, '') AS tag, {bucket} AS t, sum("count") AS accounts FROM volumes
GROUP BY 1, 2
"""


def scores(tags: list[str], times: list[datetime], counts: np.ndarray, step: timedelta,
           authors: np.ndarray | None = None) -> np.ndarray:
    """Decayed Mastodon scores for a tags x times matrix of distinct-account counts; ``authors``
    (distinct accounts writing the tag themselves) must also reach the threshold."""
    expected = np.maximum(np.concatenate([np.zeros((len(tags), 1)), counts[:, :-1]], axis=1), 1.0)
    active = counts if authors is None else authors
    raw = np.where((counts >= expected) & (counts >= THRESHOLD) & (active >= THRESHOLD),
                   (counts - expected) ** 2 / expected, 0.0)
    out = np.zeros_like(raw)
    best = np.zeros(len(tags))
    best_at = np.full(len(tags), -10 ** 9, dtype=np.int64)
    cool = COOLDOWN / step
    half = HALFLIFE / step
    for j in range(len(times)):
        stale = (j - best_at) > cool
        best = np.where(stale, 0.0, best)
        new = raw[:, j] > best
        best = np.where(new, raw[:, j], best)
        best_at = np.where(new, j, best_at)
        out[:, j] = best * 0.5 ** ((j - best_at) / half)
    return out


def rank_matrix(tags: list[str], counts: np.ndarray, sc: np.ndarray) -> np.ndarray:
    """Rank (1 = top, 0 = unranked) of each tag at each time."""
    ranks = np.zeros(sc.shape, dtype=np.int64)
    names = np.array(tags)
    name_order = np.argsort(names, kind="stable")
    for j in range(sc.shape[1]):
        o = np.lexsort((name_order.argsort(), -counts[:, j], -sc[:, j]))
        pos = np.empty(len(tags), dtype=np.int64)
        pos[o] = np.arange(1, len(tags) + 1)
        ranks[:, j] = np.where(sc[:, j] > 0, pos, 0)
    return ranks


def _trend(rows: list[dict[str, Any]], scope: Scope, movement: list[str], series_counts: list[int] | None,
           top: int = 3) -> dict[str, Any]:
    step = STEP[scope.interval]
    if not rows:
        return {"score": "mastodon", "ranks": [], "first_top10": None, "first_top1": None, "best_rank": None}
    t0, t1 = min(r["t"] for r in rows), max(r["t"] for r in rows)
    times = []
    t = t0
    while t <= t1:
        times.append(t)
        t += step
    ti = {t: i for i, t in enumerate(times)}
    tags = sorted({r["tag"] for r in rows})
    gi = {g: i for i, g in enumerate(tags)}
    counts = np.zeros((len(tags), len(times)))
    authors = np.zeros((len(tags), len(times))) if rows and "authors" in rows[0] else None
    for r in rows:
        counts[gi[r["tag"]], ti[r["t"]]] = r["accounts"]
        if authors is not None:
            authors[gi[r["tag"]], ti[r["t"]]] = r["authors"]
    sc = scores(tags, times, counts, step, authors)
    rk = rank_matrix(tags, counts, sc)
    mv = [gi[m] for m in movement if m in gi]
    series = []
    first10 = first1 = None
    best = None
    for j, t in enumerate(times):
        ranked = [int(rk[i, j]) for i in mv if rk[i, j] > 0]
        mr = min(ranked) if ranked else None
        if mr is not None:
            best = mr if best is None else min(best, mr)
            if mr <= 10 and first10 is None:
                first10 = t
            if mr == 1 and first1 is None:
                first1 = t
        leaders = [tags[i] for i in np.argsort(rk[:, j] + (rk[:, j] == 0) * 10 ** 9, kind="stable")[:top]
                   if rk[i, j] > 0]
        series.append({"time": sql.iso(t), "rank": mr,
                       "score": round(float(max((sc[i, j] for i in mv), default=0.0)), 3),
                       "accounts": int(max((counts[i, j] for i in mv), default=0)), "top": leaders})
    out: dict[str, Any] = {
        "score": "mastodon distinct-account excess over expected, 2 h half-life, 2 day cooldown",
        "tags_ranked": len(tags), "ranks": series, "best_rank": best,
        "first_top10": sql.iso(first10), "first_top1": sql.iso(first1),
    }
    if series_counts is not None:
        st = kleinberg_states(series_counts)
        out["burst_levels"] = st
        out["bursts"] = [{"start_index": a, "end_index": b, "level": lv} for a, b, lv in burst_periods(st)]
    return out


def hashtag_trends(store: Any, scope: Scope, series: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    rows = sql.rows(store, TAG_ACCOUNTS_SQL, bucket=bucket(scope.interval), window=scope.window_sql(),
                    threshold=THRESHOLD)
    out = _trend(rows, scope, scope.hashtags, None)
    if series:
        st = kleinberg_states([r["posts"] for r in series])
        out["burst_levels"] = [{"time": sql.iso(r["time"]), "level": s} for r, s in zip(series, st)]
    return out


def volume_trends(store: Any, scope: Scope) -> dict[str, Any] | None:
    rows = sql.rows(store, VOLUMES_SQL, bucket=bucket(scope.interval, "start"))
    if not rows:
        return None
    queries = sorted({r["tag"] for r in rows})
    movement = [q for q in queries if any(h in q.casefold() for h in scope.hashtags)]
    counts: dict[Any, int] = {}
    for r in rows:
        if r["tag"] in movement:
            counts[r["t"]] = counts.get(r["t"], 0) + int(r["accounts"])
    ordered = [counts[t] for t in sorted(counts)]
    out = _trend(rows, scope, movement, ordered)
    out["queries"] = queries
    out["movement_queries"] = movement
    return out
