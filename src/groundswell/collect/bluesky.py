"""Backfill a movement from Bluesky: search, threads, reposts, quotes, profiles, follows.

Endpoints (XRPC, https://docs.bsky.app/docs/category/http-reference)
--------------------------------------------------------------------
* ``app.bsky.feed.searchPosts`` with ``q=#TAG``, ``tag=TAG``, ``sort=latest``,
  ``since``, ``until``, ``limit=100`` and ``cursor``: every page, newest
  first, until the API gives no cursor (or an empty page). One query per
  hashtag (the tag parameter ANDs several tags; a movement is any of them).
* ``--threads``: ``app.bsky.feed.getPostThread`` (``depth=1000``,
  ``parentHeight=1000``) for each movement post with replies: the
  conversation around it, tagged or not.
* ``--reposts``: ``app.bsky.feed.getRepostedBy`` (paged) for each movement
  post with reposts; ``--quotes``: ``app.bsky.feed.getQuotes`` (paged) for
  each with quotes.
* ``--profiles``: ``app.bsky.actor.getProfiles`` (25 actors a request) for
  every participant (authors of movement posts, of the posts in their
  conversations, and of reposts and quotes of them) not yet profiled in the
  store: follower, follow and post counts, for the notables.
* ``--followers N``: ``app.bsky.graph.getFollows`` (paged) of the N most active
  participants (most posts in the movement), so cascade reconstruction has a
  follower graph.

Without credentials every call goes to ``api`` (the public AppView,
``https://public.api.bsky.app``). With ``BSKY_HANDLE`` and
``BSKY_APP_PASSWORD`` a :class:`Session` is opened on the user's PDS
(``BSKY_PDS``, default ``https://bsky.social``; the session's DID document
names the PDS to call) and every call goes through it; an expired access
token is refreshed (``refreshSession``) and, when the refresh token is spent
too, a new session is opened.

Resuming: a search's cursor is checkpointed with each page; a finished search
without ``--until``, run again, collects what was posted since the last run
(``since`` = where it ended, less a margin) and stops there. Expansions are
chosen from the store (movement posts whose counts say there is something to
fetch and whose ``collect:bluesky:<kind>:<uri>`` checkpoint is not done), so a
rerun does what is left.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from groundswell.collect.core import (
    DONE,
    ITEM_KEY_SQL,
    Collection,
    CollectSummary,
    Job,
    QueryReport,
    done_state,
    iso,
    item_key,
    parse_time,
    slice_end,
    tags_of,
)
from groundswell.collect.http import (
    AuthError,
    Client,
    CollectError,
    MalformedResponse,
    Refused,
    Reply,
    ServerError,
    redact,
)
from groundswell.errors import UsageError
from groundswell.formats import envelope
from groundswell.formats.base import iso_time
from groundswell.store.duck import Store

__all__ = ["DEFAULT_API", "DEFAULT_PDS", "Session", "collect_bluesky", "TOPUP_MARGIN"]

DEFAULT_API = "https://public.api.bsky.app"
DEFAULT_PDS = "https://bsky.social"
PLATFORM = "bluesky"
FORMAT = "bluesky-api"
SEARCH = "app.bsky.feed.searchPosts"
TOPUP_MARGIN = timedelta(minutes=10)  # a rerun searches this far back before where the last run began
PAGE = 100


class Session:
    """An atproto session on the user's PDS: the calls go through it, the token kept fresh."""

    def __init__(self, client: Client, handle: str, password: str, pds: str = DEFAULT_PDS) -> None:
        pds = pds.rstrip("/")
        if not pds.startswith("https://"):
            raise UsageError(f"refusing to send the app password to {redact(pds)} over plain http: "
                             "BSKY_PDS must be an https:// address")
        self.client, self.handle, self._password, self.pds = client, handle, password, pds
        self.base = pds
        self.did: str | None = None
        self._access = self._refresh = ""
        self._lock = threading.Lock()
        self._generation = 0
        self.refreshes = 0
        self.logins = 0

    def login(self) -> None:
        try:
            r = self.client.post(f"{self.pds}/xrpc/com.atproto.server.createSession",
                                 json={"identifier": self.handle, "password": self._password})
        except Refused as e:
            raise AuthError(f"Bluesky refused the session for {self.handle} ({e.error or f'HTTP {e.status}'}): "
                            "check BSKY_HANDLE and BSKY_APP_PASSWORD (an app password, from Settings -> "
                            "Privacy and security -> App passwords)", e.status, e.error) from None
        self._take(r.body)
        self.logins += 1
        doc = r.body.get("didDoc") if isinstance(r.body, dict) else None
        endpoint = _pds_endpoint(doc)
        if endpoint:
            self.base = endpoint

    def _take(self, body: Any) -> None:
        if not isinstance(body, dict) or not isinstance(body.get("accessJwt"), str) \
                or not isinstance(body.get("refreshJwt"), str):
            raise AuthError("the PDS answered the session request without tokens", 200, None)
        self._access, self._refresh = body["accessJwt"], body["refreshJwt"]
        self.did = body.get("did") if isinstance(body.get("did"), str) else self.did
        self._generation += 1

    def _renew(self, seen: int) -> None:
        """Refresh the tokens (once, however many threads found them expired)."""
        with self._lock:
            if self._generation != seen:
                return  # another thread has refreshed already
            try:
                r = self.client.post(f"{self.base}/xrpc/com.atproto.server.refreshSession", token=self._refresh)
                self._take(r.body)
                self.refreshes += 1
            except Refused:
                self.login()  # the refresh token is spent too: a new session

    def call(self, method: str, params: Any) -> Reply:
        if not self._access:
            with self._lock:
                if not self._access:
                    self.login()
        for attempt in (1, 2):
            seen, token = self._generation, self._access
            try:
                return self.client.get(f"{self.base}/xrpc/{method}", params, token=token)
            except Refused as e:
                expired = e.error in ("ExpiredToken", "InvalidToken") or (e.status == 401 and e.error is None)
                if not expired or attempt == 2:
                    raise
                self._renew(seen)
        raise AssertionError("unreachable")


