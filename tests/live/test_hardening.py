"""A follower that cannot be knocked over: bombs, oversized frames and lines, bad cursors, an unreachable
source, an exact --limit; and servers that no web page can read."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest
import zstandard

from groundswell.errors import SourceError, StoreError
from groundswell.live.follower import Follower
from groundswell.live.jetstream import FrameDecoder, FrameTooLarge, JetstreamSource, check_cursor
from groundswell.live.mastodon import MastodonSource
from groundswell.live.replay import Recording, ReplayServer, synthetic_events
from groundswell.store import open_store

from ..conftest import shared
from .conftest import FrameServer, free_port, post_uris
from .test_mastodon import LoopbackServer, _chunk

ROOT = Path(__file__).resolve().parents[2]
BOMB = 200 << 20  # what the bombs inflate to


def _bomb(declared: bool) -> bytes:
    """A zstd frame of a few KB that inflates to 200 MB (with or without its size in the frame header)."""
    cobj = zstandard.ZstdCompressor(level=3).compressobj(size=BOMB if declared else -1)
    zeros = bytes(1 << 20)
    out = [cobj.compress(b'{"did": "' + zeros[:-9])]
    out += [cobj.compress(zeros) for _ in range(BOMB // len(zeros) - 1)]
    out.append(cobj.flush())
    frame = b"".join(out)
    assert len(frame) < 20_000
    return frame


def _stored(db: Path) -> set[str]:
    with open_store(db, read_only=True) as s:
        return {r[0] for r in s.con.execute("SELECT id FROM posts WHERE NOT is_reference").fetchall()}


def _rejects(db: Path) -> list[str]:
    with open_store(db, read_only=True) as s:
        return [r[0] for r in s.con.execute("SELECT reason FROM rejects ORDER BY source_line").fetchall()]


def _run_cli(args: list[str], timeout: float = 120) -> tuple[int, str, str, int]:
    """``groundswell ARGS`` in a child process: exit status, stdout, stderr, and its peak RSS in MB."""
    code = ("import resource, sys\nfrom groundswell.cli import main\nrc = main(sys.argv[1:])\n"
            "print('maxrss', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, file=sys.stderr)\n"
            "sys.exit(rc)")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    p = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                       timeout=timeout)
    rss = int(p.stderr.rsplit("maxrss ", 1)[1].split()[0])
    return p.returncode, p.stdout, p.stderr.rsplit("maxrss ", 1)[0], rss


# --------------------------------------------------------------------------- decoding, cursors

def test_the_decoder_never_inflates_past_its_cap() -> None:
    dec = FrameDecoder(max_bytes=1 << 20)
    ok = zstandard.ZstdCompressor().compress(b'{"a": 1}')
    assert dec(ok) == b'{"a": 1}'
    for declared in (True, False):
        with pytest.raises(FrameTooLarge):
            dec(_bomb(declared))
    # a frame whose header lies about its size fails in zstd, and is not retried without a cap
    lying = bytearray(zstandard.ZstdCompressor().compress(b"x" * 5000))
    small = zstandard.ZstdCompressor().compress(b"x" * 10)
    with pytest.raises(zstandard.ZstdError):
        dec(bytes(small[:5]) + bytes(lying[5:]))
    # with a dictionary, a bomb is no better
    zdict = zstandard.train_dictionary(4096, [orjson.dumps({"did": f"did:plc:{i}", "n": i}) for i in range(400)])
    with pytest.raises(FrameTooLarge):
        FrameDecoder(zdict.as_bytes(), max_bytes=1 << 20)(_bomb(False))


def test_cursors_are_checked() -> None:
    now = 1_750_000_000_000_000
    assert check_cursor(now, now_us=now) == now and check_cursor("17", now_us=now) == 17
    for bad in (2**63 + 5, -1, "-5", "1e9", "12abc", " ", True, 1.5, None, now + 2 * 86_400_000_000, "9" * 25):
        with pytest.raises(ValueError):
            check_cursor(bad, now_us=now)  # type: ignore[arg-type]
    src = JetstreamSource("ws://127.0.0.1:1/subscribe")
    with pytest.raises(ValueError):
        src.start_from(2**63 + 5)


def test_a_bad_cursor_in_the_store_is_a_clear_error(db: Path) -> None:
    source = JetstreamSource("ws://127.0.0.1:1/subscribe", retries=0)
    with open_store(db) as s:
        s.write_batch({}, meta={source.cursor_key: str(2**63 + 5)})
    f = Follower(source, str(db))
    with pytest.raises(StoreError, match="not a valid time_us"):
        f.run()


def test_events_with_impossible_times_do_not_move_the_cursor(db: Path) -> None:
    rec = synthetic_events(60)
    frames = [bytes(p) for p in rec.payloads]
    for i, t in ((20, 2**63 + 5), (30, -1), (40, int(time.time() * 1e6) + 10 * 86_400_000_000)):
        ev = orjson.loads(frames[i])
        ev["time_us"] = t
        ev["commit"]["rkey"] += "x"
        frames.insert(i, orjson.dumps(ev))
    with FrameServer(lambda n, path: frames) as srv:
        f = Follower(JetstreamSource(srv.url), str(db), idle_exit=1.0)
        f.start()
        assert f.wait(60)
        f.stop()
    assert _stored(db) == post_uris(rec)
    assert _rejects(db) == ["time_us is not a valid cursor (negative, over 2^63 - 1 or more than a day ahead)"] * 3
    with open_store(db, read_only=True) as s:
        assert s.meta(f.source.cursor_key) == str(rec.times[-1])


def test_the_replay_server_refuses_an_out_of_range_cursor() -> None:
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    with ReplayServer(synthetic_events(10)) as srv:
        with connect(srv.url + f"?cursor={2**63 + 5}") as ws:
            with pytest.raises(ConnectionClosed) as e:
                ws.recv(timeout=5)
        assert e.value.rcvd is not None and e.value.rcvd.code == 1008
        with connect(srv.url + f"?cursor={2**63 - 1}") as ws:  # in range: nothing that late, nothing sent
            with pytest.raises(TimeoutError):
                ws.recv(timeout=0.5)


# --------------------------------------------------------------------------- bombs and oversized frames

def test_a_zstd_bomb_is_rejected_and_the_stream_goes_on(tmp_path: Path) -> None:
    rec = synthetic_events(300)
    cctx = zstandard.ZstdCompressor(level=3)
    good = [cctx.compress(bytes(p)) for p in rec.payloads]
    frames = good[:100] + [_bomb(True)] + good[100:200] + [_bomb(False)] + good[200:]
    db = tmp_path / "bomb.duckdb"
    with FrameServer(lambda n, path: frames) as srv:
        code, out, err, rss = _run_cli(["follow", "jetstream", "--url", srv.url, "--compress", "--db", str(db),
                                        "--idle-exit", "1", "--json", "-q"])
        assert len(srv.paths) == 1 and "compress=true" in srv.paths[0]
    assert code == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["oversized"] == 2 and summary["rejected"] == 2 and summary["disconnects"] == 0
    assert summary["stored_posts"] == 300
    assert _stored(db) == post_uris(rec)  # the posts after each bomb are stored
    reasons = _rejects(db)
    assert reasons == [f"zstd frame declares {BOMB:,} bytes, over the limit of {16 << 20:,}",
                       f"zstd frame inflates beyond the limit of {16 << 20:,} bytes"]
    # the same stream without the bombs: the peak memory must be the same, give or take
    with FrameServer(lambda n, path: good) as srv:
        code, out, err, base = _run_cli(["follow", "jetstream", "--url", srv.url, "--compress", "--db",
                                         str(tmp_path / "plain.duckdb"), "--idle-exit", "1", "--json", "-q"])
    assert code == 0, err
    print(f"follower peak RSS: {base} MB, with two 200 MB zstd bombs {rss} MB")
    assert rss - base < 50, f"peak RSS {rss} MB against {base} MB: a bomb was inflated"


def test_an_oversized_frame_is_skipped_on_the_same_connection(cli, db: Path) -> None:  # type: ignore[no-untyped-def]
    rec = synthetic_events(200)
    big = orjson.loads(rec.payloads[100])
    big["commit"]["record"]["text"] = "x" * (17 << 20)  # 17 MiB: over the default 16 MiB
    big["commit"]["rkey"] += "big"
    frames = [bytes(p) for p in rec.payloads[:100]] + [orjson.dumps(big)] + [bytes(p) for p in rec.payloads[100:]]
    with FrameServer(lambda n, path: frames) as srv:
        r = cli("follow", "jetstream", "--url", srv.url, "--db", db, "--idle-exit", "1", "--json", "-q")
        assert len(srv.paths) == 1, "the follower reconnected"
    assert r.code == 0, r.err
    summary = json.loads(r.out.strip().splitlines()[-1])
    assert summary["oversized"] == 1 and summary["rejected"] == 1 and summary["disconnects"] == 0
    assert _stored(db) == post_uris(rec)
    assert _rejects(db) == [f"frame of {len(frames[100]):,} bytes is over the limit of {16 << 20:,} "
                            "(--max-frame-bytes)"]


def _jetstream_like(rec: Any, poison_after: int, poison: bytes) -> Any:
    """Frames from the request's cursor on, as Jetstream serves them, with ``poison`` after event ``poison_after``."""
    def frames(n: int, path: str) -> list[bytes]:
        cursor = int((parse_qs(urlsplit(path).query).get("cursor") or ["0"])[0])
        out = []
        for i, (t, p) in enumerate(zip(rec.times, rec.payloads)):
            if t >= cursor:
                out.append(bytes(p))
            if i == poison_after and t >= cursor:
                out.append(poison)
        return out
    return frames


