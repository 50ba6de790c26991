"""The follower: a live source into the store, in micro-batches, with live trending.

::

    source (websocket/SSE reader task) --parse on arrival--> open batch --seal--> store writer thread
                                              |                                      |
                                          trending                         on_batch / on_alert

* The reader task hands each frame (decoded JSON, or a reject reason) to
  :meth:`Follower._put`, which parses it at once with the platform's format
  parser into the open micro-batch (a :class:`~groundswell.live.columns.ColumnarBatch`:
  the rows ``groundswell ingest`` makes, kept as columns) and feeds trending.
  Nothing waits in a queue as decoded JSON: the frame's objects die young,
  which keeps Python's garbage collector cheap. When the open batch holds
  ``queue_events`` frames the reader stops reading the socket: TCP flow
  control then slows the sender (a replay server waits; a Jetstream server
  that gives up on us disconnects, and we resume from the cursor). No frame
  is ever dropped.
* The batcher seals the open batch when it holds ``batch_events`` frames or
  its first frame is ``batch_seconds`` old, and the previous write is done
  (one write in flight; while it runs the open batch keeps filling, so the
  batches grow when the store is the slower side). The sealed batch becomes
  Arrow tables and one writer thread calls
  ``store.write_batch(tables, meta={cursor key: last time_us})`` -- one
  transaction holds the posts and the cursor, so the cursor in the store
  never runs ahead of what the store holds.
* With ``parse_workers=1`` the frames' JSON text is collected instead and
  each sealed batch is parsed in a worker process (the same parser code).
* A frame that is not JSON, or that the parser cannot read, is a reject
  (``rejects`` table: source = the redacted URL, line = frame number).
* Each post feeds the trending board (:class:`~groundswell.live.trending.Trending`)
  as it is parsed; a timer recomputes the board every ``trending_every``
  seconds, writes or not, and ``on_alert`` is called for each hashtag
  entering the top K.
* :meth:`Follower.stop` (or SIGINT/SIGTERM under :meth:`Follower.run`) stops
  reading, writes what was already received, and returns the summary.
* ``limit`` is exact: once that many posts are stored (counted after the
  hashtag filter), later frames are not taken, and the cursor committed is
  that of the last frame taken, so a later follower resumes right after it.
  ``idle_exit`` counts only while the source is connected; a source that
  cannot be reached ends the follower with its
  :class:`~groundswell.errors.SourceError` instead (see
  :mod:`groundswell.live.connection`).

Readers in the same process use :meth:`Follower.reader` (a DuckDB cursor on
the same database: it sees each batch as soon as it is committed). DuckDB lets
one process open a file for writing and then refuses every other process,
read-only ones too, so other processes read the live trending board through
:mod:`groundswell.live.status` (``follow --http PORT``) or embed the follower
(``serve --follow URL``). See docs/live.md.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from groundswell.errors import RecordError, StoreError, UsageError
from groundswell.ingest import BatchSink
from groundswell.live.columns import ColumnarBatch
from groundswell.live.jetstream import Item
from groundswell.live.trending import Alert, Trending
from groundswell.store.duck import Store, open_store

__all__ = ["Follower", "FollowStats"]

_EPOCH = datetime(1970, 1, 1)


@dataclass
class FollowStats:
    """What a follower has done so far."""

    source: str
    started: float = field(default_factory=time.monotonic)
    frames: int = 0           # frames taken from the source
    posts: int = 0            # posts parsed (before the hashtag filter)
    stored_posts: int = 0     # posts written (after the filter; duplicates merge in the store)
    filtered: int = 0         # posts left out by --hashtag
    deletions: int = 0
    accounts: int = 0
    rejected: int = 0         # malformed frames and unreadable records
    duplicates: int = 0       # frames a reconnect's rewind brought again, skipped
    oversized: int = 0        # frames or lines over the size limit (or zstd bombs), rejected
    batches: int = 0
    cursor: int | None = None  # last committed cursor
    connects: int = 0
    disconnects: int = 0
    queue_peak: int = 0
    latency_max: float = 0.0   # seconds from a frame's arrival to its commit
    latency_sum: float = 0.0
    latency_n: int = 0
    write_seconds: float = 0.0
    stopped_because: str | None = None

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def as_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k not in ("started", "latency_sum", "latency_n")}
        d["elapsed"] = round(self.elapsed, 3)
        d["latency_mean"] = round(self.latency_sum / self.latency_n, 4) if self.latency_n else None
        d["latency_max"] = round(self.latency_max, 4)
        d["write_seconds"] = round(self.write_seconds, 3)
        d["posts_per_second"] = round(self.posts / self.elapsed, 1) if self.elapsed > 0 else None
        return d

    def line(self) -> str:
        mean = self.latency_sum / self.latency_n if self.latency_n else 0.0
        return (f"{self.frames:,} frames, {self.stored_posts:,} posts stored, {self.rejected:,} rejected"
                + (f" ({self.oversized:,} over the size limit)" if self.oversized else "")
                + f", {self.duplicates:,} duplicates skipped, {self.batches:,} batches, "
                f"{self.disconnects:,} reconnects, commit latency mean {mean * 1000:.0f} ms "
                f"max {self.latency_max * 1000:.0f} ms, cursor {self.cursor}")


class _Bounded:
    """A dict with at most ``cap`` keys (the oldest are forgotten first)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.d: dict[str, Any] = {}

    def put(self, key: str, value: Any) -> None:
        d = self.d
        d[key] = value
        if len(d) > self.cap:
            for k in list(d)[: self.cap // 4]:
                del d[k]


Frame = tuple[int, int, Any, Any, "float | None", "str | None"]
"""(frame number, bytes, JSON text or None, decoded object or None, event time, reject reason)."""


class _Parser:
    """Frames -> one batch's tables: the format parser, the hashtag filter, trending uses.

    Runs in the follower's thread, frame by frame as they arrive (:meth:`feed`),
    or in a worker process on a whole batch (``parse_workers=1``, :meth:`run`)
    so parsing and the DuckDB writer do not share one interpreter lock. It
    keeps the state the filter needs (which post ids carry which hashtags).
    """

    def __init__(self, platform: str, label: str, tags: frozenset[str]) -> None:
        import importlib

        self.platform, self.label, self.tags = platform, label, tags
        self.parse = importlib.import_module(f"groundswell.formats.{platform}").parse
        self.tagged = _Bounded(200_000)  # post id -> hashtags (a tuple), for reposts/replies/quotes of them

    def begin(self, use: Callable[[float, Any, Any], None] | None = None,
              budget: int | None = None) -> _LiveSink:
        """A new batch; ``use(t, author, hashtags)`` feeds trending (default: kept in ``.uses``);
        at most ``budget`` posts are stored in it (None: no limit)."""
        return _LiveSink(ColumnarBatch(self.label, self.platform), self, use, budget)

    def feed(self, live: _LiveSink, frame: Frame) -> None:
        """Parse one frame into the batch (a malformed one becomes a reject)."""
        frame_no, nbytes, raw, obj, t, reason = frame
        batch = live.batch
        batch.line, batch.line_bytes = frame_no, nbytes
        if reason is not None:
            live.reject(reason)
            return
        if obj is None:
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError:
                live.reject("not valid JSON")
                return
        live.t = t
        try:
            self.parse(obj, live)
        except RecordError as e:
            live.reject(str(e) or "unreadable record")
        except (KeyError, TypeError, AttributeError, ValueError, IndexError, OverflowError) as e:
            live.reject(f"{self.platform}: {type(e).__name__}")  # never echo values

    def tables(self, live: _LiveSink) -> dict[str, Any]:
        """The batch as Arrow tables (``live.counts["rejected"]`` counts what converting rejects)."""
        batch = live.batch
        try:
            return batch.tables()
        except RecordError:
            # one unconvertible value must not lose the batch: convert record by record
            return self._one_by_one(batch, live)

    def run(self, frames: list[Frame], budget: int | None = None) -> dict[str, Any]:
        """A whole batch of frames -> tables, trending uses and counts (the worker's job).

        With a ``budget`` (posts left under the follower's limit) the frames
        after it is spent are not taken; ``used`` says how many were."""
        live = self.begin(budget=budget)
        used = 0
        for frame in frames:
            if live.full():
                break
            self.feed(live, frame)
            used += 1
        return {"tables": self.tables(live), "uses": live.uses, "counts": live.counts, "used": used}

    def _one_by_one(self, batch: BatchSink, live: _LiveSink) -> dict[str, Any]:
        good = BatchSink(batch.source_file, batch.format)
        for name in ("posts", "accounts", "volumes", "deletions", "rejects"):
            for key, rec in getattr(batch, name).items():
                probe = BatchSink(batch.source_file, batch.format)
                getattr(probe, name)[key] = rec
                try:
                    probe.tables()
                except RecordError as e:
                    good.line, good.line_bytes = rec.get("source_line") or 0, 0
                    good.reject(str(e))
                    live.counts["rejected"] += 1
                    continue
                getattr(good, name)[key] = rec
        return good.tables()


class _LiveSink:
    """Sits between the parser and the batch: the hashtag filter, counts, trending uses."""

    def __init__(self, batch: BatchSink, parser: _Parser,
                 use: Callable[[float, Any, Any], None] | None = None, budget: int | None = None) -> None:
        self.batch = batch
        self.p = parser
        self.budget = budget
        self.t: float | None = None
        self.uses: list[tuple[float, Any, Any]] = []  # (time, author, hashtags) for trending
        self.use = use if use is not None else self._keep
        self.counts = dict.fromkeys(("posts", "filtered", "stored_posts", "deletions", "accounts", "rejected"), 0)

    def _keep(self, t: float, author: Any, tags: Any) -> None:
        self.uses.append((t, author, tags))

    def full(self) -> bool:
        """The batch holds as many posts as the follower's limit still allows."""
        return self.budget is not None and self.counts["stored_posts"] >= self.budget

    def post(self, rec: dict[str, Any]) -> None:
        p, counts = self.p, self.counts
        counts["posts"] += 1
        tags = rec.get("hashtags") or []
        pid = rec.get("id")
        if rec.get("is_reference"):
            if not p.tags or any(h in p.tags for h in tags):
                self.batch.post(rec)
            return
        linked = None
        tagged = p.tagged.d
        for k in ("repost_of_id", "quote_of_id", "reply_to_id"):
            target = rec.get(k)
            if target is not None and target in tagged:
                linked = tagged[target]
                break
        if p.tags and not any(h in p.tags for h in tags) and linked is None:
            counts["filtered"] += 1
            return
        if self.budget is not None and counts["stored_posts"] >= self.budget:
            return  # over the follower's limit (a frame that holds two posts)
        if tags and isinstance(pid, str):
            p.tagged.put(pid, tuple(tags))  # a tuple of str: the garbage collector stops tracking it
        elif linked is not None and isinstance(pid, str):
            p.tagged.put(pid, linked)
        counts["stored_posts"] += 1
        t = self.t
        if t is None:
            created = rec.get("created_at")
            t = (created - _EPOCH).total_seconds() if isinstance(created, datetime) else time.time()
        # a repost counts toward the hashtags of what it reposts (Bluesky reposts carry none)
        use = tags or (linked if rec.get("kind") == "repost" and linked else ())
        if use:
            self.use(t, rec.get("author_id"), use)
        self.batch.post(rec)

    def account(self, rec: dict[str, Any]) -> None:
        self.counts["accounts"] += 1
        self.batch.account(rec)

    def volume(self, rec: dict[str, Any]) -> None:
        self.batch.volume(rec)

    def deletion(self, rec: dict[str, Any]) -> None:
        self.counts["deletions"] += 1
        self.batch.deletion(rec)

    def reject(self, reason: str) -> None:
        self.counts["rejected"] += 1
        self.batch.reject(reason)


_WORKER: _Parser | None = None


def _worker_init(platform: str, label: str, tags: frozenset[str]) -> None:
    global _WORKER
    _WORKER = _Parser(platform, label, tags)


def _worker_run(frames: list[Frame], budget: int | None = None) -> dict[str, Any]:
    assert _WORKER is not None
    return _WORKER.run(frames, budget)


class _Open:
    """The batch being filled: parsed frame by frame (``live``) or frames kept for the worker (``raw``)."""

    __slots__ = ("live", "raw", "cursors", "frames", "top", "oldest", "opened", "last_no")

    def __init__(self, live: _LiveSink | None, opened: float) -> None:
        self.live = live
        self.raw: list[Frame] = []
        self.cursors: list[int | None] = []  # each raw frame's cursor (the worker may take fewer frames)
        self.frames = 0
        self.top: int | None = None   # highest cursor among its frames
        self.oldest = opened           # earliest arrival (loop time), for the commit latency
        self.opened = opened
        self.last_no = 0               # number of its last frame, once sealed


class Follower:
    """Follows one live source into a store. Embed it, or use ``groundswell follow``.

    ``source`` is a :class:`~groundswell.live.jetstream.JetstreamSource` or a
    :class:`~groundswell.live.mastodon.MastodonSource`; ``store`` a
    :class:`~groundswell.store.duck.Store` or a path. Callbacks run on the
    follower's event loop thread: ``on_batch(stats)`` after each commit,
    ``on_alert(alert)`` when a hashtag enters the top K, ``on_status(message)``
    for connects and disconnects. ``limit`` stops after that many stored posts,
    ``idle_exit`` after that many seconds without a frame. ``parse_workers=1``
    parses in a worker process (so parsing and the DuckDB writer run on two
    cores instead of sharing one interpreter lock).
    """

    def __init__(self, source: Any, store: Store | str, *, hashtags: Iterable[str] = (),
                 batch_events: int = 5_000, batch_seconds: float = 0.2, queue_events: int = 10_000,
                 trending: Trending | None = None, trending_every: float = 1.0,
                 on_batch: Callable[[FollowStats], None] | None = None,
                 on_alert: Callable[[Alert], None] | None = None,
                 on_status: Callable[[str], None] | None = None,
                 limit: int | None = None, idle_exit: float | None = None, parse_workers: int = 0) -> None:
        if batch_events < 1 or queue_events < 1 or batch_seconds <= 0 or trending_every <= 0:
            raise UsageError("batch and queue sizes, and the trending interval, must be positive")
        self.source = source
        self._owns_store = not isinstance(store, Store)
        self.store: Store = open_store(store) if not isinstance(store, Store) else store
        from groundswell import privacy

        # the privacy rules of `groundswell ingest`: redaction when the store asks for it,
        # deletions made complete (embedded copies, reposts) after the batches that bring them
        self._redact = privacy.redact_posts_table if privacy.redact_store_enabled(self.store) else None
        self._deletions_due = bool(self.store.con.execute("SELECT count(*) FROM deletions").fetchall()[0][0])
        self._deletions_applied = 0.0
        self.tags = frozenset(t.lstrip("#").casefold() for t in hashtags)
        self.batch_events = batch_events
        self.batch_seconds = batch_seconds
        self.queue_events = queue_events
        self.trending = trending or Trending()
        self.trending_every = trending_every
        self.on_batch, self.on_alert, self.on_status = on_batch, on_alert, on_status
        self.limit, self.idle_exit = limit, idle_exit
        self.stats = FollowStats(source=source.label)
        self.parse_workers = parse_workers
        self._parser = _Parser(source.platform, source.label, self.tags)
        self._parse_pool: Any = None
        self._cursor_sent: int | None = None
        self._frames_key = f"frames:{source.label}"
        self._open: _Open | None = None  # the batch being filled
        self._space: asyncio.Event | None = None
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._frame_no = 0
        self._pending: asyncio.Future[None] | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._closed = False
        # snapshots for other threads (the status server): replaced, never mutated
        self.board: list[dict[str, Any]] = []
        self.alerts: deque[tuple[int, dict[str, Any]]] = deque(maxlen=1000)
        self._alert_seq = 0

    # -- public API ---------------------------------------------------------------
    def reader(self) -> Any:
        """A DuckDB cursor on the live store for this process (sees every committed batch)."""
        return self.store.con.cursor()

    def start(self) -> Follower:
        """Follow in a background thread (returns at once)."""
        if self._thread is not None:
            raise UsageError("this follower is already running")
        started = threading.Event()

        def main() -> None:
            try:
                asyncio.run(self.arun(started))
            except BaseException as e:  # noqa: BLE001 - handed to stop()
                self._error = e
                started.set()
            if self._error is not None and self.on_status is not None:
                # in the background nobody waits on stop() yet: say it now (serve --follow)
                self.on_status(f"stopped: {self._error}")

        self._thread = threading.Thread(target=main, name="groundswell-follower", daemon=True)
        self._thread.start()
        started.wait(10)
        return self

    def stop(self, timeout: float | None = 60) -> FollowStats:
        """Stop reading, commit what was received, and return the summary."""
        self.request_stop("stopped")
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._error is not None:
            err, self._error = self._error, None
            raise err
        return self.stats

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a background follower to end by itself (limit, idle); True if it did."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def request_stop(self, why: str = "stopped") -> None:
        """Ask the follower to stop (thread-safe; also from a signal handler)."""
        loop, ev = self._loop, self._stop
        if loop is None or ev is None:
            return
        if self.stats.stopped_because is None:
            self.stats.stopped_because = why
        try:
            loop.call_soon_threadsafe(ev.set)
        except RuntimeError:
            pass  # the loop has already ended

    def run(self) -> FollowStats:
        """Follow in this thread until stopped; SIGINT/SIGTERM stop it cleanly."""
        asyncio.run(self.arun(signals=True))
        if self._error is not None:
            raise self._error
        return self.stats

    # -- the loop ---------------------------------------------------------------------
    async def arun(self, started: threading.Event | None = None, signals: bool = False) -> FollowStats:
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._stop = asyncio.Event()
        self._open = None
        self._space = asyncio.Event()
        self._space.set()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="groundswell-store")
        if self.parse_workers > 0:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # one worker keeps the batches in order; spawn: never fork a threaded process
            self._parse_pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_init,
                initargs=(self.source.platform, self.source.label, self.tags))
        key = getattr(self.source, "cursor_key", None)
        cursor = self.store.meta(key) if key else None
        if cursor is not None:
            from groundswell.live.jetstream import check_cursor

            try:
                value = check_cursor(cursor)
            except ValueError as e:
                raise StoreError(f"the store's cursor {key!r} is not a valid time_us ({e}); follow into a new "
                                 f"store, or remove it: DELETE FROM meta WHERE key = '{key}'") from None
            self.stats.cursor = self._cursor_sent = value
            self.source.start_from(value)
        frames = self.store.meta(self._frames_key) or "0"
        self._frame_no = int(frames) if frames.isdigit() and len(frames) < 19 else 0
        if signals:
            self._install_signals(loop)
        reader = loop.create_task(self.source.run(self._put, self._status))
        ticker = loop.create_task(self._tick())
        if started is not None:
            started.set()
        try:
            await self._batch_loop(reader, ticker)
        finally:
            reader.cancel()
            ticker.cancel()
            await asyncio.gather(reader, ticker, return_exceptions=True)
            for task in (reader, ticker):  # a source that failed for good, a failing on_alert
                if not task.cancelled() and task.exception() is not None:
                    self._error = self._error or task.exception()
            try:
                # what was received is written before we go
                if self._open is not None:
                    await self._commit(self._seal())
                if self._pending is not None:
                    await self._pending
                if self._deletions_due:
                    await loop.run_in_executor(self._pool, self._store_batch, {}, None, True)
                self._update_trending()
            finally:
                self._pool.shutdown(wait=True)
                if self._parse_pool is not None:
                    self._parse_pool.shutdown(wait=True)
                    self._parse_pool = None
                self._sync_source_stats()
                if signals:
                    for sig in (signal.SIGINT, signal.SIGTERM):
                        loop.remove_signal_handler(sig)
                if self._owns_store and not self._closed:
                    self._closed = True
                    self.store.close()
        return self.stats

    def _install_signals(self, loop: asyncio.AbstractEventLoop) -> None:
        def on_signal(name: str) -> None:
            if self._stop is not None and self._stop.is_set():
                # a second Ctrl-C: give up waiting
                raise KeyboardInterrupt
            self.request_stop(name)

        loop.add_signal_handler(signal.SIGINT, on_signal, "SIGINT")
        loop.add_signal_handler(signal.SIGTERM, on_signal, "SIGTERM")

    def _status(self, msg: str) -> None:
        self._sync_source_stats()
        if self.on_status:
            self.on_status(msg)

    def _sync_source_stats(self) -> None:
        s = self.source
        self.stats.connects = getattr(s, "connects", 0)
        self.stats.disconnects = getattr(s, "disconnects", 0)
        self.stats.duplicates = getattr(s, "duplicates", 0)
        self.stats.oversized = getattr(s, "oversized", 0)

    def _budget(self) -> int | None:
        """Posts the limit still allows beyond those committed or sealed (None: no limit)."""
        return None if self.limit is None else max(0, self.limit - self.stats.stored_posts)

    async def _put(self, item: Item) -> None:
        """Take one frame from the source: parse it into the open batch (the reader's ``emit``)."""
        o = self._open
        if self.limit is not None:
            budget = self._budget()
            if budget == 0 or (o is not None and o.live is not None and o.live.full()):
                self.request_stop("limit")  # the limit is reached: this frame is not taken
                return
        if o is None:
            o = self._open = _Open(None if self._parse_pool is not None else
                                   self._parser.begin(self.trending.add, self._budget()),
                                   asyncio.get_running_loop().time())
        self._frame_no += 1
        o.frames += 1
        if item.received < o.oldest:
            o.oldest = item.received
        cursor = item.cursor
        if cursor is not None and (o.top is None or cursor > o.top):
            o.top = cursor
        if o.live is not None:
            self._parser.feed(o.live, (self._frame_no, item.nbytes, None, item.obj, item.t, item.reason))
        elif item.raw is not None:  # to the worker process: the JSON text (cheaper to send than the object)
            o.raw.append((self._frame_no, item.nbytes, item.raw, None, item.t, item.reason))
            o.cursors.append(cursor)
        else:
            o.raw.append((self._frame_no, item.nbytes, None, item.obj, item.t, item.reason))
            o.cursors.append(cursor)
        n = o.frames
        if n > self.stats.queue_peak:
            self.stats.queue_peak = n
        if n >= self.queue_events:
            # full: the reader waits, so it stops reading the socket (TCP backpressure)
            space = self._space
            assert space is not None
            space.clear()
            await space.wait()

    def _seal(self) -> _Open:
        """Close the open batch (the reader may go on into a new one)."""
        o = self._open
        assert o is not None
        self._open = None
        o.last_no = self._frame_no
        if self._space is not None:
            self._space.set()
        return o

    async def _wait_write(self) -> None:
        """Wait for the write in flight (one at a time: memory stays bounded)."""
        pending = self._pending
        if pending is None:
            return
        await asyncio.wait({pending})
        self._pending = None
        pending.result()  # a failed write stops the follower

    async def _batch_loop(self, reader: asyncio.Task[None], ticker: asyncio.Task[None]) -> None:
        """Seal the open batch when it is full or old enough, and commit it; stop on limit or idle."""
        loop = asyncio.get_running_loop()
        stop = self._stop
        assert stop is not None
        last_frame = loop.time()
        full = min(self.batch_events, self.queue_events)
        while not stop.is_set():
            if reader.done() or ticker.done():
                break  # the source failed for good, or on_alert raised (arun raises the error)
            o = self._open
            if o is not None and (o.frames >= full or loop.time() - o.opened >= self.batch_seconds):
                if o.live is not None:
                    # parsed already: wait for the write in flight first, so the batch keeps filling
                    # meanwhile (bigger batches, fewer transactions, when the store is the slower side)
                    await self._wait_write()
                # (a worker's batch goes at once: its parsing overlaps the write in flight)
                last_frame = loop.time()
                await self._commit(self._seal())
            else:
                if o is None:
                    self._sync_source_stats()
                await asyncio.sleep(0.005 if o is not None else 0.02)
            if self.limit is not None and self.stats.stored_posts >= self.limit:
                self.request_stop("limit")
            if not getattr(self.source, "connected", True):
                last_frame = loop.time()  # reconnecting: not idle (the source gives up by itself)
            elif self.idle_exit is not None and self._open is None and loop.time() - last_frame > self.idle_exit:
                self.request_stop("idle")

    async def _commit(self, o: _Open) -> None:
        """Count a sealed batch and start its write (after the one in flight)."""
        st = self.stats
        if o.live is None:
            result = await asyncio.get_running_loop().run_in_executor(self._parse_pool, _worker_run, o.raw,
                                                                      self._budget())
            tables, counts = result["tables"], result["counts"]
            add = self.trending.add
            for t, author, tags in result["uses"]:
                add(t, author, tags)
            used = result["used"]
            if used < o.frames:  # the limit was reached inside this batch: the rest is not taken
                self.request_stop("limit")
                o.frames = used
                o.last_no -= len(o.raw) - used
                o.top = max((c for c in o.cursors[:used] if c is not None), default=None)
        else:
            # to Arrow here, not on the writer thread: the writer is the busier side, and it would
            # only wait for this thread's interpreter lock to run the same Python code
            tables, counts = self._parser.tables(o.live), o.live.counts
        st.frames += o.frames
        for k, v in counts.items():
            setattr(st, k, getattr(st, k) + v)
        meta = {self._frames_key: str(o.last_no)}
        top = o.top
        cursor_key = getattr(self.source, "cursor_key", None)
        if cursor_key and top is not None and (self._cursor_sent is None or top > self._cursor_sent):
            meta[cursor_key] = str(top)
            self._cursor_sent = top
        else:
            top = None
        await self._wait_write()
        self._pending = asyncio.ensure_future(self._write(tables, meta, top, o.oldest))

    async def _write(self, tables: dict[str, Any], meta: dict[str, str], top: int | None, oldest: float) -> None:
        """One transaction on the writer thread: the batch's tables and its cursor."""
        loop = asyncio.get_running_loop()
        t0 = time.perf_counter()
        await loop.run_in_executor(self._pool, self._store_batch, tables, meta, False)
        st = self.stats
        st.write_seconds += time.perf_counter() - t0
        st.batches += 1
        if top is not None:
            st.cursor = top
        lat = loop.time() - oldest
        st.latency_sum += lat
        st.latency_n += 1
        if lat > st.latency_max:
            st.latency_max = lat
        self._sync_source_stats()
        if self.on_batch:
            self.on_batch(st)

    DELETIONS_EVERY = 10.0  # seconds between completions of deletions while posts keep coming

    def _store_batch(self, tables: dict[str, Any], meta: dict[str, str] | None, final: bool) -> None:
        """On the writer thread: write one batch, then, when due, make deletions complete.

        A deletion in the batch is applied to the post at once (``write_batch``);
        its embedded copies and the reposts of it (which may arrive later) are
        cleared by ``privacy.apply_deletions``, as after an ingest: after a batch
        with deletions, every ``DELETIONS_EVERY`` seconds while any are recorded,
        and when the follower stops.
        """
        from groundswell import privacy

        if self._redact is not None and tables.get("posts") is not None:
            tables = {**tables, "posts": self._redact(tables["posts"])}
        if tables or meta:
            self.store.write_batch(tables, meta=meta)
        dels = tables.get("deletions")
        if dels is not None and dels.num_rows:
            self._deletions_due = True
        now = time.monotonic()
        if self._deletions_due and (final or now - self._deletions_applied >= self.DELETIONS_EVERY
                                    or (dels is not None and dels.num_rows)):
            privacy.apply_deletions(self.store)
            self._deletions_applied = now

    async def _tick(self) -> None:
        """Recompute the trending board every ``trending_every`` seconds, on a fixed cadence, writes or not."""
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            due += self.trending_every
            now = loop.time()
            if due < now:
                due = now  # fell behind (a busy machine): the cadence starts again from now
            await asyncio.sleep(due - now)
            self._update_trending()

    def _update_trending(self) -> None:
        """Recompute the board (a new snapshot for other threads) and send the entry alerts."""
        alerts = self.trending.update()
        self.board = self.trending.top()
        for a in alerts:
            self._alert_seq += 1
            self.alerts.append((self._alert_seq, a.as_dict()))
            if self.on_alert:
                self.on_alert(a)
