"""Ingest speed and memory against twarc-csv (issue: Foundation).

Builds a large twarc2 file with ../shared/tools/scale_twarc2.py (130 copies,
about 400 MB, ~143k tweets), then times, in one run on the same file:

- ``groundswell ingest`` into a fresh store (all tables, dedup), and
- ``twarc2 csv`` (twarc-csv 0.7.2, in its own venv with pandas < 3).

Prints tweets/s, the ratio and each side's peak memory (median of --repeat runs).

usage: python benchmarks/ingest.py [--copies 130] [--repeat 3] [--skip-peer]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from _measure import ROOT, SHARED, measure, median_of

PEER_VENV = ROOT / "benchmarks" / ".venv-twarc-csv"


def peer_twarc2() -> Path:
    exe = PEER_VENV / "bin" / "twarc2"
    if not exe.exists():
        print("installing twarc-csv 0.7.2 (with pandas < 3) into benchmarks/.venv-twarc-csv ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(PEER_VENV / "bin" / "pip"), "install", "-q", "twarc-csv==0.7.2", "pandas<3"], check=True)
    return exe


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--copies", type=int, default=130)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-peer", action="store_true")
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="gs-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    src = work / f"twarc2_x{args.copies}.jsonl"
    if not src.exists():
        subprocess.run([sys.executable, str(SHARED / "tools" / "scale_twarc2.py"), str(src), str(args.copies)],
                       check=True, stdout=subprocess.DEVNULL)
    tweets = 0
    with open(src, "rb") as f:
        import orjson

        for line in f:
            tweets += len(orjson.loads(line).get("data") or [])
    size_mb = src.stat().st_size / 1e6
    print(f"input: {src.name}, {size_mb:,.0f} MB, {tweets:,} tweets in data")

    gs = str(ROOT / ".venv" / "bin" / "groundswell")
    runs = []
    for i in range(args.repeat):
        db = work / f"bench{i}.duckdb"
        db.unlink(missing_ok=True)
        runs.append(measure([gs, "ingest", str(src), "--db", str(db), "-q"]))
        db.unlink(missing_ok=True)
    g = median_of(runs)
    print(f"groundswell ingest: {g['seconds']:.2f} s, {tweets / g['seconds']:,.0f} tweets/s, "
          f"{size_mb / g['seconds']:,.0f} MB/s, peak {g['peak_mb']:,.0f} MB, cpu {g['cpu_seconds']:.1f} s")
    if args.skip_peer:
        return 0
    twarc2 = peer_twarc2()
    pruns = []
    for _ in range(max(1, min(args.repeat, 2))):
        out = work / "peer.csv"
        # twarc2 asks for API keys unless one is set; csv needs none
        pruns.append(measure([str(twarc2), "csv", str(src), str(out)], env={"BEARER_TOKEN": "unused"}))
        out.unlink(missing_ok=True)
    p = median_of(pruns)
    print(f"twarc2 csv (twarc-csv 0.7.2): {p['seconds']:.2f} s, {tweets / p['seconds']:,.0f} tweets/s, "
          f"peak {p['peak_mb']:,.0f} MB, cpu {p['cpu_seconds']:.1f} s")
    print(f"ratio: groundswell is {p['seconds'] / g['seconds']:.1f}x faster; "
          f"peak memory {g['peak_mb']:,.0f} MB vs {p['peak_mb']:,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
