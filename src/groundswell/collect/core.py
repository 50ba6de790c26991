"""What both collectors share: one path into the store, checkpoints, the archive, the summary.

One path into the store
-----------------------
Every response is wrapped in a collect envelope
(:mod:`groundswell.formats.envelope`), serialized as one JSON line, read back
and handed to the platform's format reader (``bluesky-api``, ``mastodon-api``)
exactly as ``groundswell ingest`` hands it each line of an archive file (the
same :func:`groundswell.ingest._parse_safely`, the same
:class:`~groundswell.ingest.BatchSink`, the same privacy rules: redaction when
the store asks for it, deletions made complete at the end). With ``--archive
DIR`` the line is appended to ``DIR/<format>.jsonl`` first and the rows name
that file and line as their source, so ``ingest DIR`` rebuilds the same store.
Without it, the source is the endpoint (no query string) and the line is a
page number counted across the store's collections (``meta`` key
``collect:seq``).

Checkpoints
-----------
Each query's progress (cursor or ``max_id``, whether it is done, what it
covered) is a JSON value in the ``meta`` table under a ``collect:...`` key,
written in the same transaction as the rows of its page
(``Store.write_batch(meta=...)``). Pages are written in batches (the pages of
about a second, longer when the store is slow to merge; see
:meth:`Collection.commit`), so a checkpoint is never ahead of the rows in the
store. A killed run leaves the store as it was after its last batch; Ctrl-C
writes the pages already fetched; a rerun continues from there: no page is
stored twice and none is skipped. The archive's length is checkpointed the
same way, and a rerun cuts off what an interrupted run appended after its last
commit, so archive and store always agree.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from groundswell.collect.http import AuthError, Refused, Reply
from groundswell.errors import UsageError
from groundswell.formats import detect
from groundswell.ingest import BatchSink, _parse_safely
from groundswell.store.duck import Store

__all__ = [
    "DONE", "ITEM_KEY_SQL", "CollectSummary", "Collection", "Job", "PageCounts", "Progress", "QueryReport",
    "item_key", "iso", "parse_time",
]

SEQ_KEY = "collect:seq"
WAKE_S = 0.25  # the longest the main thread waits for a request without looking for a Ctrl-C
# a finished checkpoint (its JSON is written by json.dumps(..., sort_keys=True)); as text, since the meta
# table holds values that are not JSON and SQL does not promise to test the key first
DONE = """contains(value, '"done": true')"""


def iso(dt: datetime | None) -> str | None:
    """Naive UTC -> '2025-07-04T08:49:25.123456Z' (None stays None)."""
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_time(value: str | None, what: str = "time") -> datetime | None:
    """A --since/--until value (ISO date or date-time; naive means UTC) -> naive UTC."""
    if value is None or value == "":
        return None
    v = value.strip()
    try:
        dt = datetime.fromisoformat(v.replace("Z", "+00:00") if v.endswith("Z") else v)
    except ValueError:
        raise UsageError(f"{what} {value!r} is not a date or time: write 2025-01-31 or 2025-01-31T18:00:00Z") from None
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt


@dataclass
class QueryReport:
    """One query: a hashtag on one server."""

    label: str
    server: str
    tag: str
    pages: int = 0
    posts: int = 0               # movement posts stored by this run (distinct)
    complete: bool = False
    stopped: str | None = None   # 'limit', 'interrupted', or what failed
    oldest: datetime | None = None
    newest: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["oldest"], d["newest"] = iso(self.oldest), iso(self.newest)
        return d


@dataclass
class CollectSummary:
    platform: str
    store: str
    queries: list[QueryReport] = field(default_factory=list)
    expansions: dict[str, Counter[str]] = field(default_factory=dict)  # phase -> {requests, posts, accounts, ...}
    posts_read: int = 0
    accounts_read: int = 0
    follows_read: int = 0
    new_posts: int = 0
    rejected: int = 0
    refused: Counter[str] = field(default_factory=Counter)   # why requests were refused -> how many
    errors: list[str] = field(default_factory=list)
    requests: int = 0
    waits: int = 0
    waited: float = 0.0
    interrupted: bool = False
    archive: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors and not self.interrupted

    @property
    def movement_posts(self) -> int:
        return sum(q.posts for q in self.queries)

    def span(self) -> tuple[datetime | None, datetime | None]:
        olds = [q.oldest for q in self.queries if q.oldest]
        news = [q.newest for q in self.queries if q.newest]
        return (min(olds) if olds else None, max(news) if news else None)

    def as_dict(self) -> dict[str, Any]:
        first, last = self.span()
        return {
            "platform": self.platform, "store": self.store, "ok": self.ok, "interrupted": self.interrupted,
            "queries": [q.as_dict() for q in self.queries],
            "movement_posts": self.movement_posts,
            "expansions": {k: dict(v) for k, v in self.expansions.items()},
            "posts_read": self.posts_read, "accounts_read": self.accounts_read, "follows_read": self.follows_read,
            "new_posts": self.new_posts, "rejected": self.rejected, "refused": dict(self.refused),
            "errors": list(self.errors), "requests": self.requests, "waits": self.waits,
            "waited_seconds": round(self.waited, 3), "span": [iso(first), iso(last)],
            "archive": list(self.archive), "seconds": round(self.seconds, 3),
        }

    def lines(self) -> list[str]:
        """What was collected, from where, and what was refused (for people; no post text)."""
        out = []
        for q in self.queries:
            state = "complete" if q.complete else (q.stopped or "incomplete")
            span = f", {iso(q.oldest)[:19]} .. {iso(q.newest)[:19]}" if q.oldest and q.newest else ""  # type: ignore[index]
            out.append(f"  #{q.tag} from {q.server}: {q.posts:,} movement posts in {q.pages:,} pages{span} ({state})")
        for phase, c in self.expansions.items():
            parts = ", ".join(f"{v:,} {k}" for k, v in c.items() if v)
            out.append(f"  {phase}: {parts or 'nothing to do'}")
        refused = ", ".join(f"{n:,} {why}" for why, n in self.refused.most_common())
        first, last = self.span()
        head = (f"collected {self.platform}: {self.movement_posts:,} movement posts, {self.posts_read:,} posts read "
                f"({self.new_posts:,} new), {self.accounts_read:,} account observations"
                + (f", {self.follows_read:,} follows" if self.follows_read else "")
                + f"; {self.rejected:,} records rejected; {sum(self.refused.values()):,} requests refused"
                + (f" ({refused})" if refused else "")
                + f"; {self.requests:,} requests, {self.waits:,} waits ({self.waited:,.0f} s) -> {self.store}")
        out.insert(0, head)
        if self.archive:
            out.append("  archive: " + ", ".join(self.archive))
        for e in self.errors:
            out.append(f"  failed: {e}")
        if self.interrupted or self.errors:
            out.append("  run the same command again to continue where this run stopped")
        return out


@dataclass
class PageCounts:
    """What one response held."""

    posts: int
    accounts: int
    follows: int


@dataclass
class Progress:
    """What a collection has done so far (handed to ``on_progress`` after each stored page)."""

    phase: str
    query: str
    pages: int
    posts: int          # movement posts this run
    stored: int         # posts read this run (movement, conversations, reposts, quotes)
    rate: float         # posts read per second
    oldest: datetime | None
    newest: datetime | None


@dataclass
class Job:
    """One request of a phase: ``fetch`` runs on a worker thread, ``done``/``failed`` on the caller's."""

    fetch: Callable[[], Reply]
    done: Callable[[Reply], Job | None]      # store the answer; return the next page's job, if any
    failed: Callable[[Refused], None]            # the server refused this request (4xx)


