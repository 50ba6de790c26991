"""``analyze``: every answer about one movement, as one JSON-ready dict.

Runs the questions in order (timeline, trending, onset, spread, cascades,
people, hashtags, reach, coordination, and content when the store has
``post_labels``) over the movement's posts, materialized once by
:func:`groundswell.analysis.scope.movement_scope`. Times are ISO 8601 UTC
with 'Z'; ids are strings; accounts appear as ``account_id`` and ``handle``.
``timings`` gives the seconds each step took.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from groundswell.analysis import sql
from groundswell.analysis.cascades import cascades as _cascades
from groundswell.analysis.cascades import load_follows, store_follows
from groundswell.analysis.coordination import coordinated_groups
from groundswell.analysis.coverage import coverage as _coverage
from groundswell.analysis.hashtags import hashtags as _hashtags
from groundswell.analysis.onset import BEFORE as IGNITION_BEFORE
from groundswell.analysis.onset import onset as _onset
from groundswell.analysis.people import people as _people
from groundswell.analysis.reach import reach as _reach
from groundswell.analysis.scope import movement_scope, parse_time
from groundswell.analysis.spread import spread as _spread
from groundswell.analysis.timeline import hashtag_timeline, timeline_rows
from groundswell.analysis.trending import hashtag_trends, volume_trends
from groundswell.errors import UsageError

KEYS = ("timeline", "trending", "onset", "spread", "cascades", "people", "hashtags", "reach", "coordination")


def analyze(store: Any, hashtags: list[str] | str, start: Any = None, end: Any = None, interval: str = "hour",
            followers: str | None = None, seed: int = 0) -> dict[str, Any]:
    """Answer every question about the movement; see the module docstring."""
    timings: dict[str, float] = {}
    t = time.perf_counter()

    def tick(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        timings[name] = round(now - t, 3)
        t = now

    scope = movement_scope(store, hashtags, start, end, interval)
    rows = timeline_rows(store, scope)
    counted = platform_counts(store, scope)
    if not rows:
        sql.drop(store, "gs_movement")
        if counted:
            only = counts_only(scope, counted)
            only["timings"] = timings
            return only
        raise UsageError(f"no posts with #{' #'.join(scope.hashtags)} in the store"
                         + (" in that time window" if scope.start or scope.end else "")
                         + "; see 'groundswell hashtags' for what is there")
    follows = load_follows(store, followers) if followers else store_follows(store, scope)
    tick("scope")
    cov = _coverage(store, scope)
    main = cov.pop("_main", None)
    gaps = cov.pop("_gaps", None)
    if counted:
        cov["platform_counts"] = {"buckets": len(counted), "posts": sum(counted.values()),
                                  "counts": "posts the platform counted for the movement's queries"}
    tick("coverage")
    out: dict[str, Any] = {"movement": scope.describe(), "coverage": cov}
    out["timeline"] = hashtag_timeline(store, scope, rows)
    _qualify_timeline(out["timeline"], rows, main, counted, scope, cov.get("main_note"))
    tick("timeline")
    out["trending"] = hashtag_trends(store, scope, rows)
    vt = volume_trends(store, scope)
    if vt is not None:
        out["trending"]["volumes"] = vt
    _qualify_trending(out["trending"], cov, main, scope)
    tick("trending")
    out["onset"] = _onset(store, scope, rows, {**cov, "_main": main, "_gaps": gaps})
    tick("onset")
    out["spread"] = _spread(store, scope)
    tick("spread")
    out["cascades"] = _cascades(store, scope, follows)
    tick("cascades")
    ign = out["onset"].get("ignition") or {}
    seed_account = (ign.get("account_id") or ign.get("handle")) if ign.get("status") == "determined" else None
    if seed_account is None and out["onset"]["first_post"]:
        fp = out["onset"]["first_post"]
        seed_account = fp["account_id"] or fp["handle"]
    out["people"] = _people(store, scope, rows, seed_account, follows, seed=seed,
                            since=movement_start(out["onset"]))
    tick("people")
    out["hashtags"] = _hashtags(store, scope)
    tick("hashtags")
    out["reach"] = _reach(store, scope, out["timeline"]["posts"])
    tick("reach")
    out["coordination"] = coordinated_groups(store, scope)
    tick("coordination")
    if sql.has_table(store, "post_labels"):
        from groundswell.analysis.content import content_mix

        notable = [n["account_id"] for n in out["people"]["notable"] if n["account_id"]]
        mix = content_mix(store, scope, notable, out["people"]["communities"].get("count", 0) > 0)
        if mix is not None:
            out["content"] = mix
        tick("content")
    for name in ("gs_movement", "gs_membership", "gs_follows", "gs_conversation"):
        sql.drop(store, name)
    out["timings"] = timings
    return out


def _qualify_timeline(tl: dict[str, Any], rows: list[dict[str, Any]], main: Any, counted: dict[datetime, int],
                      scope: Any, note: str | None = None) -> None:
    """Name what the timeline counts, keep its peak inside the main stretch of collection, and put the
    platform's counts beside the observed posts."""
    tl["counts"] = "movement posts: posts carrying the hashtag(s), and reposts of them"
    # intervals overlapping the main stretch (a day bucket may start before it); none when every stretch
    # looks sampled
    inside = [r for r in rows if main is None or (r["time"] < main[1] and r["time"] + scope.step > main[0])]
    if main is None and note:
        inside = []
        tl["peak"] = None
        tl["peak_note"] = note
    if inside:
        p = max(inside, key=lambda r: r["posts"])
        tl["peak"] = sql.iso(p["time"])
        tl["peak_posts"] = p["posts"]
        tl["peak_at_collection_edge"] = bool(main is not None and p is inside[-1])
    if counted:
        per: dict[datetime, int] = {}
        for t0, n in counted.items():
            k = _trunc(t0, scope.interval)
            per[k] = per.get(k, 0) + n
        for r in tl["rows"]:
            at = parse_time(r["time"])
            c = per.get(at) if at is not None else None
            r["platform_count"] = c
            r["observed_share"] = round(r["posts"] / c, 4) if c else None
        tl["fields"] = [*tl["fields"], "platform_count", "observed_share"]


