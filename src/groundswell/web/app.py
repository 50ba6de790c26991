"""The dashboard: a Starlette app over one store, read-only.

Pages (server-side Jinja2 templates, autoescaped; the only scripts are the
Vega runtime, the chart loader and the live board's EventSource client, all
served from ``/static``; a Content-Security-Policy forbids any other script):

* ``/`` the hashtags in the store and the filter form;
* ``/movement?hashtag=TAG[&start&end&platform&lang&interval]`` the same views
  as the offline report (:mod:`groundswell.report.views`);
* ``/post/{ref}`` and ``/account/{ref}`` drill-downs, by the labels the
  pages show (a public figure's post id or handle, else a pseudonym);
* ``/trending`` the live trending board, updated by server-sent events
  (``/api/trending/events``);
* ``/export/posts.csv``, ``/export/posts.parquet``, ``/export/network.gexf``
  the movement's posts and network, pseudonymized as ``groundswell export``;
* ``/api/...`` the same as JSON, described by ``/openapi.json``.

Every account goes through :class:`groundswell.report.views.Presenter`
(:mod:`groundswell.privacy`). Unknown query parameters and bad values get a
400 with a one-line message; nothing returns a stack trace. Store access is
serialized by one lock (DuckDB connections are not for concurrent use). The
platform and language filters run the analysis over a temporary view
``posts`` that shadows the store's table on the dashboard's own connection.

The live board reads an in-process :class:`groundswell.live.follower.Follower`
when the app is given one (``serve --follow URL``: one process writes and
serves, since DuckDB refuses any other process while one writes), else it
polls the store: the hashtags with the most distinct accounts in the last
hour of data, against the hour before.
"""

from __future__ import annotations

import collections
import io
import json
import re
import secrets
import sys
import threading
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from groundswell.errors import GroundswellError, UsageError
from groundswell.hosts import is_loopback
from groundswell.web.security import CSP, Guard, HostCheck, Slots, capped

if TYPE_CHECKING:
    from groundswell.privacy.pseudonyms import LabelIndex

