"""Coverage: how the archive was collected, so no claim rests on a collection edge.

An archive is what someone collected, not what was posted. Before a takeoff,
a peak or a trend is claimed, groundswell reads the shape of the collection
from the posts themselves (every post kept as collected: posts seen only
embedded in another record, ``is_reference``, are left out, since their
times say nothing about the collection):

* ``first`` / ``last``: the first and last collected moment.
* ``gaps``: runs of empty hours where the rate on both sides says posts were
  due. A run of ``k`` empty hours between stretches running at ``a`` and ``b``
  posts an hour is a gap when ``min(a, b) * k >= GAP_EXPECTED`` (under a
  Poisson rate the chance of that run being empty is below ``e**-30``); the
  rates are read from the (up to) ``NEIGHBOURHOOD`` hours on each side, each
  as the lower end of its 95% interval (one post in the first hour collected
  does not make the quiet day after it a gap).
* ``changes``: where one input file hands over to another whose rate differs
  by ``RATE_RATIO`` times or more (a daily scrape followed by a sample of the
  following weeks, say): a change in collection, not in the movement.
* ``segments``: the stretches between gaps and changes. Each is ``dense`` or
  ``sampled``: sampled when its rate is ``RATE_RATIO`` times or more below a
  neighbouring segment's, or when its days hold the same number of posts
  (a capped sample: at least ``CAPPED_DAYS`` whole days, spread within 2%).
* ``main``: the dense stretch that holds most of the movement's posts (dense
  segments apart only by gaps of up to ``MERGE_GAP_HOURS`` are one stretch;
  the gap hours inside it are left out, not counted as zeros). The takeoff,
  the peak and trend claims are made inside it, and none may rest on one of
  its edges (its first hour, the first hour after a gap inside it); the
  timeline still shows everything.
* ``search``: when (almost) every post of the archive carries the movement's
  hashtag (``SEARCH_SHARE`` of the posts that are not reposts), the archive
  was collected by searching for it: the hashtag's share or rank among the
  archive's hashtags then says nothing about the platform.
* ``platform_counts``: the platform's own counts (twarc2 ``counts``, the
  ``volumes`` table), which see what a collection missed.

Every figure says what it counts: ``posts`` here are collected posts of any
kind and any hashtag.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from scipy.special import gammaincinv

from groundswell.analysis import sql
from groundswell.analysis.scope import Scope, has_tag

HOUR = timedelta(hours=1)
GAP_EXPECTED = 30.0
NEIGHBOURHOOD = 24
RATE_RATIO = 10.0
CAPPED_DAYS = 3
MERGE_GAP_HOURS = 48  # dense stretches this close, across a gap, are one collection
SEARCH_SHARE = 0.98

COLLECTED_SQL = """
SELECT date_trunc('hour', created_at) AS t, count(*) AS n,
       sum(CASE WHEN kind <> 'repost' THEN 1 ELSE 0 END) AS own,
       sum(CASE WHEN kind <> 'repost' AND {tagged} THEN 1 ELSE 0 END) AS tagged
FROM posts
WHERE created_at IS NOT NULL AND NOT coalesce(is_reference, false) AND {window}
GROUP BY 1
"""

FILE_DAYS_SQL = """
SELECT coalesce(source_file, '') AS file, date_trunc('day', created_at) AS d, count(*) AS n
FROM posts WHERE created_at IS NOT NULL AND NOT coalesce(is_reference, false) AND {window}
GROUP BY 1, 2
"""

FILE_HOURS_SQL = """
SELECT coalesce(source_file, '') AS file, date_trunc('hour', created_at) AS t, count(*) AS n
FROM posts WHERE created_at IS NOT NULL AND NOT coalesce(is_reference, false) AND {window}
  AND coalesce(source_file, '') IN {files}
