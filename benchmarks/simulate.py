"""Benchmark ``groundswell simulate``: posts per second and peak memory.

Runs each format at each size in a fresh subprocess (so peak RSS is that
run's own) and prints one line per run: wall seconds, posts/s, CPU seconds
(user + system: what the run costs when the machine is shared), posts per CPU
second, output size and peak RSS. With ``--repeat K`` each line is the median
of K runs. Figures only; nothing is asserted.

The scale target (issue #3): 1M posts in under 60 s, 10M at the same posts/s
(compare posts per CPU second when the machine is shared), with a peak RSS
that does not grow with the number of posts:

    .venv/bin/python benchmarks/simulate.py                 # 100k and 1M, every format
    .venv/bin/python benchmarks/simulate.py --sizes 100000 --formats bluesky
    .venv/bin/python benchmarks/simulate.py --sizes 1000000,10000000 --formats csv --dir /work/simbench
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile

_CHILD = """
import json, resource, sys, time
from groundswell.simulate import simulate
n, fmt, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
t = time.perf_counter()
r = simulate(posts=n, seed=1, format=fmt, out=out, coordinated=20)
el = time.perf_counter() - t
size = sum(p.stat().st_size for p in r.files)
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": el, "bytes": size, "cpu": ru.ru_utime + ru.ru_stime,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--formats", default="twitter-v2,twitter-v1,bluesky,mastodon,csv")
    ap.add_argument("--repeat", type=int, default=1, metavar="K", help="runs per line; medians are printed")
    ap.add_argument("--dir", default=None, help="where the runs write (a temporary directory inside it)")
    args = ap.parse_args()
    print(f"{'format':<11} {'posts':>10} {'seconds':>8} {'posts/s':>9} {'CPU s':>7} {'posts/CPU s':>11} "
          f"{'MB out':>8} {'peak RSS MB':>11}")
    for n in (int(x) for x in args.sizes.split(",")):
        for fmt in args.formats.split(","):
            runs = []
            for _ in range(args.repeat):
                with tempfile.TemporaryDirectory(dir=args.dir) as d:
                    res = subprocess.run([sys.executable, "-c", _CHILD, str(n), fmt, d],
                                         capture_output=True, text=True, check=False)
                if res.returncode != 0:
                    print(f"{fmt:<11} {n:>10} failed: {res.stderr.strip().splitlines()[-1:]}")
                    break
                runs.append(json.loads(res.stdout.strip().splitlines()[-1]))
            if len(runs) < args.repeat:
                continue
            r = {k: statistics.median(x[k] for x in runs) for k in runs[0]}
            print(f"{fmt:<11} {n:>10} {r['seconds']:>8.1f} {n / r['seconds']:>9,.0f} {r['cpu']:>7.1f} "
                  f"{n / r['cpu']:>11,.0f} {r['bytes'] / 1e6:>8.0f} {r['peak_rss_mb']:>11.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
