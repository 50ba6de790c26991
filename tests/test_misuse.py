"""Issue 16: each misuse a new user met gets the right result or a one-line error, through the CLI."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from .conftest import shared

NETWORK = "twarc-network/test-data/tweets.jsonl"
GOT = "metoo-getoldtweets-2017/tweets_sample_100_per_day.csv"


def _one_error(r) -> str:  # noqa: ANN001
    assert "Traceback" not in r.err, r.err
    lines = [ln for ln in r.err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, r.err
    return lines[0]


@pytest.fixture(scope="module")
def network_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from groundswell.ingest import ingest
    from groundswell.store import open_store

    db = tmp_path_factory.mktemp("net") / "n.duckdb"
    with open_store(db) as st:
        ingest(st, [str(shared(NETWORK))], progress=False)
    return db


# -- --db ----------------------------------------------------------------------

@pytest.mark.parametrize("content,kind", [
    (b"id,text\n1,hello\n", "text"),
    (b'{"id": "1"}\n', "JSON"),
    (b"PAR1\x00\x00\x00\x00PAR1", "Parquet"),
    (b"", "empty"),
])
def test_db_that_is_another_kind_of_file_is_refused_untouched(cli, tmp_path: Path, content: bytes,
                                                              kind: str) -> None:
    data = tmp_path / "data.jsonl"
    data.write_text('{"id": "1", "text": "x"}\n')
    notes = tmp_path / "notes.bin"
    notes.write_bytes(content)
    r = cli("ingest", shared(NETWORK), "--db", notes)
    line = _one_error(r)
    assert r.code == 1 and "notes.bin is not a DuckDB store" in line and kind in line
    assert notes.read_bytes() == content
    assert "ingested" not in r.err


def test_db_in_a_missing_folder_or_a_folder(cli, tmp_path: Path) -> None:
    r = cli("ingest", shared(NETWORK), "--db", tmp_path / "nodir" / "s.duckdb")
    assert r.code == 1 and "folder" in _one_error(r) and "does not exist" in r.err
    r = cli("ingest", shared(NETWORK), "--db", tmp_path)
    assert r.code == 1 and "is a folder" in _one_error(r)


def test_db_that_is_another_duckdb_database_is_refused(cli, tmp_path: Path) -> None:
    import duckdb

    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE t AS SELECT 1 AS x")
    con.close()
    r = cli("ingest", shared(NETWORK), "--db", other, "-q")
    assert r.code == 1 and "not a groundswell store" in _one_error(r)
    con = duckdb.connect(str(other), read_only=True)
    assert [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()] == ["t"]
    con.close()


# -- export --------------------------------------------------------------------

def test_twarc_csv_export_of_a_getoldtweets_store(cli, tmp_path: Path) -> None:
    db = tmp_path / "got.duckdb"
    assert cli("ingest", shared(GOT), "--db", db, "-q").code == 0
    out = tmp_path / "out.csv"
    r = cli("export", "--db", db, "--format", "csv", "--output", out)
    assert r.code == 0, r.err
    assert len(list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))) == 7600
    r = cli("export", "--db", db, "--format", "csv", "--output", out, "--identify", "--no-redact")
    assert r.code == 0, r.err
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == 7600  # SOURCES.md: 100 tweets for each of 76 days
    src = {row["tweet_id"] for row in csv.DictReader(io.StringIO(shared(GOT).read_text(encoding="utf-8")))}
    assert {row["id"] for row in rows} == src
    assert all(row["created_at"].endswith("Z") for row in rows)


def test_twarc_csv_export_of_the_docs_minimal_csv(cli, tmp_path: Path) -> None:
    data = tmp_path / "posts.csv"
    data.write_text("id,author,created_at,text,mentions\n"
                    "1001,alice,2021-09-22T12:00:00Z,hello #MeToo @bob,bob\n"
                    "1002,bob,2021-09-22T12:05:00Z,thank you,\n")
    db = tmp_path / "s.duckdb"
    assert cli("ingest", data, "--db", db, "-q").code == 0
    r = cli("export", "--db", db, "--format", "csv", "--output", "-", "--identify", "--no-redact")
    assert r.code == 0, r.err
    rows = list(csv.DictReader(io.StringIO(r.out)))
    assert [(x["id"], x["author.username"]) for x in rows] == [("1001", "alice"), ("1002", "bob")]
    assert rows[0]["entities.hashtags"] == '["#MeToo"]'


def test_export_platform_is_case_insensitive_and_unknown_is_refused(cli, network_store: Path) -> None:
    r = cli("export", "--db", network_store, "--format", "jsonl", "--output", "-", "--platform", "TWITTER")
    assert r.code == 0 and len(r.out.splitlines()) == 500
    r = cli("export", "--db", network_store, "--format", "jsonl", "--output", "-", "--platform", "BlueSky")
    assert r.code == 2 and "holds posts of twitter" in _one_error(r) and r.out == ""


# -- outputs that cannot be written ---------------------------------------------

def test_outputs_in_a_missing_folder(cli, network_store: Path, tmp_path: Path) -> None:
    nodir = tmp_path / "nodir"
    cases = [
        ("export", "--db", network_store, "--format", "csv", "--output", nodir / "x.csv"),
        ("network", "--db", network_store, "--output", nodir / "x.json"),
        ("report", "--db", network_store, "--hashtag", "blacklivesmatter", "--output", nodir / "r.html"),
        ("classify", "--input", shared("metoo-antinetwork/first_day_2017-10-15_shared.jsonl"),
         "--output", nodir / "x.jsonl"),
    ]
    for args in cases:
        r = cli(*args)
        line = _one_error(r)
        assert r.code in (1, 2) and "nodir" in line and "does not exist" in line, (args, r.err)
    assert not nodir.exists()


def test_report_brief_in_a_missing_folder_is_refused_before_the_html(cli, network_store: Path,
                                                                      tmp_path: Path) -> None:
    html = tmp_path / "r.html"
    r = cli("report", "--db", network_store, "--hashtag", "blacklivesmatter", "--output", html,
            "--brief", tmp_path / "nodir" / "b.md", "-q")
    assert r.code == 2 and "--brief" in _one_error(r)
    assert not html.exists()


def test_followers_given_a_csv(cli, network_store: Path, tmp_path: Path) -> None:
    f = tmp_path / "follows.csv"
    f.write_text("follower_id,followed_id\n1,2\n")
    r = cli("analyze", "--db", network_store, "--hashtag", "blacklivesmatter", "--followers", f)
    line = _one_error(r)
    assert r.code == 2 and "not a Parquet file" in line and "groundswell ingest" in line


def test_hashtags_negative_limit(cli, network_store: Path) -> None:
    r = cli("hashtags", "--db", network_store, "--limit", "-1")
    assert r.code == 2 and "--limit" in _one_error(r)
    r = cli("hashtags", "--db", network_store, "--limit", "0")
    assert r.code == 2 and "1 or more" in _one_error(r)
    r = cli("hashtags", "--db", network_store, "--limit", "2")
    assert r.code == 0 and len(r.out.splitlines()) == 3  # the header and the two most used


def test_classify_text_column_that_no_record_has(cli, tmp_path: Path) -> None:
    src = shared("metoo-antinetwork/first_day_2017-10-15_shared.jsonl")
    out = tmp_path / "labels.jsonl"
    r = cli("classify", "--input", src, "--text-column", "NOSUCH", "--output", out)
    line = _one_error(r)
    assert r.code == 2 and "'NOSUCH'" in line and "text" in line and "--text-column" in line
    assert not out.exists()
    r = cli("classify", "--input", src, "--output", out, "--quiet")
    assert r.code == 0 and len(out.read_text().splitlines()) == 231


# -- network ---------------------------------------------------------------------

@pytest.mark.parametrize("args,words", [
    (["--edges", ""], "names no link type"),
    (["--edges", ","], "names no link type"),
    (["--nodes", "hashtags", "--edges", "reply"], "--edges does not apply"),
    (["--hashtag", "nosuch"], "no post carries #nosuch"),
    (["--min-component-size", "5", "--max-component-size", "2"], "above --max-component-size"),
    (["--min-component-size", "0"], "at least 1"),
])
def test_network_misuse(cli, network_store: Path, args: list[str], words: str) -> None:
    r = cli("network", "--db", network_store, *args)
    assert r.code == 2 and words in _one_error(r) and r.out == ""


@pytest.mark.parametrize("fmt", ["gexf", "graphml"])
def test_network_files_read_back_with_networkx(cli, network_store: Path, tmp_path: Path, fmt: str) -> None:
    nx = pytest.importorskip("networkx")
    out = tmp_path / f"g.{fmt}"
    r = cli("network", "--db", network_store, "--format", fmt, "--output", out, "--identify")
    assert r.code == 0, r.err
    g = nx.read_gexf(out) if fmt == "gexf" else nx.read_graphml(out)
    # twarc-network's own test on the same data: 656 nodes, 618 links (shared expected.json)
    assert (g.number_of_nodes(), g.number_of_edges()) == (656, 618)
    assert g.is_directed()
    if fmt == "gexf":
        assert out.read_text().count('xmlns="http://www.gexf.net/1.2draft"') == 1
    weights = [d.get("weight") for _, _, d in g.edges(data=True)]
    assert all(w is not None and float(w) >= 1 for w in weights)


def test_ingest_platform_option_is_case_insensitive(cli, tmp_path: Path) -> None:
    data = tmp_path / "posts.csv"
    data.write_text("id,author,created_at,text\n"
                    "at://did:plc:a/app.bsky.feed.post/1,alice,2024-01-01T00:00:00Z,hello #MeToo\n")
    db = tmp_path / "s.duckdb"
    assert cli("ingest", data, "--db", db, "--platform", "BlueSky", "-q").code == 0
    r = cli("export", "--db", db, "--format", "jsonl", "--output", "-", "--platform", "BLUESKY")
    assert r.code == 0 and len(r.out.splitlines()) == 1
    assert '"platform":"bluesky"' in r.out
