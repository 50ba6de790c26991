"""Inputs a user brings that are not posts: list-lookup pages, a published volume series,
accounts observed at no known time.

* ``lists.jsonl`` (twarc-csv's test data: twarc2 list-lookup pages) is valid JSON
  lines: read, counted as read, nothing stored, and said so in one line.
* The Harvard Dataverse #MeToo daily counts (``created_at,id``, the day's count
  in ``id``) go to ``volumes`` with ``--format volume-csv`` and ``analyze``
  works on them as on twarc2 counts pages; the truth is the file itself and the
  peak days its author names.
* Accounts of a bare Bluesky API response have no observation time: exports
  write NULL, never 1970.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from groundswell.store import open_store

from .conftest import shared

LISTS = "twarc-csv/test-data/lists.jsonl"
DAILY = "metoo-daily-volume-dataverse/number_of_tweets_in_time.csv"
PEAK_DAYS = ("2017-10-16", "2017-10-17", "2017-12-06", "2018-01-08", "2018-03-09")
SEARCH = "bluesky-api-atrrr/app.bsky.feed.searchPosts_bb16d.json"


def test_list_lookup_pages_are_read_and_nothing_stored(tmp_path: Path, cli) -> None:
    pages = [json.loads(x) for x in shared(LISTS).read_text().splitlines() if x.strip()]
    assert len(pages) == 2 and all("member_count" in x for p in pages for x in p["data"])
    db = tmp_path / "s.duckdb"
    r = cli("ingest", "--db", db, shared(LISTS), "--json")
    assert r.code == 0, r.err
    assert "not valid JSON" not in r.err
    notes = [ln for ln in r.err.splitlines() if "nothing stored" in ln]
    assert len(notes) == 1 and "list-lookup" in notes[0]
    d = r.json()
    (f,) = d["files"]
    assert f["format"] == "twitter-lists" and f["lines"] == 2 and f["rejected"] == 0 and not f["error"]
    assert d["failed"] == 0
    with open_store(db, read_only=True) as st:
        counts = [st.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("posts", "accounts", "volumes", "rejects")]
    assert counts == [0, 0, 0, 0]


def _daily() -> dict[str, int]:
    with open(shared(DAILY), encoding="utf-8") as f:
        return {r["created_at"][:10]: int(r["id"]) for r in csv.DictReader(f)}


def test_the_dataverse_daily_counts_are_a_volume_series(tmp_path: Path, cli) -> None:
    truth = _daily()
    db = tmp_path / "v.duckdb"
    r = cli("ingest", "--db", db, "--format", "volume-csv", "--columns", "start=created_at,count=id", shared(DAILY))
    assert r.code == 1 and "--query" in r.err  # the file names no query: it must be given
    r = cli("ingest", "--db", db, "--format", "volume-csv", "--columns", "start=created_at,count=id",
            "--query", "#metoo", shared(DAILY))
    assert r.code == 0, r.err
    with open_store(db, read_only=True) as st:
        rows = st.con.execute('SELECT start, "end", count, query, platform FROM volumes ORDER BY start').fetchall()
    assert len(rows) == len(truth) == 1462
    assert {s.date().isoformat(): n for s, _e, n, _q, _p in rows} == truth
    assert all(e - s == timedelta(days=1) and q == "#metoo" and p == "twitter" for s, e, _n, q, p in rows)
    assert cli("info", "--db", db, "--json").json()["volume_posts"] == sum(truth.values())

    r = cli("analyze", "--db", db, "--hashtag", "metoo", "--json")
    assert r.code == 0, r.err
    d = r.json()
    assert d["basis"] == "platform counts"
    levels = {x["time"][:10]: x["burst_level"] for x in d["timeline"]["rows"]}
    assert all(levels[day] >= 1 for day in PEAK_DAYS)
    assert d["timeline"]["peak"][:10] == max(truth, key=lambda k: truth[k]) == "2018-01-08"
    assert d["onset"]["ignition"]["status"] == "undetermined"
    # the same file read with another query is another input (read again, not "already ingested")
    r = cli("ingest", "--db", db, "--format", "volume-csv", "--columns", "start=created_at,count=id",
            "--query", "#MeToo OR #metoo", shared(DAILY))
    assert r.code == 0 and "already ingested" not in r.err


def test_volume_rows_that_cannot_be_read_are_rejected_alone(tmp_path: Path, cli) -> None:
    f = tmp_path / "v.csv"
    f.write_text("day;posts;query\n2020-01-01;10;#x\n2020-01-02;ten;#x\n2020-01-03;12.0;#x\n"
                 "someday;4;#x\n2020-01-05;-3;#x\n2020-01-04;7;#x\n", encoding="utf-8")
    db = tmp_path / "s.duckdb"
    r = cli("ingest", "--db", db, "--format", "volume-csv", "--delimiter", ";", f)
    assert r.code == 1  # three rows rejected
    with open_store(db, read_only=True) as st:
        got = st.con.execute('SELECT start, "end", count, query FROM volumes ORDER BY start').fetchall()
        reasons = [x for (x,) in st.con.execute("SELECT reason FROM rejects ORDER BY source_line").fetchall()]
    assert [(s.day, e.day, n, q) for s, e, n, q in got] == [(1, 2, 10, "#x"), (3, 4, 12, "#x"), (4, 5, 7, "#x")]
    assert len(reasons) == 3 and "not a number" in reasons[0] and "negative" in reasons[2]
    r = cli("ingest", "--db", tmp_path / "t.duckdb", "--query", "#x", f)
    assert r.code == 2 and "--format volume-csv" in r.err


def test_accounts_observed_at_no_known_time_export_null(tmp_path: Path, cli) -> None:
    db = tmp_path / "b.duckdb"
    assert cli("ingest", "--db", db, "--quiet", shared(SEARCH)).code == 0
    with open_store(db, read_only=True) as st:
        n = st.con.execute("SELECT count(*) FROM accounts WHERE observed_at = TIMESTAMP '1970-01-01'").fetchone()[0]
    assert n > 0  # the store's mark for "unknown"
    for fmt in ("csv", "jsonl", "parquet"):
        out = tmp_path / f"a.{fmt}"
        args = ["export", "--db", db, "--table", "accounts", "--format", fmt, "--output", out]
        for extra in ([], ["--identify", "--no-redact", "--show-disclosure-text", "--private"]):
            r = cli(*args, *extra)
            assert r.code == 0, r.err
            if fmt == "parquet":
                values = pq.read_table(out).column("observed_at").to_pylist()
                assert all(v is None or v > datetime(1971, 1, 1) for v in values)
                assert values.count(None) == n
            else:
                assert "1970" not in out.read_text()