def _pds_endpoint(doc: Any) -> str | None:
    services = doc.get("service") if isinstance(doc, dict) else None
    for s in services if isinstance(services, list) else []:
        if isinstance(s, dict) and str(s.get("id", "")).endswith("#atproto_pds"):
            url = s.get("serviceEndpoint")
            if isinstance(url, str) and url.startswith(("https://", "http://")):
                return url.rstrip("/")
    return None


def collect_bluesky(store: Store, hashtags: list[str], *, client: Client, since: str | datetime | None = None,
                    until: str | datetime | None = None, api: str = DEFAULT_API, session: Session | None = None,
                    threads: bool = False, reposts: bool = False, quotes: bool = False, profiles: bool = False,
                    followers: int = 0, limit: int | None = None, archive: str | None = None,
                    concurrency: int = 4, on_progress: Callable[[Any], None] | None = None,
                    flush_seconds: float = 1.0) -> CollectSummary:
    """Collect hashtags from Bluesky into ``store``; see the module docstring. Returns the summary.

    Ctrl-C (KeyboardInterrupt) stops after the last whole page; the summary
    is marked interrupted and the exception is not raised.
    """
    tags = tags_of(hashtags)
    t_since = since if isinstance(since, datetime) or since is None else parse_time(since, "--since")
    t_until = until if isinstance(until, datetime) or until is None else parse_time(until, "--until")
    if t_since and t_until and t_since >= t_until:
        raise UsageError("--since must be before --until")
    if followers < 0:
        raise UsageError("--followers N needs N >= 0")
    api = api.rstrip("/")
    if not api.startswith(("https://", "http://")):
        raise UsageError(f"--api {api!r} is not an http(s) URL, e.g. {DEFAULT_API}")
    if session is not None and session.did is None:
        session.login()  # a refused password is an error before anything else happens
    run = _Run(store, client, tags, t_since, t_until, api, session, limit, archive, concurrency, on_progress,
               flush_seconds)
    try:
        run.search()
        if threads:
            run.expand("threads")
        if reposts:
            run.expand("reposts")
        if quotes:
            run.expand("quotes")
        if profiles:
            run.profiles()
        if followers:
            run.follows(followers)
    except KeyboardInterrupt:
        run.col.summary.interrupted = True
        for q in run.col.summary.queries:
            if not q.complete and q.stopped is None:
                q.stopped = "interrupted"
    except AuthError:
        raise
    except CollectError as e:
        run.col.summary.errors.append(str(e))
    finally:
        summary = run.col.finish()
    return summary


# what each expansion asks, and which movement posts need it
_EXPAND = {
    "threads": ("app.bsky.feed.getPostThread", "reply_count"),
    "reposts": ("app.bsky.feed.getRepostedBy", "repost_count"),
    "quotes": ("app.bsky.feed.getQuotes", "quote_count"),
}


