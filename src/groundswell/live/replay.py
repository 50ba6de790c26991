"""The replay server: recorded or simulated posts served with the Jetstream protocol.

``groundswell replay FILE... --port P`` listens on ``ws://127.0.0.1:P/subscribe``
(loopback only) so tests, the demo and users can rehearse ``groundswell follow``
without the network.

What is served
--------------
* Jetstream files (what Jetstream sends, one event per line; gzip/zstd too)
  are served as they are, line by line, in ``time_us`` order (a stable sort:
  one file keeps its order). A line that is not JSON is served too, as the
  malformed frame it is, at the ``time_us`` of the line before it.
* Any other format ingest reads (twarc, twarc2, Mastodon, CSV, ...) is read
  with its parser into normalized posts, which are re-encoded as Jetstream v1
  events (:func:`groundswell.live.jetstream.encode_post`): ``app.bsky.feed.post``
  creates with ``#tag`` facets for hashtags, reply refs and quote embeds;
  reposts as ``app.bsky.feed.repost``; deletions as delete commits; an
  ``identity`` event with the handle before an author's first post. Their
  ``time_us`` are the posts' ``created_at``, made strictly increasing.
  Non-Bluesky ids become record keys of ``did:groundswell:<platform>:<author>``
  repositories, so what the follower stores is a Bluesky-shaped copy.
* ``--synthetic N``: N generated events (:func:`synthetic_events`), for load
  tests and rehearsals; use ``groundswell simulate`` for realistic movements.

Protocol, as real Jetstream
---------------------------
``?cursor=T`` replays from the first event with ``time_us >= T``;
``wantedCollections`` (repeatable) filters commits (identity and account
events, and malformed lines, always pass); ``compress=true`` sends each event
as a binary zstd frame. Real Jetstream compresses with a custom dictionary;
this server writes plain zstd frames (the follower reads both). Differences:
a client without a cursor gets the recording from its start (a recording has
no "now"), and after the last event the connection stays open and idle, as a
quiet live stream would.

Pacing is per connection, from where it starts: ``--rate N`` events per
second, ``--speed X`` times the original timing (``time_us`` gaps), default
as fast as the client reads (websocket flow control slows the server down to
the reader's pace; nothing is dropped).

No web page can read it (:mod:`groundswell.hosts`): the handshake is answered
only when ``Host`` is a loopback address or ``localhost`` (else 400), and
only without an ``Origin`` header (browsers always send one; ``follow`` and
other programs do not; else 403) unless ``origins`` allows that origin. A
cursor that is not a whole number from 0 to 2^63 - 1 closes the connection
(1008).
"""

from __future__ import annotations

import asyncio
import bisect
import gzip
import io
import random
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

import orjson

from groundswell.errors import UsageError
from groundswell.formats import bluesky
from groundswell.hosts import HostCheck
from groundswell.live import jetstream
from groundswell.live.background import LoopThread

__all__ = ["Recording", "ReplayServer", "load", "synthetic_events"]

HOST = "127.0.0.1"
_EPOCH = datetime(1970, 1, 1)


@dataclass
class Recording:
    """Events in ``time_us`` order: cursors, collections (None: always sent), payloads.

    A payload is sent as a text frame, except a ``bytearray`` (a recorded line
    that is not UTF-8), which is sent as a binary frame as it is.
    """

    times: list[int] = field(default_factory=list)
    collections: list[str | None] = field(default_factory=list)
    payloads: list[bytes | bytearray] = field(default_factory=list)  # a bytearray: sent as a binary frame

    def __len__(self) -> int:
        return len(self.times)

    def add(self, time_us: int, collection: str | None, payload: bytes | bytearray) -> None:
        self.times.append(time_us)
        self.collections.append(collection)
        self.payloads.append(payload)

    def sort(self) -> None:
        order = sorted(range(len(self.times)), key=self.times.__getitem__)
        if order != list(range(len(order))):
            self.times = [self.times[i] for i in order]
            self.collections = [self.collections[i] for i in order]
            self.payloads = [self.payloads[i] for i in order]

    def extend(self, other: Recording) -> None:
        self.times += other.times
        self.collections += other.collections
        self.payloads += other.payloads


