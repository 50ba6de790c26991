"""forget, deletions from live sources and compliance files, retention; the bytes must be gone."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from groundswell import privacy as P
from groundswell.errors import UsageError
from groundswell.formats import twitter_v2
from groundswell.formats.base import ListSink
from groundswell.ingest import ingest, records_to_table
from groundswell.store import open_store

from ..conftest import shared
from .synth import KEEP, SECRET_A, SECRET_B, movement, write_jsonl


def grep(db: Path, marker: str) -> list[str]:
    """The store files (database, WAL, leftovers beside it) whose bytes hold ``marker``."""
    needle = marker.encode()
    return [f.name for f in db.parent.iterdir() if f.name.startswith(db.name) and needle in f.read_bytes()]


def _ingest(db: Path, *files: Path) -> None:
    with open_store(db) as s:
        ingest(s, [str(f) for f in files], progress=False)
        s.checkpoint()


def _again(tmp_path: Path) -> Path:
    """The same archive as another file (a different fingerprint, so ingest reads it again)."""
    (tmp_path / "again").mkdir()
    f = movement(tmp_path / "again")
    with open(f, "a", encoding="utf-8") as fh:
        fh.write("\n")
    return f


def test_forget_ids_leaves_no_bytes_and_keeps_counts(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    _ingest(db, movement(tmp_path))
    assert grep(db, SECRET_A) and grep(db, KEEP)      # the test can see the bytes at all
    ids = tmp_path / "ids.txt"
    ids.write_text("# posts to forget\ntwitter,9001\n", encoding="utf-8")
    with open_store(db) as s:
        before = s.con.execute("SELECT count(*) FROM posts").fetchone()[0]
        res = P.forget(s, P.read_id_file(str(ids)))
        assert res.posts == 1 and res.referencing >= 1 and res.compacted
        assert s.con.execute("SELECT count(*) FROM posts").fetchone()[0] == before
        row = s.con.execute("SELECT deleted, text, raw, author_id, author_handle, created_at IS NOT NULL, hashtags "
                            "FROM posts WHERE id = '9001'").fetchone()
        assert row == (True, None, None, "101", None, True, ["metoo"])
        # the retweet carried the same words: scrubbed too; the quote keeps its own words
        assert s.con.execute("SELECT text FROM posts WHERE id = '9002'").fetchone()[0] is None
        assert s.con.execute("SELECT text FROM posts WHERE id = '9003'").fetchone()[0] is not None
        assert s.con.execute("SELECT reason FROM deletions WHERE id = '9001'").fetchone()[0] == "forget"
    assert grep(db, SECRET_A) == []
    assert grep(db, KEEP)
    # the store still works after the rewrite, and a re-ingest does not bring the text back
    with open_store(db) as s:
        ingest(s, [str(_again(tmp_path))], progress=False)
        assert s.con.execute("SELECT text FROM posts WHERE id = '9001'").fetchone()[0] is None
        P.apply_deletions(s)
        P.compact(s)
    assert grep(db, SECRET_A) == []


def test_forget_account(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    _ingest(db, movement(tmp_path))
    with open_store(db) as s:
        res = P.forget(s, account="@alice_private")
        assert res.accounts >= 1 and res.posts == 1
        assert s.con.execute("SELECT count(*) FROM accounts WHERE id = '101'").fetchone()[0] == 0
        assert s.con.execute("SELECT count(*) FROM posts WHERE author_id = '101'").fetchone()[0] == 0
        gone = s.con.execute("SELECT author_id FROM posts WHERE id = '9001'").fetchone()[0]
        assert gone.startswith("forgotten-") and "101" not in gone
        quote = s.con.execute("SELECT mentions FROM posts WHERE id = '9003'").fetchone()[0]
        assert quote == [gone]
        assert s.con.execute("SELECT count(DISTINCT author_id) FROM posts").fetchone()[0] == 4  # honest counts
    for marker in (SECRET_A, "bio of alice_private", "Name alice_private", "Town of alice_private"):
        assert grep(db, marker) == [], marker
    assert grep(db, KEEP)
    # a later ingest of the same archive brings her back; apply_deletions forgets her again
    with open_store(db) as s:
        ingest(s, [str(_again(tmp_path))], progress=False)
        assert s.con.execute("SELECT count(*) FROM accounts WHERE id = '101'").fetchone()[0] > 0
        P.apply_deletions(s)
        assert s.con.execute("SELECT count(*) FROM accounts WHERE id = '101'").fetchone()[0] == 0
        assert s.con.execute("SELECT count(*) FROM posts WHERE author_id = '101'").fetchone()[0] == 0


def test_forget_unknown_account_is_a_usage_error(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.duckdb") as s:
        with pytest.raises(UsageError, match="no account"):
            P.forget(s, account="@nobody")


def test_compliance_file_deletes_text_everywhere(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    _ingest(db, movement(tmp_path))
    assert grep(db, SECRET_B)
    lines = [{"id": "9005", "action": "delete", "created_at": "2021-01-01T00:00:00.000Z", "reason": "deleted",
              "redacted_at": "2021-01-02T00:00:00.000Z"},
             {"id": "9006", "action": "delete", "created_at": "2021-01-01T00:00:00.000Z", "reason": "suspended"}]
    comp = write_jsonl(tmp_path / "compliance.jsonl", lines)
    with open_store(db) as s:
        # read the compliance file with its parser, as ingest does, and write the deletions
        sink = ListSink()
        for line in comp.read_text().splitlines():
            twitter_v2.parse_compliance(json.loads(line), sink)
        for d in sink.deletions:
            d.update(source_file=str(comp), source_line=0)
        s.write_batch({"deletions": records_to_table("deletions", sink.deletions)})
        # the store clears text and raw at once; privacy finishes the job
        assert s.con.execute("SELECT count(*) FROM posts WHERE id IN ('9005', '9006') AND text IS NULL").fetchone()[0] == 2
        res = P.apply_deletions(s)
        assert res.posts == 2
        assert s.con.execute("SELECT count(*) FROM posts WHERE id IN ('9005','9006') AND author_handle IS NULL "
                             "AND len(mentions) = 0").fetchone()[0] == 2
        assert P.compact(s)
    assert grep(db, SECRET_B) == []
    assert grep(db, KEEP)


def test_jetstream_delete_event(tmp_path: Path) -> None:
    did = "did:plc:privatepersonabc"
    marker = "MARKERJETSTREAMzz81Qa"
    events = [
        {"did": did, "time_us": 1_700_000_000_000_000, "kind": "commit",
         "commit": {"rev": "1", "operation": "create", "collection": "app.bsky.feed.post", "rkey": "3kx1",
                    "cid": "c1", "record": {"$type": "app.bsky.feed.post", "text": f"#MeToo {marker}",
                                            "createdAt": "2023-11-14T22:13:20.000Z", "langs": ["en"]}}},
        {"did": did, "time_us": 1_700_000_000_000_001, "kind": "commit",
         "commit": {"rev": "2", "operation": "create", "collection": "app.bsky.feed.post", "rkey": "3kx2",
                    "cid": "c2", "record": {"$type": "app.bsky.feed.post", "text": f"#MeToo {KEEP}",
                                            "createdAt": "2023-11-14T22:13:21.000Z"}}},
    ]
    db = tmp_path / "s.duckdb"
    _ingest(db, write_jsonl(tmp_path / "a.jsonl", events))
    assert grep(db, marker)
    delete = {"did": did, "time_us": 1_700_000_000_000_002, "kind": "commit",
              "commit": {"rev": "3", "operation": "delete", "collection": "app.bsky.feed.post", "rkey": "3kx1"}}
    _ingest(db, write_jsonl(tmp_path / "b.jsonl", [delete]))
    with open_store(db) as s:
        P.apply_deletions(s)
        P.compact(s)
        assert s.con.execute("SELECT deleted FROM posts WHERE id = ?", [f"at://{did}/app.bsky.feed.post/3kx1"]
                             ).fetchone()[0] is True
    assert grep(db, marker) == []
    assert grep(db, KEEP)


def test_derived_tables_and_caches(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    _ingest(db, movement(tmp_path))
    with open_store(db) as s:
        s.con.execute("CREATE TABLE post_labels (platform VARCHAR, id VARCHAR, label VARCHAR, text_snippet VARCHAR)")
        s.con.execute("INSERT INTO post_labels SELECT platform, id, 'disclosure', left(text, 60) FROM posts")
        s.con.execute("CREATE TABLE cache_report (k VARCHAR, v VARCHAR)")
        s.con.execute("INSERT INTO cache_report VALUES ('x', ?)", [SECRET_A])
        s.checkpoint()
    assert grep(db, SECRET_A)
    with open_store(db) as s:
        res = P.forget(s, [("twitter", "9001")])
        assert res.dropped_caches == ["cache_report"] and res.derived_rows == 1
        assert s.con.execute("SELECT label, text_snippet FROM post_labels WHERE id = '9001'").fetchone() \
            == ("disclosure", None)   # the label stays: counts by label stay honest
        assert s.con.execute("SELECT count(*) FROM post_labels WHERE text_snippet IS NOT NULL").fetchone()[0] == 5
    assert grep(db, SECRET_A) == []


def test_forget_on_real_archive_keeps_other_posts(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    _ingest(db, shared("twarc-network/test-data/tweets.jsonl"))
    with open_store(db) as s:
        # an original tweet nobody else in the file reposts or quotes
        pid, n_before, n_text = s.con.execute(
            "SELECT (SELECT p.id FROM posts p WHERE p.kind = 'original' AND NOT p.is_reference AND p.text IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM posts q WHERE q.repost_of_id = p.id OR q.quote_of_id = p.id "
            "OR q.reply_to_id = p.id) ORDER BY p.id LIMIT 1), (SELECT count(*) FROM posts), "
            "(SELECT count(*) FROM posts WHERE text IS NOT NULL)").fetchone()
        P.forget(s, [pid])
        assert s.con.execute("SELECT count(*) FROM posts").fetchone()[0] == n_before
        assert s.con.execute("SELECT count(*) FROM posts WHERE text IS NOT NULL").fetchone()[0] == n_text - 1


def test_retention(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.duckdb") as s:
        assert P.check_retention(s) is None
        P.set_expiry(s, "2020-01-31")
        msg = P.check_retention(s, today=date(2020, 2, 2))
        assert msg and "expired on 2020-01-31" in msg and "2 days ago" in msg
        assert P.check_retention(s, today=date(2020, 1, 31)) is None
        P.set_expiry(s, date(2999, 1, 1))
        assert P.check_retention(s) is None
        P.set_expiry(s, None)
        assert s.meta("privacy.expires") is None
        with pytest.raises(UsageError, match="YYYY-MM-DD"):
            P.set_expiry(s, "next year")