class _Run:
    def __init__(self, store: Store, client: Client, tags: list[str], since: datetime | None,
                 until: datetime | None, api: str, session: Session | None, limit: int | None,
                 archive: str | None, concurrency: int, on_progress: Callable[[Any], None] | None,
                 flush_seconds: float) -> None:
        self.store, self.client, self.tags = store, client, tags
        self.since, self.until, self.api, self.session = since, until, api, session
        self.concurrency = concurrency
        self.col = Collection(store, client, platform=PLATFORM, fmt=FORMAT, archive=archive,
                              on_progress=on_progress, limit=limit, flush_seconds=flush_seconds)
        self.server = redact(session.base) if session else api

    # -- calls ---------------------------------------------------------------------------------
    def call(self, method: str, params: dict[str, Any]) -> Reply:
        if self.session is not None:
            return self.session.call(method, params)
        try:
            return self.client.get(f"{self.api}/xrpc/{method}", params)
        except AuthError as e:
            raise AuthError(f"{e}; the public AppView refuses some calls without a session: set BSKY_HANDLE and "
                            "BSKY_APP_PASSWORD", e.status, e.error) from None

    def label(self, method: str) -> str:
        base = self.session.base if self.session else self.api
        return f"{redact(base)}/xrpc/{method}"

    def wrap(self, method: str, reply: Reply, body: Any, subject: str | None = None) -> dict[str, Any]:
        return envelope.wrap(PLATFORM, method, body, fetched_at=reply.fetched_at, url=reply.url,
                             server=self.server, subject=subject)

    # -- the search --------------------------------------------------------------------------------
    def search(self) -> None:
        for tag in self.tags:
            if self.col.limit_reached:
                break
            self._search(tag)

    def _search(self, tag: str) -> None:
        col = self.col
        col.phase = "search"
        key = f"collect:bluesky:search:#{tag}:{iso(self.since) or ''}:{iso(self.until) or ''}"
        rep = QueryReport(label=f"bluesky #{tag}", server=self.server, tag=tag)
        col.summary.queries.append(rep)
        st = col.state(key) or {}
        if st.get("done"):
            if self.until is not None:
                rep.complete = True
                return
            covered = iso_time(st.get("covered"))
            start = covered - TOPUP_MARGIN if covered else self.since
            if self.since is not None and start is not None and start < self.since:
                start = self.since
            st = {"covered": st.get("covered"), "pass_since": iso(start), "cursor": None, "done": False}
        elif not st:
            st = {"pass_since": iso(self.since), "cursor": None, "done": False}
        while True:
            if col.limit_reached:
                rep.stopped = "limit"
                return
            params: dict[str, Any] = {"q": f"#{tag}", "tag": tag, "sort": "latest", "limit": PAGE}
            if st.get("pass_since"):
                params["since"] = st["pass_since"]
            if self.until is not None:
                params["until"] = iso(self.until)
            if st.get("cursor"):
                params["cursor"] = st["cursor"]
            try:
                reply = self.call(SEARCH, params)
            except ServerError as e:
                rep.stopped = str(e)
                raise
            except MalformedResponse as e:
                col.reject(self.label(SEARCH), "not valid JSON")
                rep.stopped = str(e)
                col.summary.errors.append(str(e))
                return
            except Refused as e:
                if isinstance(e, AuthError):
                    raise
                rep.stopped = str(e)
                col.summary.errors.append(str(e))
                return
            body = reply.body
            posts = body.get("posts") if isinstance(body, dict) else None
            if not isinstance(posts, list):
                col.reject(self.label(SEARCH), "search answer without a posts list")
                msg = f"{self.label(SEARCH)}: an answer without a posts list; a rerun tries this page again"
                rep.stopped = msg
                col.summary.errors.append(msg)
                return
            if st.get("top") is None:
                st["top"] = iso(self.until or reply.fetched_at)
            ids = [str(p["uri"]) for p in posts if isinstance(p, dict) and isinstance(p.get("uri"), str)]
            before = len(col.seen)
            keep = col.take(ids)
            cut = keep < len(ids)
            if cut:
                body = {**body, "posts": posts[:slice_end(posts, keep, _uri)]}
                posts = body["posts"]
            cursor = body.get("cursor") if isinstance(body.get("cursor"), str) and body.get("cursor") else None
            st = dict(st)
            st["pages"] = st.get("pages", 0) + 1
            if not cut:
                st["cursor"] = cursor
                if not cursor or not posts:
                    st["done"] = True
                    st["covered"] = st["top"]
                    st["cursor"] = None
            col.commit(self.wrap(SEARCH, reply, body), self.label(SEARCH), {key: st})
            rep.pages += 1
            rep.posts += len(col.seen) - before
            _span(rep, posts)
            col.progress(rep)
            if cut:
                rep.stopped = "limit"
                return
            if st.get("done"):
                rep.complete = True
                return

    # -- expansions ------------------------------------------------------------------------------
    def movement_sql(self) -> tuple[str, list[Any]]:
        """The movement posts in the store (these hashtags, this window)."""
        cond = ["platform = 'bluesky'", "NOT is_reference", "NOT deleted", "kind <> 'repost'",
                "list_has_any(hashtags, ?::VARCHAR[])"]
        params: list[Any] = [self.tags]
        if self.since is not None:
            cond.append("created_at >= ?")
            params.append(self.since)
        if self.until is not None:
            cond.append("created_at < ?")
            params.append(self.until)
        return "SELECT * FROM posts WHERE " + " AND ".join(cond), params

    def expand(self, kind: str) -> None:
        col = self.col
        col.flush()  # the store must hold every page before it is asked what is left to do
        col.phase = kind
        method, count = _EXPAND[kind]
        prefix = f"collect:bluesky:{kind}:"
        stats = col.summary.expansions.setdefault(kind, Counter())
        mv, params = self.movement_sql()
        rows = self.store.con.execute(
            f"SELECT m.id FROM ({mv}) m WHERE m.{count} > 0 AND NOT EXISTS (SELECT 1 FROM meta "
            f"WHERE key = {ITEM_KEY_SQL.format(col='m.id')} AND {DONE}) ORDER BY m.created_at, m.id",
            params + [prefix]).fetchall()
        todo = [r[0] for r in rows]
        stats["to do"] += len(todo)

        def job(uri: str, st: dict[str, Any]) -> Job:
            key = item_key(prefix, uri)
            if kind == "threads":
                params = {"uri": uri, "depth": 1000, "parentHeight": 1000}
            else:
                params = {"uri": uri, "limit": PAGE}
                if st.get("cursor"):
                    params["cursor"] = st["cursor"]

            def done(reply: Reply) -> Job | None:
                body = reply.body
                cursor = body.get("cursor") if isinstance(body, dict) and kind != "threads" else None
                listed = {"reposts": "repostedBy", "quotes": "posts"}.get(kind, "")
                items = body.get(listed) if isinstance(body, dict) else None
                more = bool(cursor) and isinstance(items, list) and len(items) > 0
                new = {"done": not more, "cursor": cursor if more else None, "pages": st.get("pages", 0) + 1}
                got = col.commit(self.wrap(method, reply, body, subject=uri), self.label(method), {key: new})
                stats["requests"] += 1
                stats["posts"] += got.posts
                col.progress()
                return job(uri, new) if more else None

            def failed(e: Refused) -> None:
                stats["refused"] += 1
                col.set_state(key, done_state(e))

            return Job(lambda: self.call(method, params), done, failed)

        def jobs() -> Iterator[Job]:
            for uri in todo:
                yield job(uri, col.state(item_key(prefix, uri)) or {})

        col.run_jobs(jobs(), self.concurrency)

    def participants_sql(self) -> tuple[str, list[Any]]:
        """Authors of movement posts, of the posts in their conversations, of reposts and quotes of them."""
        mv, params = self.movement_sql()
        sql = (f"WITH m AS ({mv}) SELECT p.author_id AS account, count(*) AS posts FROM posts p "
               "WHERE p.platform = 'bluesky' AND NOT p.is_reference AND p.author_id IS NOT NULL AND ("
               "p.id IN (SELECT id FROM m) OR p.conversation_id IN (SELECT conversation_id FROM m) "
               "OR p.conversation_id IN (SELECT id FROM m) "
               "OR p.repost_of_id IN (SELECT id FROM m) OR p.quote_of_id IN (SELECT id FROM m)) "
               "GROUP BY 1")
        return sql, params

    def profiles(self) -> None:
        col = self.col
        col.flush()
        col.phase = "profiles"
        stats = col.summary.expansions.setdefault("profiles", Counter())
        part, params = self.participants_sql()
        rows = self.store.con.execute(
            f"SELECT account FROM ({part}) x WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.platform = "
            "'bluesky' AND a.id = x.account AND a.followers IS NOT NULL) ORDER BY account", params).fetchall()
        dids = [r[0] for r in rows]
        stats["to do"] += len(dids)
        method = "app.bsky.actor.getProfiles"

        def job(batch: list[str]) -> Job:
            def done(reply: Reply) -> None:
                got = col.commit(self.wrap(method, reply, reply.body), self.label(method))
                stats["requests"] += 1
                stats["accounts"] += got.accounts
                col.progress()
                return None

            def failed(e: Refused) -> None:
                stats["refused"] += 1

            return Job(lambda: self.call(method, {"actors": batch}), done, failed)

        col.run_jobs((job(dids[i:i + 25]) for i in range(0, len(dids), 25)), self.concurrency)

    def follows(self, n: int) -> None:
        col = self.col
        col.flush()
        col.phase = "follows"
        stats = col.summary.expansions.setdefault("follows", Counter())
        part, params = self.participants_sql()
        prefix = "collect:bluesky:follows:"
        rows = self.store.con.execute(
            f"SELECT account FROM (SELECT * FROM ({part}) x ORDER BY posts DESC, account LIMIT ?) x "
            f"WHERE NOT EXISTS (SELECT 1 FROM meta WHERE key = {ITEM_KEY_SQL.format(col='x.account')} AND {DONE}) "
            "ORDER BY posts DESC, account", params + [n, prefix]).fetchall()
        todo = [r[0] for r in rows]
        stats["to do"] += len(todo)
        method = "app.bsky.graph.getFollows"

        def job(did: str, st: dict[str, Any]) -> Job:
            key = item_key(prefix, did)
            params: dict[str, Any] = {"actor": did, "limit": PAGE}
            if st.get("cursor"):
                params["cursor"] = st["cursor"]

            def done(reply: Reply) -> Job | None:
                body = reply.body
                cursor = body.get("cursor") if isinstance(body, dict) else None
                items = body.get("follows") if isinstance(body, dict) else None
                more = bool(cursor) and isinstance(items, list) and len(items) > 0
                new = {"done": not more, "cursor": cursor if more else None, "pages": st.get("pages", 0) + 1}
                got = col.commit(self.wrap(method, reply, body, subject=did), self.label(method), {key: new})
                stats["requests"] += 1
                stats["follows"] += got.follows
                col.progress()
                return job(did, new) if more else None

            def failed(e: Refused) -> None:
                stats["refused"] += 1
                col.set_state(key, done_state(e))

            return Job(lambda: self.call(method, params), done, failed)

        col.run_jobs((job(d, col.state(item_key(prefix, d)) or {}) for d in todo), self.concurrency)