def _trunc(t: datetime, interval: str) -> datetime:
    if interval == "day":
        return t.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval == "hour":
        return t.replace(minute=0, second=0, microsecond=0)
    return t.replace(second=0, microsecond=0)


def _qualify_trending(tr: dict[str, Any], cov: dict[str, Any], main: Any, scope: Any) -> None:
    """No trend claim from an archive collected for the hashtag, or outside the main stretch of collection."""
    if cov.get("search"):
        tr["meaningful"] = False
        tr["context"] = (f"the archive was collected by searching for #{' #'.join(scope.hashtags)}: "
                         f"{100 * cov['search']['share']:.0f}% of its posts that are not reposts carry it, so its "
                         "rank among the archive's hashtags says nothing about the platform's trends")
        tr["best_rank"] = tr["first_top10"] = tr["first_top1"] = None
        return
    if main is None and cov.get("main_note"):
        tr["meaningful"] = False
        tr["context"] = cov["main_note"]
        tr["best_rank"] = tr["first_top10"] = tr["first_top1"] = None
        return
    tr["meaningful"] = True
    tr["context"] = None
    if main is None:
        return
    # the first interval of a stretch has no interval before it to compare with: no claim there
    ranks = [r for r in tr.get("ranks", []) if r.get("rank") is not None
             and main[0] + scope.step <= (parse_time(r["time"]) or main[0]) < main[1]]
    tr["best_rank"] = min((r["rank"] for r in ranks), default=None)
    tr["first_top10"] = next((r["time"] for r in ranks if r["rank"] <= 10), None)
    tr["first_top1"] = next((r["time"] for r in ranks if r["rank"] == 1), None)


PLATFORM_COUNTS_SQL = """
SELECT start AS t, "end" AS e, sum("count") AS n FROM volumes WHERE {match} GROUP BY 1, 2 ORDER BY 1
"""


def platform_counts(store: Any, scope: Any) -> dict[datetime, int]:
    """The platform's counts for queries naming one of the movement's hashtags, per bucket start."""
    if not sql.has_table(store, "volumes"):
        return {}
    match = sql.Raw("(" + " OR ".join(f"lower(coalesce(query, '')) LIKE {sql.literal('%' + h + '%')}"
                                       for h in scope.hashtags) + ")")
    got: dict[datetime, int] = {}
    for r in sql.rows(store, PLATFORM_COUNTS_SQL, match=match):
        if (scope.start is None or r["t"] >= scope.start) and (scope.end is None or r["t"] < scope.end):
            got[r["t"]] = got.get(r["t"], 0) + int(r["n"] or 0)
    return got


