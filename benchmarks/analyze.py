"""Benchmark: the whole ``analyze`` of a large simulated movement in the DuckDB store.

    .venv/bin/python benchmarks/analyze.py --posts 10000000 --format csv --workdir /tmp/gs-bench
    .venv/bin/python benchmarks/analyze.py --db /path/store.duckdb --truth /path/sim/.truth/truth.json --runs 3

Simulates (any format; the follower graph ``follows.csv`` is ingested too),
ingests (both skipped when the store already exists; ``--db`` names an existing
store, opened read-only, with ``--truth`` its simulation's truth.json),
then times ``analyze`` and reports wall time, CPU seconds (this process, all
threads), per-step timings and peak memory (ru_maxrss of this process). With
``--runs N`` every run is a fresh process and the figures are the medians
(the machine is shared, so single timings are noisy). DuckDB spills to
``--temp-dir`` (never beside a read-only store). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", default="/tmp/gs-bench")
    ap.add_argument("--format", default="twitter-v2")
    ap.add_argument("--db", help="an existing store (read-only); skips simulate and ingest")
    ap.add_argument("--truth", help="with --db: the simulation's truth.json")
    ap.add_argument("--runs", type=int, default=1, help="runs, each in a fresh process; medians reported")
    ap.add_argument("--memory-limit", default="2GB",
                    help="DuckDB memory_limit during analyze (10M posts: with 3GB the process peaked at 4.0-4.2 GB, "
                         "with 2GB at 3.5 GB)")
    ap.add_argument("--threads", type=int, default=0, help="DuckDB threads (0: DuckDB's default)")
    ap.add_argument("--temp-dir", default=tempfile.gettempdir(), help="DuckDB spill directory")
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.db:
        db, truth_path = Path(a.db), Path(a.truth) if a.truth else None
    else:
        work = Path(a.workdir) / f"{a.posts}-{a.seed}-{a.format}"
        db, truth_path = work / "store.duckdb", work / "sim" / ".truth" / "truth.json"
        if not db.exists():
            _build(a, work, db)
    if a.runs > 1 and not a.one:
        runs = []
        for _ in range(a.runs):
            out = subprocess.run([sys.executable, __file__, *sys.argv[1:], "--one"], check=True,
                                 capture_output=True, text=True).stdout
            runs.append(json.loads(out))
        res = dict(runs[-1])
        for k in ("analyze_seconds", "cpu_seconds", "peak_rss_mb"):
            res[k] = statistics.median(r[k] for r in runs)
            res[k + "_runs"] = [r[k] for r in runs]
        res["steps"] = {k: statistics.median(r["steps"][k] for r in runs) for k in runs[-1]["steps"]}
        print(json.dumps(res, indent=1))
        return 0
    print(json.dumps(_run(a, db, truth_path), indent=None if a.one else 1))
    return 0


def _build(a: argparse.Namespace, work: Path, db: Path) -> None:
    from groundswell.ingest import ingest
    from groundswell.simulate import SimConfig, simulate
    from groundswell.store import open_store

    t = time.perf_counter()
    res = simulate(SimConfig(posts=a.posts, seed=a.seed, coordinated=10, format=a.format), out=str(work / "sim"))
    print(f"simulate  {time.perf_counter() - t:8.1f} s", file=sys.stderr)
    t = time.perf_counter()
    with open_store(db) as s:
        ingest(s, [str(f) for f in res.files], progress=False)
    print(f"ingest    {time.perf_counter() - t:8.1f} s", file=sys.stderr)


def _run(a: argparse.Namespace, db: Path, truth_path: Path | None) -> dict:
    from groundswell.analysis import analyze
    from groundswell.store import open_store

    truth = json.loads(truth_path.read_text()) if truth_path else None
    with open_store(db, read_only=True) as s:
        s.con.execute(f"SET memory_limit = '{a.memory_limit}'")
        s.con.execute(f"SET temp_directory = '{a.temp_dir}'")
        if a.threads:
            s.con.execute(f"SET threads = {a.threads}")
        t, c = time.perf_counter(), time.process_time()
        r = analyze(s, [truth["hashtag"] if truth else "metoo"])
        wall, cpu = time.perf_counter() - t, time.process_time() - c
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tr, cm = r["trending"], r["people"]["communities"]
    out = {"db": str(db), "movement_posts": r["timeline"]["posts"], "analyze_seconds": round(wall, 1),
           "cpu_seconds": round(cpu, 1), "peak_rss_mb": round(rss), "steps": r["timings"],
           "takeoff": r["onset"]["takeoff"], "first_top1": tr["first_top1"],
           "communities": {k: cm.get(k) for k in ("basis", "count", "modularity", "outside_seed_share")},
           "repost_parents": r["cascades"]["reposts"]["parent_inference"],
           "graph": r["people"]["graph"]}
    if truth:
        out.update({"truth_takeoff": truth["takeoff"]["at"], "onset": truth["onset"],
                    "ignition_ok": (r["onset"]["ignition"] or {}).get("post_id") == (truth["seed"] or {}).get("post_id")})
    return out


if __name__ == "__main__":
    sys.exit(main())
