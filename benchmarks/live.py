"""Benchmark: sustained rate from a local replay into the store, trending every second.

    .venv/bin/python benchmarks/live.py [--posts 200000] [--rate N] [--compress] [--batch-events 5000]

Starts ``groundswell replay --synthetic N`` on 127.0.0.1 in a child process,
follows it into a fresh store in this process until every post is committed,
and prints JSON:

* ``posts_per_second``: end to end, from ``Follower.start`` to the last commit;
* ``commit_latency_*``: per batch, from its first frame's arrival to its
  commit (mean over batches, p95, max) -- how long a post takes to be visible;
* ``lag_*`` (with ``--rate N`` only): the replay paces its events at N per
  second, so each committed event has a due time (connection + index / N);
  the lag is the commit time minus that, sampled at every commit (p50, p95,
  max, and at the end). A follower that keeps up has a flat lag; one that
  does not has a lag that grows through the run. Without ``--rate`` the
  replay sends as fast as the follower reads, and there is no lag to speak
  of (the replay is always ahead: the rate is the figure);
* ``trending_gap_max_s``: the longest time the live board went without an
  update (the target is one update a second);
* CPU seconds: of this process (``follower_cpu_seconds``, split by thread:
  the event loop that reads and parses, the store writer, DuckDB's own
  threads), of the replay server, and of the parse worker (``--parse-workers 1``);
  and how long each thread was ready to run but waited for a core another
  process had (``follower_runqueue_wait_by_thread``: on a shared machine,
  where the wall-clock time went).

Figures only; nothing is asserted. Wall-clock figures depend on what else the
machine runs; CPU seconds are the steadier ones.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START_US, STEP_US = 1_700_000_000_000_000, 1_000  # synthetic_events' defaults: event i is at START + i * STEP


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _proc_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def _threads_cpu() -> dict[str, tuple[float, float]]:
    """(CPU seconds, seconds waiting for a CPU) of this process's live threads, by "name:tid".

    Python threads by their name, DuckDB's own threads as "other". The wait
    is the kernel's run-queue time (/proc/.../schedstat): how long a thread
    was ready to run but another process had the core.
    """
    names = {t.native_id: t.name for t in threading.enumerate()}
    out: dict[str, tuple[float, float]] = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/schedstat") as f:
                oncpu, waiting = f.read().split()[:2]
        except OSError:
            continue
        out[f"{names.get(int(tid), 'other')}:{tid}"] = (int(oncpu) / 1e9, int(waiting) / 1e9)
    return out


def _wait_port(port: int, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("replay server did not start")


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=200_000)
    ap.add_argument("--rate", type=float, default=None, help="replay pace (events/s); default: as fast as read")
    ap.add_argument("--compress", action="store_true")
    ap.add_argument("--batch-events", type=int, default=5_000)
    ap.add_argument("--batch-ms", type=float, default=200.0)
    ap.add_argument("--queue-events", type=int, default=None, help="the follower's bound on frames waiting (default: its own)")
    ap.add_argument("--parse-workers", type=int, default=0, help="0: parse in the follower's thread; 1: a worker process")
    args = ap.parse_args()

    from groundswell.live.follower import Follower
    from groundswell.live.jetstream import JetstreamSource
    from groundswell.live.trending import Trending

    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    cmd = [sys.executable, "-m", "groundswell.cli", "replay", "--synthetic", str(args.posts),
           "--port", str(port), "-q"]
    if args.rate:
        cmd += ["--rate", str(args.rate)]
    replay = subprocess.Popen(cmd, env=env)
    try:
        _wait_port(port)
        replay_cpu0 = _proc_cpu(replay.pid)
        with tempfile.TemporaryDirectory() as tmp:
            alerts = []
            trending = Trending(k=10)
            connected: list[float] = []
            latencies: list[float] = []
            lags: list[float] = []
            prev = {"sum": 0.0, "n": 0}

            def on_status(msg: str) -> None:
                if msg.startswith("connected") and not connected:
                    connected.append(time.monotonic())

            def on_batch(st: object) -> None:
                now = time.monotonic()
                s, n = st.latency_sum, st.latency_n  # type: ignore[attr-defined]
                if n > prev["n"]:
                    latencies.append((s - prev["sum"]) / (n - prev["n"]))
                prev["sum"], prev["n"] = s, n
                cursor = st.cursor  # type: ignore[attr-defined]
                if args.rate and connected and cursor is not None:
                    lags.append(now - (connected[0] + (cursor - START_US) / STEP_US / args.rate))

            source = JetstreamSource(f"ws://127.0.0.1:{port}/subscribe", compress=args.compress)
            follower = Follower(source, str(Path(tmp) / "bench.duckdb"), trending=trending,
                                trending_every=1.0, batch_events=args.batch_events,
                                batch_seconds=args.batch_ms / 1000, on_batch=on_batch, on_status=on_status,
                                on_alert=alerts.append, limit=args.posts, parse_workers=args.parse_workers,
                                **({"queue_events": args.queue_events} if args.queue_events else {}))
            # a sampler: the board's updates (gaps) and the threads' CPU (the last sample of each thread)
            board_times: list[float] = []
            threads: dict[str, tuple[float, float]] = {}
            done = threading.Event()

            def sample() -> None:
                board = follower.board
                while not done.is_set():
                    if follower.board is not board:
                        board = follower.board
                        board_times.append(time.monotonic())
                    threads.update(_threads_cpu())
                    done.wait(0.02)

            base = _threads_cpu()
            sampler = threading.Thread(target=sample, daemon=True)
            ru0 = resource.getrusage(resource.RUSAGE_SELF)
            t0 = time.monotonic()
            sampler.start()
            follower.start()
            follower.wait(900)
            t1 = time.monotonic()
            stats = follower.stop()
            done.set()
            sampler.join()
            ru1 = resource.getrusage(resource.RUSAGE_SELF)
            rc = resource.getrusage(resource.RUSAGE_CHILDREN)  # the parse worker, once it has ended
            replay_cpu = _proc_cpu(replay.pid) - replay_cpu0
            elapsed = t1 - t0
            d = stats.as_dict()
            by_role = {"loop": 0.0, "writer": 0.0, "other": 0.0}
            waited = dict(by_role)
            for key, (cpu, wait) in threads.items():
                cpu0, wait0 = base.get(key, (0.0, 0.0))
                role = ("loop" if key.startswith("groundswell-follower") else
                        "writer" if key.startswith("groundswell-store") else "other")
                by_role[role] += cpu - cpu0
                waited[role] += wait - wait0
            gaps = [b - a for a, b in zip(board_times, board_times[1:])]
            out = {
                "posts": stats.stored_posts,
                "seconds": round(elapsed, 2),
                "posts_per_second": round(stats.stored_posts / elapsed),
                "rate": args.rate,
                "batches": stats.batches,
                "commit_latency_mean_ms": round((d["latency_mean"] or 0) * 1000, 1),
                "commit_latency_p95_ms": round(_pct(latencies, 0.95) * 1000, 1),
                "commit_latency_max_ms": round(d["latency_max"] * 1000, 1),
                "lag_p50_s": round(_pct(lags, 0.5), 3) if lags else None,
                "lag_p95_s": round(_pct(lags, 0.95), 3) if lags else None,
                "lag_max_s": round(max(lags), 3) if lags else None,
                "lag_end_s": round(lags[-1], 3) if lags else None,
                "trending_updates": len(board_times),
                "trending_gap_max_s": round(max(gaps), 2) if gaps else None,
                "trending_gap_median_s": round(statistics.median(gaps), 2) if gaps else None,
                "store_write_seconds": d["write_seconds"],
                "queue_peak": stats.queue_peak,
                "follower_cpu_seconds": round((ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime), 2),
                "follower_cpu_by_thread": {k: round(v, 2) for k, v in by_role.items()},
                "follower_runqueue_wait_by_thread": {k: round(v, 2) for k, v in waited.items()},
                "replay_cpu_seconds": round(replay_cpu, 2),
                "parse_worker_cpu_seconds": round(rc.ru_utime + rc.ru_stime, 2) if args.parse_workers else 0.0,
                "parse_workers": args.parse_workers,
                "trending_alerts": len(alerts),
                "trending_tracked": trending.tracked,
                "compress": args.compress,
                "cpus": os.cpu_count(),
                "loadavg_1min": round(os.getloadavg()[0], 2),
            }
            out["follower_cpu_share"] = round(out["follower_cpu_seconds"] / elapsed, 2)
            out["follower_cpu_us_per_post"] = round(out["follower_cpu_seconds"] / max(stats.stored_posts, 1) * 1e6, 1)
            print(json.dumps(out, indent=2))
    finally:
        replay.terminate()
        replay.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
