"""forget and deletions reach the stored input pages (the twarc2 fast path keeps its lines there).

A crafted twarc2 archive (texts written for this test) where the post to forget
is in one page's ``data`` and in two other pages' ``includes`` (a quote of it,
a retweet whose own text copies it), and the private account's profile is in
every page. Each check decompresses every stored page and searches it, besides
scanning every column of every table in SQL.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import duckdb
import zstandard

from .synth import page, tweet, user, write_jsonl
from .test_forget_everywhere import scan

MARK_P = "MARKERPAGEzq71Rk"       # in the post to forget
MARK_KEEP = "KEEPSAKEpage8Lw"     # in a bystander's post that must survive
ALICE_ID, ALICE = "7200000000000000001", "alice_paged"
BOB_ID, CAROL_ID = "7200000000000000002", "7200000000000000003"
P_ID = "9100000000000000001"


def archive(path: Path) -> Path:
    alice, bob, carol = user(ALICE_ID, ALICE), user(BOB_ID, "bob_paged"), user(CAROL_ID, "carol_paged")
    p = tweet(P_ID, ALICE_ID, f"#MeToo {MARK_P} it was at work")
    keep = tweet("9100000000000000002", BOB_ID, f"#MeToo {MARK_KEEP} a bystander's words")
    quote = tweet("9100000000000000003", BOB_ID, "this took courage #MeToo", refs=[("quoted", P_ID)])
    rt = tweet("9100000000000000004", CAROL_ID, f"RT @{ALICE}: #MeToo {MARK_P} it was at work",
               refs=[("retweeted", P_ID)], mentions=[ALICE])
    return write_jsonl(path, [page([p, keep], [alice, bob]),
                              page([quote], [bob, alice], [p]),
                              page([rt], [carol, alice], [p])])


def scan_pages(db: Path, needles: list[str]) -> list[str]:
    """The needles found (case-insensitive) in any stored page, decompressed."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        bodies = [r[0] for r in con.execute("SELECT body FROM pages").fetchall()]
    finally:
        con.close()
    d = zstandard.ZstdDecompressor()
    texts = [d.decompress(b).decode("utf-8").lower() for b in bodies]
    return [n for n in needles if any(n.lower() in t for t in texts)]


def _store(cli: Any, tmp: Path) -> Path:
    db = tmp / "s.duckdb"
    r = cli("ingest", archive(tmp / "pages.jsonl"), "--db", db, "--quiet")
    assert r.code == 0, r.err
    return db


def _raw(cli: Any, db: Path, tmp: Path) -> dict[str, Any]:
    out = tmp / "raw.jsonl"
    r = cli("export", "--db", db, "--format", "jsonl", "--output", out, "--raw", "--identify", "--no-redact",
            "--show-disclosure-text", "--private",
            "--include-referenced")
    assert r.code == 0, r.err
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return {row["id"]: (json.loads(row["raw"]) if row["raw"] else None) for row in rows}


def test_the_pages_hold_the_copies_the_tests_look_for(cli: Any, tmp_path: Path) -> None:
    db = _store(cli, tmp_path)
    con = duckdb.connect(str(db), read_only=True)
    pointed = con.execute("SELECT count(*) FROM posts WHERE raw IS NULL AND raw_page IS NOT NULL").fetchone()[0]
    held = con.execute("SELECT count(*) FROM page_posts WHERE id = ?", [P_ID]).fetchone()[0]
    con.close()
    assert pointed == 4 and held == 3           # the rows point into pages; the post is in three of them
    assert scan_pages(db, [MARK_P, ALICE, ALICE_ID, f"bio of {ALICE}"]) == [MARK_P, ALICE, ALICE_ID, f"bio of {ALICE}"]
    assert not [h for h in scan(db, [MARK_P]) if h.startswith("pages.")]  # compressed: the search must decompress
    raws = _raw(cli, db, tmp_path)
    assert MARK_P in raws[P_ID]["text"] and raws[P_ID]["author_id"] == ALICE_ID


def test_forget_a_post_reaches_every_page(cli: Any, tmp_path: Path) -> None:
    db = _store(cli, tmp_path)
    ids = tmp_path / "ids.txt"
    ids.write_text(P_ID + "\n", encoding="utf-8")
    r = cli("forget", "--db", db, "--ids", ids, "--json")
    assert r.code == 0, r.err
    assert scan_pages(db, [MARK_P]) == []
    assert scan_pages(db, [MARK_KEEP]) == [MARK_KEEP]     # nothing else went
    raws = _raw(cli, db, tmp_path)
    assert raws[P_ID] is None and raws["9100000000000000004"] is None   # the post, and the retweet copying it
    assert MARK_KEEP in raws["9100000000000000002"]["text"]
    assert raws["9100000000000000003"]["referenced_tweets"] == [{"type": "quoted", "id": P_ID}]
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM page_posts WHERE id = ?", [P_ID]).fetchone()[0] == 0
    con.close()


