"""Every format the simulator writes round-trips through the parsers and ingest
to the same posts as the ground truth says."""

from __future__ import annotations

from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from groundswell.simulate import FORMATS, simulate

N = 1500


def _truth(out: Path) -> list[dict]:
    return pq.read_table(out / ".truth" / "truth_posts.parquet").to_pylist()


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "csv"])
def test_each_record_parses(fmt: str, tmp_path: Path) -> None:
    from groundswell.formats import detect
    from groundswell.formats.base import ListSink

    res = simulate(posts=N, seed=4, format=fmt, out=tmp_path, coordinated=4, deletions=0.05)
    sink = ListSink()
    for f in res.files:
        if f.name.startswith("follows."):  # the follower graph: tested with ingest below
            continue
        for line in f.read_bytes().splitlines():
            obj = orjson.loads(line)
            name = detect.sniff_json(obj)
            assert name in (fmt, "twitter-compliance"), name
            detect.json_format(name).parse(obj, sink)
    assert sink.rejects == []
    own = {p["id"]: p for p in sink.posts if not p.get("is_reference")}
    truth = _truth(tmp_path)
    assert set(own) == {t["id"] for t in truth}
    for t in truth:
        p = own[t["id"]]
        assert p["kind"] == t["kind"]
        assert p["author_id"] == t["author_id"]
    assert {d["id"] for d in sink.deletions} == ({d["id"] for d in res.truth["deleted"]} if fmt != "mastodon" else set())


@pytest.mark.parametrize("fmt", FORMATS)
def test_ingest_round_trip(fmt: str, tmp_path: Path) -> None:
    ingest_mod = pytest.importorskip("groundswell.ingest")
    store_mod = pytest.importorskip("groundswell.store")
    out = tmp_path / "sim"
    res = simulate(posts=N, seed=9, format=fmt, out=out, coordinated=4, deletions=0.05)
    truth = _truth(out)
    with store_mod.open_store(tmp_path / "s.duckdb") as st:
        summary = ingest_mod.ingest(st, [str(out)], progress=False)
        assert [f.error for f in summary.files if f.error] == []
        rows = st.con.execute(
            "select id, kind, repost_of_id, reply_to_id, quote_of_id, hashtags, author_id, created_at "
            "from posts where not is_reference"
        ).fetchall()
        refs = st.con.execute("select count(*) from posts where is_reference").fetchone()[0]
        deleted = {r[0] for r in st.con.execute("select id from deletions").fetchall()}
        rejects = st.con.execute("select count(*) from rejects").fetchone()[0]
        follows = set(st.con.execute("select follower_id, followed_id from follows").fetchall())
        platforms = {r[0] for r in st.con.execute("select distinct platform from follows union all "
                                                  "select distinct platform from posts").fetchall()}
    assert rejects == 0
    assert refs == 0  # every referenced post is itself in the collection
    db = {r[0]: r for r in rows}
    assert set(db) == {t["id"] for t in truth}
    for t in truth:
        _, kind, repost_of, reply_to, quote_of, tags, author, created = db[t["id"]]
        assert kind == t["kind"]
        assert author == t["author_id"]
        assert {"repost": repost_of, "reply": reply_to, "quote": quote_of, "original": None}[kind] == t["parent_id"]
        if not (fmt == "bluesky" and kind == "repost"):  # a Jetstream repost record has no text or tags
            assert list(tags) == t["hashtags"]
        want = t["created_at"]
        if fmt == "twitter-v1":  # v1.1 times are whole seconds
            want = want.replace(microsecond=0)
        assert created == want
    # the follower graph: every follow, under the posts' platform; every post was seen from a followed account
    assert len(follows) == res.truth["network"]["follows"] and len(platforms) == 1
    seen = [(t["author_id"], t["seen_from"]) for t in truth if t["seen_from"] is not None]
    assert seen and all(pair in follows for pair in seen)
    if fmt in ("twitter-v2", "twitter-v1", "bluesky"):
        assert deleted == {d["id"] for d in res.truth["deleted"]}
