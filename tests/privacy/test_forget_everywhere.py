"""forget, adversarially: copies nested at any depth, every table and column, the bytes of the file.

A crafted Twitter v1.1 archive (texts written for this test) where the post to
forget survives only as copies inside copies: a quote of it, a retweet of that
quote, a reply to it quoted by another, an account whose latest ``status`` is
that retweet; plus a follower graph, a derived table and a twarc2 page whose
``includes`` repeat the private account. Every check is end to end through the
CLI, and scans every column of every table in SQL and the file's bytes.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import duckdb

from .synth import write_jsonl

MARK_P = "MARKERFORGETpq81Zx"      # in the post to forget
MARK_R = "MARKERREPLYvv27Kw"       # in a reply of hers, forgotten with her account
MARK_KEEP = "KEEPSAKEdelta4Hq"     # in a bystander's post that must survive
ALICE_ID, ALICE = "7100000000000000001", "alice_hidden"
BOB_ID, CAROL_ID, DAVE_ID = "7100000000000000002", "7100000000000000003", "7100000000000000004"
T0 = "Mon Oct 16 12:00:00 +0000 2017"


def _user(uid: str, name: str, status: dict[str, Any] | None = None) -> dict[str, Any]:
    u: dict[str, Any] = {"id": int(uid), "id_str": uid, "screen_name": name, "name": f"Name of {name}",
                         "description": f"bio of {name}", "location": f"Town of {name}", "followers_count": 20,
                         "friends_count": 3, "statuses_count": 9, "verified": False, "created_at": T0}
    if status is not None:
        u["status"] = status
    return u


def _tweet(tid: str, user: dict[str, Any], text: str, **kw: Any) -> dict[str, Any]:
    t: dict[str, Any] = {"id": int(tid), "id_str": tid, "created_at": T0, "full_text": text, "user": user,
                         "lang": "en", "entities": {"hashtags": [{"text": "MeToo"}], "urls": [], "user_mentions": []},
                         "retweet_count": 0, "favorite_count": 0}
    t.update(kw)
    return t


def _mention(uid: str, name: str) -> dict[str, Any]:
    return {"screen_name": name, "id": int(uid), "id_str": uid, "name": f"Name of {name}"}


def archive(tmp: Path) -> dict[str, Path]:
    alice, bob, carol = _user(ALICE_ID, ALICE), _user(BOB_ID, "bob_plain"), _user(CAROL_ID, "carol_plain")
    p = _tweet("8001", alice, f"#MeToo {MARK_P} it was my manager, years ago")
    reply = _tweet("8002", alice, f"@bob_plain {MARK_R} thank you for listening #MeToo",
                   in_reply_to_status_id=8009, in_reply_to_status_id_str="8009",
                   in_reply_to_user_id_str=BOB_ID, in_reply_to_screen_name="bob_plain")
    quote = _tweet("8003", bob, "this took courage #MeToo", quoted_status=p, quoted_status_id_str="8001",
                   is_quote_status=True,
                   entities={"hashtags": [{"text": "MeToo"}], "user_mentions": [],
                             "urls": [{"expanded_url": f"https://twitter.com/{ALICE}/status/8001"}]})
    rt = _tweet("8004", carol, f"RT @bob_plain: this took courage #MeToo", retweeted_status=quote,
                entities={"hashtags": [{"text": "MeToo"}], "urls": [],
                          "user_mentions": [_mention(BOB_ID, "bob_plain")]})
    quote_reply = _tweet("8005", bob, "replying to her reply, quoted #MeToo", quoted_status=reply,
                         quoted_status_id_str="8002", is_quote_status=True)
    mention = _tweet("8006", carol, f"@{ALICE} we stand with you, see https://twitter.com/{ALICE} #MeToo",
                     entities={"hashtags": [{"text": "MeToo"}], "urls": [],
                               "user_mentions": [_mention(ALICE_ID, ALICE)]},
                     in_reply_to_status_id=8001, in_reply_to_status_id_str="8001",
                     in_reply_to_user_id=int(ALICE_ID), in_reply_to_user_id_str=ALICE_ID,
                     in_reply_to_screen_name=ALICE)
    keep = _tweet("8007", bob, f"#MeToo {MARK_KEEP} a bystander's own words")
    # dave's profile embeds his latest status: carol's retweet of bob's quote of alice's post
    dave_lookup = _user(DAVE_ID, "dave_plain", status=_tweet("8008", _user(DAVE_ID, "dave_plain"),
                                                             "RT @carol_plain: RT", retweeted_status=rt))
    tweets = write_jsonl(tmp / "v1.jsonl", [p, reply, quote, rt, quote_reply, mention, keep, dave_lookup])
    follows = tmp / "follows.csv"
    with open(follows, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["follower_id", "followed_id"])
        w.writerows([[BOB_ID, ALICE_ID], [ALICE_ID, CAROL_ID], [BOB_ID, CAROL_ID]])
    return {"tweets": tweets, "follows": follows}


def scan(db: Path, needles: list[str]) -> list[str]:
    """Every (table.column, needle) where some value holds a needle (case-insensitive), in SQL."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        hits = []
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                            "WHERE table_schema = 'main' AND table_type = 'BASE TABLE'").fetchall()]
        for t in tables:
            cols = [r[0] for r in con.execute("SELECT column_name FROM information_schema.columns "
                                              "WHERE table_name = ? AND table_schema = 'main'", [t]).fetchall()]
            for c in cols:
                for n in needles:
                    q = f'SELECT count(*) FROM "{t}" WHERE contains(lower(CAST("{c}" AS VARCHAR)), lower(?))'
                    if t == "meta":
                        q += " AND key <> 'privacy.secret'"
                    if con.execute(q, [n]).fetchone()[0]:
                        hits.append(f"{t}.{c}: {n}")
        return hits
    finally:
        con.close()


