"""Ingest into a store that already holds many posts, against the same ingest into an empty one.

Builds (once, in --workdir) a store holding --posts synthetic Twitter posts (19-digit ids in
order, as archives ingested one after another leave them) and a tenth as many accounts, by SQL
(no simulation: only the size of what a merge must look through matters here). Then times
``groundswell ingest`` of the twarc2 file (benchmarks/ingest.py's, 130 copies) into a fresh copy
of that store and into an empty store, alternately, --repeat times each; prints each run
(wall seconds, peak memory, load) and the medians' ratio.

usage: python benchmarks/ingest_big_store.py [--posts 5000000] [--repeat 2] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from _measure import measure, scaled_twarc2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import groundswell_exe  # noqa: E402


def build(path: Path, posts: int) -> None:
    from groundswell.store import open_store

    path.unlink(missing_ok=True)
    with open_store(str(path)) as st:
        st.con.execute(f"""
            INSERT INTO posts BY NAME SELECT 'twitter' AS platform, (1500000000000000000 + i * 97)::VARCHAR AS id,
              (100000 + i % {max(1, posts // 10)})::VARCHAR AS author_id,
              TIMESTAMP '2020-01-01' + to_seconds(i) AS created_at, 'synthetic ' || i AS text, 'en' AS lang,
              'original' AS kind, ['tag' || (i % 1000)] AS hashtags, ['tag' || (i % 1000)] AS hashtags_raw,
              []::VARCHAR[] AS mentions, []::VARCHAR[] AS mention_ids, []::VARCHAR[] AS urls,
              []::VARCHAR[] AS media, i % 10 AS repost_count, 0 AS reply_count, i % 7 AS like_count,
              0 AS quote_count, false AS is_reference, false AS deleted, 'synthetic.csv' AS source_file,
              i + 2 AS source_line
            FROM range({posts}) t(i)""")
        st.con.execute(f"""
            INSERT INTO accounts BY NAME SELECT 'twitter' AS platform, (100000 + i)::VARCHAR AS id,
              TIMESTAMP '2020-06-01' AS observed_at, 'user' || i AS handle, 'synthetic.csv' AS source_file,
              i + 2 AS source_line
            FROM range({max(1, posts // 10)}) t(i)""")
        st.con.execute("CHECKPOINT")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=5_000_000)
    ap.add_argument("--copies", type=int, default=130)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="gs-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    src = scaled_twarc2(work, args.copies)
    big = work / f"holding_{args.posts}.duckdb"
    if not big.exists():
        build(big, args.posts)
    gs = groundswell_exe()
    db = work / "into.duckdb"
    out: dict[str, list[dict]] = {"empty": [], "holding": []}
    for i in range(args.repeat):
        for kind in ("holding", "empty"):
            for p in (db, Path(str(db) + ".wal")):
                p.unlink(missing_ok=True)
            if kind == "holding":
                shutil.copy(big, db)
            load = os.getloadavg()[0]
            r = measure([gs, "ingest", str(src), "--db", str(db), "-q"])
            out[kind].append(r)
            print(f"run {i + 1}, into a store holding {args.posts if kind == 'holding' else 0:,} posts: "
                  f"{r['seconds']:.2f} s, peak {r['peak_mb']:,.0f} MB, cpu {r['cpu_seconds']:.1f} s; "
                  f"load {load:.1f}", flush=True)
    db.unlink(missing_ok=True)
    h = statistics.median(r["seconds"] for r in out["holding"])
    e = statistics.median(r["seconds"] for r in out["empty"])
    print(f"medians: into {args.posts:,} posts {h:.2f} s, into an empty store {e:.2f} s: {h / e:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
