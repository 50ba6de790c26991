"""What the report and the dashboard show: the analysis, as a shareable output may show it.

:func:`build_views` turns the dict of :func:`groundswell.analysis.analyze`
into the *views* dict that the charts (:mod:`.charts`), the brief
(:mod:`.brief`), the HTML report and the dashboard read. Every account passes
through :meth:`Presenter.account` (the one place where identity is decided, by
:mod:`groundswell.privacy`): public figures appear by handle, everybody else
under a pseudonym, unless the policy says ``identify``. Post ids of private
people become ``post-...`` labels. No post text is carried, except the
ignition post's, and only when its author (for a repost, the original's
author) is a public figure and :class:`groundswell.privacy.Withholder` allows
it (never for a post judged a disclosure, unless the policy opts in).

A few things the analysis does not return are read from the store here, all
about posts the analysis named: the ignition post's responses in its first
24 hours, the trees of the largest cascades (edges up to :data:`TREE_NODES`
posts, laid out with igraph), and the co-hashtag graph of the movement.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from groundswell.analysis import sql

__all__ = ["Presenter", "build_views", "post_labels", "TREE_NODES"]

TREE_NODES = 400            # posts drawn per cascade tree
TREES = 3                   # largest cascades drawn besides the ignition's
NETWORK_TAGS = 30           # hashtags in the co-hashtag network
CONTENT_LABELS = ("disclosure", "support", "news", "opposition", "other")


def parse_iso(s: str | None) -> datetime | None:
    if not s:
        return None
    return datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)


def iso(t: datetime | None) -> str | None:
    return sql.iso(t)


def post_labels(store: Any, platform: str | None, post_id: str) -> list[str]:
    """The content labels the classifier gave a post (any model), e.g. ['disclosure', 'support'].

    Reads the wide ``post_labels`` table (one boolean column per label) or a
    long one (a ``label`` column); empty when the store has none.
    """
    if not sql.has_table(store, "post_labels"):
        return []
    cols = {r[0]: r[1] for r in store.con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'post_labels'").fetchall()}
    if "label" in cols:
        rows = store.con.execute("SELECT DISTINCT label FROM post_labels WHERE platform = ? AND id = ?",
                                 [platform or "", post_id]).fetchall()
        return sorted(r[0] for r in rows if r[0])
    names = [c for c, t in cols.items() if t == "BOOLEAN" and c != "covered"]
    if not names:
        return []
    q = ", ".join(f'bool_or(coalesce("{c}", false))' for c in names)
    row = store.con.execute(f"SELECT {q} FROM post_labels WHERE platform = ? AND id = ?",
                            [platform or "", post_id]).fetchone()
    return [c for c, v in zip(names, row or ()) if v]


def disclosure_posts(store: Any) -> set[tuple[str, str]]:
    """(platform, id) of every post labelled a disclosure."""
    from groundswell.privacy import disclosure_keys

    return disclosure_keys(store)


class Presenter:
    """Account identity and post text for one output, decided by :mod:`groundswell.privacy`.

    One :class:`groundswell.privacy.Shareable` per output: its pseudonyms, its
    withholding and the count of what it withheld (in :meth:`header`).
    """

    def __init__(self, store: Any, policy: Any = None, *, identify: bool | None = None) -> None:
        from groundswell import privacy

        self.store = store
        self.policy = policy if policy is not None else privacy.Policy.from_store(store, identify=identify)
        self.output = privacy.Shareable(store, self.policy)
        self.ps = self.output.ps
        self.platforms: list[str] = [r[0] for r in store.con.execute(  # part of the posts key: never NULL
            "SELECT DISTINCT platform FROM posts ORDER BY 1").fetchall()]
        self._plat: dict[str, str | None] = {}

    @property
    def header(self) -> dict[str, Any]:
        """The privacy notice, with what this output has withheld so far."""
        return self.output.header()

    def begin(self) -> None:
        """Count what the next output withholds from zero (the dashboard: one count per response)."""
        from groundswell.privacy import Tally

        self.output.tally = self.output.withholder.tally = Tally()

    def platform_of(self, account_id: str | None, handle: str | None = None) -> str | None:
        if len(self.platforms) == 1:
            return self.platforms[0]
        key = account_id or ("@" + (handle or ""))
        if key not in self._plat:
            if account_id:
                row = self.store.con.execute("SELECT platform FROM posts WHERE author_id = ? LIMIT 1",
                                             [account_id]).fetchone()
            else:
                row = self.store.con.execute("SELECT platform FROM posts WHERE lower(author_handle) = lower(?) "
                                             "LIMIT 1", [handle]).fetchone()
            self._plat[key] = row[0] if row else None
        return self._plat[key]

    def account(self, d: Mapping[str, Any] | None, platform: str | None = None) -> dict[str, Any]:
        """``{"label", "pseudonymous"}`` for an account dict with ``account_id`` and/or ``handle``."""
        return _account_label(self, d, platform)

    def is_public(self, account_id: str | None, handle: str | None = None, platform: str | None = None) -> bool:
        p = platform or self.platform_of(account_id, handle)
        return bool(self.policy.identify or self.ps.is_public(p, account_id, handle))

    def post_ref(self, post_id: str | None, account_id: str | None, platform: str | None = None,
                 handle: str | None = None) -> str | None:
        """The id under which an output may name a post: its id when the author is public, else a label."""
        if post_id is None:
            return None
        p = platform or self.platform_of(account_id, handle)
        if self.policy.identify or (account_id is not None and self.ps.is_public(p, account_id, handle)):
            return post_id
        return self.ps.post_label(p, post_id)

    def post_text(self, post: Mapping[str, Any]) -> tuple[str | None, str | None]:
        """(the text as this output shows it, or None; why it is not shown, or None).

        Pages show the words of public figures only: the post's author, or for
        a repost the original's author (a retweet's text is the original's),
        and only as :class:`groundswell.privacy.Withholder` allows.
        """
        from groundswell.privacy import PLACEHOLDERS

        plat, text = post.get("platform"), post.get("text")
        if text is None:
            return None, "the text is not in the store" + (" (deleted)" if post.get("deleted") else "")
        owner, owner_handle = post.get("author_id"), post.get("author_handle")
        original = post.get("repost_of_id")
        if original:
            row = self.store.con.execute("SELECT author_id, author_handle FROM posts WHERE platform = ? AND id = ? "
                                         "LIMIT 1", [plat, original]).fetchone()
            owner, owner_handle = (row[0], row[1]) if row else (None, None)
        public = (owner is not None or owner_handle is not None) and self.is_public(owner, owner_handle, plat)
        if not public:
            who = "the original's author" if original else "its author"
            return None, f"{who} is not a public figure"
        reason = self.output.withholder.decide([(plat, post.get("id"))], [text], [True], [post.get("lang")],
                                               [(plat, original)] if original else None, self.output.known)[0]
        if reason is not None:
            return None, {"disclosure": "it is labelled a first-person disclosure"}.get(reason, PLACEHOLDERS[reason])
        return self.ps.text(text, plat), None

    def text(self, post: Mapping[str, Any], author_public: bool) -> str | None:
        """The post's text as this output may show it (None: withheld); see :meth:`post_text`."""
        return self.post_text(post)[0]