def counts_only(scope: Any, counted: dict[datetime, int]) -> dict[str, Any]:
    """The movement from the platform's counts alone: timeline, burst levels, takeoff and peak."""
    from groundswell.analysis.bursts import burst_periods, kleinberg_states
    from groundswell.analysis.onset import takeoff_index

    times = sorted(counted)
    steps = sorted({(b - a) for a, b in zip(times, times[1:])})
    step = steps[0] if steps else scope.step
    per: dict[datetime, int] = {}
    for t0, n in counted.items():
        k = _trunc(t0, scope.interval) if step < scope.step else t0
        per[k] = per.get(k, 0) + n
    keys = sorted(per)
    series: list[dict[str, Any]] = [{"time": k, "posts": per[k]} for k in keys]
    i = takeoff_index(series)
    states = kleinberg_states([r["posts"] for r in series])
    p = max(range(len(series)), key=lambda j: series[j]["posts"])
    shown = scope.interval if step < scope.step else ("day" if step >= timedelta(days=1) else
                                                       "hour" if step >= timedelta(hours=1) else "minute")
    return {
        "movement": {**scope.describe(), "interval": shown},
        "basis": "platform counts",
        "coverage": {"counts": "posts the platform counted for the movement's queries (twarc2 counts); "
                               "no posts are in the store",
                     "first": sql.iso(keys[0]), "last": sql.iso(keys[-1]), "posts": sum(per.values()),
                     "platform_counts": {"buckets": len(counted), "posts": sum(counted.values())},
                     "notes": ["The store holds the platform's counts for this hashtag, not its posts: the "
                               "timeline, bursts, takeoff and peak come from those counts; who started it, "
                               "who spread it and what was said cannot be read from counts."]},
        "timeline": {"interval": shown, "counts": "posts the platform counted",
                     "fields": ["time", "platform_count", "burst_level"],
                     "rows": [{"time": sql.iso(r["time"]), "platform_count": r["posts"], "burst_level": s}
                              for r, s in zip(series, states)],
                     "posts": sum(per.values()), "peak": sql.iso(series[p]["time"]), "peak_posts": series[p]["posts"]},
        "onset": {"takeoff": sql.iso(series[i]["time"]) if i is not None else None,
                  "takeoff_status": "determined" if i is not None else "undetermined",
                  "takeoff_posts": series[i]["posts"] if i is not None else 0,
                  "takeoff_counts": f"posts the platform counted that {shown}",
                  "method": f"poisson change point of the platform's count per {shown} up to the peak",
                  "peak": {"time": sql.iso(series[p]["time"]), "posts": series[p]["posts"],
                           "counts": f"posts the platform counted that {shown}", "at_collection_edge": False},
                  "bursts": [{"start": sql.iso(series[a]["time"]), "end": sql.iso(series[b]["time"] + step),
                              "level": lv} for a, b, lv in burst_periods(states)],
                  "first_post": None,
                  "ignition": {"status": "undetermined", "confidence": None, "candidates": [],
                               "reason": "the store holds counts, not posts"}},
    }


def movement_start(on: dict[str, Any]) -> datetime | None:
    """When the movement began: the ignition post's time when it falls within the window in which
    the ignition detector looks for a spark (``onset.BEFORE`` before the takeoff; a time, not a
    number of intervals, so every ``--interval`` agrees), else the start of the takeoff interval."""
    take = parse_time(on.get("takeoff"))
    if take is None:
        return None
    ig = on.get("ignition") or {}
    ign = parse_time(ig.get("time")) if ig.get("status") == "determined" else None
    return ign if ign is not None and ign >= take - IGNITION_BEFORE else take


def _acct(d: dict[str, Any] | None) -> str:
    if not d:
        return "-"
    h = d.get("handle")
    if h:
        return f"@{h}"
    return f"account {d['account_id']}" if d.get("account_id") else "an account not in the store"


