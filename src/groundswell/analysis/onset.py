"""Onset: when the movement took off, its first post, its peak, and what ignited it.

Everything here is read in time, not in intervals: the same store gives the
same takeoff, peak and ignition at ``--interval minute``, ``hour`` or ``day``.
The requested interval only shapes the timeline and the burst levels shown
beside it.

* ``takeoff``: the start of the hour in which the movement's hourly count
  leaves its baseline: the maximum-likelihood change point of a Poisson rate
  (see :mod:`bursts`) over the hours from the start of the main stretch of
  collection (:mod:`coverage`) up to the peak hour. A sparse tail, a sample of
  later weeks or a gap never moves it; a takeoff in the first hour of
  collection cannot be told from the start of collection and is reported as
  ``undetermined`` (``takeoff_note`` says why).
* ``peak``: the busiest hour inside the main stretch. When it is the last hour
  before collection stopped, the volume was still rising when collection
  ended: ``peak.at_collection_edge`` is true and the text says the true peak
  may be later.
* ``first_post``: the earliest post carrying the hashtag(s).
* ``ignition``: ranked evidence. Movement posts made from ``BEFORE`` before
  the takeoff to ``AFTER`` after it are traced to what they respond to:

  - ``reposts``, ``replies``, ``quotes``: the platform's own links, followed
    up through posts that need not carry the hashtag to the root (a bounded
    loop of joins, no recursive SQL, so it runs on any engine);
  - ``links``: a link to a post (``twitter.com/<handle>/status/<id>``,
    ``bsky.app/.../post/<rkey>``, Mastodon status URLs; :mod:`groundswell.refs`);
  - ``reposts_inferred`` / ``replies_inferred``: scraped text conventions
    (``RT @handle:``, a leading ``@handle``) with no platform link;
  - ``mentions``: mentions of an account by posts that link to nothing.

  Each kind counts distinct responding accounts. Replies, reposts and quotes
  of the leading candidate posts without the hashtag (the "me too" replies
  to a call to action) count too. An account is credited with what surges
  at takeoff, not with its total: the same evidence in the ``BASELINE``
  before the window, scaled by the movement's volume, is what would have
  come anyway (``expected``), and only the excess scores. Mentions weigh
  half. Candidates (accounts, with their best post) are ranked by score;
  ``confidence`` is ``high`` when the best scores at least three times the
  runner-up, ``medium`` from 1.5 times, and the answer is ``undetermined``
  below that or when the best has fewer than ``MIN_SCORE`` accounts of
  evidence. ``candidates`` always lists the best few with their evidence.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from groundswell import refs
from groundswell.analysis import sql
from groundswell.analysis.bursts import burst_periods, change_point, kleinberg_states
from groundswell.analysis.scope import Scope

MAX_HOPS = 60
HOUR = timedelta(hours=1)
BEFORE = timedelta(hours=6)
AFTER = timedelta(hours=4)
BASELINE = timedelta(hours=48)
PRIOR_POSTS = 50.0
MIN_SCORE = 5.0
HIGH, MEDIUM = 3.0, 1.5
CANDIDATES = 5
WEIGHTS = {"reposts": 1.0, "replies": 1.0, "quotes": 1.0, "links": 1.0, "reposts_inferred": 1.0,
           "replies_inferred": 1.0, "mentions": 0.5}
KINDS = tuple(WEIGHTS)

FIRST_SQL = """
SELECT id, author_id, author_handle, created_at, kind FROM {mv}
ORDER BY created_at, id LIMIT 1
"""

HOURLY_SQL = "SELECT date_trunc('hour', created_at) AS t, count(*) AS n FROM {mv} GROUP BY 1"

COUNT_SQL = "SELECT count(*) FROM {mv} WHERE created_at >= {ws} AND created_at < {we}"

ANC0_SQL = """
SELECT platform, id, account,
       CASE WHEN repost_of_id IS NOT NULL THEN 'reposts' WHEN reply_to_id IS NOT NULL THEN 'replies'
            ELSE 'quotes' END AS first_kind,
       coalesce(repost_of_id, reply_to_id, quote_of_id) AS first_parent,
       coalesce(repost_of_id, reply_to_id, quote_of_id) AS parent,
       coalesce(repost_of_id, reply_to_id, quote_of_id) AS cur, 0 AS hops
FROM {mv} WHERE created_at >= {ws} AND created_at < {we}
  AND coalesce(repost_of_id, reply_to_id, quote_of_id) IS NOT NULL