def test_forget_an_account_reaches_every_page(cli: Any, tmp_path: Path) -> None:
    db = _store(cli, tmp_path)
    r = cli("forget", "--db", db, "--account", f"@{ALICE}", "--json")
    assert r.code == 0, r.err
    needles = [ALICE, ALICE_ID, MARK_P, f"Name {ALICE}", f"bio of {ALICE}", f"Town of {ALICE}"]
    assert scan_pages(db, needles) == []
    assert scan(db, needles) == []
    assert scan_pages(db, [MARK_KEEP, "bob_paged", "carol_paged"]) == [MARK_KEEP, "bob_paged", "carol_paged"]


def test_a_compliance_deletion_and_a_later_copy_are_scrubbed_at_ingest(cli: Any, tmp_path: Path) -> None:
    db = _store(cli, tmp_path)
    comp = tmp_path / "compliance.jsonl"
    comp.write_text(json.dumps({"id": P_ID, "action": "delete", "created_at": "2017-10-16T12:00:00.000Z",
                                "redacted_at": "2018-01-01T00:00:00.000Z", "reason": "deleted"}) + "\n")
    assert cli("ingest", comp, "--db", db, "--quiet").code == 0
    assert scan_pages(db, [MARK_P]) == []
    # the deleted post comes back in a new file: its new page is scrubbed as it goes in
    again = tmp_path / "again"
    again.mkdir()
    assert cli("ingest", archive(again / "more.jsonl"), "--db", db, "--quiet").code == 0
    assert scan_pages(db, [MARK_P]) == []
    assert scan_pages(db, [MARK_KEEP]) == [MARK_KEEP]


# -- CSV pages (the CSV fast path keeps its lines there) ---------------------------

MARK_C = "MARKERCSVline5Tq"       # in the CSV post to forget
MARK_CKEEP = "KEEPSAKEcsv3Jd"     # in a bystander's CSV post that must survive
DANA = "dana_csvpaged"


def _csv_store(cli: Any, tmp: Path) -> Path:
    rows = [["id", "author", "created_at", "text"],
            ["9200000000000000001", DANA, "2017-10-15T20:21:00.000Z", f"#MeToo {MARK_C} it was at school"],
            ["9200000000000000002", "erin_csvpaged", "2017-10-15T20:22:00.000Z", f"#MeToo {MARK_CKEEP} a bystander"],
            ["9200000000000000003", DANA, "2017-10-15T20:23:00.000Z", "#MeToo another of hers"]]
    path = tmp / "posts.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    db = tmp / "c.duckdb"
    r = cli("ingest", path, "--db", db, "--quiet")
    assert r.code == 0, r.err
    con = duckdb.connect(str(db), read_only=True)
    pointed = con.execute("SELECT count(*) FROM posts WHERE raw IS NULL AND raw_page IS NOT NULL").fetchone()[0]
    con.close()
    assert pointed == 3
    assert scan_pages(db, [MARK_C, MARK_CKEEP, DANA]) == [MARK_C, MARK_CKEEP, DANA]
    return db


def test_forget_a_csv_post_blanks_its_line(cli: Any, tmp_path: Path) -> None:
    db = _csv_store(cli, tmp_path)
    ids = tmp_path / "ids.txt"
    ids.write_text("9200000000000000001\n", encoding="utf-8")
    r = cli("forget", "--db", db, "--ids", ids, "--json")
    assert r.code == 0, r.err
    assert scan_pages(db, [MARK_C]) == [] and scan(db, [MARK_C]) == []
    assert scan_pages(db, [MARK_CKEEP]) == [MARK_CKEEP]
    raws = _raw(cli, db, tmp_path)
    assert raws["9200000000000000001"] is None and MARK_CKEEP in raws["9200000000000000002"]["text"]


def test_forget_an_account_reaches_its_csv_lines(cli: Any, tmp_path: Path) -> None:
    db = _csv_store(cli, tmp_path)
    r = cli("forget", "--db", db, "--account", f"@{DANA}", "--json")
    assert r.code == 0, r.err
    assert scan_pages(db, [DANA, MARK_C]) == [] and scan(db, [DANA, MARK_C]) == []
    assert scan_pages(db, [MARK_CKEEP, "erin_csvpaged"]) == [MARK_CKEEP, "erin_csvpaged"]


def test_a_deletion_reaches_a_csv_line_before_and_after(cli: Any, tmp_path: Path) -> None:
    comp = tmp_path / "compliance.jsonl"
    comp.write_text(json.dumps({"id": "9200000000000000001", "action": "delete",
                                "created_at": "2017-10-16T12:00:00.000Z",
                                "redacted_at": "2018-01-01T00:00:00.000Z", "reason": "deleted"}) + "\n")
    db = _csv_store(cli, tmp_path)  # stored first, deleted after
    assert cli("ingest", comp, "--db", db, "--quiet").code == 0
    assert scan_pages(db, [MARK_C]) == [] and scan_pages(db, [MARK_CKEEP]) == [MARK_CKEEP]
    later = tmp_path / "later"  # deleted first: the line of the post that comes after is blank as it goes in
    later.mkdir()
    db2 = later / "d.duckdb"
    assert cli("ingest", comp, "--db", db2, "--quiet").code == 0
    posts = later / "posts.csv"
    posts.write_bytes((tmp_path / "posts.csv").read_bytes())
    assert cli("ingest", posts, "--db", db2, "--quiet").code == 0
    assert scan_pages(db2, [MARK_C]) == [] and scan_pages(db2, [MARK_CKEEP]) == [MARK_CKEEP]
