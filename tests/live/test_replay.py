"""The replay server speaks Jetstream: cursors, wantedCollections, zstd, other formats."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
import zstandard

from groundswell.formats import bluesky
from groundswell.formats.base import ListSink
from groundswell.live.jetstream import FrameDecoder, subscribe_url
from groundswell.live.replay import ReplayServer, load, synthetic_events

from ..conftest import shared

CORPUS = "bluesky-jetstream/corpus__expected_v1.jsonl"


async def _read(url: str, n: int | None, idle: float = 0.5) -> list[str | bytes]:
    from websockets.asyncio.client import connect

    out: list[str | bytes] = []
    async with connect(url, compression=None) as ws:
        while n is None or len(out) < n:
            try:
                out.append(await asyncio.wait_for(ws.recv(), idle))
            except asyncio.TimeoutError:
                break
    return out


def read(url: str, n: int | None = None) -> list[str | bytes]:
    return asyncio.run(_read(url, n))


def _lines(path: Any) -> list[Any]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def test_jetstream_file_served_as_is_with_filters_and_cursor() -> None:
    path = shared(CORPUS)
    events = _lines(path)
    rec = load([str(path)])
    assert len(rec) == len(events)
    with ReplayServer(rec) as srv:
        everything = read(subscribe_url(srv.url, collections=()))
        assert sorted(orjson.loads(m)["time_us"] for m in everything) == sorted(e["time_us"] for e in events)
        wanted = read(subscribe_url(srv.url))
        got = [orjson.loads(m) for m in wanted]
        colls = {e["commit"]["collection"] for e in got if e["kind"] == "commit"}
        assert colls <= {bluesky.POST, bluesky.REPOST}
        expect = [e for e in events if e["kind"] != "commit"
                  or e["commit"]["collection"] in (bluesky.POST, bluesky.REPOST)]
        assert len(got) == len(expect)
        times = sorted(e["time_us"] for e in events)
        cursor = times[len(times) // 2]
        resumed = [orjson.loads(m) for m in read(subscribe_url(srv.url, collections=(), cursor=cursor))]
        assert resumed and min(e["time_us"] for e in resumed) >= cursor
        assert len(resumed) == sum(1 for t in times if t >= cursor)


def test_compressed_frames_are_zstd_and_decode_to_the_same_events() -> None:
    rec = synthetic_events(50)
    with ReplayServer(rec) as srv:
        plain = read(subscribe_url(srv.url))
        packed = read(subscribe_url(srv.url, compress=True))
    assert all(isinstance(m, bytes) and m[:4] == b"\x28\xb5\x2f\xfd" for m in packed)
    dec = FrameDecoder()
    assert [orjson.loads(dec(m)) for m in packed] == [orjson.loads(m) for m in plain]
    # a client given a (different) dictionary still reads plain zstd frames
    zdict = zstandard.train_dictionary(4096, [bytes(p) for p in synthetic_events(400, seed=5).payloads])
    dec2 = FrameDecoder(zdict.as_bytes())
    assert orjson.loads(dec2(packed[0])) == orjson.loads(plain[0])


def test_rate_paces_the_stream() -> None:
    import time

    rec = synthetic_events(60)
    with ReplayServer(rec, rate=100) as srv:
        t0 = time.monotonic()
        got = read(subscribe_url(srv.url), n=60)
        took = time.monotonic() - t0
    assert len(got) == 60
    assert 0.5 < took < 3.0


def test_speed_follows_recorded_gaps() -> None:
    import time

    rec = synthetic_events(20, step_us=50_000)  # 1 s of recording
    with ReplayServer(rec, speed=2.0) as srv:
        t0 = time.monotonic()
        got = read(subscribe_url(srv.url), n=20)
        took = time.monotonic() - t0
    assert len(got) == 20
    assert 0.35 < took < 2.0


def test_other_formats_are_reencoded_as_jetstream() -> None:
    from groundswell.formats import twitter_v2

    path = shared("twarc-network/test-data/tweets.jsonl")
    rec = load([str(path)])
    pages = ListSink()
    for line in path.read_bytes().splitlines():
        twitter_v2.parse(orjson.loads(line), pages)
    full = {p["id"]: p for p in pages.posts if not p.get("is_reference")}
    originals = [(p["id"], p["kind"], p.get("hashtags") or [], p.get("reply_to_id"), p.get("quote_of_id"),
                  p.get("repost_of_id")) for p in full.values()]
    events = [orjson.loads(p) for p in rec.payloads]
    assert rec.times == sorted(rec.times) and len(set(rec.times)) == len(rec.times)
    sink = ListSink()
    for e in events:
        bluesky.parse(e, sink)
    assert not sink.rejects
    assert len(sink.posts) == len(originals)
    by_key = {p["id"].rsplit("/", 1)[1]: p for p in sink.posts}
    for pid, kind, tags, reply, quote, repost in originals:
        p = by_key[pid]
        # one rule on every platform (formats.base.post_kind): the kind survives re-encoding
        assert p["kind"] == kind
        if kind != "repost":
            assert p["hashtags"] == list(tags)
        assert (p.get("reply_to_id") is None) == (reply is None)
        assert (p.get("quote_of_id") is None) == (quote is None)
        if repost:
            assert p["repost_of_id"].endswith("/" + repost)
    assert any(e["kind"] == "identity" for e in events)


def test_unknown_path_and_bad_cursor_are_refused() -> None:
    from websockets.exceptions import ConnectionClosed

    rec = synthetic_events(5)
    with ReplayServer(rec) as srv:
        base = srv.url.rsplit("/", 1)[0]

        async def closed(url: str) -> int | None:
            from websockets.asyncio.client import connect

            async with connect(url) as ws:
                with pytest.raises(ConnectionClosed):
                    await asyncio.wait_for(ws.recv(), 5)
                return ws.close_code

        assert asyncio.run(closed(base + "/elsewhere")) == 1008
        assert asyncio.run(closed(srv.url + "?cursor=abc")) == 1008


def test_replay_cli_serves_files_and_stops_on_sigint(tmp_path: Any) -> None:
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    from .conftest import free_port, wait_port

    root = Path(__file__).resolve().parents[2]
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(root / "src"))
    p = subprocess.Popen([sys.executable, "-m", "groundswell.cli", "replay",
                          str(shared(CORPUS)), "--port", str(port)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        wait_port(port)
        got = read(subscribe_url(f"ws://127.0.0.1:{port}/subscribe", collections=()))
        assert len(got) == len(_lines(shared(CORPUS)))
    finally:
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
    assert p.returncode == 0
    assert f"ws://127.0.0.1:{port}/subscribe" in err and "events sent" in err
    assert out == ""


def test_replay_cli_usage_errors(cli: Any) -> None:
    r = cli("replay", "--port", "0")
    assert r.code == 2 and "--synthetic" in r.err
    r = cli("replay", "/nonexistent/file.jsonl", "--port", "0")
    assert r.code == 2 and "no such file" in r.err