def file_bytes(db: Path, needles: list[str]) -> list[str]:
    """The needles found in the bytes of the store's files (database, WAL, leftovers beside it)."""
    blobs = [f.read_bytes() for f in db.parent.iterdir() if f.name.startswith(db.name)]
    return [n for n in needles if any(n.encode() in b for b in blobs)]


def _store(cli: Any, tmp: Path) -> Path:
    files = archive(tmp)
    db = tmp / "s.duckdb"
    r = cli("ingest", files["tweets"], files["follows"], "--db", db, "--quiet")
    assert r.code == 0, r.err
    con = duckdb.connect(str(db))
    # a derived table of someone's analysis: a note naming her and quoting her words
    con.execute("CREATE TABLE notes (post_id VARCHAR, who VARCHAR, excerpt VARCHAR, tags VARCHAR[])")
    words = f"#MeToo {MARK_P} it was my manager, years ago"
    con.execute("INSERT INTO notes VALUES ('8003', ?, ?, ?)", [f"@{ALICE}", f"she wrote: {words}", ["x", words]])
    con.execute("INSERT INTO notes VALUES ('8007', 'bob', ?, [])", [MARK_KEEP])
    con.close()
    return db


def test_the_fixture_hides_the_post_where_the_tests_must_look(cli: Any, tmp_path: Path) -> None:
    db = _store(cli, tmp_path)
    con = duckdb.connect(str(db), read_only=True)
    raws = dict(con.execute("SELECT id, raw FROM posts").fetchall())
    dave = con.execute("SELECT raw FROM accounts WHERE id = ?", [DAVE_ID]).fetchone()[0]
    con.close()
    # the copies the issue names: a retweet of a quote of it, a quote of her reply, a profile's latest status
    assert MARK_P in raws["8004"] and json.loads(raws["8004"])["retweeted_status"]["quoted_status"]["id_str"] == "8001"
    assert MARK_R in raws["8005"] and MARK_P in dave
    assert scan(db, [MARK_P, MARK_R, ALICE, ALICE_ID])


