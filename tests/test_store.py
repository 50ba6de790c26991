"""The DuckDB store's small API."""

from __future__ import annotations

from pathlib import Path

import pytest

from groundswell.errors import StoreError
from groundswell.store import open_store


def test_sql_after_an_unread_result(db: Path) -> None:
    """An execute() left half-read on the connection never breaks store.sql (DuckDB 2 is strict)."""
    with open_store(db) as st:
        st.add_posts([{"platform": "twitter", "id": str(i), "kind": "original"} for i in range(5)])
        st.con.execute("SELECT id FROM posts").fetchone()
        assert st.sql("SELECT count(*) AS n FROM posts WHERE platform = ?", ["twitter"]).to_pylist() == [{"n": 5}]


def test_read_only_open_of_a_missing_or_foreign_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store"):
        open_store(tmp_path / "missing.duckdb", read_only=True)
    other = tmp_path / "other.duckdb"
    import duckdb

    duckdb.connect(str(other)).close()
    with pytest.raises(StoreError, match="not a groundswell store"):
        open_store(other, read_only=True)


def test_meta_round_trip(db: Path) -> None:
    with open_store(db) as st:
        st.set_meta("k", "v")
        assert st.meta("k") == "v"
        st.set_meta("k", None)
        assert st.meta("k") is None


def test_raw_json_is_stored_with_zstd(db: Path) -> None:
    """The original JSON, the bulk of a store, is compressed with zstd on disk."""
    from groundswell.ingest import ingest

    from .conftest import shared

    with open_store(db) as st:
        ingest(st, [str(shared("twarc-csv/test-data/brexit.jsonl"))], progress=False)
        st.checkpoint()
        for table in ("posts", "accounts"):
            kinds = {r[0] for r in st.con.execute(
                f"SELECT DISTINCT compression FROM pragma_storage_info('{table}') "
                "WHERE column_name = 'raw' AND segment_type = 'VARCHAR'").fetchall()}
            assert kinds == {"ZSTD"}, (table, kinds)


def test_sightings_of_one_post_in_a_batch_merge_in_order(db: Path) -> None:
    """Three sightings of a post in one batch (and one already stored) end as
    merge_post folded over them in order; no duplicate rows, no index needed."""
    from datetime import datetime

    from groundswell.ingest import records_to_table
    from groundswell.store.duck import merge_post

    def rec(**kw):
        base = {"platform": "twitter", "id": "7", "kind": "original", "source_file": "f", "source_line": 1}
        return base | kw

    stored = rec(text=None, is_reference=True, like_count=1, metrics_observed_at=datetime(2020, 1, 1),
                 hashtags=[])
    batch = [
        rec(id="8", text="other", source_line=2),
        rec(text="embedded", is_reference=True, like_count=5, metrics_observed_at=datetime(2020, 1, 3),
            hashtags=["a"], source_line=3),
        rec(text="full", is_reference=False, like_count=2, metrics_observed_at=datetime(2020, 1, 2),
            hashtags=["b", "c"], lang="en", source_line=4),
        rec(text="later", is_reference=False, reply_count=9, metrics_observed_at=datetime(2020, 1, 4),
            author_id="u1", source_line=5),
    ]
    with open_store(db) as st:
        st.write_batch({"posts": records_to_table("posts", [stored])})
        st.write_batch({"posts": records_to_table("posts", batch)})
        got = st.with_raw(st.sql("SELECT * FROM posts ORDER BY id")).to_pylist()
    want = stored
    for r in batch[1:]:
        want = merge_post(want, r)
    want_row = records_to_table("posts", [want]).to_pylist()[0]
    assert [g["id"] for g in got] == ["7", "8"]
    assert got[0] == want_row
    assert got[0]["text"] == "full" and got[0]["hashtags"] == ["b", "c"] and got[0]["reply_count"] == 9


def test_merge_by_rowid_reaches_the_right_rows(db: Path) -> None:
    """The merge finds the stored rows a batch names by rowid: among many stored posts only
    those named change, and a post first seen in the same batch (inserted by an earlier round
    of the same transaction) is merged as well."""
    from groundswell.ingest import records_to_table
    from groundswell.store.duck import merge_post

    def rec(i: int, **kw):
        return {"platform": "twitter", "id": str(i), "kind": "original", "source_file": "f", "source_line": i,
                "is_reference": True} | kw

    stored = [rec(i, text=None, like_count=i) for i in range(1, 3001)]
    new_a, new_b = rec(9001, text=None, lang="en"), rec(9001, text="full", is_reference=False, lang="fr")
    batch = [rec(1500, text="t1500", is_reference=False), rec(2999, like_count=None, lang="de"), new_a, new_b]
    with open_store(db) as st:
        st.write_batch({"posts": records_to_table("posts", stored)})
        before = {r["id"]: r for r in st.sql("SELECT * FROM posts").to_pylist()}
        st.write_batch({"posts": records_to_table("posts", batch)})
        after = {r["id"]: r for r in st.sql("SELECT * FROM posts").to_pylist()}
    changed = sorted(k for k in after if after[k] != before.get(k))
    assert changed == ["1500", "2999", "9001"] and len(after) == 3001
    for i, want in ((1500, merge_post(stored[1499], batch[0])), (2999, merge_post(stored[2998], batch[1])),
                    (9001, merge_post(new_a, new_b))):
        row = records_to_table("posts", [want]).to_pylist()[0]
        assert {k: after[str(i)][k] for k in row} == row, i
