"""Helpers for the live tests: everything on 127.0.0.1."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

from groundswell.live.replay import Recording, synthetic_events


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}")


def write_recording(rec: Recording, path: Path) -> Path:
    with path.open("wb") as f:
        for p in rec.payloads:
            f.write(p + b"\n")
    return path


def synthetic_file(path: Path, n: int, **kw: Any) -> tuple[Path, Recording]:
    rec = synthetic_events(n, **kw)
    return write_recording(rec, path), rec


def post_uris(rec: Recording) -> set[str]:
    import orjson

    out = set()
    for p in rec.payloads:
        ev = orjson.loads(p)
        c = ev["commit"]
        out.add(f"at://{ev['did']}/{c['collection']}/{c['rkey']}")
    return out


class FrameServer:
    """A websocket server on 127.0.0.1 (in a thread) that sends ``frames(connection number, request path)``
    on each connection and then stays open and quiet, as a live stream between posts."""

    def __init__(self, frames: Any) -> None:
        import threading

        self.frames = frames
        self.paths: list[str] = []
        self.port = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, daemon=True)
        self._loop: Any = None
        self._stop: Any = None

    def _main(self) -> None:
        import asyncio

        from websockets.asyncio.server import serve
        from websockets.exceptions import ConnectionClosed

        async def handler(ws: Any) -> None:
            self.paths.append(ws.request.path)
            try:
                for frame in self.frames(len(self.paths), ws.request.path):
                    await ws.send(frame)
                await ws.wait_closed()
            except ConnectionClosed:
                pass

        async def run() -> None:
            async with serve(handler, "127.0.0.1", 0, max_size=None, compression=None) as server:
                self.port = server.sockets[0].getsockname()[1]
                self._loop = asyncio.get_running_loop()
                self._stop = asyncio.Event()
                self._ready.set()
                await self._stop.wait()

        asyncio.run(run())

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/subscribe"

    def __enter__(self) -> "FrameServer":
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