__all__ = ["create_app", "Dashboard", "OPENAPI", "CSP"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"
INSTALL = "pip install 'groundswell[web]'"

MAX_STREAMS = 16  # live board event streams at once (each holds a connection and polls the board)

_TAG_RE = re.compile(r"^#?[^\W][\w]{0,138}$", re.UNICODE)
_LANG_RE = re.compile(r"^(?:[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})?|und)$")
_REF_RE = re.compile(r"^[\w:/.@+=-]{1,300}$")
MOVEMENT_PARAMS = ("hashtag", "start", "end", "platform", "lang", "interval")


class BadRequest(Exception):
    def __init__(self, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.status = status


# --------------------------------------------------------------------------- parameters

def _params(request: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
    """The query parameters, checked: unknown names and repeated single values are a 400."""
    out: dict[str, Any] = {}
    for key in request.query_params.keys():
        if key not in allowed:
            raise BadRequest(f"unknown query parameter {key!r}; this page takes "
                             + (", ".join(allowed) if allowed else "none"))
    for key in allowed:
        vals = [v for v in request.query_params.getlist(key) if v.strip() != ""]
        if key == "hashtag":
            tags: list[str] = []
            for v in vals:
                for part in v.split(","):
                    part = part.strip()
                    if not part:
                        continue
                    if not _TAG_RE.match(part):
                        raise BadRequest(f"not a hashtag: {part[:40]!r} (letters, digits and _ only)")
                    t = part.lstrip("#").casefold()
                    if t not in tags:
                        tags.append(t)
            out[key] = tags
        elif len(vals) > 1:
            raise BadRequest(f"give {key!r} once")
        else:
            out[key] = vals[0].strip() if vals else None
    return out


def _check_movement(p: dict[str, Any], platforms: list[str], need_tag: bool = True) -> dict[str, Any]:
    from groundswell.analysis.scope import parse_time

    if need_tag and not p.get("hashtag"):
        raise BadRequest("name a hashtag: ?hashtag=metoo")
    for k in ("start", "end"):
        if p.get(k):
            try:
                p[k] = parse_time(p[k])
            except UsageError as e:
                raise BadRequest(f"{k}: {e}") from None
    if p.get("start") and p.get("end") and p["start"] >= p["end"]:
        raise BadRequest("start must be before end")
    if p.get("interval") is None:
        p["interval"] = "hour"
    elif p["interval"] not in ("minute", "hour", "day"):
        raise BadRequest(f"interval must be minute, hour or day, not {p['interval'][:20]!r}")
    if p.get("platform") and p["platform"] not in platforms:
        raise BadRequest(f"unknown platform {p['platform'][:30]!r}; the store has {', '.join(platforms) or 'none'}")
    if p.get("lang") and not _LANG_RE.match(p["lang"]):
        raise BadRequest(f"not a language code: {p['lang'][:20]!r} (e.g. en, pt-BR, und)")
    return p


def _int(p: dict[str, Any], key: str, default: int, lo: int, hi: int) -> int:
    v = p.get(key)
    if v is None:
        return default
    try:
        n = int(v)
    except ValueError:
        raise BadRequest(f"{key} must be a whole number, not {str(v)[:20]!r}") from None
    if not lo <= n <= hi:
        raise BadRequest(f"{key} must be between {lo} and {hi}")
    return n


def _float(p: dict[str, Any], key: str, default: float, lo: float, hi: float) -> float:
    v = p.get(key)
    if v is None:
        return default
    try:
        x = float(v)
    except ValueError:
        raise BadRequest(f"{key} must be a number, not {str(v)[:20]!r}") from None
    if not lo <= x <= hi:
        raise BadRequest(f"{key} must be between {lo:g} and {hi:g}")
    return x


# --------------------------------------------------------------------------- the data side

class Dashboard:
    """The store side of the dashboard: cached analyses, drill-downs, the board, exports."""

    def __init__(self, store: Any, *, identify: bool = False, follower: Any = None, cache: int = 8) -> None:
        from groundswell.report.views import Presenter

        self.store = store
        self.follower = follower
        self.lock = threading.RLock()
        self.identify = identify
        self.presenter = Presenter(store, identify=identify)
        self.platforms = list(self.presenter.platforms)
        self._cache: collections.OrderedDict[Any, Any] = collections.OrderedDict()
        self._cache_size = cache
        self._db = store.con.execute("SELECT current_database()").fetchone()[0]
        self._label_index: LabelIndex | None = None

    # -- helpers ------------------------------------------------------------
    def version(self) -> tuple[Any, ...]:
        row = self.store.con.execute("SELECT count(*), max(created_at) FROM posts").fetchone()
        return tuple(row or ())

    def _filter(self, platform: str | None, lang: str | None) -> Callable[[], None]:
        """Shadow ``posts`` with a filtered temp view on the dashboard's connection; returns the undo."""
        if not platform and not lang:
            return lambda: None
        from groundswell.analysis import sql

        conds = []
        if platform:
            conds.append(f"platform = {sql.literal(platform)}")
        if lang:
            conds.append(f"lower(lang) = {sql.literal(lang.lower())}")
        db = '"' + self._db.replace('"', '""') + '"'
        # the store's connection and the analyses' own cursor (sql.con) both see the filtered view
        cons = [self.store.con, sql.con(self.store)]
        for c in cons:
            c.execute(f"CREATE OR REPLACE TEMP VIEW posts AS SELECT * FROM {db}.main.posts "
                      f"WHERE {' AND '.join(conds)}")

        def undo() -> None:
            for c in cons:
                c.execute("DROP VIEW IF EXISTS temp.posts")
        return undo

    def movement(self, p: dict[str, Any]) -> dict[str, Any]:
        """The views of a movement (cached while the store does not change)."""
        from groundswell.report.html import analyze_views

        with self.lock:
            key = (tuple(p["hashtag"]), p.get("start"), p.get("end"), p["interval"], p.get("platform"),
                   p.get("lang"), self.version())
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]  # type: ignore[no-any-return]
            undo = self._filter(p.get("platform"), p.get("lang"))
            self.presenter.begin()
            try:
                _, views = analyze_views(self.store, p["hashtag"], p.get("start"), p.get("end"), p["interval"],
                                         self.presenter)
            finally:
                undo()
            views["filters"] = {"platform": p.get("platform"), "lang": p.get("lang")}
            self._cache[key] = views
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            return views

    def hashtags(self, limit: int = 40) -> list[dict[str, Any]]:
        from groundswell.queries import hashtag_counts

        with self.lock:
            return hashtag_counts(self.store, limit)  # posts carrying each tag and its occurrences

    def languages(self) -> list[str]:
        with self.lock:
            return [r[0] for r in self.store.con.execute(
                "SELECT lang FROM posts WHERE lang IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 30").fetchall()]

    def _labels(self) -> LabelIndex:
        """The store's label index (built on first use; see :class:`groundswell.privacy.pseudonyms.LabelIndex`)."""
        if self._label_index is None:
            from groundswell.privacy.pseudonyms import LabelIndex

            self._label_index = LabelIndex(self.presenter.ps)
        return self._label_index

    # -- drill-downs ------------------------------------------------------------
    def resolve_post(self, ref: str) -> tuple[str, str] | None:
        """(platform, id) of the post a page may name ``ref``, or None."""
        pr = self.presenter
        with self.lock:
            if ref.startswith("post-") and not pr.policy.identify:
                return self._labels().post(ref)  # an indexed lookup, not a hash of every row
            row = self.store.con.execute(
                "SELECT platform, id, author_id, author_handle FROM posts WHERE id = ? "
                "ORDER BY is_reference LIMIT 1", [ref]).fetchone()
            if row is None:
                return None
            if pr.policy.identify or (row[2] is not None and pr.is_public(row[2], row[3], row[0])):
                return row[0], row[1]
            return None  # a private person's post is only reachable by its label

    def post(self, ref: str) -> dict[str, Any] | None:
        from groundswell.analysis.content import below_baseline
        from groundswell.report.views import cascade_tree, iso, post_labels

        key = self.resolve_post(ref)
        if key is None:
            return None
        pr = self.presenter
        with self.lock:
            pr.begin()
            cur = self.store.con.execute(
                "SELECT platform, id, author_id, author_handle, created_at, kind, text, lang, hashtags, "
                "repost_of_id, reply_to_id, quote_of_id, repost_count, reply_count, quote_count, like_count, deleted "
                "FROM posts WHERE platform = ? AND id = ? ORDER BY is_reference LIMIT 1", list(key))
            names = [d[0] for d in cur.description]
            r = dict(zip(names, cur.fetchone()))
            public = pr.is_public(r["author_id"], r["author_handle"], r["platform"])
            labels = post_labels(self.store, r["platform"], r["id"])
            weak = below_baseline(self.store)  # labels no better than answering yes: shown apart, not as findings
            text, withheld = pr.post_text(r)  # a repost's words are the original's: its author's rule

            def parent(pid: str | None) -> str | None:
                if pid is None:
                    return None
                a = self.store.con.execute("SELECT author_id, author_handle FROM posts WHERE platform = ? AND id = ? "
                                           "LIMIT 1", [r["platform"], pid]).fetchone()
                return pr.post_ref(pid, a[0] if a else None, r["platform"], a[1] if a else None)

            responses = self.store.con.execute(
                "SELECT count(*) FILTER (WHERE repost_of_id = ?), count(*) FILTER (WHERE reply_to_id = ?), "
                "count(*) FILTER (WHERE quote_of_id = ?) FROM posts WHERE platform = ? AND "
                "(repost_of_id = ? OR reply_to_id = ? OR quote_of_id = ?)", [r["id"]] * 3 + [r["platform"]]
                + [r["id"]] * 3).fetchone()
            tree = cascade_tree(self.store, pr, r["id"]) if sum(responses) else None
            return {"ref": pr.post_ref(r["id"], r["author_id"], r["platform"], r["author_handle"]),
                    "platform": r["platform"], "author": pr.account(
                        {"account_id": r["author_id"], "handle": r["author_handle"]}, r["platform"]),
                    "author_public": public, "time": iso(r["created_at"]), "kind": r["kind"], "lang": r["lang"],
                    "hashtags": list(r["hashtags"] or []), "labels": [k for k in labels if k not in weak],
                    "labels_below_baseline": [k for k in labels if k in weak], "text": text, "text_withheld": withheld,
                    "repost_of": parent(r["repost_of_id"]), "reply_to": parent(r["reply_to_id"]),
                    "quote_of": parent(r["quote_of_id"]),
                    "observed": {"reposts": responses[0], "replies": responses[1], "quotes": responses[2]},
                    "reported": {"reposts": r["repost_count"], "replies": r["reply_count"],
                                 "quotes": r["quote_count"], "likes": r["like_count"]},
                    "tree": tree, "privacy": pr.header}

    def resolve_account(self, ref: str) -> tuple[str | None, str | None, str | None] | None:
        """(platform, account id, handle) of the account a page may name ``ref``, or None."""
        pr = self.presenter
        with self.lock:
            if ref.startswith("user-") and not pr.policy.identify:
                return self._labels().account(ref)  # accounts known by handle only (plain CSV) too
            h = ref.lstrip("@")
            row = self.store.con.execute(
                "SELECT platform, author_id, author_handle FROM posts WHERE lower(author_handle) = lower(?) "
                "OR author_id = ? ORDER BY created_at DESC LIMIT 1", [h, ref]).fetchone()
            if row is None:
                return None
            if pr.policy.identify or pr.is_public(row[1], row[2], row[0]):
                return row[0], row[1], row[2]
            return None

    def account(self, ref: str) -> dict[str, Any] | None:
        from groundswell.report.views import iso

        key = self.resolve_account(ref)
        if key is None:
            return None
        plat, aid, handle = key
        pr = self.presenter
        with self.lock:
            who = "author_id = ?" if aid is not None else "author_id IS NULL AND lower(author_handle) = lower(?)"
            arg = aid if aid is not None else handle
            public = pr.is_public(aid, handle, plat)
            prof = None
            if public and aid is not None:
                row = self.store.con.execute(
                    "SELECT handle, display_name, followers, verified FROM accounts_latest "
                    "WHERE platform = ? AND id = ?", [plat, aid]).fetchone()
                if row:
                    prof = {"handle": row[0], "display_name": row[1], "followers": row[2], "verified": row[3]}
            stats = self.store.con.execute(
                f"SELECT count(*), min(created_at), max(created_at), count(*) FILTER (WHERE kind = 'original'), "
                f"count(*) FILTER (WHERE kind = 'repost'), count(*) FILTER (WHERE kind = 'reply'), "
                f"count(*) FILTER (WHERE kind = 'quote') FROM posts WHERE platform = ? AND {who} "
                f"AND NOT is_reference", [plat, arg]).fetchone()
            tags = self.store.con.execute(
                f"SELECT h, count(DISTINCT id) FROM (SELECT id, unnest(hashtags) AS h FROM posts WHERE platform = ? "
                f"AND {who} AND NOT is_reference) GROUP BY h ORDER BY 2 DESC, h LIMIT 15", [plat, arg]).fetchall()
            posts = self.store.con.execute(
                f"SELECT id, created_at, kind, hashtags FROM posts WHERE platform = ? AND {who} AND NOT is_reference "
                f"ORDER BY created_at DESC, id LIMIT 50", [plat, arg]).fetchall()
            return {"account": pr.account({"account_id": aid, "handle": handle}, plat), "platform": plat,
                    "public": public, "profile": prof,
                    "posts": stats[0], "first": iso(stats[1]), "last": iso(stats[2]),
                    "kinds": {"original": stats[3], "repost": stats[4], "reply": stats[5], "quote": stats[6]},
                    "hashtags": [{"hashtag": h, "posts": n} for h, n in tags],
                    "recent": [{"ref": pr.post_ref(i, aid, plat, handle), "time": iso(t), "kind": k,
                                "hashtags": list(hs or [])} for i, t, k, hs in posts]}

    # -- the trending board ---------------------------------------------------------
    def board(self, limit: int = 20) -> dict[str, Any]:
        if self.follower is not None:
            rows = list(self.follower.board)[:limit]
            st = self.follower.stats
            return {"source": "live", "as_of": None, "posts": st.stored_posts,
                    "board": [{"rank": r["rank"], "hashtag": r["hashtag"], "accounts": r["accounts"],
                               "score": r["score"]} for r in rows]}
        with self.lock:
            row = self.store.con.execute(
                "SELECT max(created_at), count(*) FROM posts WHERE NOT is_reference").fetchone()
            last, n = row if row else (None, 0)
            if last is None:
                return {"source": "store", "as_of": None, "posts": 0, "board": []}
            rows = self.store.con.execute(
                "SELECT h, count(DISTINCT a) FILTER (WHERE created_at >= ?) AS now, "
                "count(DISTINCT a) FILTER (WHERE created_at < ?) AS before FROM "
                "(SELECT unnest(hashtags) AS h, coalesce(author_id, author_handle) AS a, created_at FROM posts "
                " WHERE NOT is_reference AND created_at >= ?) GROUP BY h HAVING now > 0 "
                "ORDER BY now - before DESC, now DESC, h LIMIT ?",
                [last - timedelta(hours=1), last - timedelta(hours=1), last - timedelta(hours=2), limit]).fetchall()
        from groundswell.report.views import iso

        return {"source": "store", "as_of": iso(last), "posts": n,
                "board": [{"rank": i, "hashtag": h, "accounts": a, "score": a - b}
                          for i, (h, a, b) in enumerate(rows, 1)]}

    # -- exports ------------------------------------------------------------------
    def export_posts(self, p: dict[str, Any], fmt: str) -> bytes:
        from groundswell import privacy
        from groundswell.analysis import sql
        from groundswell.report.views import disclosure_posts

        # the request's values go to DuckDB as parameters, never into the SQL text
        conds, params = ["len(list_intersect(hashtags, ?::VARCHAR[])) > 0", "NOT is_reference"], [list(p["hashtag"])]
        for cond, key in (("created_at >= ?", "start"), ("created_at < ?", "end"), ("platform = ?", "platform")):
            if p.get(key):
                conds.append(cond)
                params.append(p[key])
        if p.get("lang"):
            conds.append("lower(lang) = ?")
            params.append(p["lang"].lower())
        with self.lock:
            # the original object (and its pointer into the stored pages) is never shown
            hidden = "raw, raw_page, raw_at" if self.store.has_pages() else "raw"
            rel = sql.con(self.store).sql(f"SELECT * EXCLUDE ({hidden}) FROM posts WHERE " + " AND ".join(conds)
                                          + " ORDER BY platform, created_at, id", params=params)
            t = rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.arrow()
            t = privacy.pseudonymize_table(self.store, t, pseudonymizer=self.presenter.ps, kind="posts",
                                           disclosures=disclosure_posts(self.store))
        from groundswell.export import write

        buf: Any = io.BytesIO() if fmt == "parquet" else io.StringIO()
        write(iter([t]), fmt, buf, "posts", empty=t)
        out = buf.getvalue()
        return out if isinstance(out, bytes) else out.encode("utf-8")

    def export_network(self, p: dict[str, Any], nodes: str) -> str:
        from groundswell import privacy
        from groundswell.analysis.network import build_network, write_network

        with self.lock:
            undo = self._filter(p.get("platform"), p.get("lang"))
            try:
                g = build_network(self.store, nodes=nodes, hashtag=p["hashtag"])
            finally:
                undo()
            privacy.pseudonymize_network(self.store, g, self.presenter.policy, nodes)
        out = io.StringIO()
        write_network(g, "gexf", out)
        return out.getvalue()


# --------------------------------------------------------------------------- OpenAPI

def _op(summary: str, params: list[str], content: str = "application/json",
        path_param: str | None = None) -> dict[str, Any]:
    docs = {
        "hashtag": ("the movement's hashtag (repeat or comma-separate for a set)", True, {"type": "string"}),
        "start": ("only posts from this UTC time (ISO 8601)", False, {"type": "string", "format": "date-time"}),
        "end": ("only posts before this UTC time (ISO 8601)", False, {"type": "string", "format": "date-time"}),
        "platform": ("only this platform's posts", False, {"type": "string"}),
        "lang": ("only posts in this language (code)", False, {"type": "string"}),
        "interval": ("bucket size", False, {"type": "string", "enum": ["minute", "hour", "day"]}),
        "limit": ("how many", False, {"type": "integer", "minimum": 1}),
        "every": ("seconds between board checks (events)", False, {"type": "number", "minimum": 0.1}),
        "nodes": ("users or hashtags", False, {"type": "string", "enum": ["users", "hashtags"]}),
    }
    ps: list[dict[str, Any]] = [{"name": n, "in": "query", "description": docs[n][0], "required": docs[n][1],
                                 "schema": docs[n][2]} for n in params]
    if path_param:
        ps.insert(0, {"name": path_param, "in": "path", "required": True, "schema": {"type": "string"},
                      "description": "the label a page shows (public figure's id or handle, else a pseudonym)"})
    err = {"description": "bad request: unknown parameter or bad value",
           "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    resp: dict[str, Any] = {"200": {"description": "OK", "content": {content: {"schema": {"type": "object"} if
                                                                             content == "application/json" else
                                                                             {"type": "string"}}}},
                            "400": err}
    if path_param:
        resp["404"] = {**err, "description": "not found (or not shown under this label)"}
    return {"get": {"summary": summary, "parameters": ps, "responses": resp}}


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "groundswell dashboard API", "version": "1",
             "description": "Read-only answers about hashtag movements. Accounts that are not public figures "
                            "appear as pseudonyms; every response states its privacy mode."},
    "paths": {
        "/api/hashtags": _op("Hashtags in the store: posts carrying each and its occurrences", ["limit"]),
        "/api/movement": _op("Every view of a movement (as the report shows it)", list(MOVEMENT_PARAMS)),
        "/api/brief": _op("The written brief of a movement", list(MOVEMENT_PARAMS)),
        "/api/post/{ref}": _op("One post", [], path_param="ref"),
        "/api/account/{ref}": _op("One account", [], path_param="ref"),
        "/api/trending": _op("The trending board now", ["limit"]),
        "/api/trending/events": _op("The trending board as server-sent events (one 'board' event per change)",
                                    ["limit", "every"], content="text/event-stream"),
        "/export/posts.csv": _op("The movement's posts as CSV (pseudonymized)",
                                 ["hashtag", "start", "end", "platform", "lang"], content="text/csv"),
        "/export/posts.parquet": _op("The movement's posts as Parquet (pseudonymized)",
                                     ["hashtag", "start", "end", "platform", "lang"],
                                     content="application/vnd.apache.parquet"),
        "/export/network.gexf": _op("The movement's network as GEXF 1.2 (pseudonymized)",
                                    ["hashtag", "platform", "lang", "nodes"], content="application/gexf+xml"),
    },
    "components": {"schemas": {"Error": {"type": "object", "required": ["error"],
                                         "properties": {"error": {"type": "string"}, "status": {"type": "integer"}}}}},
}


