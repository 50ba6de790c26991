"""Posts carrying a tag and its occurrences: the same numbers on Spark as on DuckDB."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ..test_queries import CSV, WANT

pytestmark = pytest.mark.slow


def test_hashtag_counts_on_both_engines(spark: Any, tmp_path: Path) -> None:
    from groundswell.ingest import ingest
    from groundswell.queries import hashtag_counts, hashtag_occurrences, info
    from groundswell.store import open_store
    from groundswell.spark_ingest import ingest_spark
    from groundswell.store.spark import open_spark_store

    path = tmp_path / "p.csv"
    path.write_text(CSV)
    with open_store(tmp_path / "d.duckdb") as d:
        assert ingest(d, [str(path)], progress=False).ok
        want = (hashtag_counts(d), hashtag_occurrences(d), info(d)["top_hashtags"])
    assert want[0] == WANT
    assert ingest_spark(spark, [str(path)], str(tmp_path / "s")).ok
    with open_spark_store(str(tmp_path / "s"), spark=spark) as s:
        assert (hashtag_counts(s), hashtag_occurrences(s), info(s)["top_hashtags"]) == want
