"""The follower: a live source into the store, in micro-batches, with live trending.

::

    source (websocket/SSE reader task) --bounded queue--> batcher --> store writer thread
                                                           |              |
                                                      trending      on_batch / on_alert

* The reader task puts each frame (decoded JSON, or a reject reason) into a
  bounded queue. When the queue is full the reader stops reading the socket:
  TCP flow control then slows the sender (a replay server waits; a Jetstream
  server that gives up on us disconnects, and we resume from the cursor). No
  frame is ever dropped.
* The batcher takes up to ``batch_events`` frames or what arrived within
  ``batch_seconds``, parses them with the platform's format parser into a
  :class:`~groundswell.ingest.BatchSink` and hands the tables to one writer
  thread: ``store.write_batch(tables, meta={cursor key: last time_us})`` --
  one transaction holds the posts and the cursor, so the cursor in the store
  never runs ahead of what the store holds. Parsing the next batch overlaps
  the write of the previous one.
* A frame that is not JSON, or that the parser cannot read, is a reject
  (``rejects`` table: source = the redacted URL, line = frame number).
* After each commit the trending board (:class:`~groundswell.live.trending.Trending`)
  is updated (at least every ``trending_every`` seconds) and ``on_alert`` is
  called for each hashtag entering the top K.
* :meth:`Follower.stop` (or SIGINT/SIGTERM under :meth:`Follower.run`) stops
  reading, writes what was already received, and returns the summary.

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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable

from groundswell.errors import RecordError, UsageError
from groundswell.ingest import BatchSink
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
        return (f"{self.frames:,} frames, {self.stored_posts:,} posts stored, {self.rejected:,} rejected, "
                f"{self.duplicates:,} duplicates skipped, {self.batches:,} batches, "
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


class _Parser:
    """Frames -> tables for one batch: the format parser, the hashtag filter, trending uses.

    Runs in the follower's thread, or in a worker process (``parse_workers=1``)
    so parsing and the DuckDB writer do not share one interpreter lock. It
    keeps the state the filter needs (which post ids carry the followed tags).
    """

    def __init__(self, platform: str, label: str, tags: frozenset[str]) -> None:
        import importlib

        self.platform, self.label, self.tags = platform, label, tags
        self.parse = importlib.import_module(f"groundswell.formats.{platform}").parse
        self.tagged = _Bounded(200_000)  # post id -> hashtags, for reposts/replies/quotes of them

    def run(self, frames: list[tuple[int, int, Any, Any, float | None, str | None]]) -> dict[str, Any]:
        """``frames``: (frame number, bytes, raw JSON or None, decoded object or None, time, reject reason)."""
        from orjson import JSONDecodeError, loads

        batch = BatchSink(self.label, self.platform)
        live = _LiveSink(batch, self)
        parse, platform = self.parse, self.platform
        for frame_no, nbytes, raw, obj, t, reason in frames:
            batch.line, batch.line_bytes = frame_no, nbytes
            if reason is not None:
                live.reject(reason)
                continue
            if obj is None:
                try:
                    obj = loads(raw)
                except JSONDecodeError:
                    live.reject("not valid JSON")
                    continue
            live.t = t
            try:
                parse(obj, live)
            except RecordError as e:
                live.reject(str(e) or "unreadable record")
            except (KeyError, TypeError, AttributeError, ValueError, IndexError, OverflowError) as e:
                live.reject(f"{platform}: {type(e).__name__}")  # never echo values
        try:
            tables = batch.tables()
        except RecordError:
            # one unconvertible value must not lose the batch: convert record by record
            tables = self._one_by_one(batch, live)
        return {"tables": tables, "uses": live.uses, "counts": live.counts}

    def _one_by_one(self, batch: BatchSink, live: "_LiveSink") -> dict[str, Any]:
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

    def __init__(self, batch: BatchSink, parser: _Parser) -> None:
        self.batch = batch
        self.p = parser
        self.t: float | None = None
        self.uses: list[tuple[float, Any, Any]] = []  # (time, author, hashtags) for trending
        self.counts = dict.fromkeys(("posts", "filtered", "stored_posts", "deletions", "accounts", "rejected"), 0)

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
        if tags and isinstance(pid, str):
            p.tagged.put(pid, tags)
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
            self.uses.append((t, rec.get("author_id"), use))
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


def _worker_run(frames: list[tuple[int, int, Any, Any, float | None, str | None]]) -> dict[str, Any]:
    assert _WORKER is not None
    return _WORKER.run(frames)


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
        if batch_events < 1 or queue_events < 1 or batch_seconds <= 0:
            raise UsageError("batch and queue sizes must be positive")
        self.source = source
        self._owns_store = not isinstance(store, Store)
        self.store: Store = open_store(store) if not isinstance(store, Store) else store
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
        self._queue: deque[Item] = deque()
        self._space: asyncio.Event | None = None
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._frame_no = 0
        self._pending: asyncio.Future[None] | None = None
        self._last_trend = 0.0
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

    def start(self) -> "Follower":
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
        self._queue = deque()
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
        cursor = self.store.meta(getattr(self.source, "cursor_key", "")) if hasattr(self.source, "cursor_key") else None
        if cursor is not None:
            self.stats.cursor = self._cursor_sent = int(cursor)
            self.source.start_from(int(cursor))
        self._frame_no = int(self.store.meta(self._frames_key) or 0)
        if signals:
            self._install_signals(loop)
        reader = loop.create_task(self.source.run(self._put, self._status))
        if started is not None:
            started.set()
        try:
            await self._batch_loop(reader)
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
            if not reader.cancelled() and reader.done() and reader.exception() is not None:
                self._error = self._error or reader.exception()
            try:
                # what was received is written before we go
                while self._queue:
                    await self._commit(self._take_now())
                if self._pending is not None:
                    await self._pending
                self._update_trending(force=True)
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

    async def _put(self, item: Item) -> None:
        q = self._queue
        q.append(item)
        n = len(q)
        if n >= self.queue_events:
            # full: the reader waits, so it stops reading the socket (TCP backpressure)
            if n > self.stats.queue_peak:
                self.stats.queue_peak = n
            space = self._space
            assert space is not None
            space.clear()
            await space.wait()
        elif n > self.stats.queue_peak:
            self.stats.queue_peak = n

    def _take_now(self, limit: int | None = None) -> list[Item]:
        q = self._queue
        limit = self.batch_events if limit is None else limit
        n = min(limit, len(q))
        items = [q.popleft() for _ in range(n)]
        if n and self._space is not None and len(q) < self.queue_events:
            self._space.set()
        return items

    async def _batch_loop(self, reader: asyncio.Task[None]) -> None:
        loop = asyncio.get_running_loop()
        stop = self._stop
        assert stop is not None
        last_frame = loop.time()
        while not stop.is_set():
            if reader.done():
                break  # the source failed for good (its error is raised by arun)
            items: list[Item] = []
            deadline = loop.time() + self.batch_seconds
            # behind (a full batch already waiting): bigger transactions, fewer commits
            size = self.batch_events * (4 if len(self._queue) >= 2 * self.batch_events else 1)
            while len(items) < size and not stop.is_set():
                got = self._take_now(size - len(items))
                items += got
                if len(items) >= size:
                    break
                wait = deadline - loop.time()
                if wait <= 0:
                    break
                await asyncio.sleep(min(wait, 0.005 if items else 0.02))
            if items:
                last_frame = loop.time()
                await self._commit(items)
            else:
                self._sync_source_stats()
            self._update_trending()
            if self.limit is not None and self.stats.stored_posts >= self.limit:
                self.request_stop("limit")
            if self.idle_exit is not None and loop.time() - last_frame > self.idle_exit:
                self.request_stop("idle")

    async def _build(self, items: list[Item]) -> tuple[dict[str, Any], dict[str, str], int | None, float]:
        src = self.source
        top = None
        oldest = items[0].received
        frame_no = self._frame_no
        pool = self._parse_pool
        frames = []
        for it in items:
            frame_no += 1
            if it.received < oldest:
                oldest = it.received
            if it.cursor is not None and (top is None or it.cursor > top):
                top = it.cursor
            # to a worker process: the JSON text (cheaper to send than the decoded object)
            if pool is not None and it.raw is not None:
                frames.append((frame_no, it.nbytes, it.raw, None, it.t, it.reason))
            else:
                frames.append((frame_no, it.nbytes, None, it.obj, it.t, it.reason))
        self._frame_no = frame_no
        self.stats.frames += len(items)
        if pool is not None:
            result = await asyncio.get_running_loop().run_in_executor(pool, _worker_run, frames)
        else:
            result = self._parser.run(frames)
        st = self.stats
        for k, v in result["counts"].items():
            setattr(st, k, getattr(st, k) + v)
        add = self.trending.add
        for t, author, tags in result["uses"]:
            add(t, author, tags)
        meta = {self._frames_key: str(frame_no)}
        cursor_key = getattr(src, "cursor_key", None)
        if cursor_key and top is not None and (self._cursor_sent is None or top > self._cursor_sent):
            meta[cursor_key] = str(top)
            self._cursor_sent = top
        else:
            top = None
        return result["tables"], meta, top, oldest

    async def _commit(self, items: list[Item]) -> None:
        if not items:
            return
        tables, meta, top, oldest = await self._build(items)
        if self._pending is not None:
            await self._pending  # one batch in flight: memory stays bounded
        self._pending = asyncio.ensure_future(self._write(tables, meta, top, oldest))

    async def _write(self, tables: dict[str, Any], meta: dict[str, str], top: int | None, oldest: float) -> None:
        loop = asyncio.get_running_loop()
        t0 = time.perf_counter()
        await loop.run_in_executor(self._pool, lambda: self.store.write_batch(tables, meta=meta))
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
        self._update_trending()
        if self.on_batch:
            self.on_batch(st)

    def _update_trending(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_trend < self.trending_every:
            return
        self._last_trend = now
        alerts = self.trending.update()
        self.board = self.trending.top()
        for a in alerts:
            self._alert_seq += 1
            self.alerts.append((self._alert_seq, a.as_dict()))
            if self.on_alert:
                self.on_alert(a)