# --------------------------------------------------------------------------- the ASGI app

def create_app(store: Any, *, token: str | None = None, identify: bool = False, follower: Any = None,
               host: str = "127.0.0.1", allow_hosts: tuple[str, ...] | list[str] = (),
               max_streams: int = MAX_STREAMS) -> Any:
    """The dashboard over an open store (read-only, or the follower's in ``serve --follow``).

    ``host`` is the address the server binds: requests are answered only when
    their ``Host`` names it, a loopback name or one of ``allow_hosts``
    (:mod:`groundswell.web.security`); at most ``max_streams`` live board
    streams run at once."""
    try:
        import jinja2
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
        from starlette.routing import Route
    except ModuleNotFoundError as e:
        raise UsageError(f"the dashboard needs {e.name}: {INSTALL}") from None

    from groundswell import __version__
    from groundswell.report import brief as brief_mod
    from groundswell.report import charts as charts_mod
    from groundswell.report.html import ASSETS, runtime, script_json

    dash = Dashboard(store, identify=identify, follower=follower)
    streams = Slots(max_streams)
    env = jinja2.Environment(loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(TEMPLATES)),
                                                         jinja2.FileSystemLoader(str(ASSETS))]),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["tojson_script"] = script_json
    api_paths = ("/api/", "/export/", "/openapi.json")

    def page(name: str, status: int = 200, **ctx: Any) -> Any:
        ctx.setdefault("privacy", dash.presenter.header)
        html = env.get_template(name).render(version=__version__, **ctx)
        return HTMLResponse(html, status_code=status)

    def error(request: Any, status: int, msg: str) -> Any:
        if request.url.path.startswith(api_paths):
            return JSONResponse({"error": msg, "status": status}, status_code=status)
        return page("error.html.j2", status=status, status_code=status, message=msg)

    def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
        async def handler(request: Any) -> Any:
            from starlette.concurrency import run_in_threadpool

            try:
                return await run_in_threadpool(fn, request)
            except BadRequest as e:
                return error(request, e.status, str(e))
            except UsageError as e:
                return error(request, 400, str(e))
            except GroundswellError as e:
                return error(request, 400, str(e))
        return handler

    def movement_params(request: Any, extra: tuple[str, ...] = ()) -> dict[str, Any]:
        return _check_movement(_params(request, MOVEMENT_PARAMS + extra), dash.platforms)

    # -- pages --------------------------------------------------------------------
    def index(request: Request) -> Any:
        _params(request, ())
        return page("index.html.j2", hashtags=dash.hashtags(), platforms=dash.platforms,
                    languages=dash.languages(), f={})

    def movement(request: Request) -> Any:
        p = movement_params(request)
        v = dash.movement(p)
        specs = charts_mod.charts(v)
        qs = request.url.query
        return page("movement.html.j2", v=v, privacy=v["privacy"], specs=specs, missing=charts_mod.missing(v),
                    specs_json=script_json(specs), brief=brief_mod.sentences(v), title=brief_mod.title(v),
                    f=_form(p), qs=qs, platforms=dash.platforms, languages=dash.languages())

    def post_page(request: Request) -> Any:
        _params(request, ())
        ref = _ref(request.path_params["ref"])
        d = dash.post(ref)
        if d is None:
            raise BadRequest(f"no post shown as {ref[:60]!r}", 404)
        specs = {"tree0": charts_mod.tree(d["tree"])} if d["tree"] else {}
        return page("post.html.j2", d=d, privacy=d["privacy"], specs=specs, specs_json=script_json(specs))

    def account_page(request: Request) -> Any:
        _params(request, ())
        ref = _ref(request.path_params["ref"])
        d = dash.account(ref)
        if d is None:
            raise BadRequest(f"no account shown as {ref[:60]!r}", 404)
        return page("account.html.j2", d=d)

    def trending_page(request: Request) -> Any:
        p = _params(request, ("limit",))
        return page("trending.html.j2", b=dash.board(_int(p, "limit", 20, 1, 100)))

    # -- JSON API --------------------------------------------------------------------
    def api_hashtags(request: Request) -> Any:
        p = _params(request, ("limit",))
        return JSONResponse({"hashtags": dash.hashtags(_int(p, "limit", 40, 1, 10_000)),
                             "privacy": dash.presenter.header})

    def api_movement(request: Request) -> Any:
        return JSONResponse(dash.movement(movement_params(request)))

    def api_brief(request: Request) -> Any:
        v = dash.movement(movement_params(request))
        return JSONResponse({"title": brief_mod.title(v), "sentences": brief_mod.sentences(v),
                             "markdown": brief_mod.markdown(v), "privacy": v["privacy"]})

    def api_post(request: Request) -> Any:
        _params(request, ())
        ref = _ref(request.path_params["ref"])
        d = dash.post(ref)
        if d is None:
            raise BadRequest(f"no post shown as {ref[:60]!r}", 404)
        return JSONResponse(d)

    def api_account(request: Request) -> Any:
        _params(request, ())
        ref = _ref(request.path_params["ref"])
        d = dash.account(ref)
        if d is None:
            raise BadRequest(f"no account shown as {ref[:60]!r}", 404)
        return JSONResponse({**d, "privacy": dash.presenter.header})

    def api_trending(request: Request) -> Any:
        p = _params(request, ("limit",))
        return JSONResponse(dash.board(_int(p, "limit", 20, 1, 100)))

    async def api_trending_events(request: Request) -> Any:
        import anyio
        from starlette.concurrency import run_in_threadpool

        try:
            p = _params(request, ("limit", "every"))
            limit = _int(p, "limit", 0, 0, 1_000_000)
            every = _float(p, "every", 2.0, 0.1, 600.0)
        except BadRequest as e:
            return error(request, e.status, str(e))

        async def events() -> Any:
            sent, last, idle = 0, None, 0.0
            while True:
                b = await run_in_threadpool(dash.board)
                key = json.dumps(b["board"], sort_keys=True)
                if key != last:
                    last = key
                    yield f"event: board\ndata: {json.dumps(b)}\n\n"
                    sent += 1
                    idle = 0.0
                    if limit and sent >= limit:
                        return
                elif idle >= 15:
                    idle = 0.0
                    yield ": keep-alive\n\n"
                await anyio.sleep(every)
                idle += every

        return capped(streams, lambda: StreamingResponse(events(), media_type="text/event-stream", headers={
            "cache-control": "no-cache", "x-accel-buffering": "no"}), lambda: JSONResponse(
            {"error": f"too many live board streams ({streams.limit}); try again later", "status": 503},
            status_code=503, headers={"retry-after": "10"}))

    def openapi(request: Request) -> Any:
        _params(request, ())
        return JSONResponse(OPENAPI)

    # -- exports ---------------------------------------------------------------------
    def export_csv(request: Request) -> Any:
        p = _check_movement(_params(request, ("hashtag", "start", "end", "platform", "lang")), dash.platforms)
        body = dash.export_posts({**p, "interval": "hour"}, "csv")
        return Response(body, media_type="text/csv; charset=utf-8",
                        headers={"content-disposition": f'attachment; filename="{_fname(p)}-posts.csv"'})

    def export_parquet(request: Request) -> Any:
        p = _check_movement(_params(request, ("hashtag", "start", "end", "platform", "lang")), dash.platforms)
        body = dash.export_posts(p, "parquet")
        return Response(body, media_type="application/vnd.apache.parquet",
                        headers={"content-disposition": f'attachment; filename="{_fname(p)}-posts.parquet"'})

    def export_gexf(request: Request) -> Any:
        p = _check_movement(_params(request, ("hashtag", "platform", "lang", "nodes")), dash.platforms)
        nodes = p.get("nodes") or "users"
        if nodes not in ("users", "hashtags"):
            raise BadRequest(f"nodes must be users or hashtags, not {nodes[:20]!r}")
        body = dash.export_network(p, nodes)
        return Response(body, media_type="application/gexf+xml",
                        headers={"content-disposition": f'attachment; filename="{_fname(p)}-{nodes}.gexf"'})

    # -- static ------------------------------------------------------------------------
    def static(request: Request) -> Any:
        _params(request, ())
        name = request.path_params["name"]
        files = {"style.css": (ASSETS / "style.css", "text/css"), "init.js": (ASSETS / "init.js", "text/javascript"),
                 "live.js": (STATIC / "live.js", "text/javascript")}
        if name == "vega.js":
            return Response(runtime(), media_type="text/javascript",
                            headers={"cache-control": "public, max-age=86400"})
        if name not in files:
            raise BadRequest(f"no static file {name[:40]!r}", 404)
        path, mt = files[name]
        return Response(path.read_bytes(), media_type=mt, headers={"cache-control": "public, max-age=3600"})

    async def not_found(request: Any, exc: Any) -> Any:
        status = getattr(exc, "status_code", 404)
        msg = "no such page" if status == 404 else ("method not allowed" if status == 405 else "bad request")
        return error(request, status, msg)

    async def server_error(request: Any, exc: Exception) -> Any:
        # the log gets the traceback (no post text is in it); the client one line
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        return error(request, 500, "internal error; the server log has the details")

    g = guarded
    routes = [
        Route("/", g(index)), Route("/movement", g(movement)), Route("/post/{ref:path}", g(post_page)),
        Route("/account/{ref:path}", g(account_page)), Route("/trending", g(trending_page)),
        Route("/api/hashtags", g(api_hashtags)), Route("/api/movement", g(api_movement)),
        Route("/api/brief", g(api_brief)), Route("/api/post/{ref:path}", g(api_post)),
        Route("/api/account/{ref:path}", g(api_account)), Route("/api/trending", g(api_trending)),
        Route("/api/trending/events", api_trending_events), Route("/openapi.json", g(openapi)),
        Route("/export/posts.csv", g(export_csv)), Route("/export/posts.parquet", g(export_parquet)),
        Route("/export/network.gexf", g(export_gexf)), Route("/static/{name}", g(static)),
    ]
    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found, Exception: server_error})
    app.state.dashboard = dash
    app.state.streams = streams
    return Guard(app, token, HostCheck(host, allow_hosts))


def _ref(ref: str) -> str:
    if not _REF_RE.match(ref):
        raise BadRequest("not a post or account label")
    return ref


def _fname(p: dict[str, Any]) -> str:
    return "-".join(re.sub(r"[^\w]", "", t) for t in p["hashtag"])[:60] or "movement"


def _form(p: dict[str, Any]) -> dict[str, Any]:
    def t(x: Any) -> str:
        return x.strftime("%Y-%m-%dT%H:%M") if isinstance(x, datetime) else ""
    return {"hashtag": ",".join(p.get("hashtag") or []), "start": t(p.get("start")), "end": t(p.get("end")),
            "platform": p.get("platform") or "", "lang": p.get("lang") or "", "interval": p.get("interval") or "hour"}


def new_token() -> str:
    return secrets.token_urlsafe(24)


def loopback(host: str) -> bool:
    return is_loopback(host)