"""

ANC_STEP_SQL = """
SELECT a.platform, a.id, a.account, a.first_kind, a.first_parent,
       CASE WHEN p.id IS NULL THEN NULL ELSE coalesce(p.repost_of_id, p.reply_to_id, p.quote_of_id) END AS parent,
       coalesce(CASE WHEN p.id IS NULL THEN NULL
                     ELSE coalesce(p.repost_of_id, p.reply_to_id, p.quote_of_id) END, a.cur) AS cur,
       a.hops + 1 AS hops
FROM {anc} a LEFT JOIN posts p ON p.platform = a.platform AND p.id = a.parent
"""

ROOTS_SQL = """
SELECT platform, cur AS root, first_kind AS kind, count(DISTINCT account) AS n
FROM {anc} WHERE account IS NOT NULL GROUP BY platform, cur, first_kind
"""

# replies, reposts and quotes of the leading posts by anyone in the window, hashtag or not
DIRECT_SQL = """
SELECT platform, coalesce(repost_of_id, reply_to_id, quote_of_id) AS root,
       CASE WHEN repost_of_id IS NOT NULL THEN 'reposts' WHEN reply_to_id IS NOT NULL THEN 'replies'
            ELSE 'quotes' END AS kind,
       coalesce(author_id, author_handle) AS account
FROM posts
WHERE created_at >= {ws} AND created_at < {we} AND NOT coalesce(is_reference, false)
  AND (repost_of_id IN {ids} OR reply_to_id IN {ids} OR quote_of_id IN {ids})
"""

LINKS_SQL = """
SELECT id, account, url FROM (SELECT id, account, unnest(urls) AS url FROM {mv_text}
                              WHERE created_at >= {ws} AND created_at < {we}) u
WHERE {url_like}
"""

TEXTREF_SQL = """
SELECT account, text FROM {mv_text}
WHERE created_at >= {ws} AND created_at < {we} AND kind <> 'repost'
  AND repost_of_id IS NULL AND reply_to_id IS NULL AND quote_of_id IS NULL AND ({text_like})
"""

MENTIONS_SQL = """
SELECT lower(h) AS h, count(DISTINCT account) AS n FROM
  (SELECT account, author_handle, unnest(mentions) AS h FROM {mv_text}
   WHERE created_at >= {ws} AND created_at < {we}
     AND repost_of_id IS NULL AND reply_to_id IS NULL AND quote_of_id IS NULL
     AND NOT coalesce({text_like}, false) AND id NOT IN (SELECT id FROM gs_link_ids)) x
WHERE h IS NOT NULL AND lower(h) <> lower(coalesce(author_handle, '')) AND length(h) > 0
GROUP BY lower(h) ORDER BY n DESC LIMIT 500
"""

MV_TEXT_SQL = """
SELECT m.platform, m.id, m.account, m.author_handle, m.created_at, m.kind, m.repost_of_id, m.reply_to_id,
       m.quote_of_id, m.mentions, p.urls, p.text
FROM {mv} m JOIN posts p ON p.platform = m.platform AND p.id = m.id
WHERE m.created_at >= {ws} AND m.created_at < {we}
"""

POSTS_BY_ID_SQL = """
SELECT platform, id, author_id, author_handle, coalesce(author_id, author_handle) AS account, created_at,
       text IS NOT NULL AS has_text
FROM posts WHERE id IN {ids}
"""

HANDLES_SQL = """
SELECT lower(author_handle) AS h, min(coalesce(author_id, author_handle)) AS account, min(author_id) AS author_id,
       min(author_handle) AS author_handle
