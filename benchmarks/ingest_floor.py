"""How fast could the twarc2 ingest be? The floors of its unavoidable steps, against twarc-csv
(issue 18's first target: 10x twarc-csv in the same run).

On the twarc2 file of ``benchmarks/ingest.py`` (130 copies of the real pages, about 400 MB), runs in
turn, ``--repeat`` times: ``twarc2 csv`` (twarc-csv 0.7.2), ``groundswell ingest`` into a fresh store,
and each step below alone, in a fresh process, timed inside it (wall and CPU seconds):

- ``parse, types seen``: every page parsed by DuckDB into the fields the store is made of, each
  leaf kept as its JSON text (``from_json`` with the fast path's own page schema, over
  ``read_json_objects``): what the fast path needs to tell a string id from a number, a count from
  a string, and so to store what the Python parser stores or hand the line to it. On one DuckDB
  thread and on two.
- ``parse, typed``: the same fields read with DuckDB types (``read_json`` with a typed schema), the
  fastest DuckDB reads the file; it cannot see a leaf's JSON type (it casts ``123`` and ``"123"``
  alike, even ``from_json_strict``), so a fast path on it would store what the Python parser
  refuses. For comparison only.
- ``write``: the rows the ingest stored (posts, accounts, pages, page_posts), inserted from memory
  into an empty store and checkpointed: the store's writes with nothing to merge.
- ``pages``: every page line compressed as the store keeps it (zstd, ``store.pages.compress``).

Then prints the 10x target (twarc-csv's median / 10) beside the floors' sum: the fast path must at
least parse with types seen, write and compress, so their CPU seconds, shared perfectly between
the two cores, bound the ingest's wall time from below (the rows statement, the merge, the line
checks and the bookkeeping come on top).

usage: python benchmarks/ingest_floor.py [--copies 130] [--repeat 3] [--workdir DIR] [--peer-venv DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _measure import ROOT, measure, scaled_twarc2
from ingest import PEER_VENV, groundswell_exe, peer_twarc2

_TYPED_TWEET = ("STRUCT(id VARCHAR, author_id VARCHAR, text VARCHAR, created_at VARCHAR, lang VARCHAR, "
                "source VARCHAR, possibly_sensitive BOOLEAN, in_reply_to_user_id VARCHAR, conversation_id VARCHAR, "
                "note_tweet STRUCT(text VARCHAR), "
                "entities STRUCT(hashtags STRUCT(tag VARCHAR)[], mentions STRUCT(username VARCHAR, id VARCHAR)[], "
                "urls STRUCT(expanded_url VARCHAR, url VARCHAR)[]), "
                "referenced_tweets STRUCT(type VARCHAR, id VARCHAR)[], "
                "attachments STRUCT(media_keys VARCHAR[]), geo STRUCT(place_id VARCHAR), "
                "public_metrics STRUCT(retweet_count BIGINT, reply_count BIGINT, like_count BIGINT, "
                "quote_count BIGINT))")
_TYPED_USER = ("STRUCT(id VARCHAR, username VARCHAR, name VARCHAR, verified BOOLEAN, verified_type VARCHAR, "
               "created_at VARCHAR, description VARCHAR, location VARCHAR, "
               "public_metrics STRUCT(followers_count BIGINT, following_count BIGINT, tweet_count BIGINT))")


def _step(name: str, src: str, store: str, threads: int) -> dict:
    """One step, timed here (this process is fresh)."""
    import duckdb

    sys.path.insert(0, str(ROOT / "src"))
    from groundswell.formats import twitter_v2_fast as fast
    from groundswell.store import pages

    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    size = "maximum_object_size = 16777216"
    t0, c0 = time.perf_counter(), time.process_time()
    if name == "parse-seen":
        schema = fast._PAGE.replace("'", "''")
        # one reference to the parsed page (each reference would parse it again): the pages parsed
        n = con.execute(f"SELECT count(*) FROM (SELECT from_json(json, '{schema}') AS p FROM read_json_objects(?, "
                        f"format = 'newline_delimited', {size})) WHERE p IS NOT NULL", [src]).fetchall()[0][0]
    elif name == "parse-typed":
        cols = (f"{{'data': '{_TYPED_TWEET}[]', 'includes': 'STRUCT(users {_TYPED_USER}[], "
                f"tweets {_TYPED_TWEET}[])', '__twarc': 'STRUCT(retrieved_at VARCHAR)'}}")
        n = con.execute(f"SELECT sum(len(data)) + sum(len(includes.tweets)) + sum(len(includes.users)) "
                        f"FROM read_json(?, format = 'newline_delimited', columns = {cols}, {size})",
                        [src]).fetchall()[0][0]
    elif name == "pages":
        with open(src, "rb") as f:
            lines = f.read().splitlines()
        t0, c0 = time.perf_counter(), time.process_time()  # the compression alone
        n = sum(len(b) for b in pages.compress(lines))
    elif name == "write":
        con.close()
        out = Path(store).with_name("floor-write.duckdb")
        out.unlink(missing_ok=True)
        con = duckdb.connect(str(out))
        con.execute(f"SET threads = {threads}")
        con.execute(f"ATTACH '{store}' AS s (READ_ONLY)")
        tables = ("posts", "accounts", "pages", "page_posts")
        for t in tables:
            con.execute(f"CREATE TABLE {t} AS SELECT * FROM s.{t} LIMIT 0")
            con.execute(f"CREATE TEMP TABLE m_{t} AS SELECT * FROM s.{t}")
        con.execute("CHECKPOINT")
        t0, c0 = time.perf_counter(), time.process_time()  # the inserts and their checkpoint alone
        for t in tables:
            con.execute(f"INSERT INTO {t} SELECT * FROM m_{t}")
        con.execute("CHECKPOINT")
        n = con.execute("SELECT count(*) FROM posts").fetchall()[0][0]
        con.close()
        out.unlink(missing_ok=True)
    else:
        raise SystemExit(f"no step {name}")
    return {"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0, "n": n}


def run_step(name: str, src: Path, store: Path, threads: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--step", name, "--src", str(src), "--store", str(store),
                          "--threads", str(threads)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


STEPS = [("parse-seen", 1), ("parse-seen", 2), ("parse-typed", 1), ("parse-typed", 2), ("write", 1), ("pages", 1)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--copies", type=int, default=130)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--peer-venv", default=str(PEER_VENV))
    ap.add_argument("--step", help=argparse.SUPPRESS)
    ap.add_argument("--src", help=argparse.SUPPRESS)
    ap.add_argument("--store", help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.step:
        print(json.dumps(_step(args.step, args.src, args.store, args.threads)))
        return 0
    work = Path(args.workdir or tempfile.mkdtemp(prefix="gs-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    src = scaled_twarc2(work, args.copies)
    print(f"input: {src.name}, {src.stat().st_size / 1e6:,.0f} MB", flush=True)
    gs, twarc2 = groundswell_exe(), peer_twarc2(Path(args.peer_venv))
    peer, ours = [], []
    steps: dict[tuple[str, int], list[dict]] = {s: [] for s in STEPS}
    store = work / "floor.duckdb"
    for i in range(args.repeat):
        load = os.getloadavg()[0]
        out = work / "peer.csv"
        p = measure([str(twarc2), "csv", str(src), str(out)], env={"BEARER_TOKEN": "unused"})
        out.unlink(missing_ok=True)
        peer.append(p)
        store.unlink(missing_ok=True)
        g = measure([gs, "ingest", str(src), "--db", str(store), "-q"])
        ours.append(g)
        line = [f"run {i + 1} (load {load:.1f}): twarc2 csv {p['seconds']:.2f} s, groundswell {g['seconds']:.2f} s "
                f"(CPU {g['cpu_seconds']:.2f} s)"]
        for name, threads in STEPS:
            r = run_step(name, src, store, threads)
            steps[(name, threads)].append(r)
            line.append(f"{name}/{threads}t {r['seconds']:.2f} s (CPU {r['cpu_seconds']:.2f})")
        print("; ".join(line), flush=True)
    store.unlink(missing_ok=True)

    def med(runs: list[dict], key: str = "seconds") -> float:
        return statistics.median(r[key] for r in runs)

    target = med(peer) / 10
    print(f"\ntwarc2 csv (twarc-csv 0.7.2): {med(peer):.2f} s; the 10x target: {target:.2f} s")
    print(f"groundswell ingest: {med(ours):.2f} s, CPU {med(ours, 'cpu_seconds'):.2f} s: "
          f"{med(peer) / med(ours):.1f}x twarc-csv")
    print("| step | threads | wall (s) | CPU (s) | wall / target |")
    print("| --- | --- | --- | --- | --- |")
    for (name, threads), runs in steps.items():
        print(f"| {name} | {threads} | {med(runs):.2f} | {med(runs, 'cpu_seconds'):.2f} | {med(runs) / target:.2f} |")
    need = [("parse-seen", 1), ("write", 1), ("pages", 1)]
    cpu = sum(med(steps[s], "cpu_seconds") for s in need)
    two = med(steps[("parse-seen", 2)]) + med(steps[("write", 1)]) + med(steps[("pages", 1)])
    print(f"\nthe floors the fast path cannot skip (parse with types seen, write, pages): {cpu:.2f} s of CPU;"
          f" shared perfectly between 2 cores {cpu / 2:.2f} s ({cpu / 2 / target:.2f}x the target); "
          f"one after another, the parse on 2 threads: {two:.2f} s ({two / target:.2f}x the target)")
    typed = [("parse-typed", 1), ("write", 1), ("pages", 1)]
    cpu_t = sum(med(steps[s], "cpu_seconds") for s in typed)
    print(f"with the typed parse instead (types not seen): {cpu_t:.2f} s of CPU, {cpu_t / 2:.2f} s on 2 cores "
          f"({cpu_t / 2 / target:.2f}x the target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
