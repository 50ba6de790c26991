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
