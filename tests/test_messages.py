"""What the command line says when things fail (issue 16's messages, checked on real files).

* the ingest summary says how many files failed, never "ingested N file(s)"
  for files of which nothing was read;
* outputs in a missing folder, ``hashtags --limit -1`` and ``forget --ids``
  of a missing file give one ``error:`` line, a non-zero exit and no traceback,
  and leave the store as it was.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import shared

BREXIT = "twarc-csv/test-data/brexit.jsonl"
KPOP = "twarc-csv/test-data/kpop.jsonl"


def _one_error(r) -> str:  # noqa: ANN001
    assert "Traceback" not in r.err, r.err
    lines = [ln for ln in r.err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, r.err
    return lines[0]


def _summary(r) -> str:  # noqa: ANN001
    return [ln for ln in r.err.splitlines() if ln.startswith("ingested ")][-1]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from groundswell.ingest import ingest
    from groundswell.store import open_store

    db = tmp_path_factory.mktemp("msg") / "b.duckdb"
    with open_store(db) as st:
        ingest(st, [str(shared(BREXIT))], progress=False)
    return db


def test_every_file_failing_is_said(cli, tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    r = cli("ingest", "--db", db, "--format", "bluesky", shared(BREXIT), shared(KPOP), tmp_path / "gone.jsonl")
    assert r.code == 1
    line = _summary(r)
    assert line.startswith("ingested 0 of 3 file(s), 3 failed (1 refused, 2 with every record rejected)"), line
    r = cli("ingest", "--db", tmp_path / "t.duckdb", "--format", "bluesky", shared(BREXIT), "--json")
    assert r.code == 1 and r.json()["failed"] == 1


def test_some_files_failing_is_said(cli, tmp_path: Path) -> None:
    r = cli("ingest", "--db", tmp_path / "s.duckdb", shared(BREXIT), tmp_path / "gone.jsonl")
    assert r.code == 1
    assert _summary(r).startswith("ingested 1 of 2 file(s), 1 failed (1 refused): 155 posts read"), r.err


def test_nothing_failing_keeps_the_short_summary(cli, tmp_path: Path) -> None:
    r = cli("ingest", "--db", tmp_path / "s.duckdb", shared(BREXIT))
    assert r.code == 0 and _summary(r).startswith("ingested 1 file(s): 155 posts read"), r.err
    assert cli("ingest", "--db", tmp_path / "s.duckdb", shared(BREXIT), "--json").json()["failed"] == 0


@pytest.mark.parametrize("cmd", [
    ("export", "--format", "csv", "--output", "{nodir}/x.csv"),
    ("export", "--format", "jsonl", "--table", "accounts", "--output", "{nodir}/x.jsonl"),
    ("report", "--hashtag", "brexit", "--output", "{nodir}/r.html"),
    ("network", "--output", "{nodir}/n.gexf", "--format", "gexf"),
    ("hashtags", "--limit", "-1"),
    ("forget", "--ids", "{nodir}/ids.txt"),
])
def test_one_error_line_and_the_store_untouched(cli, store: Path, tmp_path: Path, cmd: tuple[str, ...]) -> None:
    nodir = tmp_path / "nodir"
    before = store.read_bytes()
    args = [a.format(nodir=nodir) for a in cmd]
    r = cli(args[0], "--db", store, *args[1:])
    line = _one_error(r)
    assert r.code not in (0, 70), r.err
    if "{nodir}" in " ".join(cmd):
        assert "nodir" in line, line
    assert not nodir.exists()
    assert store.read_bytes() == before
