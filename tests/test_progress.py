"""Issue 16: progress bars on stderr (percentage and time left where the size is known),
silent when not on a terminal or with --quiet; stdout keeps only the data."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from .conftest import shared

CSV = "metoo-getoldtweets-2017/tweets_2017-10-15_all.csv"  # 13,666 tweets
V1 = "sfm-twitter-harvester/v1.1_search_gelman_2015.jsonl"


def test_ingest_export_classify_draw_bars_on_a_terminal(cli, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROUNDSWELL_PROGRESS", "1")  # stands for a terminal on stderr
    gz = tmp_path / "v1.jsonl.gz"
    gz.write_bytes(gzip.compress(shared(V1).read_bytes()))
    db = tmp_path / "s.duckdb"
    r = cli("ingest", shared(CSV), gz, "--db", db, "--chunk-lines", "200")
    assert r.code == 0, r.err
    assert "100%" in r.err and "v1.jsonl.gz" in r.err  # a compressed file has a percentage too
    assert r.out == ""
    out = tmp_path / "o.jsonl"
    r = cli("export", "--db", db, "--format", "jsonl", "--output", out, "--platform", "twitter")
    n = int(r.err.split("wrote ")[1].split(" rows")[0].replace(",", ""))
    assert r.code == 0 and "export posts:" in r.err and f"/{n} [" in r.err and "%|" in r.err  # a known total
    assert len(out.read_bytes().splitlines()) == n
    r = cli("classify", "--db", db)
    assert r.code == 0 and "classify (fast): 100%|" in r.err


def test_no_bar_when_piped_or_quiet(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "s.duckdb"
    r = cli("ingest", shared(V1), "--db", db)  # stderr is not a terminal under pytest
    assert r.code == 0 and "%|" not in r.err and "\r" not in r.err
    monkeypatch.setenv("GROUNDSWELL_PROGRESS", "1")
    r = cli("export", "--db", db, "--format", "csv", "--output", tmp_path / "o.csv", "--quiet")
    assert r.code == 0 and "%|" not in r.err
    r = cli("export", "--db", db, "--format", "jsonl", "--output", "-")  # stdout is the data
    assert r.code == 0 and "%|" not in r.err and r.out.count("\n") > 1000
