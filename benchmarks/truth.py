"""The truth table: what groundswell says beside truth that comes from outside the project.

    python benchmarks/truth.py [--data ../shared/data]
                               [--sections peers,pheme,metoo,counts,mastodon,content,sim,sim2]
                               [--markdown] [--jobs N]

Every dataset in ../shared/data that carries independent truth is run through
the command line as a user would (ingest into a fresh store, then analyze,
network, hashtags, export ...), and one row per check is printed: the
dataset, what is checked, the truth, what groundswell says, and whether they
agree. Real data first; the simulator (the held-out seeds, see
``groundswell.accuracy`` and ``groundswell.simulate.shapes``: the first range, spent, and the
second, 300 shapes) comes last. Progress goes to stderr, the
table to stdout. A benchmark reports; the tests assert (tests/analysis/test_truth.py,
tests/analysis/test_pheme.py, tests/test_peers.py).

No post text is printed: rows hold counts, times and public post ids.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

Row = dict[str, Any]
ROWS: list[Row] = []


def row(dataset: str, what: str, truth: Any, ours: Any, ok: bool | None = None) -> None:
    if isinstance(ours, float) and ours.is_integer():
        ours = int(ours)
    ok = (truth == ours) if ok is None else ok
    ROWS.append({"dataset": dataset, "what": what, "truth": truth, "groundswell": ours, "ok": ok})
    print(f"  {'ok ' if ok else 'NO '} {dataset}: {what}: truth {truth}, groundswell {ours}", file=sys.stderr)


def gs(*args: Any) -> tuple[int, str, str]:
    """Run the groundswell CLI in-process: (exit code, stdout, stderr)."""
    from groundswell.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as e:  # argparse's usage errors
            code = int(e.code or 0) if not isinstance(e.code, str) else 2
    return code, out.getvalue(), err.getvalue()


@contextlib.contextmanager
def store(*paths: Path, extra: tuple[str, ...] = ()) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "s.duckdb"
        code, _, err = gs("ingest", *paths, "--db", db, "--quiet", *extra)
        if code != 0:
            print(f"  ingest of {[p.name for p in paths]} exited {code}: {err.strip().splitlines()[-1:]}",
                  file=sys.stderr)
        yield db


def analyze(db: Path, *args: str) -> dict[str, Any]:
    code, out, err = gs("analyze", "--db", db, "--json", *args)
    if code != 0:
        raise RuntimeError(err.strip())
    return json.loads(out)


# --------------------------------------------------------------------------- peers


def peers(data: Path) -> None:
    exp = json.loads((data / "twarc-csv/expected.json").read_text())
    cases = sorted(n for n, c in exp["cases"].items() if c.get("n_columns") == 84)
    agree = 0
    for case in cases:
        with store(data / f"twarc-csv/test-data/{case}.jsonl") as db, tempfile.TemporaryDirectory() as d:
            out = Path(d) / "o.csv"
            args = ["export", "--db", db, "--format", "csv", "--output", out, "--identify", "--no-redact"]
            if "--inline-referenced-tweets" in exp["cases"][case]["args"]:
                args.append("--include-referenced")
            gs(*args)
            with open(data / f"twarc-csv/expected-output-twarc-csv-0.7.2/{case}.csv", newline="") as f:
                want = {r["id"] for r in csv.DictReader(f)}
            with open(out, newline="") as f:
                got = {r["id"] for r in csv.DictReader(f)}
            agree += want == got
    row("twarc-csv test data", f"tweet ids exported, {len(cases)} files", f"{len(cases)} files as twarc-csv 0.7.2",
        f"{agree} files identical", agree == len(cases))

    net = json.loads((data / "twarc-network/expected.json").read_text())
    with store(data / "twarc-network/test-data/tweets.jsonl") as db:
        for chk in net["checks"]:
            args = list(chk["args"])
            fmt = args[args.index("--format") + 1] if "--format" in args else "json"
            with tempfile.TemporaryDirectory() as d:
                out = Path(d) / f"g.{fmt}"
                gs("network", "--db", db, *args, "--output", out, "--identify")
                if fmt == "csv":
                    with open(out, newline="") as f:
                        n = sum(1 for _ in csv.reader(f)) - 1
                    row("twarc-network", f"edge list rows {' '.join(args)}", chk["csv_rows"], n)
                    continue
                g = json.loads(out.read_text())
                for k in ("nodes", "links"):
                    if k in chk:
                        row("twarc-network", f"{k} {' '.join(args)}", chk[k], len(g[k]))

    hx = json.loads((data / "twarc-hashtags/expected.json").read_text())
    with store(data / "twarc-hashtags/test-data/tweets1.jsonl") as db:
        code, out, _ = gs("hashtags", "--db", db, "--twarc-hashtags")
        want = [tuple(x.split(",")) for x in hx["test_basic"]["expected_output"].strip().splitlines()[1:]]
        got = [tuple(x.split(",")[:2]) for x in out.strip().splitlines()[1:]]
        row("twarc-hashtags", "hashtag counts of tweets1 (tweets in data[])", f"{len(want)} tags",
            f"{sum(1 for w in want if w in got)} of them equal", all(w in got for w in want))

    sfm = data / "sfm-twitter-harvester"
    with store(sfm / "v1.1_search_gelman_2015.jsonl", sfm / "v1.1_user_timeline_2016.jsonl") as db:
        from groundswell.store import open_store

        with open_store(db, read_only=True) as s:
            n = s.con.execute("SELECT count(*) FROM posts WHERE NOT is_reference").fetchone()[0]
            u = s.con.execute("SELECT count(*) FROM posts WHERE NOT is_reference AND author_id = '481186914'"
                              ).fetchone()[0]
        row("sfm-twitter-harvester", "v1.1 tweets in the two WARC extracts", 1473, n)
        row("sfm-twitter-harvester", "of them by user 481186914", 244, u)


# --------------------------------------------------------------------------- PHEME reply threads


def pheme(data: Path) -> None:
    """Each thread's size and depth (expected.json, from the thread folders) against the reply trees
    groundswell rebuilds from one reply per thread (the conversation walk climbs to the root and comes
    back down to every tweet), and, through the CLI, the threads the event's main hashtag touches."""
    from collections import Counter

    import pyarrow as pa

    from groundswell.analysis import sql
    from groundswell.analysis.cascades import REPLY_EDGES_SQL, tree_metrics
    from groundswell.analysis.conversations import conversation
    from groundswell.analysis.scope import _COLUMNS, Scope
    from groundswell.store import open_store

    exp = json.loads((data / "rumoureval-pheme/expected.json").read_text())
    for event, e in exp["events"].items():
        threads = e["thread"]
        seeds = []
        for root in threads:
            folder = data / f"rumoureval-pheme/{event}/{root}/replies"
            replies = sorted((p.stem for p in folder.glob("*.json")), key=int) if folder.exists() else []
            seeds.append(replies[-1] if replies else root)
        tags: dict[str, set[str]] = {}
        parents: dict[str, str | None] = {}
        for line in (data / f"rumoureval-pheme/{event}.v1.jsonl").read_text(encoding="utf-8").splitlines():
            t = json.loads(line)
            tags[t["id_str"]] = {h["text"].casefold() for h in t.get("entities", {}).get("hashtags", [])}
            parents[t["id_str"]] = t.get("in_reply_to_status_id_str")
        with store(data / f"rumoureval-pheme/{event}.v1.jsonl") as db:
            with open_store(db, read_only=True) as s:
                sql.materialize(s, "gs_seeds", f"SELECT {_COLUMNS} FROM posts p WHERE p.id IN {{ids}}",
                                ids=sql.Raw(sql.in_list(seeds)))
                conv = conversation(s, Scope(["gs-seeds"], None, None, "hour", sql.Raw("gs_seeds")))
                edges = sql.run(s, REPLY_EDGES_SQL, conv=conv.table).to_pylist()
            tm = tree_metrics(pa.array([x["child"] for x in edges], pa.string()),
                              pa.array([x["parent"] for x in edges], pa.string()))
            got = {tm["nodes"][int(r)].as_py(): (int(n), int(d)) for r, n, d in zip(tm["root"], tm["size"], tm["depth"])}
            n = len(threads)
            size = sum(got.get(r, (1, 0))[0] == t["tweets"] for r, t in threads.items())
            depth = sum(got.get(r, (1, 0))[1] == t["max_depth"] for r, t in threads.items())
            row(f"PHEME {event}", "threads rebuilt with their true size", n, size)
            row(f"PHEME {event}", "threads rebuilt with their true depth", n, depth)
            counts = Counter(x for r in threads for x in tags.get(r, ()))
            tag = min(counts, key=lambda x: (-counts[x], x))

            def thread_of(i: str) -> str:
                while parents.get(i):
                    i = parents[i]  # type: ignore[assignment]
                return i

            touched = {thread_of(i) for i, ts in tags.items() if tag in ts}
            trees = [r for r in touched if threads.get(r, {}).get("tweets", 1) > 1]
            d = analyze(db, "--hashtag", tag, "--identify")
            rt = d["cascades"]["replies"]
            row(f"PHEME {event}", f"reply trees of #{tag} (threads it touches, replies tagged or not)", len(trees),
                rt["cascades"])
            row(f"PHEME {event}", f"deepest #{tag} thread", max(threads[r]["max_depth"] for r in trees),
                rt["depth"]["max"])


