"""Benchmark: the whole ``analyze`` of a large simulated movement in the DuckDB store.

    .venv/bin/python benchmarks/analyze.py --posts 10000000 --format csv --workdir /tmp/gs-bench

Simulates (any format; the follower graph ``follows.csv`` is ingested too),
ingests (both skipped when the store already exists),
then times ``analyze`` and reports wall time, per-step timings and peak
memory (ru_maxrss of this process). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", default="/tmp/gs-bench")
    ap.add_argument("--format", default="twitter-v2")
    ap.add_argument("--memory-limit", default="3GB", help="DuckDB memory_limit during analyze")
    a = ap.parse_args()
    from groundswell.analysis import analyze
    from groundswell.ingest import ingest
    from groundswell.simulate import SimConfig, simulate
    from groundswell.store import open_store

    work = Path(a.workdir) / f"{a.posts}-{a.seed}-{a.format}"
    db = work / "store.duckdb"
    if not db.exists():
        t = time.perf_counter()
        res = simulate(SimConfig(posts=a.posts, seed=a.seed, coordinated=10, format=a.format), out=str(work / "sim"))
        print(f"simulate  {time.perf_counter() - t:8.1f} s", file=sys.stderr)
        t = time.perf_counter()
        with open_store(db) as s:
            ingest(s, [str(f) for f in res.files], progress=False)
        print(f"ingest    {time.perf_counter() - t:8.1f} s", file=sys.stderr)
    truth = json.loads((work / "sim" / "truth.json").read_text())
    with open_store(db, read_only=True) as s:
        s.con.execute(f"SET memory_limit = '{a.memory_limit}'")
        t = time.perf_counter()
        r = analyze(s, [truth["hashtag"]])
        wall = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tr, cm = r["trending"], r["people"]["communities"]
    print(json.dumps({"posts": a.posts, "format": a.format, "movement_posts": r["timeline"]["posts"], "analyze_seconds": round(wall, 1),
                      "peak_rss_mb": round(rss), "steps": r["timings"],
                      "takeoff": r["onset"]["takeoff"], "truth_takeoff": truth["takeoff"]["at"],
                      "ignition_ok": (r["onset"]["ignition"] or {}).get("post_id") == (truth["seed"] or {}).get("post_id"),
                      "first_top1": tr["first_top1"], "onset": truth["onset"],
                      "communities": {k: cm.get(k) for k in ("basis", "count", "modularity", "outside_seed_share")},
                      "repost_parents": r["cascades"]["reposts"]["parent_inference"],
                      "graph": r["people"]["graph"]},
                     indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
