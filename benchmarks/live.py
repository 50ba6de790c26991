"""Benchmark: sustained rate from a local replay into the store, trending every second.

    .venv/bin/python benchmarks/live.py [--posts 300000] [--compress] [--batch-events 5000]

Starts ``groundswell replay --synthetic N`` on 127.0.0.1 in a child process
(as fast as possible), follows it into a fresh store in this process until
every post is committed, and prints: posts/s end to end (first frame to last
commit), commit latency (frame arrival -> its transaction committed: mean and
max), the event-time lag at the end, and CPU seconds of the follower and of
the replay server. Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _proc_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def _wait_port(port: int, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("replay server did not start")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=300_000)
    ap.add_argument("--compress", action="store_true")
    ap.add_argument("--batch-events", type=int, default=5_000)
    ap.add_argument("--batch-ms", type=float, default=200.0)
    ap.add_argument("--parse-workers", type=int, default=0, help="0: parse in the follower's thread; 1: a worker process")
    args = ap.parse_args()

    from groundswell.live.follower import Follower
    from groundswell.live.jetstream import JetstreamSource
    from groundswell.live.trending import Trending

    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    replay = subprocess.Popen([sys.executable, "-m", "groundswell.cli", "replay", "--synthetic", str(args.posts),
                               "--port", str(port), "-q"], env=env)
    try:
        _wait_port(port)
        replay_cpu0 = _proc_cpu(replay.pid)
        with tempfile.TemporaryDirectory() as tmp:
            first: dict[str, float] = {}
            alerts = []
            trending = Trending(k=10)

            def on_batch(st: object) -> None:
                first.setdefault("t", time.monotonic())

            source = JetstreamSource(f"ws://127.0.0.1:{port}/subscribe", compress=args.compress)
            follower = Follower(source, str(Path(tmp) / "bench.duckdb"), trending=trending,
                                trending_every=1.0, batch_events=args.batch_events,
                                batch_seconds=args.batch_ms / 1000, on_batch=on_batch,
                                on_alert=alerts.append, limit=args.posts, parse_workers=args.parse_workers)
            ru0 = resource.getrusage(resource.RUSAGE_SELF)
            t0 = time.monotonic()
            follower.start()
            follower.wait(600)
            t1 = time.monotonic()
            stats = follower.stop()
            ru1 = resource.getrusage(resource.RUSAGE_SELF)
            rc = resource.getrusage(resource.RUSAGE_CHILDREN)  # the parse worker, once it has ended
            replay_cpu = _proc_cpu(replay.pid) - replay_cpu0
            elapsed = t1 - t0
            d = stats.as_dict()
            out = {
                "posts": stats.stored_posts,
                "seconds": round(elapsed, 2),
                "posts_per_second": round(stats.stored_posts / elapsed),
                "batches": stats.batches,
                "commit_latency_mean_ms": round((d["latency_mean"] or 0) * 1000, 1),
                "commit_latency_max_ms": round(d["latency_max"] * 1000, 1),
                "store_write_seconds": d["write_seconds"],
                "queue_peak": stats.queue_peak,
                "follower_cpu_seconds": round((ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime), 2),
                "replay_cpu_seconds": round(replay_cpu, 2),
                "parse_worker_cpu_seconds": round(rc.ru_utime + rc.ru_stime, 2) if args.parse_workers else 0.0,
                "parse_workers": args.parse_workers,
                "trending_alerts": len(alerts),
                "trending_tracked": trending.tracked,
                "compress": args.compress,
                "cpus": os.cpu_count(),
            }
            out["follower_cpu_share"] = round(out["follower_cpu_seconds"] / elapsed, 2)
            print(json.dumps(out, indent=2))
    finally:
        replay.terminate()
        replay.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
