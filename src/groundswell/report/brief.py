"""The written brief: the movement in sentences generated from the numbers.

Every figure comes from the views of :mod:`.views` (the analysis, through
the privacy layer). A sentence whose measure is missing is dropped, never
filled in: no ignition post, no "set off by" sentence; no content labels, no
disclosure sentence. Accounts appear as the views name them (public figures
by handle, others by pseudonym). In Markdown (:func:`markdown`) every value
taken from the data is escaped (:func:`md_escape`), so a handle or a hashtag
is text, never markup or HTML.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from groundswell.report.views import parse_iso

__all__ = ["sentences", "markdown", "md_escape", "title"]

_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z")


def _n(x: float | int) -> str:
    return f"{int(x):,}"


def _pl(n: int, one: str, many: str | None = None) -> str:
    return f"{_n(n)} {one if n == 1 else (many or one + 's')}"


def _when(t: datetime) -> str:
    return f"{t.day} {t:%B %Y} at {t:%H:%M} UTC"


def _day(t: datetime) -> str:
    return f"{t.day} {t:%B %Y}"


def _hours(a: datetime, b: datetime) -> str:
    h = (b - a).total_seconds() / 3600
    if abs(h) < 1:
        m = round(abs(h) * 60)
        return _pl(m, "minute")
    return f"{abs(h):.0f} hour{'s' if round(abs(h)) != 1 else ''}" if abs(h) >= 10 else \
        f"{abs(h):.1f} hours".replace(".0 hours", " hours")


def _pct(x: float) -> str:
    p = 100 * x
    return f"{p:.0f}%" if p >= 10 or p == 0 else f"{p:.1f}%"


def title(v: Mapping[str, Any]) -> str:
    return " ".join("#" + h for h in v["movement"]["hashtags"])


def _acct(a: Mapping[str, Any] | None) -> str | None:
    return a.get("label") if a else None


_EVIDENCE = {"reposts": "reposted {post}", "replies": "replied to {post}", "quotes": "quoted {post}",
             "links": "linked to {post}", "reposts_inferred": "copied {post} with 'RT'",
             "replies_inferred": "addressed {who}", "mentions": "mentioned {who}"}


def _evidence(ev: Mapping[str, int], post: str = "it", who: str = "its author") -> str:
    """'368 accounts linked to it and 10 accounts mentioned its author' (the largest kinds first)."""
    parts = [f"{_pl(n, 'account')} {_EVIDENCE[k].format(post=post, who=who)}"
             for k, n in sorted(ev.items(), key=lambda x: -x[1]) if n and k in _EVIDENCE][:3]
    return " and ".join([", ".join(parts[:-1]), parts[-1]]) if len(parts) > 1 else (parts[0] if parts else "")


def sentences(v: Mapping[str, Any]) -> list[str]:
    """The brief, one sentence per finding, in the order of the story."""
    tag = title(v)
    out: list[str] = []
    on = v["onset"]
    ign = on.get("ignition") or {}
    t_ign = parse_iso(ign.get("time"))
    who = _acct(ign.get("author"))
    if who and on.get("ignition_status", "determined") == "determined":
        sure = f" (confidence {on['ignition_confidence']})" if on.get("ignition_confidence") else ""
        if t_ign and ign.get("in_store") is False:
            s = (f"{tag} was set off on {_when(t_ign)} by {who} with a post that is not in the archive "
                 f"(its time read from its id)")
        elif t_ign:
            s = f"{tag} was set off on {_when(t_ign)} by {who} with a post"
        else:
            s = f"{tag} was set off by {who} with a post that is not in the archive"
        if ign.get("carries_hashtag") is False:
            s += " that did not itself carry the hashtag"
        ev = _evidence(ign.get("evidence") or {})
        if ign.get("shares_24h") is not None and ign.get("replies_24h") is not None:
            s += (f"{',' if ign.get('carries_hashtag') is False else ''} that was shared "
                  f"{_pl(ign['shares_24h'], 'time')} and drew {_pl(ign['replies_24h'], 'reply', 'replies')} "
                  f"in its first 24 hours")
        elif ev and not on.get("ignition_second_look"):
            s += f"; around the takeoff, {ev}"
        if on.get("ignition_second_look"):
            s += ("; the evidence around the takeoff alone was too thin to tell, and counting the mentions of "
                  "its author to the end of the collection named it" + (f" ({ev})" if ev else ""))
        if on.get("ignition_post_by") == "only_post":
            s += " (the evidence names the account; this was its only movement post near the takeoff)"
        out.append(s + sure + ".")
    elif on.get("ignition_status") == "undetermined":
        cands = [c for c in on.get("candidates") or [] if _acct(c.get("author"))][:3]
        s = "Who set it off cannot be told from this archive"
        if on.get("ignition_reason"):
            s += f": {on['ignition_reason']}"
        if cands:
            s += "; the leading candidates were " + "; ".join(
                f"{_acct(c['author'])} "
                f"({_evidence(c.get('evidence') or {}, 'their posts', 'them') or 'little evidence'})"
                for c in cands)
        out.append(s + ".")
    if on.get("first_post") and parse_iso(on["first_post"].get("time")) and _acct(on["first_post"].get("author")) \
            and not (who and t_ign):
        fp = on["first_post"]
        out.append(f"The first post with {tag} in the data was made on {_when(parse_iso(fp['time']))} "  # type: ignore[arg-type]
                   f"by {_acct(fp['author'])}.")
    t_take = parse_iso(on.get("takeoff"))
    if t_take and on.get("takeoff_posts") is not None and on.get("takeoff_status", "determined") == "determined":
        base = on.get("baseline")
        out.append(f"Its volume took off on {_when(t_take)}, with {_pl(on['takeoff_posts'], 'movement post')} "
                   f"that hour" + (f" against a baseline of {base:g} an hour" if base is not None else "") + ".")
        t_surge = parse_iso(on.get("surge"))
        if t_surge and t_surge != t_take:
            out.append(f"From that hour on, after the post that set it off, it stayed above its baseline; its "
                       f"steepest rise came on {_when(t_surge)}.")
    elif on.get("takeoff_note"):
        out.append(f"When its volume took off cannot be told: {on['takeoff_note']}.")
    tr = v["trending"]
    t_top = parse_iso(tr.get("first_top1"))
    step = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}.get(
        v["movement"].get("interval", "hour"), timedelta(hours=1))
    if tr.get("meaningful") is False:
        out.append(f"Its trending rank is not reported: {tr.get('context')}.")
    elif t_top and t_ign:
        if t_top <= t_ign < t_top + step:
            out.append(f"It was the top trending hashtag in the very {v['movement'].get('interval', 'hour')} "
                       f"of the ignition post (from {_when(t_top)}).")
        elif t_top > t_ign:
            out.append(f"It reached the top of the trending hashtags after {_hours(t_ign, t_top)}, "
                       f"on {_when(t_top)}.")
        else:
            out.append(f"It had already topped the trending hashtags on {_when(t_top)}, "
                       f"{_hours(t_top, t_ign)} before the ignition post.")
    elif t_top:
        out.append(f"It reached the top of the trending hashtags on {_when(t_top)}.")
    elif tr.get("best_rank") and parse_iso(tr.get("first_top10")):
        out.append(f"Its best trending rank was {tr['best_rank']}; it entered the top 10 on "
                   f"{_when(parse_iso(tr['first_top10']))}.")  # type: ignore[arg-type]
    notable = v.get("notable") or []
    if notable:
        first = min(notable, key=lambda n: n["joined_at"])
        t_first = parse_iso(first["joined_at"])
        s = (f"{_pl(len(notable), 'notable account')} joined, the first of them {first['account']['label']}"
             f" on {_when(t_first)}") if t_first else f"{_pl(len(notable), 'notable account')} joined"
        if t_first and t_ign and t_first >= t_ign:
            s += f", {_hours(t_ign, t_first)} after the ignition post"
        out.append(s + ".")
    c = v.get("content")
    if c and c.get("overall", {}).get("disclosure") is not None and c.get("posts"):
        cov = c.get("coverage") or {}
        ci = (c.get("intervals") or {}).get("disclosure")
        dq = (c.get("quality") or {}).get("disclosure") or {}
        s = (f"The content model labelled {_pct(c['overall']['disclosure'])}"
             + (f" (95% interval {_pct(ci[0])} to {_pct(ci[1])})" if ci else "")
             + f" of the {_n(c['posts'])} posts it could read as first-person disclosures")
        if cov.get("posts"):
            s += (f"; it reads English only, so {_n(cov['posts'] - cov.get('covered', 0))} of the "
                  f"{_n(cov['posts'])} posts that were not reposts (other or undetermined languages, empty texts) "
                  f"were not labelled")
        if dq.get("recall") is not None and dq.get("precision") is not None:
            s += (f"; on held-out real texts it finds {_pct(dq['recall'])} of disclosures and "
                  f"{_pct(dq['precision'])} of those it names are")
        ft = c.get("first_time_per_day")
        fq = c.get("first_time_quality") or {}  # measured on held-out real texts, or nothing is said
        if ft is not None and c.get("first_time_share") is not None and fq.get("recall") is not None \
                and fq.get("precision") is not None:
            q = sum(r["posts"] for r in ft)
            s += (f", {_n(q)} of them first-time (on held-out real texts the model finds {_pct(fq['recall'])} of "
                  f"first-time disclosures, and {_pct(fq['precision'])} of those it names are)")
        out.append(s + f" (content model '{c.get('model')}').")
    elif c and "disclosure" in (c.get("withheld") or {}):
        out.append(f"The share of first-person disclosures is not given: {c['withheld']['disclosure']}, so the "
                   f"content model '{c.get('model')}' tells nothing here that answering yes would not.")
    cm = v.get("communities") or {}
    day0 = t_ign or parse_iso((on.get("first_post") or {}).get("time"))
    if day0 and cm.get("outside_seed") and cm.get("claimed", True):
        d3 = (day0.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=2)).date()
        rows = [r for r in cm["outside_seed"] if (parse_iso(r["time"]) or day0).date() == d3]
        known = sum(r.get("known") or 0 for r in rows)
        if known >= 30:
            outside = sum(r.get("outside") or 0 for r in rows)
            out.append(f"By day 3 ({_day(datetime.combine(d3, datetime.min.time()))}), {_pct(outside / known)} of "
                       f"the {_n(known)} posts whose author could be placed in a community came from outside the "
                       f"first community.")
    tot = v["totals"]
    t0, t1, peak = parse_iso(tot.get("first")), parse_iso(tot.get("last")), parse_iso(tot.get("peak"))
    if tot.get("posts") and t0 and t1:
        s = (f"In all, {_pl(tot['posts'], 'movement post')} (posts carrying {tag} and reposts of them) by "
             f"{_pl(tot['authors'], 'account')} were collected "
             + (f"on {_day(t0)}" if t0.date() == t1.date() else f"between {_day(t0)} and {_day(t1)}"))
        hp = on.get("peak") or {}
        hpeak = parse_iso(hp.get("time"))
        if hpeak:
            s += f"; the busiest hour began {_when(hpeak)}"
            if hp.get("at_collection_edge"):
                cov = v.get("coverage") or {}
                ends = (cov.get("main") or {}).get("end")
                whole = not ends or not cov.get("last") or parse_iso(ends) >= parse_iso(cov["last"])  # type: ignore[operator]
                s += (", the last hour collected" if whole else
                      ", the last hour before collection stopped or changed") + \
                    ", so the true peak may have come later"
        elif peak:
            s += f"; the busiest {v['movement'].get('interval', 'hour')} began {_when(peak)}"
        out.append(s + ".")
    for note in (v.get("coverage") or {}).get("notes") or []:
        if "searching for" not in note or tr.get("meaningful") is not False:
            out.append(_ISO.sub(lambda m: _when(parse_iso(m.group(0))), note))  # type: ignore[arg-type]
    cs = v["cascades"]["summary"]
    rp, rq = cs.get("reposts") or {}, cs.get("replies") or {}
    parts = []
    if rp.get("cascades") and rp.get("max_size"):
        parts.append(f"the largest of {_pl(rp['cascades'], 'repost cascade')} reached {_pl(rp['max_size'], 'post')}")
    if rq.get("cascades") and rq.get("max_depth"):
        parts.append(f"the deepest of {_pl(rq['cascades'], 'reply tree')} went "
                     f"{_pl(rq['max_depth'], 'level')} deep")
    if parts:
        s = "; ".join(parts) + "."
        out.append(s[0].upper() + s[1:])
    langs = v["reach"]["languages"]["totals"]
    if langs and tot.get("posts"):
        top = langs[0]
        s = (f"Posts came in {_pl(len(langs), 'language')}, "
             f"most of them in {top['value']} ({_pct(top['posts'] / tot['posts'])})")
        ctr = v["reach"]["countries"]["totals"]
        if ctr:
            s += f"; those with a place came from {_pl(len(ctr), 'country', 'countries')}, led by {ctr[0]['value']}"
        out.append(s + ".")
    co = v["coordination"]
    if co.get("method") is not None:
        g = co["groups"]
        if g:
            big = max(g, key=lambda x: x["size"] or 0)
            s = f"{_pl(len(g), 'group')} of accounts acted in coordination; the largest, {_pl(big['size'], 'account')}"
            if big["amplified"].get("label"):
                s += f", amplified {big['amplified']['label']}"
            out.append(s + ".")
        else:
            out.append(f"No coordinated group was found (the same repost or text within {co.get('window_seconds')} s, "
                       f"at least {co.get('min_weight')} times, by at least {co.get('min_size')} accounts).")
    return out


# in Markdown, a value must stay text: no emphasis, link, code, table or HTML of its own
_MD_ESCAPE = {c: "\\" + c for c in "\\`*_[]|~!#"}
_MD_ESCAPE.update({"<": "&lt;", ">": "&gt;", "&": "&amp;"})


def md_escape(s: str) -> str:
    """A value as literal Markdown text: Markdown punctuation escaped, HTML's ``<``, ``>`` and ``&``
    as entities, and line breaks and other control characters as spaces (a value cannot start a
    block: a heading, a list, a fence or raw HTML)."""
    flat = "".join(" " if (ord(c) < 32 or 0x7F <= ord(c) < 0xA0 or c in "\u2028\u2029") else c for c in s)
    return "".join(_MD_ESCAPE.get(c, c) for c in flat)


def _md_views(o: Any) -> Any:
    """The views with every string (handles, labels, hashtags, languages, places ...) escaped for Markdown."""
    if isinstance(o, str):
        return md_escape(o)
    if isinstance(o, Mapping):
        return {k: _md_views(x) for k, x in o.items()}
    if isinstance(o, (list, tuple)):
        return [_md_views(x) for x in o]
    return o


def markdown(v: Mapping[str, Any]) -> str:
    """The brief as Markdown: a heading, the sentences, and the privacy notice (every value escaped)."""
    m = _md_views(v)
    lines = [f"# {title(m)}: the brief", ""]
    lines += [" ".join(sentences(m)), ""]
    lines += [f"_{m['privacy']['notice']}_", ""]
    return "\n".join(lines)
