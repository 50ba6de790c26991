"""Kill the replay server 10 times during 100,000 posts: the store ends with exactly those posts."""

from __future__ import annotations

import bisect
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from groundswell.live.follower import Follower
from groundswell.live.jetstream import JetstreamSource
from groundswell.store import open_store

from .conftest import free_port, post_uris, synthetic_file, wait_port

ROOT = Path(__file__).resolve().parents[2]
N = 100_000
KILLS = 10


def _start_replay(path: Path, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    p = subprocess.Popen([sys.executable, "-m", "groundswell.cli", "replay", str(path), "--port", str(port), "-q"],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, 60)
    return p


@pytest.mark.slow
def test_kill_the_replay_server_ten_times(tmp_path: Path, db: Path) -> None:
    path, rec = synthetic_file(tmp_path / "stream.jsonl", N, seed=11, repost_share=0.2)
    expected = post_uris(rec)
    assert len(expected) == N
    port = free_port()
    server = _start_replay(path, port)
    rng = random.Random(7)
    moments = sorted(rng.uniform(0.03, 0.95) * N for _ in range(KILLS))
    # retries=None: this test is about resuming, and a restart under load can outlast 11 short backoffs
    source = JetstreamSource(f"ws://127.0.0.1:{port}/subscribe", backoff=(0.05, 0.5), retries=None)
    f = Follower(source, str(db), batch_events=2000, batch_seconds=0.1)
    f.start()
    kills = 0
    try:
        deadline = time.monotonic() + 150
        while kills < KILLS and time.monotonic() < deadline:
            received = bisect.bisect_right(rec.times, source.high_water or 0)
            # kill only a server the follower has connected to and read from
            if received >= moments[kills] and source.connects > kills:
                server.send_signal(signal.SIGKILL)
                server.wait(10)
                kills += 1
                time.sleep(rng.uniform(0.0, 0.3))
                server = _start_replay(path, port)
            time.sleep(0.01)
        last = rec.times[-1]
        while (f.stats.cursor or 0) < last and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stats = f.stop()
        server.send_signal(signal.SIGKILL)
        server.wait(10)
    assert kills == KILLS
    assert stats.cursor == rec.times[-1]
    assert stats.disconnects >= KILLS and stats.connects >= KILLS + 1
    with open_store(db, read_only=True) as s:
        total, distinct = s.con.execute("SELECT count(*), count(DISTINCT id) FROM posts").fetchone()  # type: ignore[misc]
        got = {r[0] for r in s.con.execute("SELECT id FROM posts").fetchall()}
        rejects = s.con.execute("SELECT count(*) FROM rejects").fetchone()[0]  # type: ignore[index]
    assert total == distinct == N
    assert got == expected
    assert rejects == 0
