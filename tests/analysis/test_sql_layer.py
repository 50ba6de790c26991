"""The engine-neutral layer: literals are safe, and every query the analyses
issue transpiles to Spark SQL."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlglot

from groundswell.analysis import sql


def test_literals_escape():
    assert sql.literal("a'b") == "'a''b'"
    assert sql.literal(["x", 1]) == "['x', 1]"
    assert sql.literal(datetime(2017, 10, 15, 20)) == "TIMESTAMP '2017-10-15 20:00:00'"
    assert sql.render("SELECT {a} IN {b}", a="'; DROP TABLE posts; --", b=sql.Raw("(1)")) == \
        "SELECT '''; DROP TABLE posts; --' IN (1)"
    with pytest.raises(TypeError):
        sql.literal(object())


def test_every_issued_query_transpiles_to_spark(tmp_path):
    from groundswell.analysis import analyze
    from groundswell.store import open_store

    from .test_units import small_store

    sql.ISSUED.clear()
    with open_store(tmp_path / "s.duckdb") as s:
        small_store(s)
        # a follower graph: the reposters of the call follow its author and, in a chain, each other
        rows = [("u10", "u1")] + [(f"u{11 + k}", f"u{10 + k}") for k in range(39)]
        s.con.executemany("INSERT INTO follows (platform, follower_id, followed_id, source_file, source_line) "
                          "VALUES ('twitter', ?, ?, 'f.csv', ?)", [(a, b, i) for i, (a, b) in enumerate(rows)])
        r = analyze(s, ["metoo"])
    assert r["cascades"]["reposts"]["shape"] == "reconstructed"
    assert r["cascades"]["reposts"]["depth"]["max"] == 40  # the chain of follows, not a star
    assert r["people"]["communities"]["basis"] == "followers among participants"
    assert len(sql.ISSUED) > 20
    for q in sql.ISSUED:
        out = sqlglot.transpile(q, read="duckdb", write="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)
        assert out and out[0]
        low = q.lower()
        for bad in ("list_has_any", "epoch_ms(", "strftime(", "len("):
            assert bad not in low, (bad, q[:200])