def test_a_frame_over_the_ceiling_stops_with_a_message(cli, db: Path) -> None:  # type: ignore[no-untyped-def]
    rec = synthetic_events(100)
    with FrameServer(_jetstream_like(rec, 49, b"[" + b"0," * 20_000 + b"0]")) as srv:  # 40 KB > 4 x 1 KiB
        r = cli("follow", "jetstream", "--url", srv.url, "--db", db, "--max-frame-bytes", "1024", "-q")
        tries = len(srv.paths)
    assert r.code == 1, r.err
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "--max-frame-bytes 4096" in lines[0]
    assert "3 times" in lines[0] and tries == 3
    assert _stored(db) == post_uris(_first(rec, 50))  # what came before it is stored


def _first(rec: Any, n: int) -> Any:
    out = Recording()
    for t, c, p in zip(rec.times[:n], rec.collections[:n], rec.payloads[:n]):
        out.add(t, c, p)
    return out


def test_a_frame_under_the_ceiling_with_a_low_limit_is_skipped(db: Path) -> None:
    rec = synthetic_events(100)
    with FrameServer(_jetstream_like(rec, 49, b"[" + b"0," * 1000 + b"0]")) as srv:  # 2 KB: over 1 KiB, under 4
        f = Follower(JetstreamSource(srv.url, max_frame_bytes=1024), str(db), idle_exit=1.0)
        f.start()
        assert f.wait(60)
        f.stop()
        assert len(srv.paths) == 1
    assert f.stats.oversized == 1 and _stored(db) == post_uris(rec)


