"""Mastodon streaming (server-sent events and websocket) against loopback servers."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import orjson
import pytest

from groundswell.errors import UsageError
from groundswell.formats import mastodon as mastodon_format
from groundswell.formats.base import ListSink
from groundswell.live.follower import Follower
from groundswell.live.mastodon import MastodonSource
from groundswell.store import open_store

from ..conftest import shared


def _statuses() -> list[dict[str, Any]]:
    path = shared("mastodon-py/statuses.jsonl")
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


class LoopbackServer:
    """A tiny asyncio server on 127.0.0.1 in a thread (handler gets reader, writer, connection number)."""

    def __init__(self, handler: Any) -> None:
        self.handler = handler
        self.port = 0
        self.requests: list[str] = []
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._main, daemon=True)

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop

        async def serve() -> None:
            async def on_conn(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
                head = []
                while True:
                    line = await r.readline()
                    if not line or line in (b"\r\n", b"\n"):
                        break
                    head.append(line.decode("latin-1").rstrip())
                self.requests.append("\n".join(head))
                try:
                    await self.handler(w, len(self.requests), head)
                except (ConnectionError, asyncio.CancelledError):
                    pass
                finally:
                    w.close()
                    try:
                        await w.wait_closed()
                    except OSError:
                        pass

            server = await asyncio.start_server(on_conn, "127.0.0.1", 0)
            self.port = server.sockets[0].getsockname()[1]
            self._ready.set()
            async with server:
                await asyncio.Future()

        task = loop.create_task(serve())
        try:
            loop.run_until_complete(task)
        except asyncio.CancelledError:
            pass
        finally:
            rest = asyncio.all_tasks(loop)
            for t in rest:
                t.cancel()
            if rest:
                loop.run_until_complete(asyncio.gather(*rest, return_exceptions=True))
            loop.close()

    def __enter__(self) -> "LoopbackServer":
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        loop = self._loop
        assert loop is not None

        def cancel() -> None:
            for t in asyncio.all_tasks(loop):
                t.cancel()

        loop.call_soon_threadsafe(cancel)
        self._thread.join(10)


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def _sse(name: str, data: str) -> bytes:
    return f"event: {name}\ndata: {data}\n\n".encode()


def test_sse_hashtag_stream_with_reconnect_rejects_and_deletes(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    statuses = _statuses()
    half = len(statuses) // 2
    events: list[tuple[str, str]] = [("update", orjson.dumps(s).decode()) for s in statuses]
    events.insert(3, ("update", "{broken json"))
    events.insert(5, ("notification", "{}"))
    events.append(("delete", "109999"))

    async def handler(w: asyncio.StreamWriter, n: int, head: list[str]) -> None:
        w.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
        if n > 2:
            await w.drain()
            await asyncio.sleep(30)  # connected, and nothing more: the follower goes idle
            return
        w.write(_chunk(b":)\n"))
        part = events[: half + 1] if n == 1 else events[half + 1:]
        for name, data in part:
            frame = _sse(name, data)
            # split frames across chunks to exercise the line reassembly
            w.write(_chunk(frame[:7]) + _chunk(frame[7:]))
        w.write(b"0\r\n\r\n")  # the server closes the stream: the follower reconnects
        await w.drain()

    with LoopbackServer(handler) as srv:
        monkeypatch.setenv("MASTODON_ACCESS_TOKEN", "test-token-123")
        import os

        source = MastodonSource(f"http://127.0.0.1:{srv.port}", hashtag="#hoot",
                                token=os.environ["MASTODON_ACCESS_TOKEN"], backoff=(0.05, 0.2), insecure=True)
        f = Follower(source, str(db), idle_exit=1.0)
        f.start()
        assert f.wait(60)
        f.stop()
        first = srv.requests[0]
    assert first.startswith("GET /api/v1/streaming/hashtag?tag=hoot HTTP/1.1")
    assert "Authorization: Bearer test-token-123" in first
    assert "test-token-123" not in source.label
    expect = ListSink()
    for name, data in events:
        try:
            mastodon_format.parse({"event": name, "payload": data, "_server": source.server}, expect)
        except Exception:  # noqa: BLE001 - the broken one
            pass
    with open_store(db, read_only=True) as s:
        got = {r[0] for r in s.con.execute("SELECT id FROM posts").fetchall()}
        rejects = s.con.execute("SELECT reason FROM rejects").fetchall()
        dels = s.con.execute("SELECT id FROM deletions").fetchall()
    assert got == {p["id"] for p in expect.posts}
    assert len(got) >= len(statuses)
    assert [r[0] for r in rejects] == ["update event payload is not JSON"]
    assert dels == [(f"https://{source.server}/api/v1/statuses/109999",)]
    assert f.stats.disconnects >= 1 and f.stats.connects >= 2


def test_websocket_stream(db: Path) -> None:
    from websockets.asyncio.server import serve

    statuses = _statuses()[:10]
    seen_paths: list[str] = []
    ready = threading.Event()
    state: dict[str, Any] = {}

    async def handler(ws: Any) -> None:
        seen_paths.append(ws.request.path)
        for s in statuses:
            await ws.send(orjson.dumps({"stream": ["public"], "event": "update",
                                        "payload": orjson.dumps(s).decode()}).decode())
        await ws.send("not json at all")
        await ws.wait_closed()

    def main() -> None:
        async def run() -> None:
            async with serve(handler, "127.0.0.1", 0) as server:
                state["port"] = server.sockets[0].getsockname()[1]
                state["loop"] = asyncio.get_running_loop()
                state["stop"] = asyncio.Event()
                ready.set()
                await state["stop"].wait()

        asyncio.run(run())

    t = threading.Thread(target=main, daemon=True)
    t.start()
    ready.wait(10)
    try:
        source = MastodonSource(f"ws://127.0.0.1:{state['port']}", timeline="public")
        f = Follower(source, str(db), idle_exit=1.0)
        f.start()
        assert f.wait(60)
        f.stop()
    finally:
        state["loop"].call_soon_threadsafe(state["stop"].set)
        t.join(10)
    assert seen_paths == ["/api/v1/streaming?stream=public"]
    with open_store(db, read_only=True) as s:
        n = s.con.execute("SELECT count(*) FROM posts WHERE NOT is_reference").fetchone()[0]  # type: ignore[index]
        rejects = s.con.execute("SELECT count(*) FROM rejects").fetchone()[0]  # type: ignore[index]
    assert n == len({s["uri"] for s in statuses})
    assert rejects == 1


def test_refused_token_stops_with_a_message(cli, db: Path) -> None:  # type: ignore[no-untyped-def]
    async def handler(w: asyncio.StreamWriter, n: int, head: list[str]) -> None:
        w.write(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n")
        await w.drain()

    with LoopbackServer(handler) as srv:
        r = cli("follow", "mastodon", "--url", f"http://127.0.0.1:{srv.port}", "--db", db, "-q")
    assert r.code == 2
    assert "MASTODON_ACCESS_TOKEN" in r.err and "401" in r.err


def test_bad_urls_are_usage_errors() -> None:
    with pytest.raises(ValueError):
        MastodonSource("ftp://example.org")
    with pytest.raises(ValueError):
        MastodonSource("https://example.org", timeline="hashtag")
    assert UsageError  # the CLI turns these into exit status 2


@pytest.mark.parametrize("scheme", ["http", "ws"])
def test_a_token_is_refused_over_plain_http(cli, db: Path, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                            scheme: str) -> None:
    requests: list[str] = []

    async def handler(w: asyncio.StreamWriter, n: int, head: list[str]) -> None:
        w.write(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n")
        await w.drain()

    with LoopbackServer(handler) as srv:
        monkeypatch.setenv("MASTODON_ACCESS_TOKEN", "secret-token-456")
        url = f"{scheme}://127.0.0.1:{srv.port}"
        r = cli("follow", "mastodon", "--url", url, "--db", db, "-q")
        assert r.code == 2 and r.err.count("\n") == 1
        assert "unencrypted" in r.err and "--insecure" in r.err and "secret-token-456" not in r.err
        assert srv.requests == [], "the token was sent"
        r = cli("serve", "--db", db, "--follow", url, "--source", "mastodon")
        assert r.code == 2 and "--insecure" in r.err and srv.requests == []
        # said on purpose: it goes (and the server's 401 stops the follower)
        r = cli("follow", "mastodon", "--url", url, "--db", db, "-q", "--insecure")
        assert r.code == 2 and "401" in r.err
        assert len(srv.requests) == 1 and "Authorization: Bearer secret-token-456" in srv.requests[0]
    with pytest.raises(ValueError, match="unencrypted"):
        MastodonSource("http://mastodon.example", token="t")
    secure = MastodonSource("https://mastodon.example", token="t")
    assert secure.label == "https://mastodon.example/api/v1/streaming/public"
    assert MastodonSource("http://mastodon.example").label  # no token, nothing to leak
