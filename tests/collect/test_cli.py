"""groundswell collect end to end: the CLI against stand-ins on real 127.0.0.1 HTTP servers."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from groundswell.collect import collect_bluesky
from groundswell.collect.cli import _Meter
from groundswell.collect.core import Progress
from groundswell.store import open_store

from .conftest import make_client, snapshot
from .standins import BlueskyStandIn, FakeClock, MastodonStandIn, fosstodon, mastodon_social, serve

ROOT = Path(__file__).resolve().parents[2]
SEARCH = "app.bsky.feed.searchPosts"


@pytest.fixture
def bluesky() -> Iterator[tuple[str, BlueskyStandIn]]:
    bs = BlueskyStandIn(FakeClock())
    base, stop = serve(bs)
    try:
        yield base, bs
    finally:
        stop()


def test_collect_bluesky_with_everything(cli: Any, db: Path, tmp_path: Path, bluesky: Any) -> None:
    base, bs = bluesky
    archive = tmp_path / "arch"
    r = cli("collect", "bluesky", "--hashtag", "#rstats", "--api", base, "--db", db, "--threads", "--reposts",
            "--quotes", "--profiles", "--followers", "2", "--archive", archive, "--json")
    assert r.code == 0, r.err
    d = json.loads(r.out)  # stdout holds the JSON summary and nothing else
    assert d["ok"] and d["movement_posts"] == 104 and d["queries"][0]["complete"]
    assert set(d["expansions"]) == {"threads", "reposts", "quotes", "profiles", "follows"}
    assert d["span"][0] < d["span"][1]
    err = r.err.splitlines()
    assert err[0].startswith("collected bluesky: 104 movement posts")
    assert f"#rstats from {base}: 104 movement posts in 4 pages" in r.err
    assert all(line.startswith(("collected", "  ")) for line in err)  # no progress off a terminal
    # the User-Agent names groundswell, and the requests went where they were told
    assert {m for m, _, _ in bs.log} >= {SEARCH, "app.bsky.feed.getPostThread", "app.bsky.feed.getRepostedBy",
                                         "app.bsky.feed.getQuotes", "app.bsky.actor.getProfiles",
                                         "app.bsky.graph.getFollows"}
    # info sees it; an ingest of the archive makes the same store
    info = cli("info", "--db", db, "--json").json()
    assert info["platforms"] == {"bluesky": info["posts"]}
    with open_store(db, read_only=True) as store:
        collected = snapshot(store)
    r = cli("ingest", archive, "--db", tmp_path / "i.duckdb")
    assert r.code == 0, r.err
    with open_store(tmp_path / "i.duckdb", read_only=True) as store:
        assert snapshot(store) == collected


def test_collect_mastodon_from_two_servers(cli: Any, db: Path) -> None:
    ms = MastodonStandIn(FakeClock(), {})
    a, stop_a = serve(ms)
    b, stop_b = serve(ms)
    try:
        ms.add(a.split("//")[1], mastodon_social())
        ms.add(b.split("//")[1], fosstodon())
        r = cli("collect", "mastodon", "--hashtag", "rstats", "--hashtag", "ichbinhanna", "--instance", a,
                "--instance", b, "--threads", "--reblogs", "--db", db, "--json")
    finally:
        stop_a()
        stop_b()
    assert r.code == 0, r.err
    d = json.loads(r.out)
    # 160 #IchBinHanna statuses on the first; the five #rstats statuses on both, stored once
    assert d["movement_posts"] == 165
    assert [(q["tag"], q["posts"]) for q in d["queries"]] == [("rstats", 5), ("ichbinhanna", 160), ("rstats", 0),
                                                              ("ichbinhanna", 0)]
    assert d["expansions"]["threads"]["requests"] > 0
    assert f"#rstats from {a}" in r.err and f"#rstats from {b}" in r.err


def test_usage_errors_are_one_line_and_exit_2(cli: Any, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cases = [
        (["collect", "mastodon", "--hashtag", "x", "--instance", "http://127.0.0.1:9", "--token",
          "127.0.0.1:9=SECRET"], "plain http"),
        (["collect", "mastodon", "--hashtag", "x", "--instance", "https://a.example", "--reposts"], "--reblogs"),
        (["collect", "bluesky", "--hashtag", "x", "--reblogs"], "--reposts"),
        (["collect", "bluesky", "--hashtag", "x", "--instance", "https://a.example"], "collect mastodon"),
        (["collect", "mastodon", "--hashtag", "x"], "--instance"),
        (["collect", "mastodon", "--hashtag", "x", "--instance", "https://a.example", "--token", "b.example=t"],
         "not an --instance"),
        (["collect", "bluesky", "--hashtag", "x", "--since", "last tuesday"], "2025-01-31"),
        (["collect", "bluesky", "--hashtag", "x", "--limit", "0"], "--limit"),
    ]
    for args, words in cases:
        r = cli(*args, "--db", db)
        assert r.code == 2, (args, r.err)
        lines = r.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], (args, r.err)
        assert "SECRET" not in r.err
    monkeypatch.setenv("MASTODON_TOKEN", "SECRET")
    r = cli("collect", "mastodon", "--hashtag", "x", "--instance", "https://a.example", "--instance",
            "https://b.example", "--db", db)
    assert r.code == 2 and "MASTODON_TOKEN" in r.err and "SECRET" not in r.err
    monkeypatch.delenv("MASTODON_TOKEN")
    monkeypatch.setenv("BSKY_HANDLE", "me.test")
    r = cli("collect", "bluesky", "--hashtag", "x", "--db", db)
    assert r.code == 2 and "BSKY_APP_PASSWORD" in r.err


def test_a_refused_session_exits_2_with_how_to_fix_it(cli: Any, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BSKY_HANDLE", "me.test")
    monkeypatch.setenv("BSKY_APP_PASSWORD", "nope")
    monkeypatch.setenv("BSKY_PDS", "http://127.0.0.1:9")
    r = cli("collect", "bluesky", "--hashtag", "x", "--db", db)
    assert r.code == 2 and "over plain http" in r.err and "nope" not in r.err


def test_progress_is_drawn_on_a_terminal_only() -> None:
    buf = io.StringIO()
    p = Progress("search", "bluesky #metoo", 12, 1200, 3400, 35.2, datetime(2025, 6, 1, 12, 0), datetime(2025, 7, 1))
    old, sys.stderr = sys.stderr, buf
    try:
        _Meter(False).page(p)
        assert buf.getvalue() == ""
        m = _Meter(True)
        m.page(p)
        m.wait("public.api.bsky.app: HTTP 429 (rate limited)", 7)
        m.end()
    finally:
        sys.stderr = old
    out = buf.getvalue()
    assert "12 pages, 1,200 movement posts, 3,400 posts read (35/s), reached 2025-06-01 12:00" in out
    assert "HTTP 429 (rate limited): waiting 7.0 s" in out


def test_ctrl_c_then_the_same_command_again(tmp_path: Path, bluesky: Any) -> None:
    """A real SIGINT while page 3 is in flight; the rerun ends with the store of an uninterrupted run."""
    base, bs = bluesky
    clock = FakeClock()
    with open_store(tmp_path / "whole.duckdb") as store:
        collect_bluesky(store, ["rstats"], client=make_client(BlueskyStandIn(clock), clock), api=base)
        whole = snapshot(store, drop=("metrics_observed_at",))

    arrived = threading.Event()

    def slow(request: Any) -> float:
        if "cursor=60" in str(request.url) and not arrived.is_set():
            arrived.set()  # page 3 is asked: hold it while the collector waits for it
            return 20.0
        return 0.0

    bs.slow = slow  # type: ignore[attr-defined]
    db = tmp_path / "s.duckdb"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    cmd = [sys.executable, "-m", "groundswell.cli", "collect", "bluesky", "--hashtag", "rstats", "--api", base,
           "--db", str(db)]
    def as_from_a_shell() -> None:
        # the run starts as a shell starts it: Ctrl-C neither ignored nor blocked, whatever the test
        # process (and the libraries loaded into it by earlier tests) did to its own signals
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})

    p = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                         preexec_fn=as_from_a_shell)
    assert arrived.wait(60), "page 3 was never asked"
    time.sleep(0.2)
    p.send_signal(signal.SIGINT)
    try:
        out, err = p.communicate(timeout=60)  # a loaded machine: the exit is what is checked, not its speed
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise
    assert p.returncode == 130, err
    assert "run the same command again" in err and "interrupted" in err
    with open_store(db, read_only=True) as store:
        assert store.sql("SELECT count(*) AS n FROM posts WHERE NOT is_reference").to_pylist()[0]["n"] == 60
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    with open_store(db, read_only=True) as store:
        assert snapshot(store, drop=("metrics_observed_at",)) == whole


def test_follow_starts_where_collect_ended(cli: Any, db: Path, bluesky: Any) -> None:
    from groundswell.collect.bluesky import TOPUP_MARGIN
    from groundswell.live.replay import ReplayServer, synthetic_events

    base, _bs = bluesky
    r = cli("collect", "bluesky", "--hashtag", "surge", "--api", base, "--db", db, "-q")
    assert r.code == 0, r.err
    with open_store(db, read_only=True) as store:
        top = datetime.fromisoformat(json.loads(store.meta("collect:bluesky:search:#surge::"))["top"][:-1])
    handoff_us = int((top - TOPUP_MARGIN - datetime(1970, 1, 1)).total_seconds() * 1e6)
    # a Jetstream recording from an hour before the hand-off to an hour after it
    rec = synthetic_events(2000, start_us=handoff_us - 3_600_000_000, step_us=3_600_000, repost_share=0.0)
    with ReplayServer(rec) as srv:
        r = cli("follow", "jetstream", "--url", srv.url, "--db", db, "--hashtag", "surge", "--after-collect",
                "--idle-exit", "1", "-q", "--json")
    assert r.code == 0, r.err
    with open_store(db, read_only=True) as store:
        rows = store.sql("SELECT min(created_at) AS first, count(*) AS n FROM posts WHERE platform = 'bluesky' "
                         "AND id LIKE 'at://did:plc:synthetic%'").to_pylist()[0]
    assert rows["n"] > 0
    # nothing from before the hand-off (less Jetstream's 2 s rewind): the follower started there
    assert (rows["first"] - datetime(1970, 1, 1)).total_seconds() * 1e6 >= handoff_us - 2_000_000
    r = cli("follow", "jetstream", "--url", "ws://127.0.0.1:9/subscribe", "--db", db, "--hashtag", "metoo",
            "--after-collect")
    assert r.code == 2 and "collect bluesky --hashtag metoo" in r.err
    r = cli("follow", "mastodon", "--url", "https://mastodon.example", "--db", db, "--hashtag", "x",
            "--after-collect")
    assert r.code == 2 and "collect mastodon" in r.err


def test_killed_then_the_same_command_again(tmp_path: Path, bluesky: Any) -> None:
    """SIGKILL while page 3 is in flight: what was committed stays, with its cursor; the rerun finishes."""
    base, bs = bluesky
    clock = FakeClock()
    with open_store(tmp_path / "whole.duckdb") as store:
        collect_bluesky(store, ["rstats"], client=make_client(BlueskyStandIn(clock), clock), api=base)
        whole = snapshot(store, drop=("metrics_observed_at",))
    arrived = threading.Event()

    def slow(request: Any) -> float:
        url = str(request.url)
        if "cursor=30" in url:
            return 1.5  # page 2 comes late: pages 1 and 2 are written together before page 3 is asked
        if "cursor=60" in url and not arrived.is_set():
            arrived.set()
            return 20.0
        return 0.0

    bs.slow = slow  # type: ignore[attr-defined]
    db = tmp_path / "s.duckdb"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    cmd = [sys.executable, "-m", "groundswell.cli", "collect", "bluesky", "--hashtag", "rstats", "--api", base,
           "--db", str(db)]
    p = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE)
    assert arrived.wait(60), "page 3 was never asked"
    time.sleep(0.3)
    p.kill()
    p.communicate(timeout=15)
    with open_store(db) as store:
        assert store.sql("SELECT count(*) AS n FROM posts WHERE NOT is_reference").to_pylist()[0]["n"] == 60
        assert json.loads(store.meta("collect:bluesky:search:#rstats::"))["cursor"] == "60"
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    with open_store(db, read_only=True) as store:
        assert snapshot(store, drop=("metrics_observed_at",)) == whole
