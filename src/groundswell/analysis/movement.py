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
from datetime import datetime
from typing import Any

from groundswell.analysis import sql
from groundswell.analysis.cascades import cascades as _cascades
from groundswell.analysis.cascades import load_follows, store_follows
from groundswell.analysis.coordination import coordinated_groups
from groundswell.analysis.hashtags import hashtags as _hashtags
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
    follows = load_follows(store, followers) if followers else store_follows(store, scope)
    tick("scope")
    rows = timeline_rows(store, scope)
    if not rows:
        raise UsageError(f"no posts with #{' #'.join(scope.hashtags)} in the store"
                         + (" in that time window" if scope.start or scope.end else "")
                         + "; see 'groundswell hashtags' for what is there")
    out: dict[str, Any] = {"movement": scope.describe()}
    out["timeline"] = hashtag_timeline(store, scope, rows)
    tick("timeline")
    out["trending"] = hashtag_trends(store, scope, rows)
    vt = volume_trends(store, scope)
    if vt is not None:
        out["trending"]["volumes"] = vt
    tick("trending")
    out["onset"] = _onset(store, scope, rows)
    tick("onset")
    out["spread"] = _spread(store, scope)
    tick("spread")
    out["cascades"] = _cascades(store, scope, follows)
    tick("cascades")
    ign = out["onset"].get("ignition") or {}
    seed_account = ign.get("account_id") or ign.get("handle")
    if seed_account is None and out["onset"]["first_post"]:
        fp = out["onset"]["first_post"]
        seed_account = fp["account_id"] or fp["handle"]
    out["people"] = _people(store, scope, rows, seed_account, follows, seed=seed,
                            since=movement_start(out["onset"], scope))
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
    for name in ("gs_movement", "gs_membership", "gs_follows"):
        sql.drop(store, name)
    out["timings"] = timings
    return out


def movement_start(on: dict[str, Any], scope: Any) -> datetime | None:
    """When the movement began: the ignition post's time when it falls no earlier than one interval
    before the takeoff interval (a call to action), else the start of the takeoff interval."""
    take = parse_time(on.get("takeoff"))
    if take is None:
        return None
    ign = parse_time((on.get("ignition") or {}).get("time"))
    return ign if ign is not None and ign >= take - scope.step else take


def _acct(d: dict[str, Any] | None) -> str:
    if not d:
        return "-"
    h = d.get("handle")
    return f"@{h}" if h else f"account {d.get('account_id')}"


def render_text(r: dict[str, Any]) -> str:
    """A short human-readable summary: the headline answers first."""
    mv, on, tl, sp = r["movement"], r["onset"], r["timeline"], r["spread"]
    ig = on.get("ignition") or {}
    tr = r["trending"]
    pe = r["people"]
    lines = [
        f"#{' #'.join(mv['hashtags'])}: {tl['posts']:,} posts by {tl['authors']:,} accounts, per {mv['interval']}",
        f"took off      {on['takeoff'] or '-'} ({on['takeoff_posts']:,} posts that {mv['interval']}, "
        f"baseline {on['baseline_per_interval']:g})",
        f"first post    {(on['first_post'] or {}).get('time', '-')} by {_acct(on['first_post'])} "
        f"(post {(on['first_post'] or {}).get('post_id', '-')})",
        f"ignition      post {ig.get('post_id', '-')} by {_acct(ig)}"
        + (f", {ig['cascade']:,} posts in its cascade around takeoff"
           f"{'' if ig.get('carries_hashtag') else ' (it does not carry the hashtag)'}" if ig else ""),
        f"peak          {tl['peak']}",
        f"trending      best rank {tr.get('best_rank') or '-'}; top 10 from {tr.get('first_top10') or '-'}, "
        f"top 1 from {tr.get('first_top1') or '-'}",
        f"spread        observed {sp['observed']['reposts']:,} reposts, {sp['observed']['replies']:,} replies, "
        f"{sp['observed']['quotes']:,} quotes; reported {sp['reported']['reposts']:,} reposts",
    ]
    if sp["most_shared"]:
        lines.append("most shared")
        for m in sp["most_shared"][:5]:
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
        lines.append(f"communities   {cm['count']:,} (Leiden); {100 * (cm['outside_seed_share'] or 0):.0f}% of "
                     f"posts came from outside the seed community")
    co = r["hashtags"]["co_occurring"]
    if co:
        lines.append("with          " + " ".join(f"#{c['hashtag']}" for c in co[:8]))
    langs = r["reach"]["languages"]["totals"]
    if langs:
        lines.append("languages     " + ", ".join(f"{x['value']} {x['posts']:,}" for x in langs[:6]))
    cg = r["coordination"]["groups"]
    lines.append(f"coordination  {len(cg)} group(s)" + (
        ": " + "; ".join(f"{g['size']} accounts boosting {_acct(g['amplified'])}" for g in cg[:3]) if cg else ""))
    return "\n".join(lines) + "\n"