# --------------------------------------------------------------------------- the real #MeToo day

CALL = "919659438700670976"  # Alyssa Milano's call to action, 2017-10-15 20:21 UTC (SOURCES.md)


def metoo(data: Path) -> None:
    day = data / "metoo-getoldtweets-2017/tweets_2017-10-15_all.csv"
    tail = data / "metoo-getoldtweets-2017/tweets_sample_100_per_day.csv"
    with store(day) as db:
        for interval in ("minute", "hour", "day"):
            d = analyze(db, "--hashtag", "metoo", "--identify", "--interval", interval)
            ig = d["onset"]["ignition"]
            row("#MeToo 2017-10-15 scrape", f"takeoff hour (--interval {interval})", "2017-10-15T20:00:00Z",
                d["onset"]["takeoff"])
            row("#MeToo 2017-10-15 scrape", f"ignition post (--interval {interval})", CALL,
                ig.get("post_id") if ig.get("status") == "determined" else f"undetermined ({ig.get('reason')})")
            if interval == "hour":
                row("#MeToo 2017-10-15 scrape", "accounts linking to the call in the window (evidence)", "> 0",
                    ig.get("evidence", {}).get("links"), bool(ig.get("evidence", {}).get("links")))
                row("#MeToo 2017-10-15 scrape", "trending rank claimed in a #metoo search", "none",
                    d["trending"].get("first_top1") or "none")
                row("#MeToo 2017-10-15 scrape", "peak flagged at the end of collection", True,
                    d["onset"]["peak"]["at_collection_edge"])
    with store(day, tail) as db:
        d = analyze(db, "--hashtag", "metoo", "--identify")
        row("#MeToo day + 100/day sample", "takeoff hour (the day alone says 20:00)", "2017-10-15T20:00:00Z",
            d["onset"]["takeoff"])
        row("#MeToo day + 100/day sample", "ignition post", CALL, d["onset"]["ignition"].get("post_id"))