def _account_label(pr: Presenter, d: Mapping[str, Any] | None, platform: str | None = None) -> dict[str, Any]:
    """The one function that decides how an account is named in the report and the dashboard."""
    if not d or (d.get("account_id") is None and d.get("handle") is None):
        return {"label": None, "pseudonymous": True}
    aid, handle = d.get("account_id"), d.get("handle")
    p = platform or pr.platform_of(aid, handle)
    return pr.ps.account(p, aid, handle, d.get("verified"), d.get("followers"))


# --------------------------------------------------------------------------- store reads

def _ignition_post(store: Any, pr: Presenter, ign: Mapping[str, Any]) -> dict[str, Any] | None:
    pid = ign.get("post_id")
    if not pid:
        return None
    row = store.con.execute(
        "SELECT platform, id, author_id, author_handle, created_at, kind, text, repost_count, reply_count, "
        "quote_count, like_count, repost_of_id, lang FROM posts WHERE id = ? ORDER BY is_reference LIMIT 1",
        [pid]).fetchone()
    if row is None:  # known only from links and references to it (a scraped archive of the hashtag)
        who = pr.account({"account_id": ign.get("account_id"), "handle": ign.get("handle")})
        return {"ref": pr.post_ref(pid, ign.get("account_id"), handle=ign.get("handle")), "author": who,
                "author_public": not who.get("pseudonymous", True), "time": ign.get("time"), "kind": None,
                "text": None, "text_withheld": "the post is not in the store; it is known from the posts that "
                                               "link to it or answer it",
                "shares_24h": None, "replies_24h": None, "reported": {}, "in_store": False,
                "carries_hashtag": ign.get("carries_hashtag"), "cascade": ign.get("cascade"),
                "responses": ign.get("responses"), "found_by": ign.get("found_by"),
                "confidence": ign.get("confidence"), "evidence": ign.get("evidence")}
    (plat, _id, aid, handle, created, kind, text, rc, yc, qc, lc, repost_of, lang) = row
    t24 = created + timedelta(hours=24) if created else None
    shares = replies = None
    if created is not None:
        shares, replies = store.con.execute(
            "SELECT count(*) FILTER (WHERE repost_of_id = ? OR quote_of_id = ?), "
            "count(*) FILTER (WHERE reply_to_id = ?) FROM posts "
            "WHERE platform = ? AND created_at >= ? AND created_at < ? "
            "AND (repost_of_id = ? OR quote_of_id = ? OR reply_to_id = ?)",
            [pid, pid, pid, plat, created, t24, pid, pid, pid]).fetchone()
    public = pr.is_public(aid, handle, plat)
    who = pr.account({"account_id": aid, "handle": handle}, plat)
    shown, withheld = pr.post_text({"platform": plat, "id": pid, "text": text, "author_id": aid,
                                    "author_handle": handle, "repost_of_id": repost_of, "lang": lang})
    return {"ref": pr.post_ref(pid, aid, plat, handle), "author": who, "author_public": public,
            "time": iso(created), "kind": kind, "text": shown, "text_withheld": withheld,
            "shares_24h": shares, "replies_24h": replies,
            "reported": {"reposts": rc, "replies": yc, "quotes": qc, "likes": lc},
            "carries_hashtag": ign.get("carries_hashtag"), "cascade": ign.get("cascade"),
            "responses": ign.get("responses"), "found_by": ign.get("found_by"), "in_store": True,
            "confidence": ign.get("confidence"), "evidence": ign.get("evidence")}


