"""A small loopback HTTP endpoint with a follower's live state, for other processes.

DuckDB gives one process the store file while ``follow`` writes it, so other
processes cannot open it (not even read-only). ``groundswell follow --http
PORT`` publishes what they most want to see live, on 127.0.0.1 only:

* ``GET /stats``    the follower's counters (JSON);
* ``GET /trending`` the current top K board (JSON);
* ``GET /events``   server-sent events: ``enter`` (a hashtag entered the top K,
  the same object as the stdout line) and ``stats`` every second.

It reads snapshots the follower replaces after each batch (``Follower.board``,
``Follower.alerts``, ``Follower.stats``), so it never touches the store.

Other web pages get nothing (:mod:`groundswell.hosts`): a request is answered
only when its ``Host`` is a loopback address or ``localhost`` (a page that
rebinds its own name to 127.0.0.1 gets a 400); at most ``max_streams`` (16)
``/events`` streams run at once (a 503 beyond); a request line or header over
8 KiB, more than 100 headers, or a method other than GET gets a 4xx.
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from groundswell.hosts import HostCheck, Slots
from groundswell.live.background import LoopThread

__all__ = ["StatusServer"]

HOST = "127.0.0.1"
MAX_LINE = 8 << 10
MAX_HEADERS = 100
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 431: "Request Header Fields "
            "Too Large", 503: "Service Unavailable"}


class StatusServer:
    def __init__(self, follower: Any, *, port: int = 0, max_streams: int = 16) -> None:
        self.follower = follower
        self.port = port
        self.hosts = HostCheck(HOST)
        self.streams = Slots(max_streams)
        self._bg: LoopThread | None = None
        self._ready = threading.Event()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), 10)
            host = None
            for n in range(MAX_HEADERS + 1):
                line = await asyncio.wait_for(reader.readline(), 10)
                if not line or line in (b"\r\n", b"\n"):
                    break
                if n == MAX_HEADERS or len(line) > MAX_LINE:
                    await self._json(writer, {"error": "too many or too long header lines"}, 431)
                    return
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"host":
                    host = value.strip() if host is None else b""  # two Host headers: refused
            if len(request) > MAX_LINE:
                await self._json(writer, {"error": "request line too long"}, 431)
                return
            parts = request.decode("latin-1").split()
            if not self.hosts.allowed(host):
                await self._json(writer, {"error": self.hosts.refusal(host)}, 400)
                return
            if not parts or parts[0] != "GET":
                await self._json(writer, {"error": "only GET"}, 405)
                return
            path = parts[1].split("?", 1)[0] if len(parts) > 1 else "/"
            f = self.follower
            if path == "/stats":
                await self._json(writer, f.stats.as_dict())
            elif path == "/trending":
                await self._json(writer, {"k": f.trending.k, "board": list(f.board)})
            elif path == "/events":
                if not self.streams.take():
                    await self._json(writer, {"error": f"too many event streams ({self.streams.limit}); "
                                                       "try again later"}, 503)
                    return
                try:
                    await self._events(writer)
                finally:
                    self.streams.give_back()
            else:
                await self._json(writer, {"error": "not found", "paths": ["/stats", "/trending", "/events"]}, 404)
        except (ConnectionError, TimeoutError, ValueError, asyncio.IncompleteReadError):
            pass  # a client gone, silent, or sending a line over the reader's limit
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass

    async def _json(self, writer: asyncio.StreamWriter, obj: Any, code: int = 200) -> None:
        body = json.dumps(obj, default=str).encode()
        writer.write(f"HTTP/1.1 {code} {_REASONS.get(code, 'Error')}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(body)}\r\nX-Content-Type-Options: nosniff\r\nCache-Control: no-store"
                     f"\r\nConnection: close\r\n\r\n".encode() + body)
        await writer.drain()

    async def _events(self, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                     b"Connection: close\r\n\r\n")
        f = self.follower
        seen = f.alerts[-1][0] if f.alerts else 0
        tick = 0
        while True:
            for seq, alert in list(f.alerts):
                if seq > seen:
                    seen = seq
                    writer.write(f"event: enter\ndata: {json.dumps(alert)}\n\n".encode())
            if tick % 4 == 0:
                writer.write(f"event: stats\ndata: {json.dumps(f.stats.as_dict(), default=str)}\n\n".encode())
            tick += 1
            await writer.drain()
            await asyncio.sleep(0.25)

    async def _serve(self) -> None:
        server = await asyncio.start_server(self._handle, HOST, self.port)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await asyncio.Future()

    def start(self) -> StatusServer:
        self._bg = LoopThread("groundswell-status")
        self._bg.start(self._serve, self._ready)
        if self._bg.error is not None:
            from groundswell.errors import UsageError

            raise UsageError(f"cannot serve status on {HOST}:{self.port}: {self._bg.error}")
        return self

    def stop(self) -> None:
        if self._bg is not None:
            self._bg.stop()
            self._bg = None