FROM posts WHERE lower(author_handle) IN {handles} GROUP BY lower(author_handle)
"""

TAGGED_SQL = "SELECT id FROM {mv} WHERE id IN {ids}"

ACCOUNT_POSTS_SQL = """
SELECT id, created_at FROM {mv} WHERE lower(account) = {account} AND created_at < {before}
ORDER BY created_at DESC LIMIT 1
"""


def _post(r: dict[str, Any] | None) -> dict[str, Any] | None:
    if r is None:
        return None
    return {"post_id": r["id"], "account_id": r["author_id"], "handle": r["author_handle"],
            "time": sql.iso(r["created_at"]), "kind": r.get("kind")}


def takeoff_index(series: list[dict[str, Any]]) -> int | None:
    """The change point of a count series up to its peak (None for an empty or flat series)."""
    counts = [r["posts"] for r in series]
    if not counts or not any(counts):
        return None
    peak = max(range(len(counts)), key=lambda i: counts[i])
    cp = change_point(counts[:peak + 1])
    return cp if cp is not None else peak


# --------------------------------------------------------------------------- takeoff and peak in time

def hourly(store: Any, scope: Scope, main: tuple[datetime, datetime] | None) -> list[dict[str, Any]]:
    """The movement's posts per hour inside the main stretch of collection (zeros filled)."""
    got = {r["t"]: int(r["n"]) for r in sql.rows(store, HOURLY_SQL, mv=scope.table)}
    if not got:
        return []
    a, b = min(got), max(got)
    if main is not None:
        a, b = max(a, main[0]), min(b, main[1] - HOUR)
    out, t = [], a
    while t <= b:
        out.append({"time": t, "posts": got.get(t, 0)})
        t += HOUR
    return out


def takeoff_and_peak(hours: list[dict[str, Any]], main: tuple[datetime, datetime] | None,
                     edges: tuple[datetime | None, datetime | None]) -> dict[str, Any]:
    """Takeoff (change point up to the peak) and peak, in hours, with what the collection's edges allow."""
    out: dict[str, Any] = {"takeoff": None, "takeoff_posts": 0, "baseline_per_hour": 0.0, "takeoff_note": None,
                           "peak": None}
    if not hours:
        out["takeoff_note"] = "no posts of the movement inside the main stretch of collection"
        return out
    counts = [r["posts"] for r in hours]
    p = max(range(len(counts)), key=lambda i: counts[i])
    first, last = edges
    at_end = last is not None and hours[p]["time"] + HOUR >= last
    out["peak"] = {"time": sql.iso(hours[p]["time"]), "posts": counts[p], "counts": "movement posts in that hour",
                   "at_collection_edge": bool(at_end)}
    i = takeoff_index(hours)
    if i is None:
        out["takeoff_note"] = "the volume never rises above its baseline"
        return out
    out["takeoff"] = hours[i]["time"]
    out["takeoff_posts"] = counts[i]
    out["baseline_per_hour"] = round(sum(counts[:i]) / i, 3) if i else 0.0
    if i == 0 and first is not None and hours[0]["time"] <= first:
        out["takeoff_note"] = ("the volume was already high in the first hour collected: the takeoff may be "
                               "earlier than the collection")
        out["takeoff_undetermined"] = True
    return out


# --------------------------------------------------------------------------- evidence


class _Evidence:
    """Distinct responding accounts per (target, kind), for accounts and for posts."""

    def __init__(self) -> None:
        self.acct: dict[str, dict[str, set[str]]] = {}
        self.post: dict[str, dict[str, set[str]]] = {}
        self.post_account: dict[str, str] = {}
        self.info: dict[str, dict[str, Any]] = {}  # account key -> account_id, handle
        self.post_info: dict[str, dict[str, Any]] = {}

    def add(self, account_key: str, kind: str, responder: str, post_key: str | None = None) -> None:
        self.acct.setdefault(account_key, {}).setdefault(kind, set()).add(responder)
        if post_key is not None:
            self.post.setdefault(post_key, {}).setdefault(kind, set()).add(responder)
            self.post_account[post_key] = account_key

    def counts(self, account_key: str) -> dict[str, int]:
        return {k: len(v) for k, v in self.acct.get(account_key, {}).items()}


def _or_like(col: str, patterns: tuple[str, ...]) -> sql.Raw:
    return sql.Raw("(" + " OR ".join(f"{col} LIKE {sql.literal(p)}" for p in patterns) + ")")


def _akey(account: Any) -> str | None:
    return None if account is None else str(account).lower()


