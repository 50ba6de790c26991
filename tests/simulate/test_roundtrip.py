"""Every format the simulator writes round-trips through the parsers and ingest
to the same posts as the ground truth says."""

from __future__ import annotations

from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from groundswell.simulate import FORMATS, simulate
from groundswell.simulate.writers import SCRAPED_COLUMNS

N = 1500


def _truth(out: Path) -> list[dict]:
    return pq.read_table(out / ".truth" / "truth_posts.parquet").to_pylist()


JSON_FORMATS = [f for f in FORMATS if not f.startswith("csv")]
TABLE_FORMATS = [f for f in FORMATS if f != "csv-scraped"]  # with reference columns and ids


@pytest.mark.parametrize("fmt", JSON_FORMATS)
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


@pytest.mark.parametrize("fmt", TABLE_FORMATS)
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


def _store_posts(tmp_path: Path, out: Path) -> list[tuple]:
    from groundswell.ingest import ingest
    from groundswell.store import open_store

    with open_store(tmp_path / "s.duckdb") as st:
        summary = ingest(st, [str(out)], progress=False)
        assert [f.error for f in summary.files if f.error] == []
        assert st.con.execute("select count(*) from rejects").fetchone()[0] == 0
        return st.con.execute(
            "select id, kind, author_id, author_handle, hashtags, created_at, mentions from posts "
            "where not is_reference").fetchall()


def test_csv_scraped_round_trip(tmp_path: Path) -> None:
    """The GetOldTweets-like scrape: the search's posts, every one carrying the hashtag, read back with
    the author from the permalink, hashtags and mentions from the detached '# Tag' and '@ name' in the
    text, and old-style retweets as reposts; no reference columns, no follower graph."""
    out = tmp_path / "sim"
    res = simulate(posts=N, seed=9, format="csv-scraped", out=out, decoys=2, decoy_mention_share=0.2,
                   scraped_retweet_share=0.5, call_link_share=0.1, call_mention_share=0.1)
    assert [f.name for f in res.files] == ["posts.csv"]
    header = (out / "posts.csv").read_text().split("\n", 1)[0]
    assert header == ",".join(SCRAPED_COLUMNS)
    truth = [t for t in _truth(out) if t["collected"]]
    assert truth and all(res.truth["hashtag"].casefold() in t["hashtags"] for t in truth)
    db = {r[0]: r for r in _store_posts(tmp_path, out)}
    assert set(db) == {t["id"] for t in truth}
    kinds = {"repost": 0, "other": 0}
    for t in truth:
        _, kind, author_id, handle, tags, created, mentions = db[t["id"]]
        assert author_id == t["author_id"] and handle == t["author_handle"]
        assert list(tags) == t["hashtags"]
        assert created == t["created_at"]
        if t["kind"] == "repost":
            assert kind == "repost"
            kinds["repost"] += 1
        else:
            kinds["other"] += 1
            want = {m for m in t["mentioned_ids"]}
            assert want <= {m.lower() for m in mentions}
    assert kinds["repost"] > 0 and kinds["other"] > 0
    links = [t for t in truth if t["linked_id"] is not None or t["kind"] == "quote"]
    assert links  # quotes and links show as status URLs in the text
    text = (out / "posts.csv").read_text()
    assert "/status/" + links[0]["linked_id" if links[0]["linked_id"] else "parent_id"] in text


@pytest.mark.parametrize("fmt", JSON_FORMATS + ["csv"])
def test_collection_drops_and_what_remains_reads_back(fmt: str, tmp_path: Path) -> None:
    """A search with a gap and a sampled tail: the files hold exactly the posts the truth says were
    collected; mentions and links in the text reach the store with the platform's entities."""
    out = tmp_path / "sim"
    res = simulate(posts=N, seed=3, format=fmt, out=out, collection="search", decoys=2, decoy_mention_share=0.2,
                   call_mention_share=0.2, call_link_share=0.2, deletions=0.05,
                   gaps=[("2017-10-13T00:00:00Z", "2017-10-14T00:00:00Z")],
                   sampled=[("2017-10-18T00:00:00Z", "2017-11-30T00:00:00Z", 0.1)])
    every = _truth(out)
    kept = [t for t in every if t["collected"]]
    assert 0 < len(kept) < len(every) == res.posts
    assert res.truth["collection"]["posts_collected"] == len(kept)
    tag = res.truth["hashtag"].casefold()
    assert all(tag in t["hashtags"] for t in kept)
    assert not [t for t in kept if "2017-10-13" == t["created_at"].isoformat()[:10]]
    db = {r[0]: r for r in _store_posts(tmp_path, out)}
    assert set(db) == {t["id"] for t in kept}
    by_id = {t["id"]: t for t in every}
    handles = {t["author_id"]: t["author_handle"] for t in every}
    deleted = {d["id"] for d in res.truth["deleted"]}
    mentioned = 0
    for t in kept:
        if t["kind"] == "repost" or not t["mentioned_ids"] or t["id"] in deleted:  # a deletion blanks a post
            continue
        got = {m.lower().lstrip("@") for m in db[t["id"]][6]}
        want = {handles.get(m, m).lower() for m in t["mentioned_ids"]}  # the handle ingest stores
        assert want <= got, (want, got)
        mentioned += 1
    assert mentioned > 0
    assert deleted <= {t["id"] for t in kept}  # a deletion is seen only for a collected post
    assert all(by_id[i]["collected"] for i in deleted)
    ign = res.truth["ignition"]
    assert ign["post_id"] == res.truth["seed"]["post_id"] and ign["expected"] in ("post", "account", "undetermined")
