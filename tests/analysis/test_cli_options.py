"""``--memory-limit``: checked, and sent to DuckDB as a parameter, never as SQL text."""

from __future__ import annotations

from pathlib import Path

import pytest

from groundswell.analysis.cli import memory_limit
from groundswell.errors import UsageError


@pytest.mark.parametrize("given, sent", [("2GB", "2GB"), ("500 mb", "500MB"), ("1.5GiB", "1.5GiB"),
                                         ("64kib", "64KiB"), (" 3TB ", "3TB"), ("1024B", "1024B")])
def test_sizes_are_accepted(given: str, sent: str) -> None:
    assert memory_limit(given) == sent


@pytest.mark.parametrize("bad", ["lots", "2", "-1GB", "2GB;", "2 GB GB", "1e9B", "80%", "",
                                 "2GB'; COPY (SELECT key, value FROM meta) TO 'x.csv'; SELECT '"])
def test_anything_else_is_refused(bad: str) -> None:
    with pytest.raises(UsageError, match="--memory-limit"):
        memory_limit(bad)


def test_sql_in_memory_limit_is_refused(cli, network_db: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    loot = tmp_path / "secret.csv"
    attack = f"2GB'; COPY (SELECT key, value FROM meta) TO '{loot}'; SELECT '"
    for cmd in (("analyze", "--hashtag", "BlackLivesMatter", "--json"), ("network",)):
        r = cli(*cmd, "--db", network_db, "--memory-limit", attack)
        assert r.code == 2 and r.out == "", cmd
        lines = r.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: --memory-limit"), r.err
        assert not loot.exists(), "the store's secrets were written out"
    r = cli("network", "--db", network_db, "--memory-limit", "300MB")
    assert r.code == 0 and r.json()["nodes"]


def test_the_limit_reaches_duckdb(network_db: Path) -> None:
    import argparse

    from groundswell.analysis.cli import _cap_memory
    from groundswell.store import open_store

    with open_store(network_db, read_only=True) as s:
        _cap_memory(s, argparse.Namespace(memory_limit="300MB"))
        assert s.con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "286.1 MiB"