GROUP BY 1, 2
"""

FILES_SQL = """
SELECT coalesce(source_file, '') AS file, min(created_at) AS first, max(created_at) AS last, count(*) AS n
FROM posts WHERE created_at IS NOT NULL AND NOT coalesce(is_reference, false) AND {window}
GROUP BY 1 ORDER BY 2, 1
"""

MOVEMENT_HOURS_SQL = "SELECT date_trunc('hour', created_at) AS t, count(*) AS n FROM {mv} GROUP BY 1"


@dataclass
class Segment:
    start: int  # hour index, inclusive
    end: int  # hour index, exclusive
    posts: int = 0
    kind: str = "dense"
    reason: str | None = None
    movement_posts: int = 0

    def rate(self) -> float:
        return self.posts / max(self.end - self.start, 1)


def _hours(first: datetime, last: datetime) -> list[datetime]:
    out, t = [], first
    while t <= last:
        out.append(t)
        t += HOUR
    return out


def rate_low(posts: float, hours: int) -> float:
    """The lower end of a 95% interval of a Poisson rate seen as ``posts`` in ``hours`` (a post or two in
    an hour say little about the rate: a gap is called only on what the neighbours surely show)."""
    if posts <= 0 or hours <= 0:
        return 0.0
    return float(gammaincinv(posts, 0.025)) / hours


def find_gaps(counts: np.ndarray) -> list[tuple[int, int, float]]:
    """Empty runs ``[a, b)`` whose emptiness the neighbouring rates make (near) impossible."""
    out = []
    n, i = len(counts), 0
    while i < n:
        if counts[i] > 0:
            i += 1
            continue
        j = i
        while j < n and counts[j] == 0:
            j += 1
        if i > 0 and j < n:
            left = counts[max(0, i - NEIGHBOURHOOD):i]
            right = counts[j:j + NEIGHBOURHOOD]
            expected = min(rate_low(float(left.sum()), len(left)), rate_low(float(right.sum()), len(right))) * (j - i)
            if expected >= GAP_EXPECTED:
                out.append((i, j, expected))
        i = j
    return out


def _capped_files(store: Any, scope: Scope) -> dict[str, int]:
    """Input files whose whole days hold (about) the same number of posts: capped samples, with the cap."""
    per: dict[str, dict[Any, int]] = {}
    for r in sql.rows(store, FILE_DAYS_SQL, window=scope.window_sql()):
        per.setdefault(r["file"], {})[r["d"]] = int(r["n"])
    out = {}
    for f, days in per.items():
        ks = sorted(days)
        inner = [days[k] for k in ks[1:-1]] if len(ks) > 2 else []  # first and last days may be partial
        if _capped(inner):
            out[f] = max(inner)
    return out


def _capped(day_counts: list[int]) -> bool:
    full = [c for c in day_counts if c > 0]
    if len(full) < CAPPED_DAYS or min(full) < 10:
        return False
    return (max(full) - min(full)) <= 0.02 * max(full)


def coverage(store: Any, scope: Scope) -> dict[str, Any]:
    """How the archive was collected (see the module docstring); JSON-ready, plus ``_main`` (hour indices)."""
    rows = sql.rows(store, COLLECTED_SQL, window=scope.window_sql(), tagged=has_tag(scope.hashtags))
    out: dict[str, Any] = {"counts": "collected posts of any kind and hashtag (posts seen only inside other "
                                     "records are left out)",
                           "first": None, "last": None, "posts": 0, "gaps": [], "changes": [], "segments": [],
                           "main": None, "search": None, "notes": []}
    if not rows:
        return out
    got = {r["t"]: r for r in rows}
    hours = _hours(min(got), max(got))
    idx = {t: i for i, t in enumerate(hours)}
    counts = np.zeros(len(hours))
    for t, r in got.items():
        counts[idx[t]] = r["n"]
    total = int(counts.sum())
    first = sql.scalar(store, "SELECT min(created_at) FROM posts WHERE created_at IS NOT NULL AND "
                              "NOT coalesce(is_reference, false) AND {window}", window=scope.window_sql())
    last = sql.scalar(store, "SELECT max(created_at) FROM posts WHERE created_at IS NOT NULL AND "
                             "NOT coalesce(is_reference, false) AND {window}", window=scope.window_sql())
    out.update(first=sql.iso(first), last=sql.iso(last), posts=total)

    # where collection stopped and resumed
    cuts: dict[int, str] = {}
    for a, b, exp in find_gaps(counts):
        out["gaps"].append({"start": sql.iso(hours[a]), "end": sql.iso(hours[b - 1] + HOUR), "hours": b - a,
                            "posts_expected": round(exp)})
        cuts[a] = "gap"
        cuts[b] = "gap"
    files = sql.rows(store, FILES_SQL, window=scope.window_sql())
    for prev, nxt in zip(files, files[1:]):
        if nxt["first"] <= prev["last"]:
            continue  # overlapping files: one collection written in parts
        pa_, pb = idx.get(prev["first"].replace(minute=0, second=0, microsecond=0)), idx.get(
            prev["last"].replace(minute=0, second=0, microsecond=0))
        na, nb = idx.get(nxt["first"].replace(minute=0, second=0, microsecond=0)), idx.get(
            nxt["last"].replace(minute=0, second=0, microsecond=0))
        if None in (pa_, pb, na, nb):
            continue
        r1 = prev["n"] / max(pb - pa_ + 1, 1)  # type: ignore[operator]
        r2 = nxt["n"] / max(nb - na + 1, 1)  # type: ignore[operator]
        if max(r1, r2) >= RATE_RATIO * max(min(r1, r2), 1e-9):
            cuts.setdefault(na, "change")  # type: ignore[arg-type]
            out["changes"].append({"at": sql.iso(hours[na]), "posts_per_hour_before": round(r1, 2),  # type: ignore[index]
                                   "posts_per_hour_after": round(r2, 2)})

    # segments between the cuts (gaps are left out)
    gap_hours = np.zeros(len(hours), dtype=bool)
    for a, b, _ in find_gaps(counts):
        gap_hours[a:b] = True
    bounds = sorted({0, len(hours), *cuts})
    segs: list[Segment] = []
    for a, b in zip(bounds, bounds[1:]):
        if a >= b or gap_hours[a]:
            continue
        segs.append(Segment(a, b, int(counts[a:b].sum())))
    mv = {r["t"]: int(r["n"]) for r in sql.rows(store, MOVEMENT_HOURS_SQL, mv=scope.table)}
    for s in segs:
        s.movement_posts = sum(n for t, n in mv.items() if t in idx and s.start <= idx[t] < s.end)
    capped_files = _capped_files(store, scope)
    from_capped = np.zeros(len(hours))
    if capped_files:
        for r in sql.rows(store, FILE_HOURS_SQL, window=scope.window_sql(),
                          files=sql.Raw(sql.in_list(sorted(capped_files)))):
            if r["t"] in idx:
                from_capped[idx[r["t"]]] += r["n"]
    for k, s in enumerate(segs):
        if capped_files and from_capped[s.start:s.end].sum() >= 0.5 * max(s.posts, 1):
            per_day = max(capped_files.values())
            s.kind, s.reason = "sampled", (f"from an input file that holds the same number of posts every day "
                                           f"(about {per_day:,} a day): a capped sample")
            continue
        days: dict[Any, list[int]] = {}
        for i in range(s.start, s.end):
            days.setdefault(hours[i].date(), []).append(int(counts[i]))
        whole = [sum(v) for v in days.values() if len(v) == 24]  # days wholly inside the segment
        if _capped(whole):
            s.kind, s.reason = ("sampled",
                                f"the same number of posts every day (about {max(whole):,} a day): a capped sample")
            continue
        for o in (segs[k - 1] if k else None, segs[k + 1] if k + 1 < len(segs) else None):
            if o is not None and o.rate() >= RATE_RATIO * max(s.rate(), 1e-9) and o.posts >= 10 * max(s.posts, 1):
                s.kind = "sampled"
                s.reason = (f"{s.rate():.2g} posts an hour beside {o.rate():.3g} in the neighbouring stretch: "
                            "a sample, or a different collection")
                break
    # stretches: dense segments one collection apart only by short gaps (collection stopped and resumed)
    stretches: list[list[Segment]] = []
    for s in segs:
        if s.kind != "dense":
            continue
        last = stretches[-1][-1] if stretches else None
        if last is not None and last.end < s.start and s.start - last.end <= MERGE_GAP_HOURS \
                and gap_hours[last.end:s.start].all():
            stretches[-1].append(s)
        else:
            stretches.append([s])
    main = max(stretches, key=lambda st: (sum(x.movement_posts for x in st), sum(x.posts for x in st))) \
        if stretches else None
    if main is None and segs:
        out["main_note"] = ("every stretch of the archive looks sampled: its volume says nothing about when the "
                            "movement took off or peaked")
    for s in segs:
        out["segments"].append({"start": sql.iso(hours[s.start]), "end": sql.iso(hours[s.end - 1] + HOUR),
                                "posts": s.posts, "movement_posts": s.movement_posts,
                                "posts_per_hour": round(s.rate(), 2), "kind": s.kind, "reason": s.reason,
                                "main": main is not None and any(s is x for x in main)})
    if main is not None:
        a, b = main[0].start, main[-1].end
        inner = [(x.end, y.start) for x, y in zip(main, main[1:])]
        out["main"] = {"start": sql.iso(hours[a]), "end": sql.iso(hours[b - 1] + HOUR),
                       "posts": sum(x.posts for x in main), "movement_posts": sum(x.movement_posts for x in main),
                       "gaps_inside": [{"start": sql.iso(hours[g0]), "end": sql.iso(hours[g1])} for g0, g1 in inner]}
        out["_main"] = (hours[a], hours[b - 1] + HOUR)
        out["_gaps"] = [(hours[g0], hours[g1]) for g0, g1 in inner]
    own = sum(r["own"] or 0 for r in rows)
    tagged = sum(r["tagged"] or 0 for r in rows)
    if own and tagged / own >= SEARCH_SHARE:
        out["search"] = {"hashtags": scope.hashtags, "share": round(tagged / own, 4),
                         "counts": "posts that are not reposts"}
    out["notes"] = notes(out)
    return out


def _rate(x: float) -> str:
    return f"{x:,.0f}" if x >= 10 else f"{x:.2g}"


def notes(c: dict[str, Any]) -> list[str]:
    """The coverage in words, for the summary, the report and the brief."""
    out = []
    if c.get("first"):
        out.append(f"The archive holds {c['posts']:,} collected posts from {c['first']} to {c['last']}.")
    segs = c.get("segments", [])
    main = c.get("main")
    if c.get("main_note"):
        why = next((s["reason"] for s in segs if s.get("reason")), None)
        out.append(c["main_note"][0].upper() + c["main_note"][1:] + (f" ({why})." if why else "."))
    if main is not None and (len(segs) > 1 or main.get("gaps_inside")):
        others = [s for s in segs if not s["main"]]
        sampled = [s for s in others if s["kind"] == "sampled"]
        mv = sum(s["movement_posts"] for s in segs) or 1
        inside = f", across {len(main['gaps_inside'])} gap(s)" if main.get("gaps_inside") else ""
        rest = (f"; {len(others)} other stretch(es) hold {sum(s['posts'] for s in others):,} posts"
                + (f", {len(sampled)} of them sampled ({sampled[0]['reason']})" if sampled else "")) if others else ""
        out.append(f"Takeoff, peak and trends are read from the densest stretch of collection, {main['start']} to "
                   f"{main['end']}{inside} ({100 * main['movement_posts'] / mv:.0f}% of the movement's posts)"
                   f"{rest}.")
    if c.get("changes"):
        ch = c["changes"][0]
        out.append(f"Collection changed at {ch['at']}: {_rate(ch['posts_per_hour_before'])} posts an hour before, "
                   f"{_rate(ch['posts_per_hour_after'])} after (a different input file).")
    if c.get("gaps"):
        g = c["gaps"]
        longest = max(g, key=lambda x: x["hours"])
        out.append(f"Collection has {len(g)} gap(s) where posts were due but none were collected (the longest "
                   f"{longest['hours']:,} hours, from {longest['start']}).")
    if c.get("search"):
        out.append(f"{100 * c['search']['share']:.0f}% of the posts that are not reposts carry "
                   f"#{' #'.join(c['search']['hashtags'])}: the archive was collected by searching for it, so "
                   "its rank among this archive's hashtags says nothing about the platform.")
    return out