class Collection:
    """Writes collected responses into a store (see the module docstring)."""

    def __init__(self, store: Store, client: Any, *, platform: str, fmt: str, archive: str | None = None,
                 on_progress: Callable[[Progress], None] | None = None, limit: int | None = None,
                 flush_seconds: float = 1.0) -> None:
        from groundswell import privacy

        if limit is not None and limit < 1:
            raise UsageError("--limit must be at least 1")
        self.store, self.client = store, client
        self.platform, self.fmt = platform, fmt
        self.parse = detect.json_format(fmt).parse
        self.redact = privacy.redact_posts_table if privacy.redact_store_enabled(store) else None
        self.on_progress = on_progress
        self.limit = limit
        self.summary = CollectSummary(platform=platform, store=store.path)
        self.seen: set[str] = set()   # movement posts stored by this run
        self.started = time.monotonic()
        self._posts_before = self._count("posts")
        self._deletions_before = self._count("deletions")
        self.phase, self.query = "search", ""
        self.pages = 0
        self.writes = 0
        self.seq = int(store.meta(SEQ_KEY) or 0)
        self._pending: BatchSink | None = None   # pages taken, not yet written
        self._meta: dict[str, str] = {}          # their checkpoints
        self._oldest = time.monotonic()
        self._last_write = 0.0
        self.flush_seconds = flush_seconds
        self.archive_path: str | None = None
        self._archive: Any = None
        if archive is not None:
            self._open_archive(archive)

    # -- checkpoints ---------------------------------------------------------------------------
    def state(self, key: str) -> dict[str, Any] | None:
        value = self._meta.get(key) or self.store.meta(key)
        if value is None:
            return None
        try:
            d = json.loads(value)
        except ValueError:
            return None
        return d if isinstance(d, dict) else None

    # -- the archive ---------------------------------------------------------------------------
    def _open_archive(self, folder: str) -> None:
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as e:
            raise UsageError(f"cannot create --archive {folder}: {e.strerror}") from None
        path = os.path.join(folder, f"{self.fmt}.jsonl")
        self.archive_key = f"collect:archive:{os.path.abspath(path)}"
        committed = self.state(self.archive_key)
        size = os.path.getsize(path) if os.path.exists(path) else 0
        if committed is None:
            lines = 0
            if size:
                with open(path, "rb") as f:
                    lines = sum(1 for _ in f)
            self.archive_lines, self.archive_bytes = lines, size
        else:
            self.archive_lines, self.archive_bytes = int(committed["lines"]), int(committed["bytes"])
            if size < self.archive_bytes:
                raise UsageError(f"{path} is shorter than this store recorded ({size:,} < {self.archive_bytes:,} "
                                 "bytes): it was changed since; give another --archive DIR")
        try:
            self._archive = open(path, "ab")
            if size > self.archive_bytes:
                self._archive.truncate(self.archive_bytes)  # what an interrupted run wrote after its last commit
        except OSError as e:
            raise UsageError(f"cannot write {path}: {e.strerror}") from None
        self.archive_path = path
        self.summary.archive.append(path)

    def close(self) -> None:
        self.flush()
        if self._archive is not None:
            self._archive.close()
            self._archive = None

    # -- writing -------------------------------------------------------------------------------
    def commit(self, envelope: dict[str, Any], label: str,
               checkpoint: dict[str, dict[str, Any]] | None = None) -> PageCounts:
        """Take one response and its checkpoints: they are stored in the same transaction.

        Pages are gathered and written together (:meth:`flush`) once the
        oldest waiting page is ``max(flush_seconds, 4 x the last write)`` old
        (``flush_seconds=0``: every page at once): a store of
        millions of posts takes a second or two to merge a batch of any size,
        so writing each page alone would be slower than the network. A
        checkpoint always goes in the transaction of the rows of its page.
        """
        line = orjson.dumps(envelope) + b"\n"
        self.seq += 1
        meta = self._meta
        meta[SEQ_KEY] = str(self.seq)
        if self._archive is not None:
            self._archive.write(line)
            self._archive.flush()
            self.archive_lines += 1
            self.archive_bytes += len(line)
            source, number = self.archive_path, self.archive_lines
            meta[self.archive_key] = json.dumps({"lines": self.archive_lines, "bytes": self.archive_bytes})
        else:
            source, number = label, self.seq
        assert source is not None
        sink = self._sink()
        sink.source_file = source
        sink.line, sink.line_bytes = number, len(line)
        sink.records += 1
        posts, accounts, follows = sink.n_posts, sink.n_accounts, len(sink.follows)
        _parse_safely(self.parse, orjson.loads(line), sink, self.fmt)  # the bytes ingest would read
        for key, value in (checkpoint or {}).items():
            meta[key] = json.dumps(value, sort_keys=True)
        counts = PageCounts(sink.n_posts - posts, sink.n_accounts - accounts, len(sink.follows) - follows)
        s = self.summary
        s.posts_read += counts.posts
        s.accounts_read += counts.accounts
        s.follows_read += counts.follows
        self.pages += 1
        if self.flush_seconds <= 0 or time.monotonic() - self._oldest >= max(self.flush_seconds,
                                                                              4 * self._last_write):
            self.flush()
        return counts

    def reject(self, label: str, reason: str) -> None:
        """Record a response that could not be read at all (``rejects``: source = the endpoint)."""
        self.seq += 1
        sink = self._sink()
        sink.source_file, sink.line, sink.line_bytes = label, self.seq, 0
        sink.reject(reason)
        self._meta[SEQ_KEY] = str(self.seq)
        self.flush()

    def set_state(self, key: str, state: dict[str, Any]) -> None:
        """A checkpoint with no rows (a refused request), written with the next batch."""
        self._meta[key] = json.dumps(state, sort_keys=True)
        if self._pending is None:
            self._oldest = time.monotonic()

    def _sink(self) -> BatchSink:
        if self._pending is None:
            self._pending = BatchSink("", self.fmt)
            self._oldest = time.monotonic()
        return self._pending

    def flush(self) -> None:
        """Write the pages taken so far and their checkpoints in one transaction."""
        sink, meta = self._pending, self._meta
        if sink is None and not meta:
            return
        started = time.monotonic()
        tables = sink.tables() if sink is not None else {}
        if self.redact is not None and tables.get("posts") is not None:
            tables["posts"] = self.redact(tables["posts"])
        self.store.write_batch(tables, meta=meta)
        self._pending, self._meta = None, {}
        if sink is not None:
            self.summary.rejected += sink.n_rejects
        self._last_write = time.monotonic() - started
        self.writes += 1

    def progress(self, report: QueryReport | None = None) -> None:
        if self.on_progress is None:
            return
        elapsed = max(time.monotonic() - self.started, 1e-9)
        s = self.summary
        self.on_progress(Progress(self.phase, report.label if report else self.query, self.pages,
                                  s.movement_posts, s.posts_read, s.posts_read / elapsed,
                                  *s.span()))

    def take(self, ids: list[str]) -> int:
        """How many of these movement posts (in order) fit under ``--limit``; counts them as seen."""
        n = 0
        for pid in ids:
            if pid in self.seen:
                n += 1
                continue
            if self.limit is not None and len(self.seen) >= self.limit:
                break
            self.seen.add(pid)
            n += 1
        return n

    @property
    def limit_reached(self) -> bool:
        return self.limit is not None and len(self.seen) >= self.limit

    # -- phases of many requests ------------------------------------------------------------------
    def run_jobs(self, jobs: Iterable[Job], concurrency: int) -> None:
        """Fetch up to ``concurrency`` jobs at a time; store the answers in the order the jobs came.

        A refused request goes to its job's ``failed``; an :class:`AuthError`
        or a failing server (:class:`CollectError`) stops the phase (raised).
        """
        queue: deque[Job] = deque()
        source: Iterator[Job] = iter(jobs)
        inflight: deque[tuple[Job, Future[Reply]]] = deque()
        pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="groundswell-collect")
        finished = False
        try:
            while True:
                while len(inflight) < concurrency:
                    job = queue.popleft() if queue else next(source, None)
                    if job is None:
                        break
                    inflight.append((job, pool.submit(job.fetch)))
                if not inflight:
                    finished = True
                    return
                job, fut = inflight.popleft()
                while not fut.done():
                    # short waits: a Ctrl-C the kernel handed to a worker thread is seen here within WAKE_S,
                    # not once the request ends (a lock wait is interrupted only in the thread signalled)
                    wait([fut], timeout=WAKE_S)
                try:
                    reply = fut.result()
                except AuthError:
                    raise
                except Refused as e:
                    self.summary.refused[_why(e)] += 1
                    job.failed(e)
                    continue
                nxt = job.done(reply)
                if nxt is not None:
                    queue.appendleft(nxt)  # the next page of the same query comes before new queries
        finally:
            for _job, fut in inflight:
                fut.cancel()
            if not finished:
                # stopping (Ctrl-C, a failure): end the waits and requests still running, do not wait for them
                self.client.abort()
            pool.shutdown(wait=finished, cancel_futures=True)

    def finish(self) -> CollectSummary:
        """Make deletions complete (as ingest does), note the totals, and return the summary."""
        from groundswell import privacy

        self.close()
        deletions = self._count("deletions")
        if deletions > self._deletions_before or (self._deletions_before and self._count("posts") > self._posts_before):
            privacy.apply_deletions(self.store)
        privacy.ensure_secret(self.store)
        s = self.summary
        s.new_posts = self._count("posts") - self._posts_before
        c = self.client
        s.requests, s.waits, s.waited = c.requests, c.waits, c.waited
        s.seconds = time.monotonic() - self.started
        return s

    def _count(self, table: str) -> int:
        return int(self.store.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])