def _collection(obj: Any) -> str | None:
    commit = obj.get("commit") if isinstance(obj, dict) else None
    if isinstance(commit, dict) and isinstance(commit.get("collection"), str):
        return str(commit["collection"])
    return None


def _open(path: str) -> IO[bytes]:
    f: IO[bytes] = open(path, "rb")
    magic = f.read(4)
    f.seek(0)
    if magic[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=f)  # type: ignore[return-value]
    if magic == b"\x28\xb5\x2f\xfd":
        import zstandard

        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(f))
    return f


def _is_jetstream(path: str) -> bool:
    with _open(path) as f:
        for _ in range(20):
            line = f.readline()
            if not line:
                return False
            if not line.strip():
                continue
            try:
                return bluesky.sniff(orjson.loads(line))
            except orjson.JSONDecodeError:
                continue
    return False


def _load_jetstream(path: str) -> Recording:
    rec = Recording()
    last = 0
    with _open(path) as f:
        for line in f:
            line = line.rstrip(b"\r\n")
            if not line.strip():
                continue
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                frame: bytes | bytearray = line
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError:
                    frame = bytearray(line)  # not text: sent as a binary frame
                rec.add(last, None, frame)  # served as the malformed frame it is
                continue
            t = bluesky.time_us(obj)
            if t is None:
                t = last
            last = t
            rec.add(t, _collection(obj), line)
    return rec


def _load_other(paths: list[str]) -> Recording:
    """Other formats: parse to normalized posts (via ingest), re-encode as Jetstream."""
    from groundswell.ingest import ingest
    from groundswell.store import open_store

    with open_store(":memory:") as store:
        summary = ingest(store, paths, progress=False)
        for f in summary.files:
            if f.error:
                raise UsageError(f"cannot replay {f.path}: {f.error}")
        authors = dict(store.con.execute("SELECT id, author_id FROM posts WHERE author_id IS NOT NULL").fetchall())
        cur = store.con.execute(
            "SELECT * FROM posts WHERE NOT is_reference ORDER BY created_at NULLS LAST, id")
        cols = [d[0] for d in cur.description]
        posts = [dict(zip(cols, row)) for row in cur.fetchall()]
        handles = dict(store.con.execute(
            "SELECT id, handle FROM accounts_latest WHERE handle IS NOT NULL").fetchall())
        dels = store.con.execute(
            "SELECT platform, id, author_id, deleted_at FROM deletions ORDER BY deleted_at NULLS LAST, id").fetchall()
    rec = Recording()
    last = 0
    introduced: set[str] = set()

    def next_time(dt: datetime | None) -> int:
        nonlocal last
        t = int((dt - _EPOCH).total_seconds() * 1_000_000) if dt is not None else last + 1
        last = max(t, last + 1)
        return last

    for p in posts:
        t = next_time(p.get("created_at"))
        author = p.get("author_id")
        handle = p.get("author_handle") or handles.get(author)
        if author and handle and author not in introduced and not str(author).startswith("did:"):
            introduced.add(author)
            ev = jetstream.encode_identity(p.get("platform"), author, handle, t)
            rec.add(t, None, orjson.dumps(ev))
            t = next_time(p.get("created_at"))
        ev = jetstream.encode_post(p, t, authors)
        rec.add(t, ev["commit"]["collection"], orjson.dumps(ev))
    for platform, pid, author, deleted_at in dels:
        t = next_time(deleted_at)
        ev = jetstream.encode_deletion({"platform": platform, "id": pid, "author_id": author}, t, authors)
        rec.add(t, ev["commit"]["collection"], orjson.dumps(ev))
    return rec


def load(paths: Iterable[str]) -> Recording:
    """Read files (Jetstream as is, other formats re-encoded) into one recording."""
    from groundswell.ingest import expand_paths

    files = expand_paths(paths)
    if not files:
        raise UsageError("no input files to replay")
    out = Recording()
    others = []
    for path in files:
        try:
            if _is_jetstream(path):
                out.extend(_load_jetstream(path))
            else:
                others.append(path)
        except FileNotFoundError:
            raise UsageError(f"no such file: {path}") from None
    if others:
        out.extend(_load_other(others))
    out.sort()
    return out