# --------------------------------------------------------------------------- platform counts

PEAK_DAYS = ("2017-10-16", "2017-10-17", "2017-12-06", "2018-01-08", "2018-03-09")


def counts(data: Path) -> None:
    src = data / "metoo-daily-volume-dataverse/number_of_tweets_in_time.csv"
    with open(src, encoding="utf-8") as f:
        truth = {r["created_at"][:10]: int(r["id"]) for r in csv.DictReader(f)}
    with tempfile.TemporaryDirectory() as d:
        pages = Path(d) / "counts.jsonl"
        days = sorted(truth)
        with open(pages, "w") as f:
            for i in range(0, len(days), 31):
                part = days[i:i + 31]
                f.write(json.dumps({"data": [
                    {"start": f"{k}T00:00:00.000Z",
                     "end": f"{(date.fromisoformat(k) + timedelta(days=1)).isoformat()}T00:00:00.000Z",
                     "tweet_count": truth[k]} for k in part],
                    "__twarc": {"url": "https://api.twitter.com/2/tweets/counts/all?query=%23metoo&granularity=day"}})
                    + "\n")
        with store(pages) as db:
            r = analyze(db, "--hashtag", "metoo")
    levels = {x["time"][:10]: x["burst_level"] for x in r["timeline"]["rows"]}
    row("#MeToo daily volume (Dataverse)", "peak days named by the source marked as bursts", len(PEAK_DAYS),
        sum(levels.get(k, 0) >= 1 for k in PEAK_DAYS))
    nz = sorted(v for v in truth.values() if v)
    quiet = [k for k, v in truth.items() if 0 < v < nz[len(nz) // 2] / 2]
    row("#MeToo daily volume (Dataverse)", "quiet days (< half the median) not marked", len(quiet),
        sum(levels.get(k, 1) == 0 for k in quiet))
    row("#MeToo daily volume (Dataverse)", "busiest day", max(truth, key=lambda k: truth[k]), r["timeline"]["peak"][:10])


# --------------------------------------------------------------------------- Mastodon threads


def mastodon(data: Path) -> None:
    idx = json.loads((data / "mastodon-api-rtoot/index.json").read_text())
    ctx = idx["get_context_default.0.json"]["counts"]
    body = json.loads((data / "mastodon-api-rtoot/get_context_default.0.json").read_text())["body"]
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "context.json"
        p.write_text(json.dumps(body["descendants"]))
        with store(p) as db:
            from groundswell.store import open_store

            with open_store(db, read_only=True) as s:
                n = s.con.execute("SELECT count(*) FROM posts WHERE kind = 'reply'").fetchone()[0]
        row("Mastodon context (rtoot)", "replies in a real thread", ctx["replies"], n)


def content(data: Path) -> None:
    """The shipped fast model's recall and precision on the held-out quarter of the real labelled sets
    (measured when it was trained by scripts/train_content.py, kept in the model file), beside the
    always-positive baseline. The truth is the human labels (MeTooMA; the #MeToo anti-network's story
    judgements and the #WhyIDidntReport testimony)."""
    from groundswell.analysis.content import verdict
    from groundswell.content.classify import load_model

    ev = load_model("fast").meta.get("evaluation", {})
    for label in ("disclosure", "metooma_support", "metooma_oppose", "allegation", "refutation", "directed_hate"):
        e = ev.get(label) or {}
        if not e.get("measured"):
            row("labelled sets (held out)", f"{label}: not measured", "-", e.get("why", "-"), True)
            continue
        base = e.get("always_positive") or {}
        v = verdict(e)
        # agrees: the model beats answering yes; the verdict says whether analyze and the report present it
        row("labelled sets (held out)", f"{label} recall / precision on {e['texts']:,} texts ({e['positives']} positive)",
            f"always-positive F1 {base.get('f1')}",
            f"{100 * e['recall']:.0f}% / {100 * e['precision']:.0f}% (F1 {e['f1']}), says yes to "
            f"{100 * e['predicted'] / e['texts']:.0f}%; "
            + ("a finding" if v["finding"] else f"{v['status']}: flagged in analyze, left out of the report"),
            e["f1"] > base.get("f1", 0))


JOBS = 1


def _held_out(name: str, seeds: range) -> None:
    from groundswell.accuracy import INTERVALS, evaluate, summarize

    s = summarize(evaluate(seeds, INTERVALS, jobs=JOBS), INTERVALS)
    n = len(seeds)
    where = f"simulator, {name} shapes {seeds.start}-{seeds.stop - 1}"
    for iv in INTERVALS:
        r = s["intervals"][iv]
        row(where, f"ignition right (--interval {iv})", f">= 95% of {n}",
            f"{r['ignition_right']} of {r['n']}", r["ignition_share"] >= 0.95)
        row(where, f"takeoff within 1 h (--interval {iv})", f"{n} of {n}",
            f"{r['takeoff_within_1h']} of {r['n']}", r["takeoff_within_1h"] == r["n"])


def sim(data: Path) -> None:
    """The simulator second: the 100 shapes of the first held-out range (spent: seen, and the detector
    changed after it), at every interval (groundswell.accuracy)."""
    from groundswell.simulate.shapes import HELD_OUT_SEEDS

    _held_out("first held-out (spent)", HELD_OUT_SEEDS)


def sim2(data: Path) -> None:
    """The 300 shapes of the second held-out range, declared before it was scored, at every interval."""
    from groundswell.simulate.shapes import HELD_OUT_2_SEEDS

    _held_out("second held-out", HELD_OUT_2_SEEDS)


SECTIONS: dict[str, Callable[[Path], None]] = {"peers": peers, "pheme": pheme, "metoo": metoo, "counts": counts,
                                                "mastodon": mastodon, "content": content, "sim": sim, "sim2": sim2}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--sections", default=",".join(SECTIONS))
    ap.add_argument("--markdown", action="store_true", help="a Markdown table (default: tab-separated)")
    ap.add_argument("--jobs", type=int, default=1, help="processes for the simulator's shapes (default: 1)")
    a = ap.parse_args(argv)
    global JOBS
    JOBS = a.jobs
    data = Path(a.data)
    for name in a.sections.split(","):
        t = time.perf_counter()
        print(f"{name} ...", file=sys.stderr)
        try:
            SECTIONS[name](data)
        except Exception as e:  # noqa: BLE001 - a benchmark reports the failure and goes on
            row(name, "section ran", "runs", f"failed: {type(e).__name__}: {str(e).splitlines()[0][:120]}", False)
        print(f"{name}: {time.perf_counter() - t:.1f} s", file=sys.stderr)
    if a.markdown:
        print("| dataset | what | truth | groundswell | agrees |\n| --- | --- | --- | --- | --- |")
        for r in ROWS:
            print(f"| {r['dataset']} | {r['what']} | {r['truth']} | {r['groundswell']} | {'yes' if r['ok'] else '**no**'} |")
    else:
        for r in ROWS:
            print("\t".join(str(r[k]) for k in ("dataset", "what", "truth", "groundswell", "ok")))
    ok = sum(r["ok"] for r in ROWS)
    print(f"{ok} of {len(ROWS)} checks agree", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
