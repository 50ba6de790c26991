"""Throughput of the DuckDB fast path for twarc2 pages (twitter_v2_fast.convert).

usage: python benchmarks/ingest_fast_profile.py FILE.jsonl [CHUNK_MB] [RUNS] [--steps] [--threads N]

Reads FILE (e.g. made by ../shared/tools/scale_twarc2.py /tmp/s13.jsonl 13) into
chunks of about CHUNK_MB of lines, runs ``convert`` over all chunks RUNS times and
prints the median wall time as data tweets/s and MB/s, plus peak RSS. With
``--steps`` it also prints the median time of each SQL step. DuckDB runs on
``--threads`` worker threads (default: the ingest's, ``FAST_SETTINGS``). Prints figures only.
"""

from __future__ import annotations

import resource
import statistics
import sys
import time

import duckdb
import orjson
import pyarrow as pa

from groundswell.formats import twitter_v2_fast as fast
from groundswell.ingest import FAST_SETTINGS


def chunks(path: str, chunk_bytes: int):
    texts, nums, size, n = [], [], 0, 0
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            texts.append(line.rstrip("\n"))
            nums.append(n)
            size += len(line)
            if size >= chunk_bytes:
                yield pa.table({"line": pa.array(nums, pa.int64()), "page": pa.array(nums, pa.int64()),
                                "text": texts})
                texts, nums, size = [], [], 0
    if texts:
        yield pa.table({"line": pa.array(nums, pa.int64()), "page": pa.array(nums, pa.int64()), "text": texts})


def main() -> None:
    path = sys.argv[1]
    argv = sys.argv[2:]
    threads = None
    if "--threads" in argv:
        k = argv.index("--threads")
        threads = int(argv[k + 1])
        del argv[k:k + 2]
    args = [a for a in argv if not a.startswith("--")]
    chunk_mb = float(args[0]) if args else 48
    runs = int(args[1]) if len(args) > 1 else 3
    steps = "--steps" in sys.argv
    parts = list(chunks(path, int(chunk_mb * 2**20)))
    nbytes = sum(sum(len(t.encode()) + 1 for t in p["text"].to_pylist()) for p in parts)
    tweets = 0
    for p in parts:
        for t in p["text"].to_pylist():
            d = orjson.loads(t).get("data")
            tweets += len(d) if isinstance(d, list) else 0
    con = duckdb.connect()
    con.execute(f"SET threads = {threads or FAST_SETTINGS['threads']}")
    times, fallback, rows = [], 0, 0
    fast.STEP_TIMES.clear()
    for _ in range(runs):
        t0 = time.perf_counter()
        fallback = rows = 0
        for p in parts:
            tables, fb = fast.convert(con, p, path)
            fallback += len(fb)
            rows += tables["posts"].num_rows
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    print(f"{path}: {len(parts)} chunk(s) of ~{chunk_mb:g} MB, {nbytes / 1e6:.1f} MB, {tweets} data tweets, "
          f"{rows} posts out, {fallback} fallback lines")
    print(f"convert: median {med:.3f} s of {runs} ({', '.join(f'{t:.3f}' for t in times)}): "
          f"{tweets / med:,.0f} data tweets/s, {nbytes / 1e6 / med:.0f} MB/s; "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if steps:
        for name, ts in fast.STEP_TIMES.items():
            print(f"  {name:12s} {statistics.median(ts) * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