def synthetic_events(n: int, *, seed: int = 0, accounts: int = 5_000, start_us: int = 1_700_000_000_000_000,
                     step_us: int = 1_000, tags: int = 200, surge: str | None = "surge",
                     repost_share: float = 0.1) -> Recording:
    """``n`` generated Jetstream post/repost events, ``step_us`` apart (a load generator).

    Posts carry one or two of ``tags`` background hashtags (Zipf-like
    popularity); from the middle on, a growing share of distinct accounts use
    ``surge`` (so trending has something to find). Texts are generated and
    contain no real person's words.
    """
    rng = random.Random(seed)
    rec = Recording()
    weights = [1.0 / (i + 1) for i in range(tags)]
    names = [f"topic{i}" for i in range(tags)]
    post_uris: list[str] = []
    for i in range(n):
        t = start_us + i * step_us
        did = f"did:plc:synthetic{rng.randrange(accounts):06d}"
        rkey = f"3s{i:010d}"
        if post_uris and rng.random() < repost_share:
            subject = post_uris[rng.randrange(max(0, len(post_uris) - 1000), len(post_uris))]
            ev: dict[str, Any] = {
                "did": did, "time_us": t, "kind": "commit",
                "commit": {"rev": f"r{i}", "operation": "create", "collection": jetstream.REPOST, "rkey": rkey,
                           "record": {"$type": jetstream.REPOST, "createdAt": _iso_us(t),
                                      "subject": {"uri": subject, "cid": "bafysynthetic"}},
                           "cid": "bafysynthetic"}}
            rec.add(t, jetstream.REPOST, orjson.dumps(ev))
            continue
        chosen = rng.choices(names, weights, k=rng.choice((1, 1, 2)))
        if surge and i > n // 2 and rng.random() < (i - n // 2) / n:
            chosen.append(surge)
        text = f"synthetic post {i}"
        facets = []
        for tag in dict.fromkeys(chosen):
            start = len(text.encode()) + 1
            text += f" #{tag}"
            facets.append({"index": {"byteStart": start, "byteEnd": start + 1 + len(tag)},
                           "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": tag}]})
        ev = {"did": did, "time_us": t, "kind": "commit",
              "commit": {"rev": f"r{i}", "operation": "create", "collection": jetstream.POST, "rkey": rkey,
                         "record": {"$type": jetstream.POST, "createdAt": _iso_us(t), "langs": ["en"],
                                    "text": text, "facets": facets},
                         "cid": "bafysynthetic"}}
        post_uris.append(f"at://{did}/{jetstream.POST}/{rkey}")
        rec.add(t, jetstream.POST, orjson.dumps(ev))
    return rec


def _iso_us(t: int) -> str:
    return (_EPOCH + timedelta(microseconds=t)).isoformat(timespec="milliseconds") + "Z"