def _why(e: Refused) -> str:
    return f"HTTP {e.status}" + (f" {e.error}" if e.error else "")


def slice_end(items: list[Any], keep: int, ident: Callable[[Any], Any]) -> int:
    """Where to cut ``items`` to keep the first ``keep`` of those with an id (``ident(item)`` a str)."""
    n = 0
    for i, item in enumerate(items):
        if isinstance(ident(item), str):
            n += 1
            if n == keep:
                return i + 1
    return len(items) if keep else 0


def item_key(prefix: str, ident: str) -> str:
    """The checkpoint key of one post or account: a hash, so no person's id stays in ``meta``
    (``forget`` removes a person from the tables; it does not know these keys)."""
    return prefix + hashlib.sha256(ident.encode()).hexdigest()


ITEM_KEY_SQL = "? || sha256({col})"  # the same key in SQL (DuckDB's sha256 is the lowercase hex digest)


def done_state(refused: Refused | None = None, **more: Any) -> dict[str, Any]:
    """The checkpoint of a finished request (refused ones are done too: a rerun does not ask again)."""
    d: dict[str, Any] = {"done": True, **more}
    if refused is not None:
        d["refused"] = _why(refused)
    return d


def check_concurrency(n: int) -> int:
    if n < 1 or n > 16:
        raise UsageError("--concurrency must be between 1 and 16")
    return n


def tags_of(hashtags: Iterable[str]) -> list[str]:
    out: list[str] = []
    for h in hashtags:
        t = h.strip().lstrip("#").strip()
        if not t or any(c.isspace() for c in t):
            raise UsageError(f"--hashtag {h!r} is not a hashtag: give the tag, e.g. --hashtag metoo")
        if t.casefold() not in out:
            out.append(t.casefold())
    if not out:
        raise UsageError("give at least one --hashtag TAG")
    return out