# --------------------------------------------------------------------------- Mastodon: long lines

def _statuses() -> list[dict[str, Any]]:
    path = shared("mastodon-py/statuses.jsonl")
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def test_long_sse_lines_are_read_and_too_long_ones_skipped(db: Path) -> None:
    statuses = _statuses()[:12]
    padded = dict(statuses[3], content="<p>" + "long " * 30_000 + "</p>")  # a 150 KB line: over asyncio's 64 KiB
    too_long = dict(statuses[6], content="<p>" + "x" * (1 << 20) + "</p>")  # over the 256 KiB limit below
    events = [("update", orjson.dumps(s).decode()) for s in statuses]
    events[3] = ("update", orjson.dumps(padded).decode())
    events.insert(7, ("update", orjson.dumps(too_long).decode()))

    async def handler(w: asyncio.StreamWriter, n: int, head: list[str]) -> None:
        w.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
        if n == 1:
            for name, data in events:
                frame = f"event: {name}\ndata: {data}\n\n".encode()
                for i in range(0, len(frame), 50_000):  # chunks that cut the long lines
                    w.write(_chunk(frame[i:i + 50_000]))
                await w.drain()
        await asyncio.sleep(30)  # then quiet

    with LoopbackServer(handler) as srv:
        source = MastodonSource(f"http://127.0.0.1:{srv.port}", hashtag="hoot", backoff=(0.05, 0.2),
                                max_frame_bytes=256 << 10)
        f = Follower(source, str(db), idle_exit=1.0)
        f.start()
        assert f.wait(60)
        f.stop()
        assert len(srv.requests) == 1, "the stream reconnected"
    assert f.stats.oversized == 1 and f.stats.rejected == 1 and f.stats.disconnects == 0
    from groundswell.formats import mastodon as mastodon_format
    from groundswell.formats.base import ListSink

    expect = ListSink()
    for name, data in events[:7] + events[8:]:
        mastodon_format.parse({"event": name, "payload": data, "_server": source.server}, expect)
    with open_store(db, read_only=True) as s:
        got = {r[0] for r in s.con.execute("SELECT id FROM posts").fetchall()}
        long_text = s.con.execute("SELECT max(length(text)) FROM posts").fetchone()[0]  # type: ignore[index]
    assert got == {p["id"] for p in expect.posts} and len(got) >= 11
    assert long_text > 100_000  # the 150 KB status is stored whole
    assert _rejects(db) == [f"server-sent event line of {len(events[7][1].encode()) + 6:,} bytes is over the "
                            f"limit of {256 << 10:,} (--max-frame-bytes)"]


