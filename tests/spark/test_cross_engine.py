"""The same data on DuckDB and on Spark: the same tables, the same merge rule, the same analysis.

Both ``analyze`` paths are covered: without a follower list and with one (``--followers``).
The one allowance: ``cascades.*.largest`` is ordered by size only, so ties are compared
as sets (see ``_tied_lists``).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from .compare import differences

pytestmark = pytest.mark.slow

KEYS = {
    "posts": "platform, id",
    "accounts": "platform, id, observed_at",
    "volumes": "platform, query, start, \"end\"",
    "deletions": "platform, id",
    "follows": "platform, follower_id, followed_id",
    "rejects": "source_file, source_line, reason",
    "accounts_latest": "platform, id",
    "post_hashtags": "platform, id, hashtag",
    "post_links": "platform, source_id, type",
}


def _rows(store: Any, table: str) -> list[dict[str, Any]]:
    t = store.sql(f"SELECT * FROM {table} ORDER BY {KEYS[table]}")
    if hasattr(store, "with_raw"):  # DuckDB: raw read where the fast path kept it (a stored page)
        t = store.with_raw(t)
    return t.to_pylist()


def test_spark_ingest_makes_the_same_tables(duck_store: Path, spark_store: Path, spark: Any) -> None:
    from groundswell.store import open_store
    from groundswell.store.spark import open_spark_store

    with open_store(duck_store, read_only=True) as d, open_spark_store(str(spark_store), spark=spark) as s:
        assert s.engine == "spark"
        for table in KEYS:
            a, b = _rows(d, table), _rows(s, table)
            assert len(a) == len(b), table
            diffs = differences(a, b, table)
            assert not diffs, diffs[:5]
        n = d.sql("SELECT count(*) AS n FROM posts").to_pylist()[0]["n"]
        assert n >= 3000
        rejects = _rows(s, "rejects")
        assert {(r["source_line"], r["reason"]) for r in rejects if r["source_file"].endswith("broken.jsonl")} \
            == {(3, "not valid JSON"), (4, "not valid UTF-8 (byte 2)")}
        # ids stay strings; the sources table records every file once
        assert s.sql("SELECT typeof(id) AS t FROM posts LIMIT 1").to_pylist() == [{"t": "string"}]
        assert s.sql("SELECT count(*) AS n FROM sources WHERE complete").to_pylist()[0]["n"] == 4


def test_reingest_adds_nothing_and_a_new_file_merges(spark: Any, sim: Any, spark_store: Path,
                                                     tmp_path: Path) -> None:
    import shutil

    from groundswell.spark_ingest import ingest_spark
    from groundswell.store.spark import open_spark_store

    root = tmp_path / "copy"
    shutil.copytree(spark_store, root)
    again = ingest_spark(spark, [str(sim[0])], str(root))
    assert all(f.skipped for f in again.files) and len(again.files) == 4
    # one line of posts.jsonl again, as a new file: its posts are merged, not added
    first = (sim[0] / "posts.jsonl").read_bytes().split(b"\n", 1)[0] + b"\n"
    extra = tmp_path / "more" / "again.jsonl"
    extra.parent.mkdir()
    extra.write_bytes(first)
    with open_spark_store(str(root), spark=spark) as s:
        before = s.sql("SELECT count(*) AS n FROM posts").to_pylist()[0]["n"]
    res = ingest_spark(spark, [str(extra)], str(root))
    assert res.ok and res.files[0].posts_read > 0 and res.files[0].new_posts == 0
    with open_spark_store(str(root), spark=spark) as s:
        assert s.sql("SELECT count(*) AS n FROM posts").to_pylist()[0]["n"] == before
        assert s.sql("SELECT count(*) AS n FROM sources").to_pylist()[0]["n"] == 5


def _sightings(seed: int) -> list[list[dict[str, Any]]]:
    """Random sightings of 40 posts, each a list in the order seen (no two in one batch)."""
    rnd = random.Random(seed)
    t0 = datetime(2017, 10, 15, 20)
    posts = []
    for i in range(40):
        seen = []
        for _ in range(rnd.randint(1, 4)):
            pick = lambda v: v if rnd.random() < 0.6 else None  # noqa: E731
            seen.append({
                "platform": "twitter", "id": str(900000000000000000 + i),
                "author_id": pick(str(rnd.randint(1, 5))), "text": pick(f"t{rnd.randint(0, 9)}"),
                "lang": pick(rnd.choice(["en", "fr"])), "kind": "original",
                "hashtags": rnd.choice([[], ["metoo"], ["metoo", "timesup"]]),
                "created_at": t0 + timedelta(minutes=i),
                "is_reference": rnd.random() < 0.5, "deleted": rnd.random() < 0.1,
                "like_count": pick(rnd.randint(0, 50)), "repost_count": pick(rnd.randint(0, 50)),
                "metrics_observed_at": pick(t0 + timedelta(hours=rnd.randint(0, 3))),
                "source_file": f"f{len(seen)}", "source_line": rnd.randint(1, 9),
            })
        posts.append(seen)
    return posts


def test_spark_merge_is_the_duckdb_merge(spark: Any, tmp_path: Path) -> None:
    import pyarrow as pa
    from pyspark.sql import functions as F

    from groundswell.ingest import records_to_table
    from groundswell.store import open_store
    from groundswell.store.spark import _naive, merge_posts, spark_schema

    posts = _sightings(3)
    with open_store(tmp_path / "m.duckdb") as d:
        for k in range(4):  # the k-th sighting of every post in batch k: merged by the upsert
            batch = [p[k] for p in posts if len(p) > k]
            d.write_batch({"posts": records_to_table("posts", batch)})
        want = d.with_raw(d.sql("SELECT * FROM posts ORDER BY id")).to_pylist()
    parts = []
    for k in range(4):
        t = records_to_table("posts", [p[k] for p in posts if len(p) > k])
        parts.append(t.append_column("_seq", pa.array([k] * t.num_rows, pa.int64())))
    t = pa.concat_tables(parts)
    df = spark.createDataFrame(t, schema=spark_schema(t.schema))
    got = _naive(merge_posts(df).orderBy("id").select(*want[0].keys()).toArrow()).to_pylist()
    assert sum(len(p) > 1 for p in posts) > 20
    diffs = differences(want, got)
    assert not diffs, diffs[:5]
    assert F is not None


def _tied_lists(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """``cascades.*.largest`` is ordered by size only: ties may come in either order (and the
    last places may hold different members of a tie). Compare sizes in order, and the items
    above the smallest size as multisets; then drop them from both results."""
    out = []
    for kind in ("replies", "reposts"):
        x, y = a["cascades"][kind].pop("largest"), b["cascades"][kind].pop("largest")
        sx, sy = [i["size"] for i in x], [i["size"] for i in y]
        if sx != sy:
            out.append(f"cascades.{kind}.largest sizes {sx} != {sy}")
            continue
        cut = min(sx) if sx else 0
        key = lambda i: (i["size"], i["post_id"])  # noqa: E731
        out += differences(sorted([i for i in x if i["size"] > cut], key=key),
                           sorted([i for i in y if i["size"] > cut], key=key), f"cascades.{kind}.largest")
    return out


def test_analyze_gives_the_same_answers_on_both_engines(duck_store: Path, spark_store: Path, spark: Any,
                                                        sim: Any) -> None:
    from groundswell.analysis import analyze
    from groundswell.store import open_store
    from groundswell.store.spark import open_spark_store

    tag = sim[1]["hashtag"]
    with open_store(duck_store, read_only=True) as d:
        want = analyze(d, [tag])
    with open_spark_store(str(spark_store), spark=spark) as s:
        got = analyze(s, [tag])
    for r in (want, got):
        r.pop("timings")
    assert want["timeline"]["posts"] > 1000
    diffs = _tied_lists(want, got) + differences(want, got, rel=1e-6)
    assert not diffs, "\n".join(diffs[:20])


def test_followers_path(duck_store: Path, spark_store: Path, spark: Any, sim: Any, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from groundswell.analysis import analyze
    from groundswell.store import open_store
    from groundswell.store.spark import open_spark_store

    tag = sim[1]["hashtag"]
    with open_store(duck_store, read_only=True) as d:
        pq.write_table(d.sql("SELECT follower_id, followed_id FROM follows"), tmp_path / "f.parquet")
        want = analyze(d, [tag], followers=str(tmp_path / "f.parquet"))
    with open_spark_store(str(spark_store), spark=spark) as s:
        got = analyze(s, [tag], followers=str(tmp_path / "f.parquet"))
    for r in (want, got):
        r.pop("timings")
    diffs = _tied_lists(want, got) + differences(want, got, rel=1e-6)
    assert not diffs, "\n".join(diffs[:20])
