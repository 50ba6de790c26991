"""Spark tests: one local SparkSession for the whole test session (local[2], loopback, no UI).

Without PySpark installed (the ``spark`` extra) the Spark tests are skipped with the
install line as the reason; with it but without Java they fail (CI installs Java).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, Iterator

import pytest

SPARK_CONF = {
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.ui.enabled": "false",
    "spark.driver.memory": "1g",
    "spark.python.worker.reuse": "true",
}


def _have_pyspark() -> bool:
    try:
        import pandas  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError:
        return False
    return True


needs_spark = pytest.mark.skipif(not _have_pyspark(), reason="pip install 'groundswell[spark]'")


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    if not _have_pyspark():
        pytest.skip("pip install 'groundswell[spark]'")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from groundswell.store.spark import session

    with warnings.catch_warnings():
        # py4j's gateway and PySpark's launcher leave sockets and a subprocess to the JVM's lifetime
        warnings.simplefilter("ignore", ResourceWarning)
        s = session("local[2]", SPARK_CONF, app_name="groundswell-tests")
    yield s
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        s.stop()


@pytest.fixture(scope="session")
def sim(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A small simulated movement (twitter-v2 pages, compliance deletions, follows)."""
    import json

    from groundswell.simulate import SimConfig, simulate

    out = tmp_path_factory.mktemp("spark-sim") / "sim"
    simulate(SimConfig(posts=3000, seed=5, coordinated=5), out=str(out))
    # a second file that sees two pages again, then two unreadable lines (rejects keep file and line)
    lines = (out / "posts.jsonl").read_bytes().split(b"\n")
    (out / "broken.jsonl").write_bytes(lines[0] + b"\n" + lines[5] + b"\n" + b'{"data": [\n' + b"xx\xff\n")
    return out, json.loads((out / ".truth" / "truth.json").read_text())


@pytest.fixture(scope="session")
def duck_store(sim: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    from groundswell.ingest import ingest
    from groundswell.store import open_store

    db = tmp_path_factory.mktemp("spark-duck") / "sim.duckdb"
    with open_store(db) as s:
        summary = ingest(s, [str(sim[0])], progress=False)
    assert summary.ok, summary.as_dict()["errors"]
    return db


@pytest.fixture(scope="session")
def spark_store(spark: Any, sim: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same simulation ingested on Spark; posts.jsonl is read in ~8 line ranges."""
    from groundswell.spark_ingest import ingest_spark

    root = tmp_path_factory.mktemp("spark-store") / "store"
    size = (sim[0] / "posts.jsonl").stat().st_size
    summary = ingest_spark(spark, [str(sim[0])], str(root), split_bytes=size // 8 + 1)
    assert summary.ok, summary.as_dict()["errors"]
    return root
