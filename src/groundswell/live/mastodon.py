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
stops the follower with a message instead of retrying forever.
"""

from __future__ import annotations

import asyncio
import random
import ssl
from typing import AsyncIterator
from urllib.parse import urlencode, urlsplit

import orjson

from groundswell.errors import UsageError
from groundswell.formats import mastodon as mastodon_format
from groundswell.live.jetstream import Emit, Item, Status

__all__ = ["MastodonSource", "sse_events"]

_STREAMS = {"public": ("public", "public"), "local": ("public/local", "public:local"),
            "hashtag": ("hashtag", "hashtag")}


class MastodonSource:
    """Reads a Mastodon streaming timeline forever, reconnecting with backoff."""

    platform = "mastodon"
    kind = "mastodon"

    def __init__(self, url: str, *, hashtag: str | None = None, timeline: str | None = None,
                 token: str | None = None, backoff: tuple[float, float] = (0.1, 10.0),
                 open_timeout: float = 10.0, insecure: bool = False) -> None:
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
        self.connects = 0
        self.disconnects = 0
        self.duplicates = 0

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
        delay = self.backoff[0]
        while True:
            try:
                got = 0
                async for name, data in (self._sse() if self.scheme in ("http", "https") else self._ws(status)):
                    if got == 0:
                        delay = self.backoff[0]
                    got += 1
                    if name is None:  # a frame that is not JSON
                        await emit(Item(None, None, len(data), "not valid JSON", None,
                                        asyncio.get_running_loop().time()))
                    else:
                        await self._emit(emit, name, data)
                raise ConnectionError("the stream ended")
            except asyncio.CancelledError:
                raise
            except UsageError:
                raise
            except (OSError, EOFError, asyncio.IncompleteReadError, asyncio.TimeoutError, TimeoutError,
                    ValueError, _Retry) as e:
                self.disconnects += 1
                if status:
                    status(f"disconnected from {self.label} ({type(e).__name__}); reconnecting in "
                           f"{delay:.1f} s (Mastodon streaming has no cursor: posts made meanwhile are missed)")
            except Exception as e:  # noqa: BLE001 - websockets' ConnectionClosed and handshake errors
                if type(e).__module__.startswith("websockets"):
                    self.disconnects += 1
                    if status:
                        status(f"disconnected from {self.label} ({type(e).__name__}); reconnecting in {delay:.1f} s")
                else:
                    raise
            await asyncio.sleep(delay * (0.75 + random.random() / 2))
            delay = min(delay * 2, self.backoff[1])

    async def _emit(self, emit: Emit, name: str, data: str) -> None:
        loop = asyncio.get_running_loop()
        obj = {"event": name, "payload": data, "_server": self.server}
        await emit(Item(None, obj, len(data), None, None, loop.time()))

    # -- server-sent events ---------------------------------------------------------
    async def _sse(self) -> AsyncIterator[tuple[str | None, str]]:
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
            while True:
                line = await reader.readline()
                if not line or line in (b"\r\n", b"\n"):
                    break
                k, _, v = line.decode("latin-1").partition(":")
                headers[k.strip().lower()] = v.strip()
            _check_status(code, self.label)
            self.connects += 1
            chunked = "chunked" in headers.get("transfer-encoding", "").lower()
            async for ev in sse_events(_body_lines(reader, chunked)):
                yield ev
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except (OSError, ssl.SSLError):
                pass

    # -- websocket ------------------------------------------------------------------------
    async def _ws(self, status: Status | None) -> AsyncIterator[tuple[str | None, str]]:
        from websockets.asyncio.client import connect
        from websockets.exceptions import InvalidStatus

        url = f"{self.base}{self._path()}"
        try:
            ws_cm = connect(url, additional_headers=self._headers(), open_timeout=self.open_timeout,
                            max_size=16 << 20, compression=None, close_timeout=0.5)
            async with ws_cm as ws:
                self.connects += 1
                if status:
                    status(f"connected to {self.label}")
                async for msg in ws:
                    try:
                        obj = orjson.loads(msg)
                    except orjson.JSONDecodeError:
                        yield None, msg if isinstance(msg, str) else msg.decode("utf-8", "replace")
                        continue
                    if not isinstance(obj, dict):
                        yield None, msg if isinstance(msg, str) else msg.decode("utf-8", "replace")
                        continue
                    name = obj.get("event")
                    payload = obj.get("payload")
                    yield (str(name) if name is not None else "",
                           payload if isinstance(payload, str) else orjson.dumps(payload).decode())
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


async def _body_lines(reader: asyncio.StreamReader, chunked: bool) -> AsyncIterator[bytes]:
    if not chunked:
        while True:
            line = await reader.readline()
            if not line:
                return
            yield line
    buf = b""
    while True:
        size_line = await reader.readline()
        if not size_line:
            return
        size_text = size_line.split(b";", 1)[0].strip()
        if not size_text:
            continue
        size = int(size_text, 16)
        if size == 0:
            return
        buf += await reader.readexactly(size)
        await reader.readexactly(2)
        while True:
            i = buf.find(b"\n")
            if i < 0:
                break
            yield buf[: i + 1]
            buf = buf[i + 1:]


async def sse_events(lines: AsyncIterator[bytes]) -> AsyncIterator[tuple[str, str]]:
    """Server-sent events from lines: (event name, data); comments (heartbeats) skipped."""
    name = ""
    data: list[str] = []
    async for raw in lines:
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            if data:
                yield name or "message", "\n".join(data)
            name, data = "", []
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
    if data:
        yield name or "message", "\n".join(data)
