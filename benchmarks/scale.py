"""DuckDB against Spark (local mode) on simulated movements, and igraph's one-machine limit.

    python benchmarks/scale.py run --posts 1000000 [--posts 10000000] [--master local[2]] [--work DIR]
                                   [--engines duckdb,spark]
    python benchmarks/scale.py graph --edges 1000000 --edges 5000000

``run`` simulates ``--posts`` posts as CSV (the cheapest input; posts.csv is cut
into 8 files of whole lines so that both engines read the same files and Spark
has units to spread), then for each engine, each step in a fresh process:
ingest, then ``analyze`` of the movement. It reports wall seconds, CPU seconds
and the peak resident memory of the whole process tree (driver, JVM, Python
workers), sampled from /proc every 0.2 s, and Spark's per-task ingest
throughput (posts per second per task) read from the ingest summary, which is
what the 1B projection in docs/scale.md is built on.

``graph`` times the one-machine graph steps (igraph PageRank and Leiden, as
``analysis/people.py`` runs them) on random heavy-tailed edge lists of the
given sizes, with peak memory.

Prints one JSON object per measurement on stdout; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and all its descendants, in MB."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                parts = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(parts[1]), []).append(int(d))
            rss[int(d)] = int(parts[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo.extend(children.get(p, []))
    return total / 2**20


def measure(cmd: list[str], env: dict[str, str] | None = None) -> dict:
    """Run ``cmd``; wall and CPU seconds, peak tree RSS (MB), and its stdout."""
    t = time.perf_counter()
    before = os.times()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                         env={**os.environ, **(env or {})})
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss_mb(p.pid))
            done.wait(0.2)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, err = p.communicate()
    done.set()
    th.join()
    after = os.times()
    if p.returncode != 0:
        text = err.decode(errors="replace")
        causes = [ln for ln in text.splitlines() if "Error" in ln or "Exception" in ln][:5]
        raise SystemExit(f"failed ({p.returncode}): {' '.join(cmd)}\n" + "\n".join(causes) + "\n" + text[-1500:])
    return {"seconds": round(time.perf_counter() - t, 2), "peak_mb": round(peak[0]),
            "cpu_seconds": round((after.children_user - before.children_user)
                                 + (after.children_system - before.children_system), 1),
            "stdout": out.decode()}


def _split_csv(path: Path, parts: int) -> None:
    """Cut a CSV into ``parts`` files of whole lines, each with the header, streaming
    (the simulator's records hold no line breaks)."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        header = f.readline()
        for i in range(parts):
            end = size * (i + 1) // parts
            with open(path.with_name(f"posts-{i:02d}.csv"), "wb") as out:
                out.write(header)
                while f.tell() < end or i == parts - 1:
                    line = f.readline()
                    if not line:
                        break
                    out.write(line)
    path.unlink()


def _spark_ingest(args: argparse.Namespace) -> None:
    from groundswell.spark_ingest import ingest_spark
    from groundswell.store.spark import session

    spark = session(args.master, {"spark.sql.shuffle.partitions": str(args.shuffle),
                                  "spark.driver.memory": os.environ.get("GS_SPARK_DRIVER_MEMORY", "4g")})
    t = time.perf_counter()
    s = ingest_spark(spark, [args.src], args.db)
    spark.stop()
    files = [f.as_dict() for f in s.files]
    print(json.dumps({"seconds": time.perf_counter() - t, "posts_read": s.total("posts_read"),
                      "task_seconds": sum(f["seconds"] for f in files), "files": len(files),
                      "errors": s.as_dict()["errors"]}))


def _spark_analyze(args: argparse.Namespace) -> None:
    from groundswell.analysis import analyze
    from groundswell.store.spark import open_spark_store

    with open_spark_store(args.db, master=args.master, conf={
            "spark.sql.shuffle.partitions": str(args.shuffle),
            "spark.driver.memory": os.environ.get("GS_SPARK_DRIVER_MEMORY", "4g")}) as s:
        r = analyze(s, [args.hashtag])
    print(json.dumps({"posts": r["timeline"]["posts"], "timings": r["timings"]}))


def _duck_analyze(args: argparse.Namespace) -> None:
    from groundswell.analysis import analyze
    from groundswell.store import open_store

    from groundswell.analysis.cli import ANALYZE_MEMORY_LIMIT

    with open_store(args.db, read_only=True) as s:
        s.con.execute(f"SET memory_limit = '{ANALYZE_MEMORY_LIMIT}'")  # as `groundswell analyze` does
        r = analyze(s, [args.hashtag])
    print(json.dumps({"posts": r["timeline"]["posts"], "timings": r["timings"]}))


def run(args: argparse.Namespace) -> None:
    py = sys.executable
    gs = str(Path(py).with_name("groundswell"))
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    for n in args.posts:
        sim = work / f"sim-{n}"
        if not (sim / ".truth" / "truth.json").exists():
            shutil.rmtree(sim, ignore_errors=True)
            m = measure([gs, "simulate", "--posts", str(n), "--seed", "11", "--format", "csv", "--out", str(sim), "-q"])
            _split_csv(sim / "posts.csv", 8)
            print(json.dumps({"posts": n, "step": "simulate", **{k: m[k] for k in ("seconds", "peak_mb")}}), flush=True)
        tag = json.loads((sim / ".truth" / "truth.json").read_text())["hashtag"]
        size = sum(f.stat().st_size for f in sim.iterdir() if f.suffix == ".csv")
        db = work / f"duck-{n}.duckdb"
        if "duckdb" in args.engines:
            db.unlink(missing_ok=True)
            m = measure([gs, "ingest", str(sim), "--db", str(db), "-q"])
            print(json.dumps({"posts": n, "engine": "duckdb", "step": "ingest", "input_mb": round(size / 2**20),
                              **{k: m[k] for k in ("seconds", "cpu_seconds", "peak_mb")}}), flush=True)
            m = measure([py, __file__, "_duck-analyze", str(db), tag])
            print(json.dumps({"posts": n, "engine": "duckdb", "step": "analyze", **{k: m[k] for k in (
                "seconds", "cpu_seconds", "peak_mb")}, **json.loads(m["stdout"])}), flush=True)
        for master in args.master if "spark" in args.engines else []:
            out = work / f"spark-{n}-{master.replace('[', '').replace(']', '').replace('*', 'all')}"
            shutil.rmtree(out, ignore_errors=True)
            m = measure([py, __file__, "_spark-ingest", str(sim), str(out), master, str(args.shuffle)])
            info = json.loads(m["stdout"])
            print(json.dumps({"posts": n, "engine": f"spark {master}", "step": "ingest",
                              **{k: m[k] for k in ("seconds", "cpu_seconds", "peak_mb")},
                              "parse_task_seconds": round(info["task_seconds"], 1),
                              "posts_per_task_second": round(info["posts_read"] / max(info["task_seconds"], 1e-9)),
                              "errors": info["errors"]}), flush=True)
            m = measure([py, __file__, "_spark-analyze", str(out), tag, master, str(args.shuffle)])
            print(json.dumps({"posts": n, "engine": f"spark {master}", "step": "analyze", **{k: m[k] for k in (
                "seconds", "cpu_seconds", "peak_mb")}, **json.loads(m["stdout"])}), flush=True)


def _graph_one(args: argparse.Namespace) -> None:
    import random

    import igraph as ig
    import numpy as np

    m = args.edges
    rng = np.random.default_rng(1)
    n = max(1000, m // 5)  # about 5 interactions per participant, as in the simulated movements
    src = (rng.pareto(1.2, m) * 10).astype(np.int64) % n
    dst = rng.integers(0, n, m)
    t = time.perf_counter()
    g = ig.Graph(n=n, edges=np.column_stack([src, dst]).tolist(), directed=True)
    g.es["weight"] = np.ones(m).tolist()
    build = time.perf_counter() - t
    t = time.perf_counter()
    g.pagerank(weights="weight")
    pr = time.perf_counter() - t
    u = g.as_undirected(combine_edges={"weight": "sum"})
    ig.set_random_number_generator(random.Random(0))
    t = time.perf_counter()
    u.community_leiden(objective_function="modularity", weights="weight", n_iterations=-1)
    leiden = time.perf_counter() - t
    print(json.dumps({"nodes": n, "edges": m, "build_s": round(build, 1), "pagerank_s": round(pr, 1),
                      "leiden_s": round(leiden, 1)}))


def graph(args: argparse.Namespace) -> None:
    for m in args.edges:
        r = measure([sys.executable, __file__, "_graph-one", str(m)])
        print(json.dumps({**json.loads(r["stdout"]), "seconds": r["seconds"], "peak_mb": r["peak_mb"]}), flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--posts", type=int, action="append", required=True)
    r.add_argument("--master", action="append", default=None, help="Spark masters (default local[2])")
    r.add_argument("--shuffle", type=int, default=8, help="spark.sql.shuffle.partitions")
    r.add_argument("--driver-memory", default="4g", help="spark.driver.memory (local mode: all of Spark)")
    r.add_argument("--work", default="/tmp/groundswell-scale")
    r.add_argument("--engines", default="duckdb,spark", help="comma-separated: duckdb, spark")
    g = sub.add_parser("graph")
    g.add_argument("--edges", type=int, action="append", required=True)
    for name, nargs in (("_spark-ingest", ("src", "db", "master", "shuffle")),
                        ("_spark-analyze", ("db", "hashtag", "master", "shuffle")),
                        ("_duck-analyze", ("db", "hashtag")), ("_graph-one", ("edges",))):
        s = sub.add_parser(name)
        for a in nargs:
            s.add_argument(a, type=int if a in ("shuffle", "edges") else str)
    args = p.parse_args()
    if args.cmd == "run":
        args.master = args.master or ["local[2]"]
        args.engines = set(args.engines.split(","))
        os.environ["GS_SPARK_DRIVER_MEMORY"] = args.driver_memory
        run(args)
    elif args.cmd == "graph":
        graph(args)
    elif args.cmd == "_spark-ingest":
        _spark_ingest(args)
    elif args.cmd == "_spark-analyze":
        _spark_analyze(args)
    elif args.cmd == "_duck-analyze":
        _duck_analyze(args)
    else:
        _graph_one(args)


if __name__ == "__main__":
    main()