def _evidence(store: Any, scope: Scope, ws: datetime, we: datetime) -> _Evidence:
    ev = _Evidence()
    # 1. the platform's own links, up to the root
    anc = sql.materialize(store, "gs_anc", ANC0_SQL, mv=scope.table, ws=ws, we=we)
    for _ in range(MAX_HOPS):
        if not sql.scalar(store, "SELECT count(*) FROM gs_anc WHERE parent IS NOT NULL"):
            break
        sql.materialize(store, "gs_anc_next", ANC_STEP_SQL, anc=anc)
        sql.materialize(store, "gs_anc", "SELECT * FROM gs_anc_next")
        sql.drop(store, "gs_anc_next")
    root_rows = sql.rows(store, "SELECT platform, cur AS root, first_kind AS kind, account FROM gs_anc "
                                "WHERE account IS NOT NULL")
    sql.drop(store, "gs_anc")
    roots = {r["root"] for r in root_rows}
    authors = _authors(store, roots)
    for r in root_rows:
        a = authors.get(r["root"])
        akey = a["key"] if a else f"post:{r['root']}"
        if a:
            ev.info.setdefault(akey, {"account_id": a["author_id"], "handle": a["author_handle"]})
        ev.post_info.setdefault(r["root"], {"platform": r["platform"]})
        ev.add(akey, r["kind"], str(r["account"]).lower(), r["root"])
    # 2. links to posts, from the urls column (and what formats put there from texts)
    mvt = sql.materialize(store, "gs_mv_text", MV_TEXT_SQL, mv=scope.table, ws=ws, we=we)
    linked: list[tuple[str, refs.PostRef]] = []
    link_ids: set[str] = set()
    for r in sql.rows(store, LINKS_SQL, mv_text=mvt, ws=ws, we=we, url_like=_or_like("url", refs.URL_LIKE)):
        for ref in refs.post_refs_in(r["url"]):
            link_ids.add(r["id"])
            if r["account"] is not None:
                linked.append((str(r["account"]).lower(), ref))
    sql.register_arrow(store, "gs_link_ids", pa.table({"id": pa.array(sorted(link_ids), pa.string())}))
    by_id = _authors(store, {ref.post_id for _, ref in linked if ref.post_id})
    handles = _handles(store, {ref.handle.lower() for _, ref in linked if ref.handle}
                       | {ref.actor.lower() for _, ref in linked if ref.actor and ref.platform == "bluesky"})
    for responder, ref in linked:
        a = by_id.get(ref.post_id) if ref.post_id else None
        if a is None and ref.platform == "bluesky" and ref.actor:
            h = handles.get(ref.actor.lower())
            if h and str(h["account"]).startswith("did:"):
                a = {"key": _akey(h["account"]), "author_id": h["author_id"], "author_handle": h["author_handle"]}
                ref = refs.PostRef("bluesky", h["author_handle"], f"at://{h['account']}/app.bsky.feed.post/{ref.rkey}")
        if a is None and ref.handle:
            h = handles.get(ref.handle.lower())
            a = ({"key": _akey(h["account"]), "author_id": h["author_id"], "author_handle": h["author_handle"]}
                 if h else {"key": ref.handle.lower(), "author_id": None, "author_handle": ref.handle})
        if a is None:
            continue
        pkey = ref.post_id or ref.key
        ev.info.setdefault(a["key"], {"account_id": a["author_id"], "handle": a["author_handle"]})
        ev.post_info.setdefault(pkey, {"platform": ref.platform, "from_link": True})
        ev.add(a["key"], "links", responder, pkey)
    # 3. scraped text conventions, where the platform recorded no link
    conv: list[tuple[str, refs.TextRef]] = []
    for r in sql.rows(store, TEXTREF_SQL, mv_text=mvt, ws=ws, we=we, text_like=_or_like("text", refs.TEXT_LIKE)):
        t = refs.text_convention(r["text"])
        if t is not None and r["account"] is not None:
            conv.append((str(r["account"]).lower(), t))
    handles = _handles(store, {t.handle.lower() for _, t in conv})
    for responder, t in conv:
        h = handles.get(t.handle.lower())
        key = _akey(h["account"]) if h else t.handle.lower()
        ev.info.setdefault(key, {"account_id": h["author_id"] if h else None,  # type: ignore[arg-type]
                                 "handle": h["author_handle"] if h else t.handle})
        if responder != key:
            ev.add(key, f"{t.kind}s_inferred", responder)  # type: ignore[arg-type]
    # 4. mentions by posts that link to nothing
    mrows = sql.rows(store, MENTIONS_SQL, mv_text=mvt, ws=ws, we=we, text_like=_or_like("text", refs.TEXT_LIKE))
    handles = _handles(store, {r["h"] for r in mrows})
    for r in mrows:
        h = handles.get(r["h"])
        key = _akey(h["account"]) if h else r["h"]
        ev.info.setdefault(key, {"account_id": h["author_id"] if h else None,  # type: ignore[arg-type]
                                 "handle": h["author_handle"] if h else r["h"]})
        # distinct accounts are counted in SQL: keep the number, with anonymous responders
        cur = ev.acct.setdefault(key, {}).setdefault("mentions", set())
        for k in range(int(r["n"])):
            cur.add(f"#m{k}")
    sql.drop(store, "gs_mv_text")
    sql.drop(store, "gs_link_ids")
    return ev


