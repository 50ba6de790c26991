"""Bluesky Jetstream: the client source, and the protocol shared with the replay server.

Protocol (https://github.com/bluesky-social/jetstream, v1)
----------------------------------------------------------
A websocket ``GET /subscribe`` with query parameters:

* ``wantedCollections`` (repeatable): only commits of these collections
  (identity and account events always come);
* ``cursor``: a ``time_us``; the server replays events with ``time_us >=
  cursor`` and then goes on live. Without one, it starts live;
* ``compress=true``: each message is a binary zstd frame instead of JSON text.
  Production Jetstream compresses with a custom dictionary (``zstd_dictionary``
  in its repository); pass it as ``zstd_dict`` and the client uses it. Our
  replay server writes plain zstd frames, which the client reads with or
  without a dictionary.

Every event carries ``time_us``, the cursor. :class:`JetstreamSource`
reconnects after any disconnect with exponential backoff and resumes from
the highest ``time_us`` it has seen minus ``rewind_us`` (two seconds by
default, as the Jetstream README advises), so nothing is missed; the events
the rewind brings again are recognised by their identity (did, collection,
rkey, rev) in a bounded table and skipped (any that slip through are merged
by key in the store). The follower starts from the cursor committed in the
store, so a restarted follower resumes too.

Nothing the server sends can knock the source over
(:mod:`groundswell.live.connection`): frames over ``max_frame_bytes``, and zstd
frames that would inflate beyond it, are rejected and skipped on the same
connection (never decompressed without a cap); an event whose ``time_us`` is
not a cursor (negative, beyond 2^63 - 1, or more than a day ahead of this
machine's clock) is rejected and does not move the cursor; a source that
cannot be reached is given up after ``retries`` failed attempts in a row.

Public endpoints (configuration, never contacted by tests)::

    wss://jetstream1.us-east.bsky.network/subscribe
    wss://jetstream2.us-east.bsky.network/subscribe
    wss://jetstream1.us-west.bsky.network/subscribe
    wss://jetstream2.us-west.bsky.network/subscribe
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import orjson

from groundswell.formats import bluesky
from groundswell.live.connection import CEILING, MAX_FRAME_BYTES, RETRIES, Attempts, Oversized, describe

__all__ = [
    "DEFAULT_COLLECTIONS",
    "Item",
    "JetstreamSource",
    "FrameDecoder",
    "FrameTooLarge",
    "check_cursor",
    "subscribe_url",
    "redact_url",
    "event_key",
    "encode_post",
    "encode_identity",
    "encode_deletion",
]

POST, REPOST = bluesky.POST, bluesky.REPOST
DEFAULT_COLLECTIONS: tuple[str, ...] = (POST, REPOST)
MAX_CURSOR = (1 << 63) - 1      # time_us is a signed 64-bit count of microseconds
FUTURE_US = 86_400_000_000      # an event more than a day ahead of this clock is not believed


class FrameTooLarge(ValueError):
    """A frame that is, or inflates to, more than the limit."""


def check_cursor(value: object, *, now_us: int | None = None) -> int:
    """``value`` as a Jetstream cursor (a ``time_us``), or ValueError saying why it is not one."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"a cursor is a whole number of microseconds, not {type(value).__name__}")
    if isinstance(value, str):
        text = value.strip()
        if not text.isdigit() or len(text) > 19:
            raise ValueError(f"a cursor is a whole number of microseconds, not {text[:30]!r}")
        value = int(text)
    if not 0 <= value <= MAX_CURSOR:
        raise ValueError(f"cursor {value} is out of range (0 to 2^63 - 1 microseconds)")
    limit = (now_us if now_us is not None else time.time_ns() // 1000) + FUTURE_US
    if value > limit:
        raise ValueError(f"cursor {value} is more than a day ahead of this machine's clock")
    return value


@dataclass(slots=True)
class Item:
    """One frame from a live source: its cursor, decoded object or reject reason."""

    cursor: int | None
    obj: Any
    nbytes: int
    reason: str | None = None  # set for a malformed frame (obj is None)
    t: float | None = None      # event time in epoch seconds, for trending
    received: float = 0.0       # loop.time() when read
    raw: str | bytes | None = None  # the JSON text (for a parser in another process)


def subscribe_url(url: str, *, collections: tuple[str, ...] | list[str] = DEFAULT_COLLECTIONS,
                  cursor: int | None = None, compress: bool = False) -> str:
    """``url`` (a Jetstream ``.../subscribe`` endpoint, or its host) with the query to send."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss"):
        raise ValueError(f"a Jetstream URL starts with ws:// or wss://, not {parts.scheme or 'nothing'}://")
    path = parts.path if parts.path not in ("", "/") else "/subscribe"
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("cursor", "wantedCollections", "compress")]
    query += [("wantedCollections", c) for c in collections]
    if cursor is not None:
        query.append(("cursor", str(check_cursor(cursor))))
    if compress:
        query.append(("compress", "true"))
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(query), ""))


def redact_url(url: str) -> str:
    """The URL without query or credentials: what goes into logs and the store."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path or "/", "", ""))


class FrameDecoder:
    """Turns websocket messages into JSON bytes: text as is, binary as zstd, never more than ``max_bytes``."""

    def __init__(self, zstd_dict: bytes | None = None, max_bytes: int = MAX_FRAME_BYTES) -> None:
        self._dict = zstd_dict
        self.max_bytes = max_bytes
        self._plain: Any = None
        self._with_dict: Any = None

    def __call__(self, msg: str | bytes) -> str | bytes:
        if isinstance(msg, str):
            return msg
        if msg[:1] in (b"{", b"["):
            return msg
        import zstandard

        if self._plain is None:
            self._plain = zstandard.ZstdDecompressor()
            if self._dict is not None:
                self._with_dict = zstandard.ZstdDecompressor(dict_data=zstandard.ZstdCompressionDict(self._dict))
        dctx = self._with_dict or self._plain
        try:
            return _zstd(dctx, msg, self.max_bytes)
        except zstandard.ZstdError:
            if dctx is self._plain:
                raise
            return _zstd(self._plain, msg, self.max_bytes)  # a frame made without the dictionary


def _zstd(dctx: Any, data: bytes, cap: int) -> bytes:
    """One zstd frame, decompressed to at most ``cap`` bytes (FrameTooLarge beyond: a bomb is never inflated)."""
    import zstandard

    size = zstandard.frame_content_size(data)
    if size > cap:
        raise FrameTooLarge(f"zstd frame declares {size:,} bytes, over the limit of {cap:,}")
    if size >= 0:
        # declared and small enough: one call into a buffer of that size (zstd fails if the frame lies)
        out: bytes = dctx.decompress(data, max_output_size=cap)
        return out
    # no declared size: stream it, and stop one byte past the cap
    parts, total = [], 0
    with dctx.stream_reader(data) as reader:
        while total <= cap:
            chunk = reader.read(min(1 << 20, cap + 1 - total))
            if not chunk:
                break
            parts.append(chunk)
            total += len(chunk)
    if total > cap:
        raise FrameTooLarge(f"zstd frame inflates beyond the limit of {cap:,} bytes")
    return b"".join(parts)


def event_key(obj: Any) -> tuple[Any, ...] | None:
    """What identifies one Jetstream event (for skipping those a rewind brings again)."""
    if not isinstance(obj, dict):
        return None
    commit = obj.get("commit")
    if isinstance(commit, dict):
        return (obj.get("did"), commit.get("collection"), commit.get("rkey"), commit.get("rev"),
                commit.get("operation"))
    return (obj.get("did"), obj.get("kind"), obj.get("time_us"))


class _Recent:
    """A bounded set of recently seen keys (oldest forgotten first)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._d: dict[Any, None] = {}

    def seen(self, key: Any) -> bool:
        d = self._d
        if key in d:
            return True
        d[key] = None
        if len(d) > self.cap:
            for k in list(d)[: self.cap // 4]:
                del d[k]
        return False


Emit = Callable[[Item], Awaitable[None]]
Status = Callable[[str], None]


class JetstreamSource:
    """Reads a Jetstream endpoint forever, reconnecting and resuming from its cursor."""

    platform = "bluesky"
    kind = "jetstream"

    def __init__(self, url: str, *, collections: tuple[str, ...] | list[str] = DEFAULT_COLLECTIONS,
                 compress: bool = False, zstd_dict: bytes | None = None, rewind_us: int = 2_000_000,
                 backoff: tuple[float, float] = (0.1, 10.0), open_timeout: float = 10.0,
                 recent_keys: int = 200_000, max_frame_bytes: int = MAX_FRAME_BYTES,
                 retries: int | None = RETRIES) -> None:
        subscribe_url(url)  # validates the scheme
        if max_frame_bytes < 1024:
            raise ValueError("max_frame_bytes must be at least 1024")
        self.url = url
        self.collections = tuple(collections)
        self.compress = compress
        self.max_frame_bytes = max_frame_bytes
        self.retries = retries
        self.decode = FrameDecoder(zstd_dict, max_frame_bytes)
        self.rewind_us = rewind_us
        self.backoff = backoff
        self.open_timeout = open_timeout
        self.label = redact_url(url)
        self.parse = bluesky.parse
        self.cursor_key = f"cursor:{self.label}"
        self.high_water: int | None = None
        self.connects = 0
        self.disconnects = 0
        self.duplicates = 0
        self.oversized = 0        # frames over max_frame_bytes (or inflating beyond it), rejected
        self.connected = False    # a connection is open now (the follower's idle clock runs only then)
        self._recent = _Recent(recent_keys)
        Attempts(self.label, backoff, retries)  # validates retries

    def start_from(self, cursor: int | None) -> None:
        """Resume after ``cursor`` (the last committed ``time_us``), e.g. from the store."""
        if cursor is not None:
            cursor = check_cursor(cursor)
        if cursor is not None and (self.high_water is None or cursor > self.high_water):
            self.high_water = cursor

    def next_url(self) -> str:
        cur = None if self.high_water is None else max(self.high_water - self.rewind_us, 0)
        return subscribe_url(self.url, collections=self.collections, cursor=cur, compress=self.compress)

    async def run(self, emit: Emit, status: Status | None = None) -> None:
        """Emit items until cancelled; reconnect with backoff after a failure, give up after ``retries``."""
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

        loop = asyncio.get_running_loop()
        attempts = Attempts(self.label, self.backoff, self.retries)
        ceiling = CEILING * self.max_frame_bytes
        too_big = Oversized(self.label, ceiling)
        decode, loads, time_us = self.decode, orjson.loads, bluesky.time_us
        limit = self.max_frame_bytes
        recent = self._recent
        # the latest believable time_us (check_cursor's rule, without a clock reading per event)
        checked, latest = loop.time(), min(MAX_CURSOR, time.time_ns() // 1000 + FUTURE_US)
        while True:
            url = self.next_url()
            got = 0
            opened: float | None = None
            reason = "the server closed the connection"
            try:
                async with connect(url, max_size=ceiling, compression=None, open_timeout=self.open_timeout,
                                   ping_interval=20, ping_timeout=60, max_queue=64,
                                   close_timeout=0.5) as ws:
                    self.connects += 1
                    self.connected = True
                    opened = loop.time()
                    if status:
                        cur = dict(parse_qsl(urlsplit(url).query)).get("cursor")
                        status(f"connected to {self.label}" + (f" from cursor {cur}" if cur else " (live)"))
                    while True:
                        msg = await ws.recv()
                        now = loop.time()
                        n = len(msg)
                        got += 1
                        if got == 1:
                            attempts.delivered()
                        if n > limit:
                            self.oversized += 1
                            await emit(Item(self.high_water, None, n, f"frame of {n:,} bytes is over the limit "
                                            f"of {limit:,} (--max-frame-bytes)", received=now))
                            continue
                        try:
                            raw = decode(msg)
                        except FrameTooLarge as e:
                            self.oversized += 1
                            await emit(Item(self.high_water, None, n, str(e), received=now))
                            continue
                        except Exception:  # noqa: BLE001 - zstd error: a malformed frame
                            await emit(Item(self.high_water, None, n, "not a valid zstd frame", received=now))
                            continue
                        try:
                            obj = loads(raw)
                        except orjson.JSONDecodeError:
                            await emit(Item(self.high_water, None, n, "not valid JSON" if isinstance(msg, str)
                                            or msg[:1] in (b"{", b"[") else "not a valid zstd frame",
                                            received=now))
                            continue
                        t = time_us(obj)
                        if t is not None and not 0 <= t <= latest:
                            if now - checked > 1.0:  # the clock moved on: look again
                                checked, latest = now, min(MAX_CURSOR, time.time_ns() // 1000 + FUTURE_US)
                            if not 0 <= t <= latest:
                                await emit(Item(self.high_water, None, n, "time_us is not a valid cursor (negative, "
                                                "over 2^63 - 1 or more than a day ahead)", received=now))
                                continue
                        key = event_key(obj)
                        if key is not None and recent.seen(key):
                            self.duplicates += 1
                            if t is not None and (self.high_water is None or t > self.high_water):
                                self.high_water = t
                            continue
                        if t is not None and (self.high_water is None or t > self.high_water):
                            self.high_water = t
                        await emit(Item(t, obj, n, None, t / 1e6 if t is not None else None, now, raw))
            except asyncio.CancelledError:
                raise
            except (ConnectionClosed, InvalidHandshake, InvalidURI, OSError, TimeoutError, EOFError) as e:
                self.disconnects += 1
                reason = describe(e)
                if getattr(getattr(e, "sent", None), "code", None) == 1009:
                    self.oversized += 1
                    too_big.closed(self.high_water)  # raises SourceError when it keeps coming
            finally:
                self.connected = False
            if got == 0 and (opened is None or loop.time() - opened < self.backoff[1]):
                attempts.failed(reason)  # raises SourceError when the budget is spent
            wait = attempts.pause()
            if status:
                tries = (f"; attempt {attempts.failures + 1} of {attempts.retries + 1}"
                         if attempts.failures and attempts.retries is not None else "")
                status(f"disconnected from {self.label} ({reason}); "
                       f"reconnecting in {wait:.1f} s from cursor {self.high_water}{tries}")
            await asyncio.sleep(wait)


# -- encoding normalized posts as Jetstream events (the replay server) ----------

def _did(platform: str | None, author: str | None) -> str:
    if author and author.startswith("did:"):
        return author
    return f"did:groundswell:{platform or 'unknown'}:{quote(author or 'unknown', safe='')}"


def _rkey(pid: str) -> str:
    return quote(pid, safe="")


def post_uri(rec: dict[str, Any], authors: dict[str, str], pid: str | None = None) -> str:
    """The at:// URI a normalized post is given (its own, when it is a Bluesky post)."""
    pid = rec["id"] if pid is None else pid
    if pid.startswith("at://"):
        return pid
    platform = rec.get("platform")
    author = authors.get(pid) if pid != rec.get("id") else rec.get("author_id")
    collection = REPOST if pid == rec.get("id") and rec.get("kind") == "repost" else POST
    return f"at://{_did(platform, author)}/{collection}/{_rkey(pid)}"


def _iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _ref(uri: str) -> dict[str, str]:
    return {"uri": uri, "cid": "bafyreigroundswellreplay"}


def encode_post(rec: dict[str, Any], time_us: int, authors: dict[str, str]) -> dict[str, Any]:
    """A normalized post -> a Jetstream v1 create commit (post, or repost).

    ``authors`` maps post ids to author ids (to build the at:// URIs of the
    posts this one reposts, replies to or quotes). Bluesky posts keep their
    URIs; other platforms' ids become the record key of a synthetic
    ``did:groundswell:<platform>:<author id>`` repository.
    """
    platform = rec.get("platform")
    did = _did(platform, rec.get("author_id"))
    own = post_uri(rec, authors)
    rkey = own.rsplit("/", 1)[1]
    created = _iso(rec.get("created_at")) or _iso(datetime.fromtimestamp(time_us / 1e6, UTC)
                                                  .replace(tzinfo=None))
    if rec.get("kind") == "repost" and rec.get("repost_of_id"):
        target = rec["repost_of_id"]
        record: dict[str, Any] = {"$type": REPOST, "createdAt": created,
                                  "subject": _ref(post_uri({"platform": platform}, authors, target))}
        collection = REPOST
    else:
        text = rec.get("text") or ""
        record = {"$type": POST, "createdAt": created, "text": text}
        if rec.get("lang"):
            record["langs"] = [rec["lang"]]
        facets = []
        encoded = text.encode("utf-8")
        for raw in rec.get("hashtags_raw") or rec.get("hashtags") or []:
            needle = ("#" + raw).encode("utf-8")
            start = encoded.find(needle)
            index = {"byteStart": max(start, 0), "byteEnd": max(start, 0) + (len(needle) if start >= 0 else 0)}
            facets.append({"index": index, "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": raw}]})
        for url in rec.get("urls") or []:
            start = encoded.find(url.encode("utf-8"))
            if start >= 0:
                facets.append({"index": {"byteStart": start, "byteEnd": start + len(url.encode("utf-8"))},
                               "features": [{"$type": "app.bsky.richtext.facet#link", "uri": url}]})
        if facets:
            record["facets"] = facets
        if rec.get("reply_to_id"):
            parent = post_uri({"platform": platform}, authors, rec["reply_to_id"])
            root_id = rec.get("conversation_id") or rec["reply_to_id"]
            record["reply"] = {"root": _ref(post_uri({"platform": platform}, authors, root_id)),
                               "parent": _ref(parent)}
        if rec.get("quote_of_id"):
            record["embed"] = {"$type": "app.bsky.embed.record",
                               "record": _ref(post_uri({"platform": platform}, authors, rec["quote_of_id"]))}
        collection = POST
    return {"did": did, "time_us": time_us, "kind": "commit",
            "commit": {"rev": f"r{time_us}", "operation": "create", "collection": collection,
                       "rkey": rkey, "record": record, "cid": "bafyreigroundswellreplay"}}


def encode_identity(platform: str | None, author: str, handle: str, time_us: int) -> dict[str, Any]:
    did = _did(platform, author)
    return {"did": did, "time_us": time_us, "kind": "identity",
            "identity": {"did": did, "handle": handle, "seq": time_us,
                         "time": _iso(datetime.fromtimestamp(time_us / 1e6, UTC).replace(tzinfo=None))}}


def encode_deletion(rec: dict[str, Any], time_us: int, authors: dict[str, str]) -> dict[str, Any]:
    pid = rec["id"]
    platform = rec.get("platform")
    uri = pid if pid.startswith("at://") else post_uri({"platform": platform}, authors, pid)
    did, collection, rkey = (uri[5:].split("/", 2) + ["", ""])[:3]
    return {"did": did if did.startswith("did:") else _did(platform, rec.get("author_id")),
            "time_us": time_us, "kind": "commit",
            "commit": {"rev": f"r{time_us}", "operation": "delete", "collection": collection or POST,
                       "rkey": rkey}}
