"""Mastodon streaming: server-sent events or websocket, into the follower.

Endpoints (https://docs.joinmastodon.org/methods/streaming/)
-------------------------------------------------------------
* ``--url https://INSTANCE``: server-sent events, ``GET
  /api/v1/streaming/public`` (``public/local``, or ``hashtag?tag=TAG``);
* ``--url wss://INSTANCE``: one websocket, ``/api/v1/streaming?stream=public``
  (``public:local``, or ``hashtag&tag=TAG``).

The access token comes from the environment (``MASTODON_ACCESS_TOKEN``) and
is sent as ``Authorization: Bearer``; it never appears in logs, the store or
the source label. Many servers require a token for the streaming API. A token
is refused over plain ``http://`` or ``ws://`` (anyone on the path could read
it), loopback included, unless the caller says ``insecure=True``
(``--insecure``).

Events: ``update`` and ``status.update`` carry a status (JSON in the
``payload``), ``delete`` a status id; each is handed to
:func:`groundswell.formats.mastodon.parse` as ``{"event", "payload",
"_server"}``. Other events (notifications, filters) are ignored by the
parser; a payload that is not JSON is a reject.

Mastodon streaming has no cursor: what is posted while disconnected is not
sent again. The source reconnects with backoff and says so on the status
line; filling such a gap needs the REST timelines (``since_id``), which this
source does not do. A refused token or an unknown stream (HTTP 401, 403, 404)
stops the follower with a message instead of retrying forever, and so does a
server that cannot be reached ``retries`` times in a row
(:mod:`groundswell.live.connection`).

The body of a server-sent events stream is read in pieces of at most 64 KiB
and split into lines here (not with ``StreamReader.readline``, whose 64 KiB
limit used to drop a long status and reconnect in a loop): a line of any
length up to ``max_frame_bytes`` (16 MiB) is read; a longer one is skipped
without being held, and its event is rejected and counted (``oversized``),
and the stream goes on. Websocket messages have the same limit.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import orjson

from groundswell.errors import UsageError
from groundswell.formats import mastodon as mastodon_format
from groundswell.live.connection import CEILING, MAX_FRAME_BYTES, RETRIES, Attempts, describe
from groundswell.live.jetstream import Emit, Item, Status

__all__ = ["MastodonSource", "TooLong", "sse_events", "split_lines"]

PIECE = 64 << 10  # bytes read from the socket at a time

_STREAMS = {"public": ("public", "public"), "local": ("public/local", "public:local"),
            "hashtag": ("hashtag", "hashtag")}


class MastodonSource:
    """Reads a Mastodon streaming timeline forever, reconnecting with backoff."""

    platform = "mastodon"
    kind = "mastodon"

    def __init__(self, url: str, *, hashtag: str | None = None, timeline: str | None = None,
                 token: str | None = None, backoff: tuple[float, float] = (0.1, 10.0),
                 open_timeout: float = 10.0, insecure: bool = False, max_frame_bytes: int = MAX_FRAME_BYTES,
                 retries: int | None = RETRIES) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https", "ws", "wss"):
            raise ValueError("a Mastodon URL is https://INSTANCE (server-sent events) or wss://INSTANCE "
                             f"(websocket), not {parts.scheme or 'nothing'}://")
        if not parts.hostname:
            raise ValueError(f"no host in {url!r}")
        if token and parts.scheme in ("http", "ws") and not insecure:
            raise ValueError(f"{parts.scheme}:// would send MASTODON_ACCESS_TOKEN unencrypted: use "
                             f"{'https' if parts.scheme == 'http' else 'wss'}://, or --insecure if you mean it")
        timeline = timeline or ("hashtag" if hashtag else "public")
        if timeline not in _STREAMS:
            raise ValueError(f"unknown timeline {timeline!r}: public, local or hashtag")
        if timeline == "hashtag" and not hashtag:
            raise ValueError("the hashtag timeline needs --hashtag TAG")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme in ("https", "wss") else 80)
        self.hashtag = hashtag.lstrip("#") if hashtag else None
        self.timeline = timeline
        self._token = token
        self.backoff = backoff
        self.open_timeout = open_timeout
        netloc = self.host if parts.port is None else f"{self.host}:{parts.port}"
        self.server = netloc
        self.base = f"{parts.scheme}://{netloc}"
        stream = _STREAMS[timeline][0]
        self.label = f"{self.base}/api/v1/streaming/{stream}" + (f"#{self.hashtag}" if self.hashtag else "")
        self.parse = mastodon_format.parse
        if max_frame_bytes < 1024:
            raise ValueError("max_frame_bytes must be at least 1024")
        self.max_frame_bytes = max_frame_bytes
        self.retries = retries
        Attempts(self.label, backoff, retries)  # validates retries
        self.connects = 0
        self.disconnects = 0
        self.duplicates = 0
        self.oversized = 0        # events or messages over max_frame_bytes, rejected
        self.connected = False    # a stream is open now (the follower's idle clock runs only then)

    def start_from(self, cursor: int | None) -> None:
        """Mastodon streaming has no cursor: nothing to resume."""

    def _path(self) -> str:
        sse, ws = _STREAMS[self.timeline]
        if self.scheme in ("http", "https"):
            q = {"tag": self.hashtag} if self.timeline == "hashtag" else {}
            return f"/api/v1/streaming/{sse}" + (f"?{urlencode(q)}" if q else "")
        q = {"stream": ws}
        if self.timeline == "hashtag":
            q["tag"] = self.hashtag or ""
        return "/api/v1/streaming?" + urlencode(q)

    def _headers(self) -> dict[str, str]:
        h = {"User-Agent": "groundswell-follow"}
        if self._token:
            h["Authorization"] = f"Bearer {self._token}"
        return h

    async def run(self, emit: Emit, status: Status | None = None) -> None:
        """Emit items until cancelled; reconnect with backoff, give up after ``retries`` failures in a row."""
        loop = asyncio.get_running_loop()
        attempts = Attempts(self.label, self.backoff, self.retries)
        while True:
            got = 0
            opened: list[float] = []  # set by the readers once the stream is open
            reason = "the stream ended"
            try:
                stream = self._sse(opened) if self.scheme in ("http", "https") else self._ws(status, opened)
                async for name, data, reject in stream:
                    if got == 0:
                        attempts.delivered()
                    got += 1
                    now = loop.time()
                    if reject is not None:  # oversized, or not JSON
                        await emit(Item(None, None, len(data), reject, None, now))
                    else:
                        await emit(Item(None, {"event": name, "payload": data, "_server": self.server},
                                        len(data), None, None, now))
            except asyncio.CancelledError:
                raise
            except UsageError:
                raise
            except (OSError, EOFError, asyncio.IncompleteReadError, TimeoutError, ValueError, _Retry) as e:
                self.disconnects += 1
                reason = str(e) if isinstance(e, _Retry) else describe(e)
            except Exception as e:  # noqa: BLE001 - websockets' ConnectionClosed and handshake errors
                if not type(e).__module__.startswith("websockets"):
                    raise
                self.disconnects += 1
                reason = describe(e)
                if getattr(getattr(e, "sent", None), "code", None) == 1009:
                    self.oversized += 1  # no cursor: what follows it is lost anyway; the next connection is live
            else:
                self.disconnects += 1
            finally:
                self.connected = False
            if got == 0 and (not opened or loop.time() - opened[0] < self.backoff[1]):
                attempts.failed(reason)  # raises SourceError when the budget is spent
            wait = attempts.pause()
            if status:
                status(f"disconnected from {self.label} ({reason}); reconnecting in {wait:.1f} s "
                       "(Mastodon streaming has no cursor: posts made meanwhile are missed)")
            await asyncio.sleep(wait)

    # -- server-sent events ---------------------------------------------------------
    async def _sse(self, opened: list[float]) -> AsyncIterator[tuple[str, str, str | None]]:
        ctx = ssl.create_default_context() if self.scheme == "https" else None
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port, ssl=ctx), self.open_timeout)
        try:
            head = [f"GET {self._path()} HTTP/1.1", f"Host: {self.server}", "Accept: text/event-stream",
                    "Cache-Control: no-cache", "Connection: keep-alive"]
            head += [f"{k}: {v}" for k, v in self._headers().items()]
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
            await writer.drain()
            status_line = await asyncio.wait_for(reader.readline(), self.open_timeout)
            parts = status_line.decode("latin-1").split(" ", 2)
            code = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
            headers: dict[str, str] = {}
            for _ in range(200):
                line = await asyncio.wait_for(reader.readline(), self.open_timeout)
                if not line or line in (b"\r\n", b"\n"):
                    break
                k, _, v = line.decode("latin-1").partition(":")
                headers[k.strip().lower()] = v.strip()
            else:
                raise _Retry("more than 200 header lines")
            _check_status(code, self.label)
            self.connects += 1
            self.connected = True
            opened.append(asyncio.get_running_loop().time())
            chunked = "chunked" in headers.get("transfer-encoding", "").lower()
            async for name, data in sse_events(split_lines(_body(reader, chunked), self.max_frame_bytes)):
                if name is None:
                    self.oversized += 1
                    yield "", data, data
                else:
                    yield name, data, None
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except (OSError, ssl.SSLError):
                pass

    # -- websocket ------------------------------------------------------------------------
    async def _ws(self, status: Status | None, opened: list[float]) -> AsyncIterator[tuple[str, str, str | None]]:
        from websockets.asyncio.client import connect
        from websockets.exceptions import InvalidStatus

        url = f"{self.base}{self._path()}"
        limit = self.max_frame_bytes
        try:
            ws_cm = connect(url, additional_headers=self._headers(), open_timeout=self.open_timeout,
                            max_size=CEILING * limit, compression=None, close_timeout=0.5)
            async with ws_cm as ws:
                self.connects += 1
                self.connected = True
                opened.append(asyncio.get_running_loop().time())
                if status:
                    status(f"connected to {self.label}")
                async for msg in ws:
                    if len(msg) > limit:
                        self.oversized += 1
                        why = f"message of {len(msg):,} bytes is over the limit of {limit:,} (--max-frame-bytes)"
                        yield "", why, why
                        continue
                    try:
                        obj = orjson.loads(msg)
                    except orjson.JSONDecodeError:
                        yield "", msg if isinstance(msg, str) else msg.decode("utf-8", "replace"), "not valid JSON"
                        continue
                    if not isinstance(obj, dict):
                        yield "", msg if isinstance(msg, str) else msg.decode("utf-8", "replace"), "not valid JSON"
                        continue
                    name = obj.get("event")
                    payload = obj.get("payload")
                    yield (str(name) if name is not None else "",
                           payload if isinstance(payload, str) else orjson.dumps(payload).decode(), None)
        except InvalidStatus as e:
            _check_status(e.response.status_code, self.label)
            raise _Retry(f"HTTP {e.response.status_code}") from None


class _Retry(Exception):
    pass


def _check_status(code: int, label: str) -> None:
    if code == 200:
        return
    if code in (401, 403):
        raise UsageError(f"{label} refused the access token (HTTP {code}): set MASTODON_ACCESS_TOKEN "
                         "to a token of that server with the read:statuses scope")
    if code == 404:
        raise UsageError(f"{label}: no such stream (HTTP 404); is the URL the server's address?")
    raise _Retry(f"HTTP {code}")


async def _body(reader: asyncio.StreamReader, chunked: bool) -> AsyncIterator[bytes]:
    """The response body in pieces of at most :data:`PIECE` bytes (chunked transfer decoded)."""
    if not chunked:
        while True:
            piece = await reader.read(PIECE)
            if not piece:
                return
            yield piece
    while True:
        size_line = await reader.readline()
        if not size_line:
            return
        size_text = size_line.split(b";", 1)[0].strip()
        if not size_text:
            continue
        try:
            size = int(size_text, 16)
        except ValueError:
            raise _Retry("a malformed chunk size") from None
        if size == 0:
            return
        while size:
            piece = await reader.readexactly(min(size, PIECE))
            size -= len(piece)
            yield piece
        await reader.readexactly(2)


@dataclass(frozen=True)
class TooLong:
    """A line over the limit, skipped: how long it was (at least), and the limit."""

    size: int
    limit: int


async def split_lines(pieces: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes | TooLong]:
    """Lines (with their newline) from byte pieces; a line over ``limit`` bytes becomes a :class:`TooLong`.

    A long line is never held: once it passes the limit its bytes are counted
    and dropped until its newline."""
    buf = bytearray()
    dropped = 0  # bytes of the line being skipped (0: not skipping)
    async for piece in pieces:
        start = 0
        while True:
            i = piece.find(b"\n", start)
            end = len(piece) if i < 0 else i + 1
            n = end - start
            if dropped:
                dropped += n
            elif len(buf) + n > limit + 1:  # the newline does not count
                dropped = len(buf) + n
                buf.clear()
            else:
                buf += piece[start:end]
            if i < 0:
                break
            if dropped:
                yield TooLong(dropped - 1, limit)
                dropped = 0
            else:
                yield bytes(buf)
                buf.clear()
            start = end
    if dropped:
        yield TooLong(dropped, limit)
    elif buf:
        yield bytes(buf)


async def sse_events(lines: AsyncIterator[bytes | TooLong]) -> AsyncIterator[tuple[str | None, str]]:
    """Server-sent events from lines: (event name, data); comments (heartbeats) skipped.

    An event with a line over the limit is (None, the reason it was rejected)."""
    name = ""
    data: list[str] = []
    too_long: TooLong | None = None
    async for raw in lines:
        if isinstance(raw, TooLong):
            too_long = raw if too_long is None or raw.size > too_long.size else too_long
            continue
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            if too_long is not None:
                yield None, (f"server-sent event line of {too_long.size:,} bytes is over the limit of "
                             f"{too_long.limit:,} (--max-frame-bytes)")
            elif data:
                yield name or "message", "\n".join(data)
            name, data, too_long = "", [], None
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)
    if too_long is not None:
        yield None, (f"server-sent event line of {too_long.size:,} bytes is over the limit of "
                     f"{too_long.limit:,} (--max-frame-bytes)")
    elif data:
        yield name or "message", "\n".join(data)
