"""Ingest speed and memory against twarc-csv (issue: Foundation).

Builds a large twarc2 file with ../shared/tools/scale_twarc2.py (130 copies,
about 400 MB, ~143k tweets), then times, in one run on the same file:

- ``groundswell ingest`` into a fresh store (all tables, dedup), and
- ``twarc2 csv`` (twarc-csv 0.7.2, in its own venv with pandas < 3).

Runs the two alternately (--repeat times each) and prints each run, then tweets/s,
the ratio and each side's peak memory (medians), with the load average at each run.

usage: python benchmarks/ingest.py [--copies 130] [--repeat 3] [--skip-peer] [--workdir DIR]
                                  [--peer-venv DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _measure import ROOT, measure, median_of, scaled_twarc2

PEER_VENV = ROOT / "benchmarks" / ".venv-twarc-csv"


def peer_twarc2(venv: Path = PEER_VENV) -> Path:
    exe = venv / "bin" / "twarc2"
    if not exe.exists():
        print(f"installing twarc-csv 0.7.2 (with pandas < 3) into {venv} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "twarc-csv==0.7.2", "pandas<3"], check=True)
    return exe


def groundswell_exe() -> str:
    """The project's own venv, else the ``groundswell`` beside the running Python (a worktree
    run with PYTHONPATH pointing at its sources)."""
    own = ROOT / ".venv" / "bin" / "groundswell"
    return str(own if own.exists() else Path(sys.executable).with_name("groundswell"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--copies", type=int, default=130)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-peer", action="store_true")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--peer-venv", default=str(PEER_VENV), help="where twarc-csv is (installed if missing)")
    args = ap.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="gs-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    src = scaled_twarc2(work, args.copies)
    tweets = 0
    with open(src, "rb") as f:
        import orjson

        for line in f:
            tweets += len(orjson.loads(line).get("data") or [])
    size_mb = src.stat().st_size / 1e6
    print(f"input: {src.name}, {size_mb:,.0f} MB, {tweets:,} tweets in data")

    gs = groundswell_exe()
    twarc2 = None if args.skip_peer else peer_twarc2(Path(args.peer_venv))
    runs, pruns = [], []
    # alternate the two tools, so that a change in the machine's load falls on both
    for i in range(args.repeat):
        db = work / f"bench{i}.duckdb"
        db.unlink(missing_ok=True)
        load = os.getloadavg()[0]
        r = measure([gs, "ingest", str(src), "--db", str(db), "-q"])
        r["store_mb"] = db.stat().st_size / 1e6
        runs.append(r)
        db.unlink(missing_ok=True)
        line = f"run {i + 1}: groundswell {r['seconds']:.2f} s (peak {r['peak_mb']:,.0f} MB)"
        if twarc2 is not None:
            out = work / "peer.csv"
            # twarc2 asks for API keys unless one is set; csv needs none
            p = measure([str(twarc2), "csv", str(src), str(out)], env={"BEARER_TOKEN": "unused"})
            out.unlink(missing_ok=True)
            pruns.append(p)
            line += (f", twarc2 csv {p['seconds']:.2f} s (peak {p['peak_mb']:,.0f} MB), "
                     f"ratio {p['seconds'] / r['seconds']:.1f}x")
        print(line + f"; load {load:.1f}", flush=True)
    g = median_of(runs)
    print(f"groundswell ingest: {g['seconds']:.2f} s, {tweets / g['seconds']:,.0f} tweets/s, "
          f"{size_mb / g['seconds']:,.0f} MB/s, peak {g['peak_mb']:,.0f} MB, cpu {g['cpu_seconds']:.1f} s, "
          f"store {statistics.median(r['store_mb'] for r in runs):,.0f} MB")
    if twarc2 is None:
        return 0
    p = median_of(pruns)
    print(f"twarc2 csv (twarc-csv 0.7.2): {p['seconds']:.2f} s, {tweets / p['seconds']:,.0f} tweets/s, "
          f"peak {p['peak_mb']:,.0f} MB, cpu {p['cpu_seconds']:.1f} s")
    ratios = sorted(q["seconds"] / r["seconds"] for q, r in zip(pruns, runs))
    print(f"ratio (medians): groundswell is {p['seconds'] / g['seconds']:.1f}x faster "
          f"(per run {', '.join(f'{x:.1f}x' for x in ratios)}); "
          f"peak memory {g['peak_mb']:,.0f} MB vs {p['peak_mb']:,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
