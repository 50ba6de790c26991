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
    (``RT @handle:``, a leading ``@handle``) with no platform link: they name
    an account, not a post;
  - ``mentions``: mentions of an account by posts that are not reposts, link
    to no post, and are not the mention a reply or quote makes of the author
    it answers.

  Each kind counts distinct responding accounts. Replies, reposts and quotes
  of the leading posts without the hashtag (the "me too" replies to a call to
  action) count too. What surges at takeoff counts, not totals: the same
  evidence in the ``BASELINE`` before the window, scaled by the movement's
  volume (with a prior of ``PRIOR_POSTS`` posts), is what would have come
  anyway (``expected``), and only the excess scores; mentions weigh half.
  The ignition is a post: an account scores with its best post (the one most
  accounts responded to) plus what names the account itself (mentions,
  inferred conventions; an account known only that way gets a post when
  scraped ``RT @`` copies reproduce one of its posts' text, or when it made
  exactly one movement post from ``BEFORE`` the takeoff to the latest time a
  candidate may be made; ``post_by`` says which: ``responses``, ``rt_copies``
  or ``only_post``). A post made
  after the surge was under way cannot have set it off and is not a
  candidate, however popular it became (a prolific or famous account that
  joined later is not the ignition): the latest candidate is made by the
  median movement post of the takeoff hour (half of that hour's posts came
  after it), and never after the hour (``LATEST``); a post made during the
  takeoff hour counts by the share of that hour's movement posts still to
  come (whole at the hour's start, half by its median post: the surge it rode
  answered it too); when the leading candidate was made before the takeoff
  hour and every hour from its hour on was already above the baseline, a
  post made after it counts by the share of that whole climb's posts still to
  come. The takeoff itself goes back to the hour of a determined ignition
  the climb began with (``surge`` keeps the change point). An account whose first post in the store came after that
  latest time counts only what named it before that first post (later
  ``RT @`` copies and mentions answer its own late posts). Responses to a candidate post count from
  ``BEFORE`` the takeoff to the end of the main stretch of collection (a
  call's links and replies keep coming for days); what names an account
  counts only up to ``AFTER`` the takeoff. ``confidence`` is ``high`` when the best
  scores at least ``HIGH`` times the runner-up and ``HIGH_SCORE`` accounts of
  evidence, ``medium`` from ``MEDIUM``
  times; below that, or under ``MIN_SCORE`` accounts of evidence, the answer
  is ``undetermined``. ``candidates`` always lists the best few with their
  evidence. An undetermined answer whose leader did something in the window
  that points at it (not mentions alone) gets a second look, with mentions
  counted to the end of the main stretch: named (``medium`` at most, and
  ``second_look`` says so) only when the same candidate leads and passes.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from groundswell import refs
from groundswell.analysis import sql
from groundswell.analysis.bursts import burst_periods, change_point, kleinberg_states
from groundswell.analysis.scope import Scope

MAX_HOPS = 60
HOUR = timedelta(hours=1)
BEFORE = timedelta(hours=3)
AFTER = timedelta(hours=4)
BASELINE = timedelta(hours=48)
LATEST = timedelta(hours=1)  # the end of the takeoff hour
LEADING = 20  # posts whose responses by anyone (hashtag or not) are counted
MIN_TAKEOFF_POSTS = 10
SPARK_MIN_POSTS, SPARK_P = 5, 0.001  # an hour already above the baseline (see _spark_hour)
PRIOR_POSTS = 50.0
MIN_SCORE = 8.0
HIGH, MEDIUM = 3.0, 1.5
HIGH_SCORE = 30.0  # "high" also needs this much evidence: on 1,200 development shapes, 11 of the 13 wrong
# names scored under 30 (5% of the names given there) and 2 of 928 at 30 or more, both "medium"
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

BEFORE_EACH_SQL = """
SELECT c.id, count(m.created_at) AS n FROM {cands} c
LEFT JOIN {mv} m ON m.created_at >= {ws} AND m.created_at < c.t
GROUP BY c.id
"""

NTH_SQL = """
SELECT created_at FROM {mv} WHERE created_at >= {ws} AND created_at < {we}
ORDER BY created_at, id LIMIT 1 OFFSET {k}
"""

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
SELECT account, text, created_at FROM {mv_text}
WHERE created_at >= {ws} AND created_at < {we}
  AND repost_of_id IS NULL AND reply_to_id IS NULL AND quote_of_id IS NULL AND ({text_like})
"""

# mentions by posts that are not reposts and link to no post; a reply's or quote's mention of the
# author it answers is that reply or quote, already counted
MENTIONS_SQL = """
SELECT lower(h) AS h, lower(account) AS account, min(created_at) AS t FROM
  (SELECT m.account, m.created_at, m.author_handle, par.author_handle AS parent_handle, unnest(m.mentions) AS h
   FROM {mv_text} m LEFT JOIN posts par ON par.platform = m.platform AND par.id = coalesce(m.reply_to_id, m.quote_of_id)
   WHERE m.created_at >= {ws} AND m.created_at < {we} AND m.repost_of_id IS NULL AND m.kind <> 'repost'
     AND NOT coalesce({text_like}, false) AND m.id NOT IN (SELECT id FROM gs_link_ids)) x
WHERE h IS NOT NULL AND length(h) > 0 AND lower(h) <> lower(coalesce(author_handle, ''))
  AND lower(h) <> lower(coalesce(parent_handle, ''))
  AND account IS NOT NULL
GROUP BY lower(h), lower(account)
"""
MAX_MENTIONED = 500  # the most mentioned accounts kept as candidates

FIRST_POSTS_SQL = """
SELECT lower(coalesce(author_id, author_handle)) AS k, min(created_at) AS t FROM posts
WHERE lower(coalesce(author_id, author_handle)) IN {keys} GROUP BY 1
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
SELECT h, min(account) AS account, min(author_id) AS author_id, min(author_handle) AS author_handle FROM (
  SELECT lower(author_handle) AS h, coalesce(author_id, author_handle) AS account, author_id, author_handle
  FROM posts WHERE lower(author_handle) IN {handles}
  UNION ALL
  SELECT lower(handle) AS h, id AS account, id AS author_id, handle AS author_handle
  FROM accounts WHERE lower(handle) IN {handles}
) x GROUP BY h
"""

REPLIED_AUTHOR_SQL = """
SELECT reply_to_id AS id, min(reply_to_author_id) AS author_id FROM posts
WHERE reply_to_id IN {ids} AND reply_to_author_id IS NOT NULL
GROUP BY reply_to_id HAVING count(DISTINCT reply_to_author_id) = 1
"""

ACCOUNT_HANDLES_SQL = """
SELECT id, max(handle) AS handle FROM accounts WHERE id IN {ids} AND handle IS NOT NULL GROUP BY id
"""

TAGGED_SQL = "SELECT id FROM {mv} WHERE id IN {ids}"

ACCOUNT_POSTS_SQL = """
SELECT id, created_at, text FROM posts
WHERE lower(coalesce(author_id, author_handle)) = {account} AND created_at >= {ws} AND created_at < {we}
  AND text IS NOT NULL AND kind <> 'repost'
ORDER BY created_at, id LIMIT 500
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

def hourly(store: Any, scope: Scope, main: tuple[datetime, datetime] | None,
           gaps: list[tuple[datetime, datetime]] | None = None) -> list[dict[str, Any]]:
    """The movement's posts per hour inside the main stretch of collection (zeros filled). Hours inside
    a gap of collection are left out (nothing was collected: not zero posts); ``edge`` marks the first
    hour of the stretch and the first after a gap, ``before_edge`` the last before a gap or the end."""
    got = {r["t"]: int(r["n"]) for r in sql.rows(store, HOURLY_SQL, mv=scope.table)}
    if not got:
        return []
    a, b = min(got), max(got)
    if main is not None:
        a, b = max(a, main[0]), min(b, main[1] - HOUR)
    gaps = gaps or []
    out: list[dict[str, Any]] = []
    t = a
    after_gap = True
    while t <= b:
        if any(g0 <= t < g1 for g0, g1 in gaps):
            if out:
                out[-1]["before_edge"] = True
            after_gap = True
        else:
            out.append({"time": t, "posts": got.get(t, 0), "edge": after_gap and (main is not None),
                        "before_edge": False})
            after_gap = False
        t += HOUR
    if out and main is not None and out[-1]["time"] + HOUR >= main[1]:
        out[-1]["before_edge"] = True
    return out


def takeoff_and_peak(hours: list[dict[str, Any]], main: tuple[datetime, datetime] | None,
                     edges: tuple[datetime | None, datetime | None], main_note: str | None = None) -> dict[str, Any]:
    """Takeoff (change point up to the peak) and peak, in hours, with what the collection's edges allow."""
    out: dict[str, Any] = {"takeoff": None, "takeoff_posts": 0, "baseline_per_hour": 0.0, "takeoff_note": None,
                           "peak": None}
    if not hours:
        out["takeoff_note"] = (main_note or "no posts of the movement inside the main stretch of collection")
        return out
    counts = [r["posts"] for r in hours]
    p = max(range(len(counts)), key=lambda i: counts[i])
    out["peak"] = {"time": sql.iso(hours[p]["time"]), "posts": counts[p], "counts": "movement posts in that hour",
                   "at_collection_edge": bool(hours[p].get("before_edge"))}
    i = takeoff_index(hours)
    if i is None:
        out["takeoff_note"] = "the volume never rises above its baseline"
        return out
    early = sum(counts[i:i + 3])
    if early < MIN_TAKEOFF_POSTS:
        out["takeoff_note"] = (f"too few posts to call a takeoff: {early} movement posts in the three hours from the "
                               f"largest change of rate (at least {MIN_TAKEOFF_POSTS} needed)")
        return out
    out["takeoff"] = hours[i]["time"]
    out["takeoff_posts"] = counts[i]
    out["baseline_per_hour"] = round(sum(counts[:i]) / i, 3) if i else 0.0
    if hours[i].get("edge"):
        out["takeoff_note"] = ("the volume was already high in the first hour collected "
                               + ("after a gap in collection" if i else "")
                               + ": the takeoff may be earlier than the collection shows").replace("collected : ",
                                                                                                    "collected: ")
        out["takeoff_undetermined"] = True
    return out


# --------------------------------------------------------------------------- evidence


class _Evidence:
    """Distinct responding accounts per (post, kind), and per (account, kind) for what names an
    account but no post (mentions, inferred text conventions)."""

    def __init__(self) -> None:
        self.post: dict[str, dict[str, set[str]]] = {}
        self.post_account: dict[str, str] = {}
        self.acct: dict[str, dict[str, dict[str, datetime]]] = {}  # ... -> responder -> earliest time
        self.info: dict[str, dict[str, Any]] = {}  # account key -> account_id, handle
        self.rt_text: dict[str, Counter[str]] = {}  # account key -> what 'RT @' copies of it say (prefixes)

    def add_post(self, post_key: str, account_key: str, kind: str, responder: str) -> None:
        self.post.setdefault(post_key, {}).setdefault(kind, set()).add(responder)
        self.post_account[post_key] = account_key

    def add_account(self, account_key: str, kind: str, responder: str, t: datetime) -> None:
        got = self.acct.setdefault(account_key, {}).setdefault(kind, {})
        if responder not in got or t < got[responder]:
            got[responder] = t

    def post_counts(self, key: str) -> dict[str, int]:
        return {k: len(v) for k, v in self.post.get(key, {}).items()}

    def account_counts(self, key: str, before: datetime | None = None) -> dict[str, int]:
        """Distinct accounts naming ``key`` by kind (only those that named it before ``before``)."""
        return {k: len(v) if before is None else sum(1 for t in v.values() if t < before)
                for k, v in self.acct.get(key, {}).items()}


def _or_like(col: str, patterns: tuple[str, ...]) -> sql.Raw:
    return sql.Raw("(" + " OR ".join(f"{col} LIKE {sql.literal(p)}" for p in patterns) + ")")


def _akey(account: Any) -> str | None:
    return None if account is None else str(account).lower()


def _hkey(h: dict[str, Any]) -> str:
    """The account key of a HANDLES_SQL row: its account, coalesce(author_id, author_handle) of a post found by
    its handle or an account's id, is never NULL."""
    return str(h["account"]).lower()


_WORD = re.compile(r"[^\w]+")


def _prefix(text: str | None) -> str:
    """A text reduced for matching a scraped 'RT @' copy to its original: words only, first 60 characters."""
    return _WORD.sub(" ", (text or "").casefold()).strip()[:60]


def _evidence(store: Any, scope: Scope, ws: datetime, we: datetime, we_acct: datetime | None = None,
              we_mentions: datetime | None = None) -> _Evidence:
    """Evidence from the movement's posts made in ``[ws, we)``; what names an account (text conventions,
    mentions) only from those made before ``we_acct`` (default ``we``), mentions before ``we_mentions``
    (default ``we_acct``)."""
    we_acct = we if we_acct is None else min(we_acct, we)
    we_mentions = we_acct if we_mentions is None else min(we_mentions, we)
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
    authors = _authors(store, {r["root"] for r in root_rows})
    authors.update(_unstored_authors(store, {r["root"] for r in root_rows} - set(authors)))
    for r in root_rows:
        a = authors.get(r["root"])
        akey = a["key"] if a else f"post:{r['root']}"
        if a:
            ev.info.setdefault(akey, {"account_id": a["author_id"], "handle": a["author_handle"]})
        ev.add_post(r["root"], akey, r["kind"], str(r["account"]).lower())
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
        ev.info.setdefault(a["key"], {"account_id": a["author_id"], "handle": a["author_handle"]})
        ev.add_post(ref.post_id or ref.key, a["key"], "links", responder)
    # 3. scraped text conventions, where the platform recorded no link
    conv: list[tuple[str, refs.TextRef, str, datetime]] = []
    for r in sql.rows(store, TEXTREF_SQL, mv_text=mvt, ws=ws, we=we_acct,
                      text_like=_or_like("text", refs.TEXT_LIKE)):
        t = refs.text_convention(r["text"])
        if t is not None and r["account"] is not None:
            rest = r["text"].split(":", 1)[1] if t.kind == "repost" and ":" in r["text"] else ""
            conv.append((str(r["account"]).lower(), t, _prefix(rest), r["created_at"]))
    handles = _handles(store, {t.handle.lower() for _, t, _, _ in conv})
    for responder, t, rest, when in conv:
        h = handles.get(t.handle.lower())
        key = _hkey(h) if h else t.handle.lower()
        ev.info.setdefault(key, {"account_id": h["author_id"] if h else None,
                                 "handle": h["author_handle"] if h else t.handle})
        if responder != key:
            ev.add_account(key, "reposts_inferred" if t.kind == "repost" else "replies_inferred", responder, when)
            if rest:
                ev.rt_text.setdefault(key, Counter())[rest] += 1
    # 4. mentions by posts that link to nothing and answer someone else
    mrows = sql.rows(store, MENTIONS_SQL, mv_text=mvt, ws=ws, we=we_mentions,
                     text_like=_or_like("m.text", refs.TEXT_LIKE))
    by_handle = Counter(r["h"] for r in mrows)
    kept = {h for h, _ in sorted(by_handle.items(), key=lambda x: (-x[1], x[0]))[:MAX_MENTIONED]}
    handles = _handles(store, kept)
    for r in mrows:
        if r["h"] not in kept:
            continue
        h = handles.get(r["h"])
        key = _hkey(h) if h else r["h"]
        ev.info.setdefault(key, {"account_id": h["author_id"] if h else None,
                                 "handle": h["author_handle"] if h else r["h"]})
        ev.add_account(key, "mentions", r["account"], r["t"])
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


def _unstored_authors(store: Any, ids: set[str]) -> dict[str, dict[str, Any]]:
    """Authors of posts that are not stored, where their address or the replies to them say who: a Bluesky
    post's URI holds its author's DID, a Mastodon status URI its author's name and server, and a reply
    records the account it answers."""
    out: dict[str, dict[str, Any]] = {}
    masto: dict[str, str] = {}
    for i in ids:
        if i.startswith("at://did:"):
            did = i[len("at://"):].split("/", 1)[0]
            out[i] = {"key": did.lower(), "author_id": did, "author_handle": None}
        elif i.startswith("http"):
            ref = refs.parse_post_url(i)
            if ref is not None and ref.platform == "mastodon" and ref.handle:
                masto[i] = ref.handle.lower()
    found = _handles(store, set(masto.values()))
    for i, h in masto.items():
        if h in found:
            out[i] = {"key": _hkey(found[h]), "author_id": found[h]["author_id"],
                      "author_handle": found[h]["author_handle"]}
    rest = sorted(i for i in ids if i not in out and i.isdigit())
    for chunk in _chunks(rest, 5000):
        for r in sql.rows(store, REPLIED_AUTHOR_SQL, ids=sql.Raw(sql.in_list(chunk))):
            out[r["id"]] = {"key": _akey(r["author_id"]), "author_id": r["author_id"], "author_handle": None}
    return out


def _handles(store: Any, handles: set[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(sorted(h for h in handles if h), 5000):
        for r in sql.rows(store, HANDLES_SQL, handles=sql.Raw(sql.in_list(chunk))):
            out[r["h"]] = r
    return out


def _chunks(xs: list[str], n: int) -> list[list[str]]:
    return [xs[i:i + n] for i in range(0, len(xs), n)]


def _score(got: dict[str, int], base: dict[str, int], scale: float,
           scales: dict[str, float] | None = None) -> tuple[float, dict[str, float]]:
    """Weighted distinct accounts in excess of what the baseline predicts at the window's volume
    (``scales``: another volume for some kinds, counted over another window)."""
    scales = scales or {}
    expected = {k: round(base.get(k, 0) * scales.get(k, scale), 2) for k in KINDS if base.get(k)}
    return sum(WEIGHTS[k] * max(0.0, got.get(k, 0) - expected.get(k, 0.0)) for k in KINDS), expected


def ignition(store: Any, scope: Scope, takeoff: datetime | None, end: datetime | None = None,
             hours: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Ranked candidates for what set the movement off, with their evidence (see the module docstring);
    when the takeoff window leaves it undetermined, the second look (``_second_look``)."""
    out = _ignition(store, scope, takeoff, end, hours)
    return _second_look(store, scope, takeoff, end, hours, out)


def _second_look(store: Any, scope: Scope, takeoff: datetime | None, end: datetime | None,
                 hours: list[dict[str, Any]] | None, first: dict[str, Any]) -> dict[str, Any]:
    """An undetermined answer whose leading candidate did something in the takeoff window that points at
    it (a post answered, linked or reposted; ``@`` answers or ``RT @`` copies naming it), looked at again
    with the mentions of every candidate counted to the end of the main stretch of collection (a call's
    author keeps being named for days), each in excess of what the baseline predicts at the movement's
    volume over that stretch. The answer is named only when the same candidate leads and the evidence
    then passes the usual tests, and never with more than ``medium`` confidence. Mentions alone do not
    qualify a leader: an account mentioned all along (a platform, a brand) cannot be told from a caller
    by them."""
    cands = first.get("candidates") or []
    if first.get("status") != "undetermined" or not cands or end is None or takeoff is None \
            or not any(n for k, n in cands[0]["evidence"].items() if k != "mentions"):
        return first
    again = _ignition(store, scope, takeoff, end, hours, long_mentions=True)
    lead = again.get("candidates") or []
    if again.get("status") != "determined" or not lead \
            or (lead[0]["account_id"], lead[0]["handle"]) != (cands[0]["account_id"], cands[0]["handle"]):
        return first
    again["confidence"] = "medium"
    again["method"] += ("; on a second look, mentions counted to the end of the main stretch of collection, "
                        "against the baseline at the movement's volume over it")
    again["second_look"] = (f"in the takeoff window alone: {first.get('reason')}; named with the mentions of "
                            f"its author counted to the end of the main stretch of collection")
    return again


def _ignition(store: Any, scope: Scope, takeoff: datetime | None, end: datetime | None = None,
              hours: list[dict[str, Any]] | None = None, long_mentions: bool = False) -> dict[str, Any]:
    """The ranked candidates of :func:`ignition`; with ``long_mentions``, mentions count to ``end``."""
    method = ("distinct accounts responding to one post (reposts, replies, quotes, links) plus those naming its "
              "author (inferred 'RT @'/'@' text conventions; mentions at half weight), from 3 h before to 4 h "
              "after the takeoff, in excess of what the 48 h before predict at the movement's volume; posts made "
              "after half of the takeoff hour's movement posts cannot have set it off, and those made during it "
              "count by the share of its posts still to come")
    if takeoff is None:
        return {"status": "undetermined", "confidence": None, "reason": "no takeoff was found", "candidates": [],
                "method": method}
    ws, we = takeoff - BEFORE, takeoff + AFTER
    # responses to a post count until the end of the main stretch (the candidates are posts made by
    # LATEST after the takeoff, so a later post cannot win by them); what names an account only near takeoff
    wp = max(we, end) if end is not None else we
    bs = ws - BASELINE
    n_in = int(sql.scalar(store, COUNT_SQL, mv=scope.table, ws=ws, we=we) or 0)
    n_long = int(sql.scalar(store, COUNT_SQL, mv=scope.table, ws=ws, we=wp) or 0) if wp > we else n_in
    n_pre = int(sql.scalar(store, COUNT_SQL, mv=scope.table, ws=bs, we=ws) or 0)
    ev = _evidence(store, scope, ws, wp, we, wp if long_mentions else None)
    times = {i: a["created_at"] for i, a in _authors(store, set(ev.post)).items() if a.get("created_at")}
    # a post that is not stored (a link to it, a repost of it) tells its time by its id (Twitter, Mastodon,
    # Bluesky)
    made = {p: t for p in ev.post if (t := times.get(p) or refs.id_time(p)) is not None}
    n_hour = int(sql.scalar(store, COUNT_SQL, mv=scope.table, ws=takeoff, we=takeoff + LATEST) or 0)
    latest = _latest(store, scope, takeoff, n_hour)
    # replies, reposts and quotes of the leading posts by anyone (hashtag or not); only posts that can
    # be candidates (made by ``latest``) lead, or later posts with many responses crowd the call out
    lead = sorted((p for p in ev.post if not p.startswith(("twitter:", "bluesky:", "mastodon:"))
                   and (made.get(p) is None or made[p] <= latest)),
                  key=lambda p: (-sum(len(v) for v in ev.post[p].values()), p))[:LEADING]
    if lead:
        for r in sql.rows(store, DIRECT_SQL, ws=ws, we=wp, ids=sql.Raw(sql.in_list(lead))):
            akey = ev.post_account.get(r["root"])
            if akey is not None and r["account"] is not None:
                ev.add_post(r["root"], akey, r["kind"], str(r["account"]).lower())
    pre = _evidence(store, scope, bs, ws) if n_pre else _Evidence()
    scale = n_in / (n_pre + PRIOR_POSTS)
    scale_post = n_long / (n_pre + PRIOR_POSTS)
    best_post: dict[str, tuple[float, str, dict[str, float]]] = {}
    still = _still_to_come(store, scope, takeoff, n_hour,
                           {p: t for p, t in made.items() if takeoff <= t <= latest})
    raw_post: dict[str, float] = {}
    for p in ev.post:
        t = made.get(p)
        if t is not None and t > latest:
            continue
        sc, exp = _score(ev.post_counts(p), pre.post_counts(p), scale_post)
        raw_post[p] = sc
        sc *= still.get(p, 1.0)
        a = ev.post_account[p]
        if sc > 0 and (a not in best_post or (sc, p) > best_post[a][:2]):
            best_post[a] = (sc, p, exp)
    # an account whose first post in the store came after the surge was under way: what named it after
    # that post answers its late posts, so only what named it before counts
    joined = _late_joiners(store, [k for k in ev.acct if k not in best_post], latest)
    cands: list[dict[str, Any]] = []
    for key in set(best_post) | set(ev.acct):
        psc, pid, pexp = best_post.get(key, (0.0, None, {}))
        named = ev.account_counts(key, joined.get(key))
        # on the second look, mentions over the long stretch, against the baseline at its volume
        asc, aexp = _score(named, pre.account_counts(key), scale, {"mentions": scale_post} if long_mentions else None)
        if psc + asc <= 0:
            continue
        evidence = {k: 0 for k in KINDS}
        if pid is not None:
            evidence.update(ev.post_counts(pid))
        for k, n in named.items():
            evidence[k] = n
        cands.append({"key": key, "score": round(psc + asc, 2), "post": pid, "evidence": evidence,
                      "post_by": "responses" if pid is not None else None,
                      "expected": {**pexp, **aexp}, "_asc": asc})
    cands.sort(key=lambda c: (-c["score"], c["key"]))
    # the leader made before the takeoff hour, the climb above the baseline unbroken from its hour: a post
    # made after it rode that climb, and counts by the share of the climb's posts still to come
    if cands and hours and cands[0]["post"] in made:
        ta = made[cands[0]["post"]]
        h = ta.replace(minute=0, second=0, microsecond=0)
        if h < takeoff and _climb_baseline(hours, h, takeoff) is not None:
            n_climb = int(sql.scalar(store, COUNT_SQL, mv=scope.table, ws=h, we=takeoff + LATEST) or 0)
            later = {c["post"]: made[c["post"]] for c in cands[1:]
                     if c["post"] in made and ta < made[c["post"]] <= latest}
            rode = _still_to_come(store, scope, h, n_climb, later)
            for c in cands[1:]:
                if c["post"] in rode:
                    p = c["post"]
                    c["score"] = round(raw_post[p] * min(still.get(p, 1.0), rode[p]) + c["_asc"], 2)
            cands.sort(key=lambda c: (-c["score"], c["key"]))
    top = cands[:CANDIDATES]
    out: dict[str, Any] = {"method": method, "window": {"start": sql.iso(ws), "end": sql.iso(we), "posts": n_in,
                                                         "responses_until": sql.iso(wp), "baseline_posts": n_pre,
                                                         "counts": "movement posts in the window"}}
    _fill_handles(store, ev, [c["key"] for c in top])
    for c in top:
        if c["post"] is None:
            c["post"] = _matching_post(store, ev, c["key"], bs, latest)
            c["post_by"] = "rt_copies" if c["post"] is not None else None
            if c["post"] is None:
                c["post"] = _only_post(store, scope, c["key"], ws, latest)
                c["post_by"] = "only_post" if c["post"] is not None else None
            if c["post"] is not None:
                times.update(_time(store, [c["post"]]))
    tagged = _tagged(store, scope, [c["post"] for c in top if c["post"]])
    rendered = []
    for c in top:
        info = ev.info.get(c["key"], {"account_id": None, "handle": None})
        pid = c["post"] if c["post"] and not c["post"].startswith(("twitter:", "bluesky:", "mastodon:")) else None
        stored = times.get(pid) if pid else None
        # a post known only from links or reposts: its time from its id
        t = stored if stored is not None else refs.id_time(pid)
        primary = max(KINDS, key=lambda k: (WEIGHTS[k] * c["evidence"][k], k))
        rendered.append({
            "account_id": info.get("account_id"), "handle": info.get("handle"), "post_id": pid,
            "time": sql.iso(t), "time_from": None if t is None else ("post" if stored is not None else "id"),
            "carries_hashtag": (pid in tagged) if pid and stored is not None else None,
            "score": c["score"], "evidence": c["evidence"], "expected": c["expected"], "found_by": primary,
            "post_by": c["post_by"] if pid else None,
            "minutes_from_takeoff": round((t - takeoff).total_seconds() / 60, 1) if t is not None else None})
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
    out.update({"status": "determined",
                "confidence": "high" if ratio >= HIGH and rendered[0]["score"] >= HIGH_SCORE else "medium",
                "account_id": best["account_id"], "handle": best["handle"], "post_id": best["post_id"],
                "time": best["time"], "time_from": best["time_from"], "carries_hashtag": best["carries_hashtag"],
                "found_by": best["found_by"], "post_by": best["post_by"],
                "score": best["score"], "evidence": best["evidence"],
                "cascade": sum(ev.post_counts(best["post_id"]).values()) if best["post_id"] else 0,
                "responses": sum(best["evidence"].values())})
    return out


def _latest(store: Any, scope: Scope, takeoff: datetime, n: int) -> datetime:
    """The latest time a candidate may be made: the median of the ``n`` movement posts of the takeoff hour
    (by then half of the hour's surge had happened), at most the end of the hour."""
    end = takeoff + LATEST
    if n == 0:
        return end
    rows = sql.rows(store, NTH_SQL, mv=scope.table, ws=takeoff, we=end, k=n // 2)
    return min(end, rows[0]["created_at"]) if rows and rows[0]["created_at"] is not None else end


def _late_joiners(store: Any, keys: list[str], latest: datetime) -> dict[str, datetime]:
    """Accounts (of ``keys``) whose first post in the store was made after ``latest``: when it was."""
    out: dict[str, datetime] = {}
    for chunk in _chunks(sorted(keys), 5000):
        for r in sql.rows(store, FIRST_POSTS_SQL, keys=sql.Raw(sql.in_list(chunk))):
            if r["t"] is not None and r["t"] > latest:
                out[r["k"]] = r["t"]
    return out


def _still_to_come(store: Any, scope: Scope, takeoff: datetime, n: int,
                   made: dict[str, datetime]) -> dict[str, float]:
    """For posts made in a stretch from ``takeoff`` holding ``n`` movement posts (the takeoff hour, or a
    climb from an earlier hour to its end): the share of those posts made after them (a post made as the
    surge began counts whole, one made by its median post half: the surge it rode, not only the one it set
    off, answered it)."""
    if not made or n == 0:
        return {}
    ids = sorted(made)
    cands = sql.register_arrow(store, "gs_still", pa.table({"id": pa.array(ids, pa.string()),
                                                            "t": pa.array([made[i] for i in ids])}))
    try:
        before = {r["id"]: int(r["n"]) for r in sql.rows(store, BEFORE_EACH_SQL, cands=cands, mv=scope.table,
                                                           ws=takeoff)}
    finally:
        sql.drop(store, "gs_still")
    return {i: max(0.0, 1.0 - before.get(i, 0) / n) for i in ids}


def _time(store: Any, ids: list[str]) -> dict[str, datetime]:
    return {i: a["created_at"] for i, a in _authors(store, set(ids)).items() if a.get("created_at") is not None}


def _fill_handles(store: Any, ev: _Evidence, keys: list[str]) -> None:
    """Handles for accounts known by id only (Bluesky posts carry DIDs; handles come from profiles)."""
    ids = [ev.info[k]["account_id"] for k in keys
           if k in ev.info and ev.info[k].get("account_id") and not ev.info[k].get("handle")]
    if not ids:
        return
    got = {r["id"]: r["handle"] for r in sql.rows(store, ACCOUNT_HANDLES_SQL, ids=sql.Raw(sql.in_list(ids)))}
    for k in keys:
        i = ev.info.get(k, {})
        if i.get("account_id") in got and not i.get("handle"):
            i["handle"] = got[i["account_id"]]


def _matching_post(store: Any, ev: _Evidence, key: str, ws: datetime, we: datetime) -> str | None:
    """The account's post that scraped 'RT @' copies reproduce (never a guess: None without a match)."""
    copies = ev.rt_text.get(key)
    if not copies:
        return None
    best, hits = None, 0
    for r in sql.rows(store, ACCOUNT_POSTS_SQL, account=key, ws=ws, we=we):
        own = _prefix(r["text"])
        if not own:
            continue
        n = sum(c for p, c in copies.items() if p and (own.startswith(p) or p.startswith(own)))
        if n > hits:
            best, hits = r["id"], n
    return best


ONLY_SQL = """
SELECT id FROM {mv} WHERE lower(account) = {account}
  AND created_at >= {ws} AND created_at <= {we} AND kind <> 'repost' ORDER BY created_at, id LIMIT 2
"""


def _only_post(store: Any, scope: Scope, key: str, ws: datetime, we: datetime) -> str | None:
    """The account's movement post made in ``[ws, we]`` when it made exactly one there (never a guess
    between two: None)."""
    rows = sql.rows(store, ONLY_SQL, mv=scope.table, account=key, ws=ws, we=we)
    return rows[0]["id"] if len(rows) == 1 else None


def _tagged(store: Any, scope: Scope, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    return {r["id"] for r in sql.rows(store, TAGGED_SQL, mv=scope.table, ids=sql.Raw(sql.in_list(ids)))}


def onset(store: Any, scope: Scope, series: list[dict[str, Any]],
          coverage: dict[str, Any] | None = None) -> dict[str, Any]:
    """Takeoff, peak, first post, bursts and ignition (see the module docstring)."""
    first = sql.rows(store, FIRST_SQL, mv=scope.table)
    main = (coverage or {}).get("_main")
    hours = hourly(store, scope, main, (coverage or {}).get("_gaps")) \
        if main is not None or not (coverage or {}).get("main_note") else []
    edges = (main[0], main[1]) if main else (None, None)
    tp = takeoff_and_peak(hours, main, edges, (coverage or {}).get("main_note"))
    takeoff = tp["takeoff"]
    # burst levels of the requested interval's series, inside the main stretch only
    inside = [r for r in series if main is None or main[0] <= r["time"] < main[1]]
    states = kleinberg_states([r["posts"] for r in inside])
    bursts = [{"start": sql.iso(inside[a]["time"]), "end": sql.iso(inside[b]["time"] + scope.step), "level": lv}
              for a, b, lv in burst_periods(states)]
    ign = ignition(store, scope, takeoff, main[1] if main else None, hours)
    surge = takeoff
    spark = None if tp.get("takeoff_undetermined") else _spark_hour(hours, takeoff, ign)
    if spark is not None:
        takeoff, tp["baseline_per_hour"], later = spark
        began = ("the ignition's hour" if later == 0 else "the hour after the ignition's" if later == 1
                 else f"{later} hours after the ignition's hour")
        tp["takeoff_posts"] = next(r["posts"] for r in hours if r["time"] == takeoff)
        tp["takeoff_note"] = (f"the volume climbed above its baseline from {began} on; the steepest "
                              f"rise came at {sql.iso(surge)}")
    out = {
        "takeoff": sql.iso(takeoff),
        "takeoff_status": "undetermined" if takeoff is None or tp.get("takeoff_undetermined") else "determined",
        "takeoff_note": tp["takeoff_note"],
        "method": "poisson change point of the hourly count up to the peak, inside the main stretch of collection",
        "takeoff_posts": tp["takeoff_posts"],
        "surge": sql.iso(surge),
        "takeoff_counts": "movement posts in the takeoff hour",
        "baseline_per_hour": tp["baseline_per_hour"],
        "peak": tp["peak"],
        "first_post": _post(first[0] if first else None),
        "ignition": ign,
        "bursts": bursts[:20],
    }
    return out


def _spark_hour(hours: list[dict[str, Any]], takeoff: datetime | None,
                ign: dict[str, Any]) -> tuple[datetime, float, int] | None:
    """When a determined ignition was made before the takeoff hour: the first hour from the ignition's on
    from which every hour to the takeoff was already above the baseline before it (at least
    ``SPARK_MIN_POSTS`` posts, and more than the baseline reaches with probability ``SPARK_P``), and that
    baseline: the climb began with the spark (in its hour, or in a later one before the change point's),
    the change point found only its steepest part; and how many hours after the ignition's hour it began.
    None otherwise."""
    if takeoff is None or ign.get("status") != "determined" or not ign.get("time"):
        return None
    t = datetime.fromisoformat(str(ign["time"]).replace("Z", "+00:00"))
    if takeoff.tzinfo is None:
        t = t.replace(tzinfo=None)
    h = t.replace(minute=0, second=0, microsecond=0)
    if not (takeoff - BEFORE <= h < takeoff):
        return None
    for later in range(int((takeoff - h) / HOUR)):
        baseline = _climb_baseline(hours, h + later * HOUR, takeoff)
        if baseline is not None:
            return h + later * HOUR, round(baseline, 3), later
    return None


def _climb_baseline(hours: list[dict[str, Any]], h: datetime, takeoff: datetime) -> float | None:
    """The baseline before hour ``h`` when every hour from ``h`` to the takeoff was above it (at least
    ``SPARK_MIN_POSTS`` posts, more than the baseline reaches with probability ``SPARK_P``); else None."""
    from scipy.stats import poisson

    before = [r["posts"] for r in hours if r["time"] < h]
    baseline = sum(before) / len(before) if before else 0.0
    by_time = {r["time"]: r for r in hours}
    x = h
    while x < takeoff:
        r = by_time.get(x)
        if r is None or r.get("edge") or r["posts"] < SPARK_MIN_POSTS \
                or poisson.sf(r["posts"] - 1, baseline) >= SPARK_P:
            return None
        x += HOUR
    return baseline