def _uri(p: Any) -> Any:
    return p.get("uri") if isinstance(p, dict) else None


def _span(rep: QueryReport, posts: list[Any]) -> None:
    for p in posts:
        rec = p.get("record") if isinstance(p, dict) else None
        value = rec.get("createdAt") if isinstance(rec, dict) else None
        try:
            t = iso_time(value)
        except Exception:  # noqa: BLE001 - a bad time only leaves the span as it is
            continue
        if t is None:
            continue
        if rep.oldest is None or t < rep.oldest:
            rep.oldest = t
        if rep.newest is None or t > rep.newest:
            rep.newest = t


def handoff_time(store: Store, hashtags: list[str]) -> datetime:
    """Where ``follow jetstream`` should start so nothing falls between ``collect bluesky`` and it.

    A search goes from the newest post back, so each collected hashtag is
    covered up to the moment its last search began (its ``top``). The
    earliest of those, over the hashtags given, less the top-up margin.
    """
    tags = tags_of(hashtags)
    tops: list[datetime] = []
    for tag in tags:
        rows = store.con.execute("SELECT value FROM meta WHERE starts_with(key, ?)",
                                 [f"collect:bluesky:search:#{tag}:"]).fetchall()
        best = None
        for (value,) in rows:
            try:
                st = json.loads(value)
            except ValueError:
                continue
            t = iso_time(st.get("top")) or iso_time(st.get("covered"))
            if t is not None and (best is None or t > best):
                best = t
        if best is None:
            raise UsageError(f"this store has no 'collect bluesky --hashtag {tag}' to start after: "
                             "run collect first, or follow without --after-collect")
        tops.append(best)
    return min(tops) - TOPUP_MARGIN