def _v(x: Any, fmt: str = "{}") -> str:
    """A value for the text summary: '-' for a missing one, never 'None'."""
    return "-" if x is None else fmt.format(x)


def _evidence_words(ev: dict[str, int]) -> str:
    names = {"reposts": "reposts", "replies": "replies", "quotes": "quotes", "links": "links to its posts",
             "reposts_inferred": "'RT @' copies (inferred)", "replies_inferred": "'@' replies (inferred)",
             "mentions": "mentions"}
    parts = [f"{n:,} {names.get(k, k)}" for k, n in ev.items() if n]
    return ", ".join(parts) if parts else "no evidence"


def ignition_lines(ig: dict[str, Any]) -> list[str]:
    """The ignition in words: the answer with its evidence, or 'undetermined' with the candidates."""
    lines = []
    if ig.get("status") == "determined":
        post = f"post {ig['post_id']}" if ig.get("post_id") else "a post not in the store"
        tag = "" if ig.get("carries_hashtag") in (True, None) else " (it does not carry the hashtag)"
        if ig.get("time"):
            post += f" at {ig['time']}" + (" (from its id; the post is not in the store)"
                                           if ig.get("time_from") == "id" else "")
        if ig.get("post_by") == "only_post":
            post += " (the evidence names the account; this is its only movement post near the takeoff)"
        elif ig.get("post_by") == "rt_copies":
            post += " (the evidence names the account; scraped 'RT @' copies reproduce this post)"
        lines.append(f"ignition      {post} by {_acct(ig)}{tag}; confidence {ig.get('confidence')}, "
                     f"evidence from {_evidence_words(ig.get('evidence') or {})} (accounts)")
        if ig.get("second_look"):
            lines.append(f"  second look {ig['second_look']}")
    else:
        lines.append(f"ignition      undetermined: {ig.get('reason') or 'no evidence'}")
    for c in (ig.get("candidates") or [])[:3 if ig.get("status") == "determined" else 5]:
        if ig.get("status") == "determined" and c.get("handle") == ig.get("handle") \
                and c.get("account_id") == ig.get("account_id"):
            continue
        lines.append(f"  candidate   {_acct(c)} score {c['score']:g}: {_evidence_words(c.get('evidence') or {})}")
    return lines