TREE_SQL = """
WITH RECURSIVE t(id, parent, depth, created_at, kind) AS (
  SELECT id, CAST(NULL AS VARCHAR), 0, created_at, kind FROM posts WHERE platform = ? AND id = ?
  UNION ALL
  SELECT p.id, t.id, t.depth + 1, p.created_at, p.kind FROM posts p JOIN t
    ON coalesce(p.reply_to_id, p.quote_of_id, p.repost_of_id) = t.id
  WHERE p.platform = ? AND t.depth < 30 AND p.id <> t.id
)
SELECT id, parent, depth, created_at, kind FROM t ORDER BY depth, created_at, id LIMIT ?
"""


def cascade_tree(store: Any, pr: Presenter, post_id: str, account: Mapping[str, Any] | None = None,
                 limit: int = TREE_NODES) -> dict[str, Any] | None:
    """The reply/repost/quote tree under one post, laid out radially (igraph Reingold-Tilford)."""
    import igraph as ig

    row = store.con.execute("SELECT platform, author_id, author_handle FROM posts WHERE id = ? "
                            "ORDER BY is_reference LIMIT 1", [post_id]).fetchone()
    if row is None:
        return None
    plat, aid, handle = row
    rows = store.con.execute(TREE_SQL, [plat, post_id, plat, limit]).fetchall()
    if not rows:
        return None
    index: dict[str, int] = {}
    nodes: list[dict[str, Any]] = []
    edges: list[tuple[int, int]] = []
    t0 = rows[0][3]
    for pid, parent, depth, created, kind in rows:
        if pid in index or (parent is not None and parent not in index):
            continue
        index[pid] = len(nodes)
        minutes = round((created - t0).total_seconds() / 60, 1) if created is not None and t0 is not None else None
        nodes.append({"depth": depth, "kind": "root" if parent is None else kind, "minutes": minutes})
        if parent is not None:
            edges.append((index[parent], index[pid]))
    g = ig.Graph(n=len(nodes), edges=edges, directed=True)
    lay = g.layout_reingold_tilford_circular(mode="out", root=[0]) if len(nodes) > 1 else [[0.0, 0.0]]
    for n, (x, y) in zip(nodes, lay):
        n["x"], n["y"] = round(float(x), 4), round(float(y), 4)
    links = [{"x": nodes[a]["x"], "y": nodes[a]["y"], "x2": nodes[b]["x"], "y2": nodes[b]["y"],
              "kind": nodes[b]["kind"]} for a, b in edges]
    return {"ref": pr.post_ref(post_id, aid, plat, handle),
            "author": pr.account(account or {"account_id": aid, "handle": handle}, plat),
            "posts": len(nodes), "truncated": len(rows) >= limit, "depth": max(n["depth"] for n in nodes),
            "nodes": nodes, "links": links}