def _authors(store: Any, ids: set[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    ids = {i for i in ids if i}
    for chunk in _chunks(sorted(ids), 5000):
        for r in sql.rows(store, POSTS_BY_ID_SQL, ids=sql.Raw(sql.in_list(chunk))):
            if r["account"] is not None and r["id"] not in out:
                out[r["id"]] = {"key": _akey(r["account"]), "author_id": r["author_id"],
                                "author_handle": r["author_handle"], "created_at": r["created_at"]}
    return out


def _handles(store: Any, handles: set[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(sorted(h for h in handles if h), 5000):
        for r in sql.rows(store, HANDLES_SQL, handles=sql.Raw(sql.in_list(chunk))):
            out[r["h"]] = r
    return out


def _chunks(xs: list[str], n: int) -> list[list[str]]:
    return [xs[i:i + n] for i in range(0, len(xs), n)]


def _time(store: Any, ids: list[str]) -> dict[str, datetime]:
    return {i: a["created_at"] for i, a in _authors(store, set(ids)).items() if a.get("created_at") is not None}


def ignition(store: Any, scope: Scope, takeoff: datetime | None) -> dict[str, Any]:
    """Ranked candidates for what set the movement off, with their evidence (see the module docstring)."""
    method = ("distinct accounts responding (reposts, replies, quotes, links to posts, inferred text "
              "conventions; mentions at half weight) from 6 h before to 4 h after the takeoff, in excess of "
              "what the 48 h before predict at the movement's volume")
    if takeoff is None:
        return {"status": "undetermined", "confidence": None, "reason": "no takeoff was found", "candidates": [],
                "method": method}
    ws, we = takeoff - BEFORE, takeoff + AFTER
    bs = ws - BASELINE
    n_in = int(sql.scalar(store, COUNT_SQL, mv=scope.table, ws=ws, we=we) or 0)
    n_pre = int(sql.scalar(store, COUNT_SQL, mv=scope.table, ws=bs, we=ws) or 0)
    ev = _evidence(store, scope, ws, we)
    # replies, reposts and quotes of the leading posts by anyone (hashtag or not)
    lead = sorted(ev.post, key=lambda p: -sum(len(v) for v in ev.post[p].values()))[:20]
    lead = [p for p in lead if not p.startswith(("twitter:", "bluesky:", "mastodon:"))]
    if lead:
        extra = sql.rows(store, DIRECT_SQL, ws=ws, we=we, ids=sql.Raw(sql.in_list(lead)))
        for r in extra:
            akey = ev.post_account.get(r["root"])
            if akey is not None and r["account"] is not None:
                ev.add(akey, r["kind"], str(r["account"]).lower(), r["root"])
    pre = _evidence(store, scope, bs, ws) if n_pre else _Evidence()
    scale = n_in / (n_pre + PRIOR_POSTS)
    cands = []
    for key in ev.acct:
        got = ev.counts(key)
        base = pre.counts(key)
        expected = {k: round(base.get(k, 0) * scale, 2) for k in KINDS if base.get(k)}
        score = sum(WEIGHTS[k] * max(0.0, got.get(k, 0) - expected.get(k, 0.0)) for k in KINDS)
        if score <= 0:
            continue
        cands.append({"key": key, "score": round(score, 2), "evidence": {k: got.get(k, 0) for k in KINDS},
                      "expected": expected})
    cands.sort(key=lambda c: (-c["score"], c["key"]))
    top = cands[:CANDIDATES]
    out: dict[str, Any] = {"method": method, "window": {"start": sql.iso(ws), "end": sql.iso(we), "posts": n_in,
                                                         "baseline_posts": n_pre,
                                                         "counts": "movement posts in the window"}}
    post_times = _time(store, [p for p in ev.post if ev.post_account.get(p) in {c["key"] for c in top}])
    tagged = _tagged(store, scope, list(post_times))
    rendered = []
    for c in top:
        info = ev.info.get(c["key"], {"account_id": None, "handle": None})
        posts = [(p, sum(len(v) for v in ev.post[p].values())) for p in ev.post if ev.post_account.get(p) == c["key"]]
        posts.sort(key=lambda x: (-x[1], x[0]))
        best_post = posts[0][0] if posts else None
        if best_post is None and info.get("account_id") or best_post is None and info.get("handle"):
            best_post = _last_post(store, scope, c["key"], takeoff + HOUR)
        pid = best_post if best_post and not best_post.startswith(("twitter:", "bluesky:", "mastodon:")) else None
        t = post_times.get(pid) if pid else None
        primary = max(KINDS, key=lambda k: (WEIGHTS[k] * c["evidence"][k], k))
        rendered.append({
            "account_id": info.get("account_id"), "handle": info.get("handle"), "post_id": pid,
            "time": sql.iso(t), "carries_hashtag": (pid in tagged) if pid and t is not None else None,
            "score": c["score"], "evidence": c["evidence"], "expected": c["expected"], "found_by": primary,
            "minutes_from_takeoff": round((t - takeoff).total_seconds() / 60, 1) if t is not None else None,
            "post_responses": dict(sorted(((k, len(v)) for k, v in ev.post.get(pid, {}).items()))) if pid else {}})
    out["candidates"] = rendered
    if not rendered or rendered[0]["score"] < MIN_SCORE:
        out.update({"status": "undetermined", "confidence": None,
                    "reason": (f"too little evidence: the best candidate has {rendered[0]['score']:g} accounts of "
                               f"evidence (at least {MIN_SCORE:g} needed)") if rendered else
                    "nothing in the window responds to, links to or mentions one post or account"})
        return out
    second = rendered[1]["score"] if len(rendered) > 1 else 0.0
    ratio = rendered[0]["score"] / second if second else float("inf")
    out["margin"] = round(ratio, 2) if second else None
    if ratio < MEDIUM:
        out.update({"status": "undetermined", "confidence": None,
                    "reason": f"the two leading candidates are too close to tell apart (scores "
                              f"{rendered[0]['score']:g} and {second:g})"})
        return out
    best = rendered[0]
    out.update({"status": "determined", "confidence": "high" if ratio >= HIGH else "medium",
                "account_id": best["account_id"], "handle": best["handle"], "post_id": best["post_id"],
                "time": best["time"], "carries_hashtag": best["carries_hashtag"], "found_by": best["found_by"],
                "score": best["score"], "evidence": best["evidence"],
                "cascade": sum(best["post_responses"].values()) if best["post_responses"] else 0,
                "responses": sum(best["evidence"].values())})
    return out


def _tagged(store: Any, scope: Scope, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    return {r["id"] for r in sql.rows(store, TAGGED_SQL, mv=scope.table, ids=sql.Raw(sql.in_list(ids)))}


def _last_post(store: Any, scope: Scope, key: str, before: datetime) -> str | None:
    rows = sql.rows(store, ACCOUNT_POSTS_SQL, mv=scope.table, account=key, before=before)
    return rows[0]["id"] if rows else None


def onset(store: Any, scope: Scope, series: list[dict[str, Any]],
          coverage: dict[str, Any] | None = None) -> dict[str, Any]:
    """Takeoff, peak, first post, bursts and ignition (see the module docstring)."""
    first = sql.rows(store, FIRST_SQL, mv=scope.table)
    main = (coverage or {}).get("_main")
    hours = hourly(store, scope, main)
    edges = (main[0], main[1]) if main else (None, None)
    tp = takeoff_and_peak(hours, main, edges)
    takeoff = tp["takeoff"]
    # burst levels of the requested interval's series, inside the main stretch only
    inside = [r for r in series if main is None or main[0] <= r["time"] < main[1]]
    states = kleinberg_states([r["posts"] for r in inside])
    bursts = [{"start": sql.iso(inside[a]["time"]), "end": sql.iso(inside[b]["time"] + scope.step), "level": lv}
              for a, b, lv in burst_periods(states)]
    out = {
        "takeoff": sql.iso(takeoff),
        "takeoff_status": "undetermined" if takeoff is None or tp.get("takeoff_undetermined") else "determined",
        "takeoff_note": tp["takeoff_note"],
        "method": "poisson change point of the hourly count up to the peak, inside the main stretch of collection",
        "takeoff_posts": tp["takeoff_posts"],
        "takeoff_counts": "movement posts in the takeoff hour",
        "baseline_per_hour": tp["baseline_per_hour"],
        "peak": tp["peak"],
        "first_post": _post(first[0] if first else None),
        "ignition": ignition(store, scope, takeoff),
        "bursts": bursts[:20],
    }
    return out