async def _collect(lines: list[bytes], limit: int) -> list[Any]:
    from groundswell.live.mastodon import split_lines

    async def pieces() -> Any:
        for x in lines:
            yield x
    return [x async for x in split_lines(pieces(), limit)]


def test_split_lines_never_holds_a_long_line() -> None:
    from groundswell.live.mastodon import TooLong

    got = asyncio.run(_collect([b"ab\ncd", b"e\n" + b"x" * 50, b"y" * 50 + b"\nok\n", b"tail"], 20))
    assert got == [b"ab\n", b"cde\n", TooLong(100, 20), b"ok\n", b"tail"]
    assert asyncio.run(_collect([b"x" * 21 + b"\n", b"x" * 20 + b"\n"], 20)) == [TooLong(21, 20), b"x" * 20 + b"\n"]


# --------------------------------------------------------------------------- an unreachable source

def test_a_refused_connection_gives_up_with_one_line(cli, db: Path) -> None:  # type: ignore[no-untyped-def]
    port = free_port()  # nothing listens there
    t0 = time.monotonic()
    r = cli("follow", "jetstream", "--url", f"ws://127.0.0.1:{port}/subscribe", "--db", db, "--retries", "3",
            "--idle-exit", "0.1")
    took = time.monotonic() - t0
    assert r.code == 1, r.err
    last = r.err.strip().splitlines()[-1]
    assert last.startswith("error: cannot reach ws://127.0.0.1:") and "connection refused" in last
    assert "4 attempts" in last and "--retries" in last
    assert "stopped (idle)" not in r.err and "reconnecting in" in r.err
    assert took < 10, took  # 0.1 + 0.2 + 0.4 s of backoff, with jitter


def test_an_unknown_host_gives_up(cli, db: Path) -> None:  # type: ignore[no-untyped-def]
    r = cli("follow", "mastodon", "--url", "https://no-such-host.invalid", "--db", db, "--retries", "1", "-q")
    assert r.code == 1
    import re

    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and re.fullmatch(
        r"error: cannot reach https://no-such-host\.invalid/api/v1/streaming/public: unknown host: the name does "
        r"not resolve \(2 attempts in \d+ s\); check the URL and the network, or give more --retries", lines[0])


def test_a_source_that_comes_back_is_not_given_up(db: Path) -> None:
    """Failures are counted in a row: a server that is down for a while and back is followed on."""
    rec = synthetic_events(400)
    port = free_port()
    source = JetstreamSource(f"ws://127.0.0.1:{port}/subscribe", backoff=(0.05, 0.1), retries=30)
    f = Follower(source, str(db), idle_exit=1.0)
    f.start()
    time.sleep(1.0)  # about ten failed attempts: under the budget
    with ReplayServer(rec, port=port):
        assert f.wait(60)
        stats = f.stop()
    assert stats.stopped_because == "idle" and _stored(db) == post_uris(rec)


# --------------------------------------------------------------------------- --limit is exact

