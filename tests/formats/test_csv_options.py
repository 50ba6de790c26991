"""CSV files in other encodings and with other delimiters, through the command line."""

from __future__ import annotations

from pathlib import Path

import duckdb

ROWS = [("1", "anna", "2017-10-15T20:21:00Z", "Caf\u00e9 \u2019quoted\u2019 \u2014 #MeToo"),
        ("2", "ben", "2017-10-15T20:22:00Z", "na\u00efve r\u00e9sum\u00e9 #MeToo @anna"),
        ("3", "cleo", "2017-10-15T20:23:00Z", "plain ascii #MeToo")]


def _write(path: Path, delimiter: str, encoding: str) -> None:
    lines = [delimiter.join(("id", "author", "created_at", "text"))]
    lines += [delimiter.join(r) for r in ROWS]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))


def _posts(db: Path) -> list[tuple[str, str, list[str], list[str]]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT id, text, hashtags, mentions FROM posts ORDER BY id").fetchall()
    finally:
        con.close()


def test_cp1252_needs_its_encoding(tmp_path: Path, db: Path, cli) -> None:
    path = tmp_path / "cp1252.csv"
    _write(path, ",", "cp1252")
    r = cli("ingest", path, "--db", db, "--json", "-q")
    assert r.code == 1 and r.json()["rejected"] == 2  # the two rows with non-ASCII bytes, told how to fix it
    assert "--encoding cp1252" in r.err and "not valid UTF-8" in r.err
    db.unlink()
    r = cli("ingest", path, "--db", db, "--json", "-q", "--encoding", "cp1252")
    assert r.code == 0 and r.json()["new_posts"] == 3 and r.json()["rejected"] == 0
    assert [(i, t) for i, t, _h, _m in _posts(db)] == [(i, t) for i, _a, _c, t in ROWS]
    assert [m for *_x, m in _posts(db)] == [[], ["anna"], []]


def test_delimiters_guessed_and_given(tmp_path: Path, cli) -> None:
    for name, d in (("semicolon", ";"), ("tab", "\t"), ("pipe", "|")):
        path = tmp_path / f"{name}.csv"
        _write(path, d, "utf-8")
        db = tmp_path / f"{name}.duckdb"
        r = cli("ingest", path, "--db", db, "--json", "-q")
        assert r.code == 0 and r.json()["new_posts"] == 3, (name, r.err)
        assert [(i, t) for i, t, _h, _m in _posts(db)] == [(i, t) for i, _a, _c, t in ROWS]
        assert all(h == ["metoo"] for _i, _t, h, _m in _posts(db))
    # a delimiter the header does not reveal: given, with the format forced
    path = tmp_path / "colon.csv"
    _write(path, ":", "utf-8")  # the times hold ':' too: quote them
    text = path.read_text()
    path.write_text(text.replace("2017-10-15T20:2", '"2017-10-15T20:2').replace(":00Z", ':00Z"'))
    r = cli("ingest", path, "--db", tmp_path / "colon.duckdb", "-q", "--json", "--delimiter", ":", "--format", "csv")
    assert r.code == 0 and r.json()["new_posts"] == 3, r.err
    # given as a word, in a non-UTF-8 file
    path = tmp_path / "latin1.tsv"
    path.write_bytes("id\ttext\n1\tna\u00efve #MeToo\n".encode("latin-1"))
    r = cli("ingest", path, "--db", tmp_path / "l.duckdb", "-q", "--json",
            "--delimiter", "tab", "--encoding", "latin-1")
    assert r.code == 0 and r.json()["new_posts"] == 1
    assert _posts(tmp_path / "l.duckdb")[0][1] == "na\u00efve #MeToo"


def test_bad_options_are_one_line_errors(tmp_path: Path, db: Path, cli) -> None:
    path = tmp_path / "p.csv"
    _write(path, ",", "utf-8")
    for opts, want in ((["--encoding", "utf-16"], "iconv -f utf-16 -t utf-8"),
                       (["--encoding", "klingon"], "unknown encoding"),
                       (["--delimiter", ";;"], "give one character"),
                       (["--delimiter", '"'], "give one character"),
                       (["--engine", "spark", "--encoding", "cp1252"], "spark does not support --encoding")):
        r = cli("ingest", path, "--db", db, *opts)
        assert r.code == 2, opts
        lines = r.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and want in lines[0], (opts, r.err)