def test_forget_a_post_finds_every_copy(cli: Any, tmp_path: Path) -> None:
    db = _store(cli, tmp_path)
    ids = tmp_path / "ids.txt"
    ids.write_text("8001\n", encoding="utf-8")
    r = cli("forget", "--db", db, "--ids", ids, "--json")
    assert r.code == 0, r.err
    d = r.json()
    assert d["posts"] == 1 and d["referencing"] >= 3 and d["compacted"]
    assert scan(db, [MARK_P]) == []
    assert file_bytes(db, [MARK_P]) == []
    assert scan(db, [MARK_KEEP]) and file_bytes(db, [MARK_KEEP])    # nothing else went
    con = duckdb.connect(str(db), read_only=True)
    # the copies are tombstones that still say which post they were
    rt = json.loads(con.execute("SELECT raw FROM posts WHERE id = '8004'").fetchone()[0])
    assert rt["retweeted_status"]["quoted_status"] == {"id": "8001", "deleted": True}
    assert con.execute("SELECT deleted, text FROM posts WHERE id = '8001'").fetchone() == (True, None)
    assert con.execute("SELECT count(*) FROM notes").fetchone()[0] == 2   # rows stay, her words do not
    con.close()


def test_forget_an_account_replaces_its_id_and_handle_everywhere(cli: Any, tmp_path: Path) -> None:
    db = _store(cli, tmp_path)
    r = cli("forget", "--db", db, "--account", f"@{ALICE}", "--json")
    assert r.code == 0, r.err
    assert r.json()["accounts"] >= 1
    needles = [ALICE, ALICE_ID, MARK_P, MARK_R, f"Name of {ALICE}", f"bio of {ALICE}", f"Town of {ALICE}"]
    assert scan(db, needles) == []
    assert file_bytes(db, [MARK_P, MARK_R, f"bio of {ALICE}"]) == []
    con = duckdb.connect(str(db), read_only=True)
    gone = con.execute("SELECT author_id FROM posts WHERE id = '8001'").fetchone()[0]
    assert gone.startswith("forgotten-")
    # one label everywhere: her posts, the reply to her, the mention, the follower graph, the link in text
    assert con.execute("SELECT reply_to_author_id, mention_ids, mentions FROM posts WHERE id = '8006'").fetchone() \
        == (gone, [gone], [gone])
    assert con.execute("SELECT count(*) FROM follows WHERE follower_id = ? OR followed_id = ?",
                       [gone, gone]).fetchone()[0] == 2
    text = con.execute("SELECT text FROM posts WHERE id = '8006'").fetchone()[0]
    assert text.startswith(f"@{gone} we stand with you") and f"twitter.com/{gone}" in text
    assert con.execute("SELECT who FROM notes WHERE post_id = '8003'").fetchone()[0] == f"@{gone}"
    # distinct-author counts stay honest: 4 authors, bob and carol untouched
    assert con.execute("SELECT count(DISTINCT author_id) FROM posts WHERE NOT is_reference").fetchone()[0] >= 3
    assert con.execute("SELECT count(*) FROM posts WHERE author_id = ?", [BOB_ID]).fetchone()[0] >= 3
    con.close()
    assert scan(db, [MARK_KEEP, "bob_plain", "carol_plain"])


def test_forget_an_account_again_after_a_new_ingest(cli: Any, tmp_path: Path) -> None:
    db = _store(cli, tmp_path)
    assert cli("forget", "--db", db, "--account", ALICE_ID).code == 0
    again = tmp_path / "again"
    again.mkdir()
    files = archive(again)
    with open(files["tweets"], "a", encoding="utf-8") as f:
        f.write("\n")  # another file: ingest reads it again, bringing her back
    assert cli("ingest", files["tweets"], "--db", db, "--quiet").code == 0
    assert scan(db, [ALICE])                      # back, until the pending deletions are applied
    r = cli("forget", "--db", db, "--pending", "--json")
    assert r.code == 0 and r.json()["accounts"] >= 1
    assert scan(db, [ALICE, ALICE_ID, MARK_P, MARK_R]) == []