@pytest.mark.parametrize("workers", ["0", "1"])
def test_limit_is_exact(cli, db: Path, workers: str) -> None:  # type: ignore[no-untyped-def]
    rec = synthetic_events(3000, repost_share=0.2)
    with ReplayServer(rec) as srv:
        r = cli("follow", "jetstream", "--url", srv.url, "--db", db, "--limit", "500", "--json", "-q",
                "--batch-events", "400", "--parse-workers", workers)
    assert r.code == 0, r.err
    summary = json.loads(r.out.strip().splitlines()[-1])
    assert summary["stored_posts"] == 500 and summary["stopped_because"] == "limit"
    got = _stored(db)
    assert got == post_uris(_first(rec, 500))
    with open_store(db, read_only=True) as s:
        assert s.meta(f"cursor:{srv.url}") == str(rec.times[499])  # resumes right after the last one taken


# --------------------------------------------------------------------------- no way in for a web page

def _http(port: int, head: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head + b"\r\n\r\n")
        out = b""
        while chunk := s.recv(65536):
            out += chunk
            if b"event: stats" in out:
                break
    return out


def test_the_status_endpoint_answers_only_loopback_names(db: Path) -> None:
    from groundswell.live.status import StatusServer

    with ReplayServer(synthetic_events(100)) as srv:
        f = Follower(JetstreamSource(srv.url), str(db))
        status = StatusServer(f, max_streams=1).start()
        f.start()
        try:
            p = status.port
            for host in (b"evil.example", b"rebind.test:%d" % p, b"localhost.evil.example", b"", b"a b"):
                out = _http(p, b"GET /stats HTTP/1.1\r\nHost: " + host)
                assert out.startswith(b"HTTP/1.1 400") and b"stored_posts" not in out, host
            assert _http(p, b"GET /stats HTTP/1.1").startswith(b"HTTP/1.1 400")  # no Host at all
            for host in (b"127.0.0.1:%d" % p, b"localhost:%d" % p, b"[::1]:%d" % p):
                assert b"stored_posts" in _http(p, b"GET /stats HTTP/1.1\r\nHost: " + host), host
            assert _http(p, b"POST /stats HTTP/1.1\r\nHost: 127.0.0.1").startswith(b"HTTP/1.1 405")
            many = b"GET /stats HTTP/1.1\r\nHost: 127.0.0.1" + b"\r\nX: y" * 150
            assert _http(p, many).startswith(b"HTTP/1.1 431")
            held = socket.create_connection(("127.0.0.1", p), timeout=10)
            held.sendall(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert held.recv(100).startswith(b"HTTP/1.1 200")
            out = _http(p, b"GET /events HTTP/1.1\r\nHost: 127.0.0.1")
            assert out.startswith(b"HTTP/1.1 503")
            held.close()
        finally:
            f.stop()
            status.stop()


def test_the_replay_server_refuses_web_pages() -> None:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    with ReplayServer(synthetic_events(5)) as srv:
        with pytest.raises(InvalidStatus) as e:
            connect(srv.url, origin="http://evil.example")  # type: ignore[arg-type]
        assert e.value.response.status_code == 403
        handshake = (b"GET /subscribe HTTP/1.1\r\nHost: rebind.test:%d\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     b"Sec-WebSocket-Version: 13" % srv.port)
        out = _http(srv.port, handshake)
        assert out.startswith(b"HTTP/1.1 400") and b"answers requests for" in out
        with connect(srv.url) as ws:  # a program: no Origin
            assert orjson.loads(ws.recv(timeout=5))["kind"] == "commit"
        assert srv.refused == 2
    with ReplayServer(synthetic_events(5), origins=["http://localhost:3000"]) as srv:
        with connect(srv.url, origin="http://localhost:3000") as ws:  # type: ignore[arg-type]
            assert ws.recv(timeout=5)


def test_library_errors_are_typed() -> None:
    assert issubclass(SourceError, Exception)
    with pytest.raises(ValueError):
        JetstreamSource("ws://127.0.0.1:1/subscribe", retries=-1)
    with pytest.raises(ValueError):
        MastodonSource("https://m.example", max_frame_bytes=10)


def test_a_background_follower_says_when_it_gives_up(db: Path) -> None:
    said: list[str] = []
    f = Follower(JetstreamSource(f"ws://127.0.0.1:{free_port()}/subscribe", backoff=(0.01, 0.02), retries=1),
                 str(db), on_status=said.append)
    f.start()
    assert f.wait(30)
    with pytest.raises(SourceError, match="connection refused"):
        f.stop()
    assert said[-1].startswith("stopped: cannot reach ws://127.0.0.1:")
