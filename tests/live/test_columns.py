"""The follower's columnar batches give exactly the rows of the per-record path (BatchSink)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest

from groundswell.formats import bluesky
from groundswell.ingest import BatchSink
from groundswell.live.columns import ColumnarBatch
from groundswell.live.follower import Follower
from groundswell.live.jetstream import JetstreamSource
from groundswell.live.replay import ReplayServer, load
from groundswell.store import open_store

from ..conftest import shared

CORPUS = "bluesky-jetstream/corpus__expected_v1.jsonl"
GOLDEN = "bluesky-jetstream/subscribe__golden_v1.jsonl"


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``groundswell simulate --format bluesky`` (posts, reposts, replies, quotes, deletions, identities)."""
    from groundswell.simulate import simulate

    out = tmp_path_factory.mktemp("sim")
    simulate(posts=4000, seed=3, format="bluesky", out=str(out), coordinated=4, deletions=0.05)
    return out / "posts.jsonl"


def _lines(path: Path) -> list[bytes]:
    return [line for line in path.read_bytes().splitlines() if line.strip()]


def _tables(cls: type[BatchSink], lines: list[bytes], size: int) -> list[dict[str, pa.Table]]:
    """Every line through the Bluesky parser into batches of ``size`` lines, as Arrow tables."""
    out = []
    for start in range(0, len(lines), size):
        batch = cls("ws://127.0.0.1/subscribe", "bluesky")
        for n, line in enumerate(lines[start:start + size], start + 1):
            batch.line, batch.line_bytes = n, len(line)
            try:
                bluesky.parse(orjson.loads(line), batch)
            except Exception as e:  # noqa: BLE001 - as the follower: a reject, never the record
                batch.reject(type(e).__name__)
        out.append(batch.tables())
    return out


def _differing(x: pa.Table, y: pa.Table) -> list[str]:
    """Columns whose values differ, rows in any order (the store keys them); never the values."""
    if x.schema != y.schema or x.num_rows != y.num_rows:
        return ["<schema or row count>"]
    keys = [(c, "ascending") for c in x.column_names if not pa.types.is_list(x.schema.field(c).type)]
    x, y = x.sort_by(keys), y.sort_by(keys)
    return [c for c in x.column_names if not x.column(c).equals(y.column(c))]


def _same(a: list[dict[str, pa.Table]], b: list[dict[str, pa.Table]]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert sorted(x) == sorted(y)
        bad = {name: _differing(x[name], y[name]) for name in x}
        assert not any(bad.values()), f"columns that differ: {bad}"  # names only: no post text in the output


@pytest.mark.parametrize("size", [1, 7, 100, 100_000])
def test_same_rows_on_the_shared_jetstream_corpus(size: int) -> None:
    for rel in (CORPUS, GOLDEN):
        lines = _lines(shared(rel))
        _same(_tables(BatchSink, lines, size), _tables(ColumnarBatch, lines, size))


@pytest.mark.parametrize("size", [50, 5000])
def test_same_rows_on_simulated_bluesky(simulated: Path, size: int) -> None:
    lines = _lines(simulated)
    ref = _tables(BatchSink, lines, size)
    assert sum(t["posts"].num_rows for t in ref if "posts" in t) > 3000
    _same(ref, _tables(ColumnarBatch, lines, size))


def _post(pid: str, **kw: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {"platform": "bluesky", "id": pid, "author_id": "did:plc:a", "kind": "original",
                           "created_at": datetime(2024, 1, 1), "text": "t", "hashtags": ["x"], "is_reference": False}
    rec.update(kw)
    return rec


@pytest.mark.parametrize("records", [
    # a second sighting in the same batch merges (a reference first, then the full post; then counts)
    [_post("a", is_reference=True, text=None, hashtags=[]), _post("a", lang="en"),
     _post("a", like_count=3, metrics_observed_at=datetime(2024, 1, 2)), _post("b")],
    # a list field that is not a list, and a value of the wrong type: rejected alone, as before
    [_post("a"), _post("b", hashtags="notalist"), _post("c", text=12), _post("d", hashtags=[1]), _post("e")],
    # empty and missing values, booleans to convert, keys the model does not have
    [_post("a", hashtags=None, urls=[], sensitive=0, deleted=None, extra="ignored"),
     _post("b", sensitive=1, is_reference=None, media=["image:x"])],
    # no id, no platform: rejected by BatchSink.post itself
    [_post(""), {"id": "x"}, _post("ok")],
])
def test_same_rows_on_merges_and_odd_values(records: list[dict[str, Any]]) -> None:
    out = []
    for cls in (BatchSink, ColumnarBatch):
        batch = cls("src", "bluesky")
        for n, rec in enumerate(records, 1):
            batch.line = n
            batch.post(dict(rec))
        out.append([batch.tables()])
    _same(out[0], out[1])


@pytest.mark.parametrize("rel", [CORPUS, "simulated"])
def test_follow_stores_every_column_as_ingest_does(rel: str, simulated: Path, tmp_path: Path) -> None:
    """End to end: replay -> follower -> store equals ``groundswell ingest`` of the file, column by column."""
    from groundswell.ingest import ingest

    path = simulated if rel == "simulated" else shared(rel)
    db = tmp_path / "live.duckdb"
    with ReplayServer(load([str(path)])) as srv:
        f = Follower(JetstreamSource(srv.url, backoff=(0.05, 0.5)), str(db), idle_exit=1.5, batch_events=500)
        f.start()
        assert f.wait(120)
        f.stop()
    ref = tmp_path / "ref.duckdb"
    query = "SELECT * EXCLUDE (source_file, source_line) FROM posts ORDER BY platform, id"
    with open_store(ref) as s:
        ingest(s, [str(path)], progress=False)
        expected = s.sql(query)
    with open_store(db) as s:
        # deletions made complete by the follower itself, as ingest does (reposts of a deleted post lose their raw, ...)
        got = s.sql(query)
    assert got.num_rows == expected.num_rows > 0
    bad = [c for c in got.column_names if not got.column(c).equals(expected.column(c))]
    assert not bad, f"columns that differ: {bad}"  # names only: no post text in the output


def test_follow_redacts_when_the_store_asks(tmp_path: Path, cli) -> None:
    """A store set to redact at ingest (`privacy --redact-store`) is redacted by `follow` too."""
    db = tmp_path / "r.duckdb"
    open_store(db).close()
    assert cli("privacy", "--db", db, "--redact-store").code == 0
    event = {"did": "did:plc:redacttest", "time_us": 1700000000000000, "kind": "commit",
             "commit": {"rev": "r1", "operation": "create", "collection": "app.bsky.feed.post", "rkey": "3kredact",
                        "cid": "bafyredact", "record": {"$type": "app.bsky.feed.post",
                                                        "text": "write to someone.private@example.com #MeToo",
                                                        "createdAt": "2023-11-14T22:13:20Z"}}}
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(orjson.dumps(event) + b"\n")
    with ReplayServer(load([str(feed)])) as srv:
        f = Follower(JetstreamSource(srv.url, backoff=(0.05, 0.5)), str(db), idle_exit=1.0)
        f.start()
        assert f.wait(60)
        f.stop()
    with open_store(db) as s:
        rows = s.con.execute("SELECT text, raw FROM posts").fetchall()
    assert len(rows) == 1
    assert all("someone.private@example.com" not in (v or "") for v in rows[0])
    assert "#MeToo" in rows[0][0]
