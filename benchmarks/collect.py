"""How fast `collect` stores what it fetches, into an empty store and into a big one.

usage: python benchmarks/collect.py [--posts 2000000] [--latency 0.15] [--repeat 3]

The Bluesky stand-in of the tests (real recorded #rstats posts, threads, reposters,
quotes) answers through httpx's MockTransport after ``--latency`` seconds (a
request's round trip); the collection runs with --threads --reposts --quotes
(90 requests) into a copy of a store already holding ``--posts`` posts, once
with a transaction per page (``flush_seconds=0``) and once with pages gathered
per transaction (the default). Prints each run's wall time and the medians.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from groundswell.collect import collect_bluesky  # noqa: E402
from groundswell.collect.http import Client  # noqa: E402
from groundswell.store import open_store  # noqa: E402
from tests.collect.standins import BlueskyStandIn, FakeClock  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=2_000_000, help="posts already in the store")
    ap.add_argument("--latency", type=float, default=0.15, help="seconds per request")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="gs-collect-bench-")
    base = os.path.join(work, "base.duckdb")
    with open_store(base) as s:
        s.con.execute(
            "INSERT INTO posts (platform, id, author_id, created_at, text, kind, hashtags, hashtags_raw, mentions, "
            "mention_ids, urls, media, is_reference, deleted, raw, source_file, source_line) "
            "SELECT 'bluesky', 'at://did:plc:x' || (i % 50000) || '/app.bsky.feed.post/' || i, "
            "'did:plc:x' || (i % 50000), TIMESTAMP '2025-01-01' + INTERVAL (i) SECOND, 'text ' || i, 'original', "
            "['t' || (i % 100)], ['t' || (i % 100)], [], [], [], [], false, false, '{\"a\":' || i || '}', 'f', i "
            "FROM range(?) r(i)", [args.posts])
        s.checkpoint()

    def slow(standin: BlueskyStandIn) -> object:
        def handler(request: httpx.Request) -> httpx.Response:
            time.sleep(args.latency)
            return standin(request)
        return handler

    times: dict[str, list[float]] = {"a transaction per page": [], "pages batched": []}
    try:
        for n in range(args.repeat):
            for mode in times:
                path = os.path.join(work, "run.duckdb")
                shutil.copy(base, path)
                with open_store(path) as store:
                    clock = FakeClock()
                    client = Client(transport=httpx.MockTransport(slow(BlueskyStandIn(clock))), clock=clock)
                    t0 = time.perf_counter()
                    s = collect_bluesky(store, ["rstats"], client=client, threads=True, reposts=True, quotes=True,
                                        flush_seconds=0 if mode.startswith("a transaction") else 1.0)
                    times[mode].append(time.perf_counter() - t0)
                    client.close()
                os.remove(path)
                print(f"run {n + 1}, {mode}: {times[mode][-1]:.1f} s ({s.requests} requests, "
                      f"{s.posts_read} posts read)", flush=True)
    finally:
        shutil.rmtree(work)
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in med.items():
        print(f"median, {k}: {v:.1f} s")
    print(f"ratio: batching is {med['a transaction per page'] / med['pages batched']:.2f}x faster "
          f"(store of {args.posts:,} posts, {args.latency * 1000:.0f} ms per request)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