def render_text(r: dict[str, Any]) -> str:
    """A short human-readable summary: the headline answers first."""
    if r.get("basis") == "platform counts":
        return render_counts_text(r)
    mv, on, tl, sp = r["movement"], r["onset"], r["timeline"], r["spread"]
    ig = on.get("ignition") or {}
    tr = r["trending"]
    pe = r["people"]
    peak = tl.get("peak")
    lines = [
        f"#{' #'.join(mv['hashtags'])}: {tl['posts']:,} movement posts (posts carrying the hashtag and reposts "
        f"of them) by {tl['authors']:,} accounts, per {mv['interval']}",
    ]
    if on.get("takeoff"):
        lines.append(f"took off      {on['takeoff']} ({on['takeoff_posts']:,} movement posts that hour, baseline "
                     f"{on.get('baseline_per_hour', 0):g} an hour)"
                     + (f"; {on['takeoff_note']}" if on.get("takeoff_note") else ""))
    else:
        lines.append(f"took off      undetermined ({on.get('takeoff_note') or 'no rise above the baseline'})")
    fp = on.get("first_post") or {}
    lines.append(f"first post    {_v(fp.get('time'))} by {_acct(fp)} (post {_v(fp.get('post_id'))})")
    lines += ignition_lines(ig)
    op = on.get("peak") or {}
    if op.get("time"):
        lines.append(f"peak          {op['time']} ({op.get('posts', 0):,} movement posts that hour)"
                     + ("; the last hour of the main stretch of collection: the true peak may be later"
                        if op.get("at_collection_edge") else ""))
    if peak and mv["interval"] != "hour":
        lines.append(f"busiest {mv['interval']:<6} {peak} ({tl.get('peak_posts', 0):,} movement posts)")
    if tr.get("meaningful") is False:
        lines.append(f"trending      not claimed: {tr.get('context')}")
    elif tr.get("best_rank") is None:
        lines.append("trending      never ranked: a hashtag ranks in an interval once at least 5 accounts write it "
                     "in posts of their own and more accounts use it than in the interval before")
    else:
        lines.append(f"trending      best rank {tr['best_rank']}; top 10 from {_v(tr.get('first_top10'))}, "
                     f"top 1 from {_v(tr.get('first_top1'))}")
    lines.append(
        f"spread        observed {sp['observed']['reposts']:,} reposts, {sp['observed']['replies']:,} replies, "
        f"{sp['observed']['quotes']:,} quotes; reported {_v(sp['reported']['reposts'], '{:,}')} reposts")
    shared = [m for m in sp["most_shared"] if m["observed"]["reposts"] + m["observed"]["quotes"] > 0]
    if shared:
        lines.append("most shared")
        for m in shared[:5]:
            o = m["observed"]
            lines.append(f"  {m['post_id']:<24} {_acct(m):<24} {o['reposts'] + o['quotes']:>8,} shares")
    rc, yc = r["cascades"]["reposts"], r["cascades"]["replies"]
    yr = yc.get("replies") or {}
    lines.append(f"cascades      {rc['cascades']:,} repost cascades ({rc['shape']}), "
                 f"{yc['cascades']:,} reply trees (max depth {yc['depth'].get('max', 0):g})"
                 + (f"; {yr['tagged']:,} replies with the hashtag, {yr['untagged']:,} without" if yr else ""))
    if pe["top_amplifiers"]:
        lines.append("top amplifiers " + ", ".join(_acct(a) for a in pe["top_amplifiers"][:5]))
    if pe["notable"]:
        lines.append("notable accounts joined")
        for n in pe["notable"][:10]:
            lines.append(f"  {n['joined_at']}  {_acct(n)} ({n['followers'] or 0:,} followers)")
    cm = pe["communities"]
    if cm.get("count"):
        if cm.get("outside_seed_claimed", True) and cm.get("outside_seed_share") is not None:
            lines.append(f"communities   {cm['count']:,} (Leiden, {cm.get('basis')}); "
                         f"{100 * cm['outside_seed_share']:.0f}% of the {cm.get('known_posts', 0):,} movement posts "
                         f"whose author is placed came from outside the seed community")
        else:
            lines.append(f"communities   {cm['count']:,} (Leiden, {cm.get('basis')}); the share from outside the seed "
                         f"community is not claimed: {cm.get('outside_seed_note') or 'too little is known'}")
    co = r["hashtags"]["co_occurring"]
    if co:
        lines.append("with          " + " ".join(f"#{c['hashtag']}" for c in co[:8]))
    langs = r["reach"]["languages"]["totals"]
    if langs:
        lines.append("languages     " + ", ".join(f"{x['value']} {x['posts']:,}" for x in langs[:6]))
    cg = r["coordination"]["groups"]
    lines.append(f"coordination  {len(cg)} group(s)" + (
        ": " + "; ".join(f"{g['size']} accounts boosting {_acct(g['amplified'])}" for g in cg[:3]) if cg else ""))
    for note in (r.get("coverage") or {}).get("notes", []):
        lines.append(f"coverage      {note}")
    return "\n".join(lines) + "\n"


def render_counts_text(r: dict[str, Any]) -> str:
    """The summary of a movement known only from the platform's counts."""
    mv, on, tl = r["movement"], r["onset"], r["timeline"]
    lines = [f"#{' #'.join(mv['hashtags'])}: {tl['posts']:,} posts counted by the platform, per {mv['interval']} "
             "(no posts in the store)",
             f"took off      {_v(on.get('takeoff'))} ({on.get('takeoff_posts', 0):,} counted that {mv['interval']})",
             f"peak          {_v(tl.get('peak'))} ({tl.get('peak_posts', 0):,} counted)"]
    bursts = on.get("bursts", [])
    strongest = sorted(bursts, key=lambda b: (-b["level"], b["start"]))[:8]
    if bursts:
        lines.append(f"bursts        {len(bursts):,} (Kleinberg); the strongest {len(strongest)}, in time:")
    for b in sorted(strongest, key=lambda b: b["start"]):
        lines.append(f"  {b['start']} .. {b['end']} (level {b['level']})")
    for note in r["coverage"].get("notes", []):
        lines.append(f"coverage      {note}")
    return "\n".join(lines) + "\n"
