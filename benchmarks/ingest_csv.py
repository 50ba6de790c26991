"""The CSV fast path on a large posts file (issue 18's second target: 10M posts in at most 60 s, < 1 GB).

    python benchmarks/ingest_csv.py [--posts 1000000] [--copies 10] [--repeat 2] [--workdir DIR]
                                    [--against SRC_DIR]

Makes once, in --workdir, ``posts.csv`` of --copies x --posts distinct posts: the simulator's movement
(seed 11, CSV, as ``benchmarks/scale.py`` makes it), copied in order, copy k with every post id (``id``
and the reply, repost, quote and conversation ids, all 18 digits starting 91 or 92) given the prefix
10+2k or 11+2k instead: distinct posts by the same accounts. That is the 10M-post file of the figures
in benchmarks/README.md. Then times ``groundswell ingest posts.csv`` into a fresh store, --repeat
times, alternating with the code in --against (a ``src`` directory of another checkout, run by
PYTHONPATH) when given. Prints one JSON line per run (wall and CPU seconds, peak MB, 1-minute load)
and the medians; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from _measure import ROOT, measure

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import groundswell_exe  # noqa: E402

_REFS = ("id", "reply_to_id", "repost_of_id", "quote_of_id", "conversation_id")


def build(work: Path, posts: int, copies: int) -> Path:
    """posts.csv of ``copies`` x ``posts`` distinct posts, made once in ``work``."""
    import duckdb

    out = work / f"posts_{posts}x{copies}.csv"
    if out.exists():
        return out
    sim = work / f"sim-{posts}"
    if not (sim / "posts.csv").exists():
        subprocess.run([groundswell_exe(), "simulate", "--posts", str(posts), "--seed", "11",
                        "--format", "csv", "--out", str(sim), "-q"], check=True, stdout=subprocess.DEVNULL)
    src = str(sim / "posts.csv").replace("'", "''")
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true")
    cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_csv('{src}', all_varchar = true)").fetchall()]
    parts = []
    for k in range(copies):
        sel = ", ".join(
            f"CASE WHEN \"{c}\" IS NULL THEN NULL WHEN left(\"{c}\", 2) = '91' "
            f"THEN '{10 + 2 * k}' || substr(\"{c}\", 3) ELSE '{11 + 2 * k}' || substr(\"{c}\", 3) END AS \"{c}\""
            if c in _REFS else f'"{c}"' for c in cols)
        part = work / f"part-{k}.csv"
        con.execute(f"COPY (SELECT {sel} FROM read_csv('{src}', all_varchar = true)) TO "
                    f"'{str(part).replace(chr(39), chr(39) * 2)}' (HEADER {str(k == 0).lower()})")
        parts.append(part)
    con.close()
    tmp = out.with_suffix(".tmp")
    with open(tmp, "wb") as w:
        for part in parts:
            with open(part, "rb") as r:
                shutil.copyfileobj(r, w, 16 << 20)
            part.unlink()
    tmp.rename(out)
    return out


def _load() -> float:
    return os.getloadavg()[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--posts", type=int, default=1_000_000, help="posts of the simulated movement copied")
    ap.add_argument("--copies", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--workdir", default=os.environ.get("TMPDIR", "/tmp") + "/groundswell-bench-csv")
    ap.add_argument("--against", help="a src directory of another checkout to time in turn (by PYTHONPATH)")
    args = ap.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    print(f"making the input in {work} (once) ...", file=sys.stderr)
    path = build(work, args.posts, args.copies)
    runs: dict[str, list[dict]] = {}
    variants = [("this", str(ROOT / "src"))] + ([("against", args.against)] if args.against else [])
    for r in range(args.repeat):
        for name, src in variants:
            db = work / f"store-{name}.duckdb"
            for p in (db, Path(f"{db}.wal")):
                p.unlink(missing_ok=True)
            load = _load()
            m = measure([groundswell_exe(), "ingest", str(path), "--db", str(db), "--quiet"],
                        env={"PYTHONPATH": src})
            row = {"code": name, "round": r + 1, "posts": args.posts * args.copies,
                   "seconds": round(m["seconds"], 2), "cpu_seconds": round(m["cpu_seconds"], 1),
                   "peak_mb": round(m["peak_mb"]), "load": round(load, 2)}
            runs.setdefault(name, []).append(row)
            print(json.dumps(row), flush=True)
    for name, rows in runs.items():
        med = statistics.median(x["seconds"] for x in rows)
        cpu = statistics.median(x["cpu_seconds"] for x in rows)
        print(f"{name}: median {med:.2f} s over {len(rows)} run(s), CPU {cpu:.1f} s, "
              f"peak {max(x['peak_mb'] for x in rows)} MB (the issue's target: 60 s, 1 GB)")
    if "against" in runs:
        a = statistics.median(x["seconds"] for x in runs["against"])
        t = statistics.median(x["seconds"] for x in runs["this"])
        print(f"this code against --against: {a / t:.2f}x")


if __name__ == "__main__":
    main()
