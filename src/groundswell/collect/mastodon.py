"""Backfill a movement from Mastodon: hashtag timelines, contexts and boosts, from several instances.

Endpoints (https://docs.joinmastodon.org/methods/)
---------------------------------------------------
* ``GET /api/v1/timelines/tag/:hashtag?limit=40`` on each instance, newest
  first, paged by the ``max_id`` of the ``Link: <...>; rel="next"`` header
  until the server sends no next link or an empty page. Only ``max_id`` is
  taken from the link: every request goes to the instance the user named, so
  a token never follows a link elsewhere. A status seen on several instances
  is one post (its id is the status URI): deduplicated in the store, counted
  once by ``--limit`` and in the summary.
* ``--threads``: ``GET /api/v1/statuses/:id/context`` for each movement status
  with replies, asked of the instance that gave it (its ``:id`` is local to
  that instance).
* ``--reblogs``: ``GET /api/v1/statuses/:id/reblogged_by?limit=80`` (paged the
  same way) for each movement status with boosts.

Mastodon's API has no time filter: ``--since`` and ``--until`` become
``since_id`` and ``max_id`` built from Mastodon's time-based ids (the
milliseconds since the epoch, shifted left 16 bits). An instance whose ids
are not numbers (not Mastodon) cannot be asked by time, and says so. A token
(``MASTODON_TOKEN`` with one instance, or ``--token HOST=TOKEN`` for each) is
sent as ``Authorization: Bearer`` and only over https.

A finished query without ``--until``, run again, asks with ``since_id`` = the
newest id it had seen: what is new since the last run.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

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
)
from groundswell.errors import UsageError
from groundswell.formats import envelope
from groundswell.formats.base import iso_time
from groundswell.formats.mastodon_api import REBLOGGED_BY
from groundswell.store.duck import Store

__all__ = ["collect_mastodon", "Instance", "instance", "snowflake", "next_max_id"]

PLATFORM = "mastodon"
FORMAT = "mastodon-api"
PAGE = 40
REBLOG_PAGE = 80
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([^";]+)"?')


class Instance:
    """One Mastodon server as the user named it (base URL, host label, token)."""

    def __init__(self, url: str, token: str | None = None) -> None:
        url = url.strip().rstrip("/")
        if "://" not in url:
            url = "https://" + url
        p = urlsplit(url)
        if p.scheme not in ("http", "https") or not p.hostname:
            raise UsageError(f"--instance {url!r} is not a server address: give https://HOST, e.g. "
                             "https://mastodon.social")
        if p.path not in ("", "/") or p.query:
            raise UsageError(f"--instance {url!r}: give the server only (https://HOST), not a path")
        self.base = f"{p.scheme}://{p.netloc}"
        self.host = p.netloc  # what statuses carry as _server
        if token is not None and p.scheme != "https":
            raise UsageError(f"refusing to send a token to {self.base} over plain http: use https://{p.netloc}")
        self.token = token


def instance(url: str, tokens: dict[str, str] | None = None, default_token: str | None = None) -> Instance:
    host = urlsplit(url if "://" in url else "https://" + url).netloc
    token = (tokens or {}).get(host, default_token)
    return Instance(url, token)


def snowflake(t: datetime) -> str:
    """A Mastodon id for time ``t`` (naive UTC): ids are milliseconds since the epoch << 16."""
    ms = int(t.replace(tzinfo=UTC).timestamp() * 1000)
    return str(ms << 16)


def next_max_id(link: str | None) -> str | None:
    """The ``max_id`` of the ``rel="next"`` link of a ``Link`` header."""
    if not link:
        return None
    for url, rel in _LINK.findall(link):
        if "next" in rel.split():
            values = parse_qs(urlsplit(url).query).get("max_id")
            if values and values[0]:
                return str(values[0])
    return None


def _id_key(i: str) -> tuple[int, str]:
    return (len(i), i)


def collect_mastodon(store: Store, hashtags: list[str], instances: list[Instance], *, client: Client,
                     since: str | datetime | None = None, until: str | datetime | None = None,
                     threads: bool = False, reblogs: bool = False, limit: int | None = None,
                     archive: str | None = None, concurrency: int = 4,
                     on_progress: Callable[[Any], None] | None = None,
                     flush_seconds: float = 1.0) -> CollectSummary:
    """Collect hashtags from Mastodon instances into ``store``; see the module docstring.

    One instance that refuses or fails does not stop the others (the summary
    says what failed). Ctrl-C stops after the last whole page; the summary is
    marked interrupted.
    """
    tags = tags_of(hashtags)
    if not instances:
        raise UsageError("give at least one --instance https://HOST")
    hosts = [i.host for i in instances]
    if len(set(hosts)) != len(hosts):
        raise UsageError("an --instance is given twice")
    t_since = since if isinstance(since, datetime) or since is None else parse_time(since, "--since")
    t_until = until if isinstance(until, datetime) or until is None else parse_time(until, "--until")
    if t_since and t_until and t_since >= t_until:
        raise UsageError("--since must be before --until")
    run = _Run(store, client, tags, instances, t_since, t_until, limit, archive, concurrency, on_progress,
               flush_seconds)
    try:
        run.timelines()
        if threads:
            run.expand("threads")
        if reblogs:
            run.expand("reblogs")
    except KeyboardInterrupt:
        run.col.summary.interrupted = True
        for q in run.col.summary.queries:
            if not q.complete and q.stopped is None:
                q.stopped = "interrupted"
    except CollectError as e:
        run.col.summary.errors.append(str(e))
    finally:
        summary = run.col.finish()
    return summary


class _Run:
    def __init__(self, store: Store, client: Client, tags: list[str], instances: list[Instance],
                 since: datetime | None, until: datetime | None, limit: int | None, archive: str | None,
                 concurrency: int, on_progress: Callable[[Any], None] | None, flush_seconds: float) -> None:
        self.store, self.client, self.tags, self.instances = store, client, tags, instances
        self.by_host = {i.host: i for i in instances}
        self.since, self.until, self.concurrency = since, until, concurrency
        self.col = Collection(store, client, platform=PLATFORM, fmt=FORMAT, archive=archive,
                              on_progress=on_progress, limit=limit, flush_seconds=flush_seconds)

    def wrap(self, inst: Instance, method: str, reply: Reply, body: Any, subject: str | None = None) -> dict[str, Any]:
        return envelope.wrap(PLATFORM, method, body, fetched_at=reply.fetched_at, url=reply.url,
                             server=inst.host, subject=subject)

    # -- hashtag timelines -------------------------------------------------------------------------
    def timelines(self) -> None:
        for inst in self.instances:
            for tag in self.tags:
                if self.col.limit_reached:
                    return
                try:
                    self._timeline(inst, tag)
                except (ServerError, Refused) as e:
                    if isinstance(e, AuthError):
                        msg = (f"{e}; this server shows its timelines only to signed-in users: give a token "
                               f"(--token {inst.host}=TOKEN, or MASTODON_TOKEN with one --instance)"
                               if inst.token is None else f"{e}: the token for {inst.host} was refused")
                    else:
                        msg = str(e)
                    self.col.summary.queries[-1].stopped = msg
                    self.col.summary.errors.append(msg)

    def _timeline(self, inst: Instance, tag: str) -> None:
        col = self.col
        col.phase = "search"
        key = f"collect:mastodon:tag:{inst.host}:#{tag}:{iso(self.since) or ''}:{iso(self.until) or ''}"
        rep = QueryReport(label=f"mastodon #{tag}", server=inst.base, tag=tag)
        col.summary.queries.append(rep)
        st = col.state(key) or {}
        if st.get("done"):
            if self.until is not None:
                rep.complete = True
                return
            st = {"covered_id": st.get("covered_id"), "since_id": st.get("covered_id"), "max_id": None,
                  "done": False}
        elif not st:
            st = {"since_id": snowflake(self.since) if self.since else None,
                  "max_id": snowflake(self.until) if self.until else None, "done": False}
        url = f"{inst.base}/api/v1/timelines/tag/{quote(tag, safe='')}"
        label = f"{inst.base}/api/v1/timelines/tag/{quote(tag, safe='')}"
        while True:
            if col.limit_reached:
                rep.stopped = "limit"
                return
            params: dict[str, Any] = {"limit": PAGE}
            if st.get("max_id"):
                params["max_id"] = st["max_id"]
            if st.get("since_id"):
                params["since_id"] = st["since_id"]
            try:
                reply = self.client.get(url, params, token=inst.token)
            except MalformedResponse as e:
                col.reject(label, "not valid JSON")
                rep.stopped = str(e)
                col.summary.errors.append(str(e))
                return
            body = reply.body
            if not isinstance(body, list):
                col.reject(label, "timeline answer is not a list of statuses")
                msg = f"{label}: an answer that is not a list of statuses; a rerun tries this page again"
                rep.stopped = msg
                col.summary.errors.append(msg)
                return
            ids = [s.get("id") for s in body if isinstance(s, dict)]
            if (self.since or self.until) and any(not (isinstance(i, str) and i.isdigit()) for i in ids):
                msg = (f"{inst.base} does not use Mastodon's time-based ids, so --since/--until cannot be asked of "
                       "it: collect it without them")
                rep.stopped = msg
                col.summary.errors.append(msg)
                return
            uris = [s.get("uri") or s.get("url") for s in body if isinstance(s, dict)]
            before = len(col.seen)
            keep = col.take([u for u in uris if isinstance(u, str)])
            cut = keep < len([u for u in uris if isinstance(u, str)])
            if cut:
                body = body[:slice_end(body, keep, _status_uri)]
            st = dict(st)
            st["pages"] = st.get("pages", 0) + 1
            local = [i for i in ids if isinstance(i, str) and i]
            if local:
                top = max(local, key=_id_key)
                if st.get("top_id") is None or _id_key(top) > _id_key(st["top_id"]):
                    st["top_id"] = top
            if not cut:
                nxt = next_max_id(reply.headers.get("link"))
                st["max_id"] = nxt
                if not body or not nxt:
                    st["done"] = True
                    st["max_id"] = None
                    tops = [t for t in (st.get("top_id"), st.get("covered_id")) if t]
                    st["covered_id"] = max(tops, key=_id_key) if tops else None
                    st.pop("top_id", None)
            col.commit(self.wrap(inst, "timelines/tag", reply, body), label, {key: st})
            rep.pages += 1
            rep.posts += len(col.seen) - before
            _span(rep, body)
            col.progress(rep)
            if cut:
                rep.stopped = "limit"
                return
            if st.get("done"):
                rep.complete = True
                return

    # -- contexts and boosts -------------------------------------------------------------------------
    def expand(self, kind: str) -> None:
        col = self.col
        col.flush()  # the store must hold every page before it is asked what is left to do
        col.phase = kind
        count = "reply_count" if kind == "threads" else "repost_count"
        prefix = f"collect:mastodon:{kind}:"
        stats = col.summary.expansions.setdefault(kind, Counter())
        cond = ["platform = 'mastodon'", "NOT is_reference", "NOT deleted", "kind <> 'repost'", "raw IS NOT NULL",
                "list_has_any(hashtags, ?::VARCHAR[])", f"{count} > 0"]
        params: list[Any] = [self.tags]
        if self.since is not None:
            cond.append("created_at >= ?")
            params.append(self.since)
        if self.until is not None:
            cond.append("created_at < ?")
            params.append(self.until)
        rows = self.store.con.execute(
            "SELECT id, json_extract_string(raw, '$.id'), json_extract_string(raw, '$._server') FROM posts m WHERE "
            + " AND ".join(cond) + " AND NOT EXISTS (SELECT 1 FROM meta WHERE key = "
            f"{ITEM_KEY_SQL.format(col='m.id')} AND {DONE}) ORDER BY created_at, id", params + [prefix]).fetchall()
        todo = [(uri, local, self.by_host[host]) for uri, local, host in rows if local and host in self.by_host]
        stats["to do"] += len(todo)

        def job(uri: str, local: str, inst: Instance, st: dict[str, Any]) -> Job:
            key = item_key(prefix, uri)
            if kind == "threads":
                url, method, params = f"{inst.base}/api/v1/statuses/{quote(local, safe='')}/context", \
                    "statuses/context", None
            else:
                url, method = f"{inst.base}/api/v1/statuses/{quote(local, safe='')}/reblogged_by", REBLOGGED_BY
                params = {"limit": REBLOG_PAGE}
                if st.get("max_id"):
                    params["max_id"] = st["max_id"]
            label = f"{inst.base}/api/v1/statuses/:id/{method.split('/')[-1]}"

            def done(reply: Reply) -> Job | None:
                body = reply.body
                nxt = next_max_id(reply.headers.get("link")) if kind == "reblogs" else None
                more = bool(nxt) and isinstance(body, list) and len(body) > 0
                new = {"done": not more, "max_id": nxt if more else None, "pages": st.get("pages", 0) + 1}
                got = col.commit(self.wrap(inst, method, reply, body, subject=uri), label, {key: new})
                stats["requests"] += 1
                stats["posts"] += got.posts
                col.progress()
                return job(uri, local, inst, new) if more else None

            def failed(e: Refused) -> None:
                stats["refused"] += 1
                col.set_state(key, done_state(e))

            return Job(lambda: self.client.get(url, params, token=inst.token), done, failed)

        def jobs() -> Iterator[Job]:
            for uri, local, inst in todo:
                yield job(uri, local, inst, col.state(item_key(prefix, uri)) or {})

        col.run_jobs(jobs(), self.concurrency)








def _status_uri(s: Any) -> Any:
    return (s.get("uri") or s.get("url")) if isinstance(s, dict) else None


def _span(rep: QueryReport, statuses: list[Any]) -> None:
    for s in statuses:
        try:
            t = iso_time(s.get("created_at")) if isinstance(s, dict) else None
        except Exception:  # noqa: BLE001 - a bad time only leaves the span as it is
            continue
        if t is None:
            continue
        if rep.oldest is None or t < rep.oldest:
            rep.oldest = t
        if rep.newest is None or t > rep.newest:
            rep.newest = t