def cohashtag_network(store: Any, tags: list[str], start: datetime | None, end: datetime | None,
                      limit: int = NETWORK_TAGS) -> dict[str, Any]:
    """Hashtags used together in the movement's posts: the top ``limit`` by posts, laid out by igraph."""
    import igraph as ig

    win, params = "", []
    if start is not None:
        win += " AND created_at >= ?"
        params.append(start)
    if end is not None:
        win += " AND created_at < ?"
        params.append(end)
    base = (f"SELECT id, list_distinct(hashtags) AS hs FROM posts WHERE NOT is_reference AND kind <> 'repost'"
            f"{win} AND len(list_intersect(hashtags, ?::VARCHAR[])) > 0")
    tagrows = store.con.execute(
        f"SELECT h, count(*) AS n FROM (SELECT unnest(hs) AS h FROM ({base})) GROUP BY h ORDER BY n DESC, h "
        f"LIMIT ?", [*params, tags, limit]).fetchall()
    keep = [h for h, _ in tagrows]
    if len(keep) < 2:
        return {"nodes": [], "links": []}
    pairs = store.con.execute(
        f"SELECT a, b, count(*) FROM (SELECT x.h AS a, y.h AS b FROM "
        f"(SELECT id, unnest(hs) AS h FROM ({base})) x JOIN (SELECT id, unnest(hs) AS h FROM ({base})) y "
        f"ON x.id = y.id AND x.h < y.h WHERE x.h IN (SELECT unnest(?::VARCHAR[])) "
        f"AND y.h IN (SELECT unnest(?::VARCHAR[]))) GROUP BY a, b ORDER BY 3 DESC, a, b",
        [*params, tags, *params, tags, keep, keep]).fetchall()
    idx = {h: i for i, h in enumerate(keep)}
    g = ig.Graph(n=len(keep), edges=[(idx[a], idx[b]) for a, b, _ in pairs])
    g.es["weight"] = [w for _, _, w in pairs]
    lay = g.layout_fruchterman_reingold(weights="weight" if pairs else None, niter=500,
                                        seed=[[float(i % 6), float(i // 6)] for i in range(len(keep))])
    nodes = [{"hashtag": h, "posts": n, "movement": h in tags, "x": round(float(x), 3), "y": round(float(y), 3)}
             for (h, n), (x, y) in zip(tagrows, lay)]
    links = [{"a": a, "b": b, "posts": w, "x": nodes[idx[a]]["x"], "y": nodes[idx[a]]["y"],
              "x2": nodes[idx[b]]["x"], "y2": nodes[idx[b]]["y"]} for a, b, w in pairs]
    return {"nodes": nodes, "links": links}


# --------------------------------------------------------------------------- the views

def _daily(rows: Iterable[Mapping[str, Any]], labels: list[str]) -> list[dict[str, Any]]:
    """Per-interval label shares -> per-day shares (weighted by posts), long form for a stacked chart."""
    days: dict[str, dict[str, float]] = {}
    for r in rows:
        day = (r.get("time") or "")[:10]
        n = r.get("posts") or 0
        d = days.setdefault(day, {"posts": 0.0, **{k: 0.0 for k in labels}})
        d["posts"] += n
        for k in labels:
            d[k] += (r.get("shares", {}).get(k) or 0.0) * n
    out = []
    for day, d in sorted(days.items()):
        for k in labels:
            out.append({"day": day + "T00:00:00Z", "label": k, "posts": round(d[k]),
                        "share": round(d[k] / d["posts"], 4) if d["posts"] else 0.0})
    return out


def build_views(store: Any, result: Mapping[str, Any], presenter: Presenter | None = None) -> dict[str, Any]:
    """The views of one movement (JSON-ready; accounts as labels; see the module docstring)."""
    if result.get("basis") == "platform counts":
        from groundswell.errors import UsageError

        raise UsageError("the store holds only the platform's counts for "
                         f"#{' #'.join(result['movement']['hashtags'])}, "
                         "no posts: 'groundswell analyze' shows their timeline, bursts, takeoff and peak; the report "
                         "needs posts (ingest them, e.g. twarc2 search output)")
    pr = presenter or Presenter(store)
    mv, tl, tr, on = result["movement"], result["timeline"], result["trending"], result["onset"]
    pe, sp, ca = result["people"], result["spread"], result["cascades"]
    v: dict[str, Any] = {"privacy": None, "movement": mv,
                         "totals": {"posts": tl["posts"], "authors": tl["authors"], "peak": tl.get("peak"),
                                    "first": tl["rows"][0]["time"] if tl["rows"] else None,
                                    "last": tl["rows"][-1]["time"] if tl["rows"] else None}}
    v["timeline"] = [{"time": r["time"], "posts": r["posts"], "new_authors": r["new_authors"],
                      "authors": r["authors"]} for r in tl["rows"]]
    ign = on.get("ignition") or {}
    determined = ign.get("status") == "determined"
    v["coverage"] = {k: result.get("coverage", {}).get(k)
                     for k in ("first", "last", "posts", "search", "main", "notes")}
    v["totals"]["peak_at_collection_edge"] = tl.get("peak_at_collection_edge")
    v["onset"] = {"takeoff": on.get("takeoff"), "takeoff_posts": on.get("takeoff_posts"),
                  "takeoff_status": on.get("takeoff_status"), "takeoff_note": on.get("takeoff_note"),
                  "surge": on.get("surge"), "baseline": on.get("baseline_per_hour"), "method": on.get("method"),
                  "peak": on.get("peak"),
                  "first_post": ({"time": on["first_post"].get("time"),
                                  "author": pr.account(on["first_post"])} if on.get("first_post") else None),
                  "ignition": _ignition_post(store, pr, ign) if determined else None,
                  "ignition_status": ign.get("status"), "ignition_reason": ign.get("reason"),
                  "ignition_confidence": ign.get("confidence"), "ignition_second_look": ign.get("second_look"),
                  "ignition_post_by": ign.get("post_by"),
                  "candidates": [{"author": pr.account(c), "ref": pr.post_ref(c.get("post_id"), c.get("account_id"),
                                                                              handle=c.get("handle")),
                                  "score": c.get("score"), "evidence": c.get("evidence"),
                                  "time": c.get("time")} for c in ign.get("candidates", [])]}
    v["trending"] = {"ranks": [{"time": r["time"], "rank": r["rank"], "accounts": r.get("accounts")}
                               for r in tr.get("ranks", []) if r.get("rank") is not None],
                     "best_rank": tr.get("best_rank"), "first_top10": tr.get("first_top10"),
                     "first_top1": tr.get("first_top1"), "tags_ranked": tr.get("tags_ranked"),
                     "score": tr.get("score"), "meaningful": tr.get("meaningful", True),
                     "context": tr.get("context")}
    v["spread"] = {"observed": sp.get("observed"), "reported": sp.get("reported"), "coverage": sp.get("coverage"),
                   "most_shared": [{"ref": pr.post_ref(m["post_id"], m.get("account_id"), handle=m.get("handle")),
                                    "author": pr.account(m), "time": m.get("time"),
                                    "reposts": m["observed"]["reposts"], "quotes": m["observed"]["quotes"],
                                    "replies": m["observed"]["replies"]}
                                   for m in sp.get("most_shared", [])
                                   if m["observed"]["reposts"] + m["observed"]["quotes"] > 0][:10]}
    trees = []
    if determined and ign.get("post_id"):
        t = cascade_tree(store, pr, ign["post_id"], ign)
        if t:
            trees.append({"title": "The ignition post", **t})
    seen = {ign.get("post_id")}
    for kind in ("reposts", "replies"):
        nth = 0
        for c in ca.get(kind, {}).get("largest", [])[:TREES]:
            if c["post_id"] in seen or len(trees) >= 1 + TREES:
                continue
            seen.add(c["post_id"])
            t = cascade_tree(store, pr, c["post_id"], c)
            if t and t["posts"] > 1:
                nth += 1
                what = "repost cascade" if kind == "reposts" else "reply tree"
                trees.append({"title": f"Largest {what}" if nth == 1 else f"{what.capitalize()} no. {nth}", **t})
    v["cascades"] = {"trees": trees,
                     "summary": {k: {"cascades": ca[k]["cascades"], "shape": ca[k].get("shape"),
                                     "max_size": ca[k]["size"].get("max"), "max_depth": ca[k]["depth"].get("max")}
                                 for k in ("reposts", "replies") if k in ca}}
    v["notable"] = [{"account": pr.account(n), "joined_at": n["joined_at"], "followers": n.get("followers"),
                     "verified": n.get("verified"), "posts": n.get("posts"),
                     "join_post": pr.post_ref(n.get("join_post_id"), n.get("account_id"), handle=n.get("handle"))}
                    for n in pe.get("notable", [])]
    v["amplifiers"] = [{"account": pr.account(a), "pagerank": a.get("pagerank"), "posts": a.get("posts")}
                       for a in pe.get("top_amplifiers", [])]
    v["reposters"] = [{"account": pr.account(a), "reposts": a.get("reposts")} for a in pe.get("top_reposters", [])]
    cm = pe.get("communities", {})
    v["communities"] = {"count": cm.get("count"), "outside_seed_share": cm.get("outside_seed_share"),
                        "claimed": cm.get("outside_seed_claimed", True), "note": cm.get("outside_seed_note"),
                        "known_posts": cm.get("known_posts"), "basis": cm.get("basis"),
                        "seed_accounts": cm.get("seed_community_accounts"),
                        "outside_seed": cm.get("outside_seed", []), "algorithm": cm.get("algorithm")}
    reach = result.get("reach", {})
    v["reach"] = {k: {"coverage": reach.get(k, {}).get("coverage"),
                      "totals": [{"value": x["value"], "posts": x["posts"], "accounts": x.get("accounts")}
                                 for x in reach.get(k, {}).get("totals", [])]} for k in ("languages", "countries")}
    top_langs = [x["value"] for x in v["reach"]["languages"]["totals"][:6]]
    lang_time: dict[tuple[str, str], int] = {}
    for r in reach.get("languages", {}).get("over_time", []):
        day = r["time"][:10] + "T00:00:00Z"
        for lang, n in r["posts"].items():
            k = (day, lang if lang in top_langs else "other")
            lang_time[k] = lang_time.get(k, 0) + n
    v["reach"]["languages"]["per_day"] = [{"day": d, "language": lang, "posts": n}
                                          for (d, lang), n in sorted(lang_time.items())]
    hs = result.get("hashtags", {})
    v["hashtags"] = {"co_occurring": hs.get("co_occurring", [])[:15],
                     "network": cohashtag_network(store, mv["hashtags"], parse_iso(mv.get("start")),
                                                  parse_iso(mv.get("end")))}
    co = result.get("coordination", {})
    v["coordination"] = {"method": co.get("method"), "window_seconds": co.get("window_seconds"),
                         "min_weight": co.get("min_weight"), "min_size": co.get("min_size"),
                         "groups": [{"size": g.get("size"), "amplified": pr.account(g.get("amplified")),
                                     "kind": g.get("kind") or g.get("type"), "weight": g.get("weight"),
                                     "members": [pr.account(m)["label"] for m in (g.get("members") or [])[:12]]}
                                    for g in co.get("groups", [])]}
    content = result.get("content")
    if content:
        verdicts = content.get("verdicts") or {}
        shown = [k for k in CONTENT_LABELS if k in content.get("labels", [])]
        # a label that does no better than answering yes for every post is not drawn, only named with why
        withheld = {k: verdicts[k]["why"] for k in shown if (verdicts.get(k) or {}).get("status") == "below baseline"}
        labels = [k for k in shown if k not in withheld]
        overall = content.get("overall", {})
        v["content"] = {"model": content.get("model"), "labels": labels, "over": content.get("over"),
                        "withheld": withheld,
                        "not_measured": [k for k in labels if (verdicts.get(k) or {}).get("status") == "not measured"],
                        "posts": overall.get("posts"), "overall": {k: overall.get("shares", {}).get(k) for k in labels},
                        "first_time_share": overall.get("shares", {}).get("first_time"),
                        "per_day": _daily(content.get("over_time", []), labels),
                        "first_time_per_day": content.get("first_time_disclosures_per_day"),
                        "first_time_quality": content.get("first_time_quality"),
                        "intervals": overall.get("intervals", {}), "coverage": content.get("coverage"),
                        "quality": {k: {m: q.get(m) for m in ("recall", "precision", "measured", "on")}
                                    for k, q in ((content.get("quality") or {}).get("labels") or {}).items()
                                    if k in labels}}
    else:
        v["content"] = None
    v["privacy"] = pr.header  # last: it counts what the views withheld
    return v
