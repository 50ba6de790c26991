"""Local stand-ins for the Bluesky AppView/PDS and Mastodon servers, answering from real recorded responses.

What they know is what was recorded from the real services (in
``../shared/data``: ``bluesky-api-atrrr``, ``bluesky-api-bskyr``,
``mastodon-api-rtoot``), and they answer the way the real services do:

* Bluesky: ``searchPosts`` over the pool of every recorded post view (search
  results, thread posts, quotes), filtered by ``tag``/``q`` (tag facets, as
  the real ``tag`` parameter), ``since``/``until``, newest ``indexedAt``
  first, paged by an offset cursor ("100" is what bsky.social sent), at most
  ``page_size`` posts a page (so several pages come out of ~120 posts).
  ``getPostThread``, ``getRepostedBy``, ``getQuotes`` give the recorded
  answer for a recorded subject and otherwise what the pool implies (the
  thread of known replies, no reposts, the known quotes); a post it does not
  know is ``400 NotFound``. ``getProfiles`` gives the recorded detailed
  profiles. Nothing anywhere recorded ``getFollows``: the stand-in answers it
  with recorded profile views in a fixed order -- the edges mean nothing,
  only the mechanics (paging, edges stored, checkpoints) are tested with them.
  Sessions: ``createSession``/``refreshSession`` with tokens that can be
  made to expire.
* Mastodon: per instance, the hashtag timeline of the recorded statuses of
  that tag, newest id first, ``max_id``/``since_id``/``limit`` as Mastodon
  applies them, and a ``Link`` header with ``rel="next"`` (``max_id`` = the
  lowest id of the page) when the page is full, as Mastodon sends it (checked
  against the recorded pages in the tests). ``statuses/:id/context``: the
  recorded context, else the thread the known statuses make
  (``in_reply_to_id``); ``reblogged_by``: the recorded accounts, else none.

Both send rate-limit headers (Bluesky ``ratelimit-*``, epoch reset;
Mastodon ``X-RateLimit-*``, ISO reset) from a window they enforce with 429,
and take injected faults per endpoint: ``429`` (with ``Retry-After``),
``500``, ``"malformed"`` (a body that is not JSON), ``"expired"`` (the access
token expires), ``"timeout"`` (MockTransport only), ``"slow:S"`` (served
only: the answer comes S seconds later).

``serve(handler)`` puts one on a real 127.0.0.1 port (threading http.server).
The clock is a :class:`FakeClock` shared with the client under test, so no
test sleeps; each request costs the clock 50 ms.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from ..conftest import shared

START = datetime(2025, 7, 17, 20, 0, 0, tzinfo=UTC).timestamp()


class FakeClock:
    """Time that passes only when asked: sleeps are recorded and add up, nothing waits."""

    def __init__(self, t: float = START) -> None:
        self.t = t
        self.slept: list[float] = []
        self.lock = threading.Lock()

    def now(self) -> float:
        with self.lock:
            return self.t

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.slept.append(seconds)
            self.t += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.t += seconds


def _load(rel: str) -> Any:
    return json.loads(shared(rel).read_text())


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    h = {"content-type": "application/json; charset=utf-8", **(headers or {})}
    return httpx.Response(status, headers=h, content=json.dumps(body).encode())


class _Faults:
    def __init__(self) -> None:
        self.plan: dict[str, list[Any]] = {}
        self.lock = threading.Lock()

    def add(self, endpoint: str, *faults: Any) -> None:
        """Faults for the next calls of ``endpoint`` (None: answer normally)."""
        with self.lock:
            self.plan.setdefault(endpoint, []).extend(faults)

    def next(self, endpoint: str) -> Any:
        with self.lock:
            todo = self.plan.get(endpoint)
            return todo.pop(0) if todo else None


class _Window:
    """A fixed rate-limit window, enforced (429 past the limit)."""

    def __init__(self, clock: FakeClock, limit: int, seconds: float) -> None:
        self.clock, self.limit, self.seconds = clock, limit, seconds
        self.start = clock.now()
        self.used = 0
        self.over = 0  # requests answered 429 because the window was spent

    def take(self) -> tuple[bool, int, float]:
        now = self.clock.now()
        if now >= self.start + self.seconds:
            self.start += ((now - self.start) // self.seconds) * self.seconds
            self.used = 0
        self.used += 1
        ok = self.used <= self.limit
        if not ok:
            self.over += 1
        return ok, max(0, self.limit - self.used), self.start + self.seconds


def _sort_at(view: dict[str, Any]) -> str:
    return view.get("indexedAt") or ""


def _tags(view: dict[str, Any]) -> set[str]:
    rec = view.get("record") or {}
    out = {t.casefold() for t in rec.get("tags") or [] if isinstance(t, str)}
    for facet in rec.get("facets") or []:
        for f in facet.get("features") or []:
            if f.get("$type") == "app.bsky.richtext.facet#tag" and isinstance(f.get("tag"), str):
                out.add(f["tag"].casefold())
    return out


def _quoted_uri(view: dict[str, Any]) -> str | None:
    emb = (view.get("record") or {}).get("embed") or {}
    if emb.get("$type") == "app.bsky.embed.record":
        return (emb.get("record") or {}).get("uri")
    if emb.get("$type") == "app.bsky.embed.recordWithMedia":
        return ((emb.get("record") or {}).get("record") or {}).get("uri")
    return None


class BlueskyStandIn:
    """A stand-in for the public AppView and a PDS (see the module docstring)."""

    def __init__(self, clock: FakeClock, *, page_size: int = 30, limit: int = 3000, window: float = 300.0,
                 base: str = "https://pds.example", accounts: dict[str, str] | None = None,
                 require_session: bool = False) -> None:
        self.clock, self.page_size = clock, page_size
        self.window = _Window(clock, limit, window)
        self.faults = _Faults()
        self.base = base
        self.accounts = accounts or {}
        self.require_session = require_session
        self.log: list[tuple[str, dict[str, list[str]], str | None]] = []
        self.lock = threading.Lock()
        self._tokens = 0
        self.access: str | None = None
        self.refresh: str | None = None
        self.sessions = self.refreshes = 0
        self.pool: dict[str, dict[str, Any]] = {}
        self.threads: dict[str, Any] = {}
        self.reposted: dict[str, Any] = {}
        self.quotes: dict[str, Any] = {}
        self.profiles: dict[str, dict[str, Any]] = {}
        self._load()

    def _load(self) -> None:
        index = _load("bluesky-api-atrrr/index.json")
        bodies: list[tuple[str, str, Any]] = []  # (endpoint, url, body)
        for name, meta in index.items():
            bodies.append((meta["endpoint"], meta["url"], _load(f"bluesky-api-atrrr/{name}")))
        for name, meta in _load("bluesky-api-bskyr/index.json").items():
            rec = _load(f"bluesky-api-bskyr/{name}")
            bodies.append((urlsplit(meta["uri"]).path.rsplit("/", 1)[-1], meta["uri"], rec["body"]))
        for endpoint, url, body in bodies:
            q = parse_qs(urlsplit(url).query)
            subject = q.get("uri", [None])[0]
            if endpoint in ("app.bsky.feed.searchPosts", "app.bsky.feed.getQuotes"):
                for v in body["posts"]:
                    self.pool.setdefault(v["uri"], v)
            if endpoint == "app.bsky.feed.getPostThread":
                self.threads[subject] = body
                stack = [body["thread"]]
                while stack:
                    n = stack.pop()
                    if "post" in n:
                        self.pool.setdefault(n["post"]["uri"], n["post"])
                    if isinstance(n.get("parent"), dict):
                        stack.append(n["parent"])
                    stack.extend(n.get("replies") or [])
            elif endpoint == "app.bsky.feed.getRepostedBy":
                self.reposted[subject] = body
            elif endpoint == "app.bsky.feed.getQuotes":
                self.quotes[subject] = body
            elif endpoint in ("app.bsky.actor.getProfiles", "app.bsky.actor.getProfile"):
                for p in body.get("profiles", [body]):
                    self.profiles.setdefault(p["did"], p)

    # -- the transport -------------------------------------------------------------------------
    def __call__(self, request: httpx.Request) -> httpx.Response:
        return self.handle(request)

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            return self._handle(request)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.clock.advance(0.05)
        method = request.url.path.rsplit("/", 1)[-1]
        q = parse_qs(request.url.query.decode(), keep_blank_values=True)
        auth = request.headers.get("authorization")
        self.log.append((method, q, auth))
        ok, remaining, reset = self.window.take()
        now = self.clock.now()
        rl = {"ratelimit-limit": str(self.window.limit), "ratelimit-remaining": str(remaining),
              "ratelimit-reset": str(int(reset)),
              "ratelimit-policy": f"{self.window.limit};w={int(self.window.seconds)}",
              "date": format_datetime(datetime.fromtimestamp(now, UTC), usegmt=True)}
        if not ok:
            return _json(429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, rl)
        fault = self.faults.next(method)
        if fault == 429:
            return _json(429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                         {**rl, "retry-after": "7"})
        if fault == 500:
            return _json(500, {"error": "InternalServerError", "message": "Internal Server Error"}, rl)
        if fault == 502:
            return httpx.Response(502, headers=rl, content=b"<html>bad gateway</html>")
        if fault == "malformed":
            return httpx.Response(200, headers={**rl, "content-type": "application/json"},
                                  content=b'{"posts": [{"uri": "at://did:plc:x/app.bsky.feed.post/1", "auth')
        if fault == "timeout":
            raise httpx.ReadTimeout("stand-in timeout", request=request)
        if fault == "expired":
            self.access = None  # the current access token is no longer valid
        if method == "com.atproto.server.createSession":
            return self._create(request, rl)
        if method == "com.atproto.server.refreshSession":
            return self._refresh(auth, rl)
        if auth is not None or self.require_session:
            if auth is None:
                return _json(401, {"error": "AuthMissing", "message": "Authentication Required"}, rl)
            if auth != f"Bearer {self.access}":
                return _json(400, {"error": "ExpiredToken", "message": "Token has expired"}, rl)
        fn = getattr(self, "_" + method.rsplit(".", 1)[-1], None)
        if fn is None:
            return _json(400, {"error": "MethodNotImplemented", "message": "Method Not Implemented"}, rl)
        status, body = fn(q)
        return _json(status, body, rl)

    # -- sessions ----------------------------------------------------------------------------------
    def _issue(self) -> dict[str, Any]:
        self._tokens += 1
        self.access, self.refresh = f"access-{self._tokens}", f"refresh-{self._tokens}"
        return {"accessJwt": self.access, "refreshJwt": self.refresh, "did": "did:plc:standin",
                "handle": "standin.example", "didDoc": {"service": [
                    {"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": self.base}]}}

    def _create(self, request: httpx.Request, rl: dict[str, str]) -> httpx.Response:
        data = json.loads(request.content or b"{}")
        if self.accounts.get(data.get("identifier")) != data.get("password"):
            return _json(401, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}, rl)
        self.sessions += 1
        return _json(200, self._issue(), rl)

    def _refresh(self, auth: str | None, rl: dict[str, str]) -> httpx.Response:
        if auth != f"Bearer {self.refresh}":
            return _json(400, {"error": "ExpiredToken", "message": "Token has expired"}, rl)
        self.refreshes += 1
        body = self._issue()
        body.pop("didDoc")
        return _json(200, body, rl)

    # -- the AppView ------------------------------------------------------------------------------
    def _page(self, items: list[Any], q: dict[str, list[str]], key: str, extra: dict[str, Any]) -> tuple[int, Any]:
        start = int(q.get("cursor", ["0"])[0] or 0)
        n = min(int(q.get("limit", ["25"])[0]), self.page_size)
        page = items[start:start + n]
        body = {**extra, key: copy.deepcopy(page)}
        if start + n < len(items):
            body["cursor"] = str(start + n)
        return 200, body

    def _searchPosts(self, q: dict[str, list[str]]) -> tuple[int, Any]:
        if not q.get("q", [""])[0]:
            return 400, {"error": "InvalidRequest", "message": 'Error: Params must have the property "q"'}
        tags = {t.casefold() for t in q.get("tag", [])}
        term = q["q"][0]
        if term.startswith("#"):
            tags.add(term[1:].casefold())
        hits = [v for v in self.pool.values() if tags <= _tags(v)
                and (tags or term.casefold() in (v["record"].get("text") or "").casefold())]
        since, until = q.get("since", [None])[0], q.get("until", [None])[0]
        if since:
            hits = [v for v in hits if _sort_at(v) >= since]
        if until:
            hits = [v for v in hits if _sort_at(v) < until]
        hits.sort(key=lambda v: (_sort_at(v), v["uri"]), reverse=True)
        return self._page(hits, q, "posts", {})

    def _getPostThread(self, q: dict[str, list[str]]) -> tuple[int, Any]:
        uri = q["uri"][0]
        if uri in self.threads:
            return 200, copy.deepcopy(self.threads[uri])
        if uri not in self.pool:
            return 400, {"error": "NotFound", "message": f"Post not found: {uri}"}

        def down(u: str) -> dict[str, Any]:
            kids = sorted((v for v in self.pool.values()
                           if ((v["record"].get("reply") or {}).get("parent") or {}).get("uri") == u),
                          key=lambda v: v["uri"])
            return {"$type": "app.bsky.feed.defs#threadViewPost", "post": copy.deepcopy(self.pool[u]),
                    "replies": [down(k["uri"]) for k in kids]}

        node = down(uri)
        cur, at = node, self.pool[uri]
        while True:
            parent = ((at["record"].get("reply") or {}).get("parent") or {}).get("uri")
            if not parent:
                break
            if parent not in self.pool:
                cur["parent"] = {"$type": "app.bsky.feed.defs#notFoundPost", "uri": parent, "notFound": True}
                break
            cur["parent"] = {"$type": "app.bsky.feed.defs#threadViewPost", "post": copy.deepcopy(self.pool[parent])}
            cur, at = cur["parent"], self.pool[parent]
        return 200, {"thread": node}

    def _getRepostedBy(self, q: dict[str, list[str]]) -> tuple[int, Any]:
        uri = q["uri"][0]
        rec = self.reposted.get(uri)
        if rec is None or q.get("cursor"):
            return 200, {"uri": uri, "repostedBy": []}
        return 200, copy.deepcopy(rec)

    def _getQuotes(self, q: dict[str, list[str]]) -> tuple[int, Any]:
        uri = q["uri"][0]
        quoting = sorted((v for v in self.pool.values() if _quoted_uri(v) == uri), key=lambda v: v["uri"])
        return self._page(quoting, q, "posts", {"uri": uri})

    def _getProfiles(self, q: dict[str, list[str]]) -> tuple[int, Any]:
        actors = q.get("actors", [])
        if len(actors) > 25:
            return 400, {"error": "InvalidRequest", "message": "actors must not have more than 25 elements"}
        by_handle = {p["handle"]: p for p in self.profiles.values()}
        out = [copy.deepcopy(self.profiles.get(a) or by_handle[a]) for a in actors
               if a in self.profiles or a in by_handle]
        return 200, {"profiles": out}

    def _getFollows(self, q: dict[str, list[str]]) -> tuple[int, Any]:
        actor = q["actor"][0]
        views = sorted({v["author"]["did"]: v["author"] for v in self.pool.values()}.items())
        follows = [dict(p) for did, p in views if did != actor][:7]
        subject = self.profiles.get(actor) or next((p for d, p in views if d == actor),
                                                   {"did": actor, "handle": "x.test"})
        saved, self.page_size = self.page_size, 3
        try:
            return self._page(follows, q, "follows", {"subject": copy.deepcopy(subject)})
        finally:
            self.page_size = saved


# -- Mastodon ----------------------------------------------------------------------------------------


class Instance:
    """What one Mastodon server knows."""

    def __init__(self) -> None:
        self.tags: dict[str, list[dict[str, Any]]] = {}
        self.contexts: dict[str, Any] = {}
        self.reblogged: dict[str, Any] = {}
        self.statuses: dict[str, dict[str, Any]] = {}
        self.token: str | None = None   # when set, the tag timeline needs it

    def add_tag(self, tag: str, statuses: list[dict[str, Any]]) -> None:
        have = {s["id"] for s in self.tags.setdefault(tag, [])}
        for s in statuses:
            self.statuses.setdefault(s["id"], s)
            if s["id"] not in have:
                self.tags[tag].append(s)
                have.add(s["id"])


def rtoot(name: str) -> dict[str, Any]:
    return _load(f"mastodon-api-rtoot/{name if name.endswith('.json') else name + '.json'}")


def mastodon_social() -> Instance:
    inst = Instance()
    for i in range(4):
        inst.add_tag("ichbinhanna", rtoot(f"handle_params_max_id.{i}.json")["body"])
    inst.add_tag("rstats", rtoot("get_timeline_hashtag_instance.0.json")["body"])
    inst.contexts["109294719267373593"] = rtoot("get_context_default.0.json")["body"]
    inst.reblogged["109294719267373593"] = rtoot("get_reblogged_by_default.0.json")
    return inst


def fosstodon() -> Instance:
    inst = Instance()
    inst.add_tag("rstats", rtoot("get_timeline_hashtag_default.0.json")["body"])
    inst.contexts["114026814291152535"] = rtoot("get_context_with_token.0.json")["body"]
    return inst


def _idk(i: str) -> tuple[int, str]:
    return (len(i), i)


class MastodonStandIn:
    """Mastodon servers by host (``netloc``); see the module docstring."""

    def __init__(self, clock: FakeClock, instances: dict[str, Instance], *, limit: int = 300,
                 window: float = 300.0) -> None:
        self.clock = clock
        self.instances = instances
        self.windows = {h: _Window(clock, limit, window) for h in instances}
        self.faults = _Faults()
        self.log: list[tuple[str, str, dict[str, list[str]], str | None]] = []
        self.lock = threading.Lock()

    def add(self, host: str, inst: Instance, *, limit: int = 300, window: float = 300.0) -> None:
        """Serve ``inst`` as ``host`` (e.g. the 127.0.0.1:PORT a real server got)."""
        self.instances[host] = inst
        self.windows[host] = _Window(self.clock, limit, window)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        return self.handle(request)

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            return self._handle(request)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.clock.advance(0.05)
        host = request.url.netloc.decode()
        path = request.url.path
        q = parse_qs(request.url.query.decode())
        auth = request.headers.get("authorization")
        self.log.append((host, path, q, auth))
        inst = self.instances.get(host)
        if inst is None:
            return _json(404, {"error": "Not Found"})
        window = self.windows[host]
        ok, remaining, reset = window.take()
        rl = {"x-ratelimit-limit": str(window.limit), "x-ratelimit-remaining": str(remaining),
              "x-ratelimit-reset": datetime.fromtimestamp(reset, UTC).isoformat().replace("+00:00", "Z"),
              "date": format_datetime(datetime.fromtimestamp(self.clock.now(), UTC), usegmt=True)}
        if not ok:
            return _json(429, {"error": "Too many requests"}, rl)
        parts = path.strip("/").split("/")
        endpoint = "tag" if parts[:3] == ["api", "v1", "timelines"] else (parts[-1] if len(parts) == 5 else "status")
        fault = self.faults.next(endpoint)
        if fault == 429:
            return _json(429, {"error": "Too many requests"}, {**rl, "retry-after": "11"})
        if fault == 500:
            return _json(500, {"error": "We're sorry, but something went wrong on our end."}, rl)
        if fault == "malformed":
            return httpx.Response(200, headers={**rl, "content-type": "application/json"}, content=b'[{"id": "1", "ur')
        if fault == "timeout":
            raise httpx.ReadTimeout("stand-in timeout", request=request)
        if inst.token is not None and auth is None and endpoint == "tag":
            return _json(401, {"error": "This method requires an authenticated user"}, rl)
        if inst.token is not None and auth is not None and auth != f"Bearer {inst.token}":
            return _json(401, {"error": "The access token is invalid"}, rl)
        if endpoint == "tag":
            return self._tag(request, inst, parts[4], q, rl)
        if endpoint in ("context", "reblogged_by"):
            sid = parts[3]
            if sid not in inst.statuses and sid not in inst.contexts and sid not in inst.reblogged:
                return _json(404, {"error": "Record not found"}, rl)
            if endpoint == "context":
                return _json(200, inst.contexts.get(sid) or self._context(inst, sid), rl)
            rec = inst.reblogged.get(sid)
            if rec is None or q.get("max_id"):
                return _json(200, [], rl)
            return _json(200, rec["body"], {**rl, "link": rec["headers"]["link"]})
        return _json(404, {"error": "Record not found"}, rl)

    def _tag(self, request: httpx.Request, inst: Instance, tag: str, q: dict[str, list[str]],
             rl: dict[str, str]) -> httpx.Response:
        statuses = sorted(inst.tags.get(tag.casefold(), []), key=lambda s: _idk(s["id"]), reverse=True)
        max_id, since_id = q.get("max_id", [None])[0], q.get("since_id", [None])[0]
        if max_id:
            statuses = [s for s in statuses if _idk(s["id"]) < _idk(max_id)]
        if since_id:
            statuses = [s for s in statuses if _idk(s["id"]) > _idk(since_id)]
        limit = min(int(q.get("limit", ["20"])[0]), 40)
        page = statuses[:limit]
        headers = dict(rl)
        if page:
            base = f"{request.url.scheme}://{request.url.netloc.decode()}{request.url.path}"
            links = []
            if len(page) == limit:
                links.append(f'<{base}?limit={limit}&max_id={page[-1]["id"]}>; rel="next"')
            links.append(f'<{base}?limit={limit}&min_id={page[0]["id"]}>; rel="prev"')
            headers["link"] = ", ".join(links)
        return _json(200, page, headers)

    def _context(self, inst: Instance, sid: str) -> dict[str, Any]:
        ancestors = []
        cur = inst.statuses[sid]
        while cur.get("in_reply_to_id") and cur["in_reply_to_id"] in inst.statuses:
            cur = inst.statuses[cur["in_reply_to_id"]]
            ancestors.insert(0, cur)
        found, frontier = [], {sid}
        while frontier:
            kids = [s for s in inst.statuses.values() if s.get("in_reply_to_id") in frontier]
            found.extend(kids)
            frontier = {s["id"] for s in kids}
        found.sort(key=lambda s: _idk(s["id"]))
        return {"ancestors": ancestors, "descendants": found}


# -- a real local HTTP server ------------------------------------------------------------------------


def serve(handler: Callable[[httpx.Request], httpx.Response]) -> tuple[str, Callable[[], None]]:
    """Serve ``handler`` on 127.0.0.1 (a free port): (base URL, stop)."""

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _do(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            url = f"http://{self.headers.get('host')}{self.path}"
            req = httpx.Request(self.command, url, headers=dict(self.headers.items()), content=body)
            slow = getattr(handler, "slow", None)
            if slow is not None:
                delay = slow(req)
                if delay:
                    time.sleep(delay)
            r = handler(req)
            data = r.content
            self.send_response(r.status_code)
            for k, v in r.headers.items():
                if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(k, v)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _do

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), H)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return f"http://127.0.0.1:{server.server_address[1]}", stop


def data_path(rel: str) -> Path:
    return shared(rel)
