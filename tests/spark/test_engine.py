"""The engine contract and the DuckDB -> Spark SQL translation (no JVM needed)."""

from __future__ import annotations

import builtins
from typing import Any

import pytest

from groundswell.errors import MissingExtra, UsageError
from groundswell.store.engine import ENGINES, Engine, Unsupported, open_engine


def _hide_pyspark(monkeypatch: pytest.MonkeyPatch) -> None:
    real = builtins.__import__

    def fake(name: str, *a: Any, **k: Any) -> Any:
        if name == "pyspark" or name.startswith("pyspark."):
            raise ImportError(f"No module named {name!r}")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)


def test_missing_pyspark_names_the_install_line(monkeypatch, tmp_path):
    _hide_pyspark(monkeypatch)
    with pytest.raises(MissingExtra) as e:
        open_engine("spark", str(tmp_path))
    assert "pip install 'groundswell[spark]'" in str(e.value)
    assert "--engine spark" in str(e.value)


def test_cli_helper_exits_nonzero_with_the_install_line(monkeypatch, tmp_path, capsys):
    import argparse

    from groundswell.spark_cli import register_engine_options, run_guarded, store_from_args

    _hide_pyspark(monkeypatch)
    p = argparse.ArgumentParser()
    p.add_argument("--db")
    register_engine_options(p)
    args = p.parse_args(["--engine", "spark", "--db", str(tmp_path)])
    code = run_guarded(lambda: store_from_args(args))
    assert code != 0
    assert "pip install 'groundswell[spark]'" in capsys.readouterr().err


def test_engine_options_default_to_duckdb(tmp_path):
    import argparse

    from groundswell.spark_cli import register_engine_options, store_from_args

    p = argparse.ArgumentParser()
    p.add_argument("--db")
    register_engine_options(p)
    args = p.parse_args(["--db", str(tmp_path / "x.duckdb")])
    assert args.engine == "duckdb" and args.spark_master is None
    with pytest.raises(Exception) as e:  # read-only open of a missing DuckDB store
        store_from_args(args)
    assert "no store" in str(e.value)
    args = p.parse_args(["--db", str(tmp_path / "x.duckdb"), "--spark-master", "local[1]"])
    with pytest.raises(UsageError, match="go with --engine spark"):
        store_from_args(args)


def test_duckdb_store_meets_the_contract(tmp_path):
    assert ENGINES == ("duckdb", "spark")
    with open_engine("duckdb", str(tmp_path / "s.duckdb"), read_only=False, create=True) as s:
        assert isinstance(s, Engine)
        assert s.engine == "duckdb"
        assert s.sql("SELECT count(*) AS n FROM posts").to_pylist() == [{"n": 0}]
    with pytest.raises(UsageError, match="unknown engine"):
        open_engine("sqlite", str(tmp_path))


def test_transpile_nested_unnest_becomes_lateral_view():
    pytest.importorskip("sqlglot")
    from groundswell.store.spark import transpile

    q, _ = transpile("SELECT account, lower(unnest(mentions)) AS h FROM gs_movement WHERE kind <> 'repost'")
    assert "LATERAL VIEW EXPLODE(mentions)" in q and "LOWER(_gs_u" in q
    q, _ = transpile("SELECT id, unnest(hashtags) AS h FROM posts")
    assert q == "SELECT id, EXPLODE(hashtags) AS h FROM posts"


def test_transpile_information_schema_reads_the_catalog():
    from groundswell.store.spark import transpile

    q, used = transpile("SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'post_labels'")
    assert used == {"tables"} and "_gs_information_schema_tables" in q
    with pytest.raises(Unsupported, match="spark does not support information_schema.schemata"):
        transpile("SELECT * FROM information_schema.schemata")


def test_store_views_come_from_the_duckdb_definitions():
    from groundswell.store.spark import VIEWS, _view_bodies, transpile

    bodies = _view_bodies()
    assert set(VIEWS) <= set(bodies)
    assert "EXCEPT (rn)" in transpile(bodies["accounts_latest"])[0]
    assert "EXPLODE(hashtags)" in transpile(bodies["post_hashtags"])[0]
