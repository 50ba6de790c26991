"""The conversation walk on Spark: the real PHEME threads come out as on DuckDB (and as the truth).

charliehebdo holds the deepest thread (18 levels) and ancestors without the hashtag; the same
numbers on both engines show the bounded join loops carry over to Spark."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ..conftest import shared
from .compare import differences

pytestmark = pytest.mark.slow


def test_pheme_threads_on_spark(spark: Any, tmp_path: Path) -> None:
    from groundswell.analysis import analyze
    from groundswell.ingest import ingest
    from groundswell.store import open_store
    from groundswell.spark_ingest import ingest_spark
    from groundswell.store.spark import open_spark_store

    src = str(shared("rumoureval-pheme/charliehebdo.v1.jsonl"))
    assert ingest_spark(spark, [src], str(tmp_path / "spark")).ok
    with open_store(tmp_path / "d.duckdb") as d:
        ingest(d, [src], progress=False)
        want = analyze(d, ["charliehebdo"])
    with open_spark_store(str(tmp_path / "spark"), spark=spark) as s:
        got = analyze(s, ["charliehebdo"])
    a, b = want["cascades"]["replies"], got["cascades"]["replies"]
    assert b["replies"] == {"total": 602, "tagged": 81, "untagged": 521}
    expected = json.loads(shared("rumoureval-pheme/expected.json").read_text())["events"]["charliehebdo"]["thread"]
    assert [(t["size"], t["depth"]) for t in b["largest"]] == \
        [(expected[t["post_id"]]["tweets"], expected[t["post_id"]]["max_depth"]) for t in b["largest"]]
    assert b["depth"]["max"] == 18
    diffs = differences(a, b, "cascades.replies") + differences(want["spread"], got["spread"], "spread")
    assert not diffs, diffs[:10]