class ReplayServer:
    """Serves a :class:`Recording` over the Jetstream protocol on 127.0.0.1."""

    def __init__(self, recording: Recording, *, port: int = 0, rate: float | None = None,
                 speed: float | None = None, quiet: bool = True, origins: Iterable[str] = ()) -> None:
        if rate is not None and speed is not None:
            raise UsageError("give --rate or --speed, not both")
        if (rate is not None and rate <= 0) or (speed is not None and speed <= 0):
            raise UsageError("--rate and --speed must be positive")
        self.recording = recording
        self.port = port
        self.rate = rate
        self.speed = speed
        self.quiet = quiet
        self.connections = 0
        self.refused = 0  # handshakes refused (a foreign Host, a web page's Origin)
        self.sent = 0
        self.hosts = HostCheck(HOST)
        self.origins: list[str | None] = [None, *origins]
        self._server: Any = None
        self._bg: LoopThread | None = None
        self._ready = threading.Event()
        self._zstd: Any = None

    @property
    def url(self) -> str:
        return f"ws://{HOST}:{self.port}/subscribe"

    def _log(self, msg: str) -> None:
        if not self.quiet:
            print(msg, file=sys.stderr, flush=True)

    async def _handler(self, ws: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        self.connections += 1
        parts = urlsplit(ws.request.path)
        if parts.path.rstrip("/") not in ("/subscribe", ""):
            await ws.close(1008, "not found: use /subscribe")
            return
        q = parse_qs(parts.query)
        rec = self.recording
        start = 0
        cursor = (q.get("cursor") or [None])[0]
        if cursor is not None:
            text = cursor.strip()
            if not text.isdigit() or len(text) > 19 or int(text) > jetstream.MAX_CURSOR:
                await ws.close(1008, "cursor must be an integer time_us from 0 to 2^63 - 1")
                return
            start = bisect.bisect_left(rec.times, int(text))
        wanted = frozenset(q.get("wantedCollections") or [])
        compress = (q.get("compress") or ["false"])[0].lower() in ("true", "1")
        zc = None
        if compress:
            import zstandard

            zc = zstandard.ZstdCompressor(level=3)
        self._log(f"client {self.connections}: from {'cursor ' + str(cursor) if cursor else 'the start'}"
                  f"{' (zstd)' if compress else ''}")
        loop = asyncio.get_running_loop()
        began = loop.time()
        t0 = rec.times[start] if start < len(rec) else 0
        times, colls, payloads = rec.times, rec.collections, rec.payloads
        rate, speed = self.rate, self.speed
        sent = 0
        try:
            for i in range(start, len(rec)):
                coll = colls[i]
                if wanted and coll is not None and coll not in wanted:
                    continue
                if rate is not None or speed is not None:
                    due = began + (sent / rate if rate is not None else (times[i] - t0) / 1e6 / speed)  # type: ignore[operator]
                    ahead = due - loop.time()
                    if ahead > 0.002:
                        await asyncio.sleep(ahead)
                payload = payloads[i]
                if zc is not None:
                    await ws.send(zc.compress(payload))
                elif type(payload) is bytearray:
                    await ws.send(bytes(payload), text=False)
                else:
                    await ws.send(payload, text=True)
                sent += 1
                self.sent += 1
            await ws.wait_closed()
        except ConnectionClosed:
            pass

    def _check_host(self, connection: Any, request: Any) -> Any:
        """Refuse a handshake whose Host is not loopback (DNS rebinding), before it is accepted."""
        from http import HTTPStatus

        hosts = request.headers.get_all("Host")
        host = hosts[0] if len(hosts) == 1 else None  # two Host headers: refused
        if self.hosts.allowed(host):
            origins = request.headers.get_all("Origin")
            if origins and (len(origins) > 1 or origins[0] not in self.origins):
                self.refused += 1  # websockets answers 403 itself
            return None
        self.refused += 1
        return connection.respond(HTTPStatus.BAD_REQUEST, self.hosts.refusal(host) + "\n")

    async def serve(self, ready: threading.Event | None = None) -> None:
        """Serve until cancelled."""
        from websockets.asyncio.server import serve
        from websockets.typing import Origin

        async with serve(self._handler, HOST, self.port, compression=None, max_size=1 << 20,
                         ping_interval=20, ping_timeout=60,
                         origins=[None if o is None else Origin(o) for o in self.origins],
                         process_request=self._check_host) as server:
            self._server = server
            self.port = server.sockets[0].getsockname()[1]
            self._log(f"replaying {len(self.recording):,} events on {self.url}")
            if ready is not None:
                ready.set()
            await asyncio.Future()

    # -- in a background thread (tests, embedding) ------------------------------
    def start(self) -> ReplayServer:
        """Serve in a background thread; returns once listening (``.url`` is set)."""
        self._bg = LoopThread("replay")
        if not self._bg.start(lambda: self.serve(self._ready), self._ready) or self._bg.error is not None:
            raise RuntimeError(f"replay server did not start: {self._bg.error or 'timed out'}")
        return self

    def stop(self) -> None:
        if self._bg is not None:
            self._bg.stop()
            self._bg = None

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
