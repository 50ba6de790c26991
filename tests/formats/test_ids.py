"""Issue 16: ids are checked per platform in every reader (follows included), through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from groundswell.formats.base import id_problem
from groundswell.store import open_store

from ..conftest import shared

V1 = "sfm-twitter-harvester/v1.1_search_gelman_2015.jsonl"
V2 = "twarc-hashtags/test-data/tweets1.jsonl"
JETSTREAM = "bluesky-jetstream/corpus__expected_v1.jsonl"
MASTODON = "mastodon-py/statuses.jsonl"


def _q(db: Path, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    with open_store(db, read_only=True) as st:
        return st.con.execute(sql).fetchall()


@pytest.mark.parametrize("platform,value,account,ok", [
    ("twitter", "919365304114929665", False, True),
    ("twitter", "9.19365304114929e+17", False, False),
    ("twitter", "919365304114929665.0", False, False),
    ("twitter", "9" * 100_000, False, False),
    ("twitter", "12 34", True, False),
    ("bluesky", "did:plc:r5mx5pfw6w7dv25xp7noiq7a", True, True),
    ("bluesky", "did:web:example.com", True, True),
    ("bluesky", "alice.bsky.social", True, False),
    ("bluesky", "at://did:plc:r5mx5pfw6w7dv25xp7noiq7a/app.bsky.feed.post/3mptbyppjsd25", False, True),
    ("bluesky", "3mptbyppjsd25", False, False),
    ("mastodon", "https://mastodon.social/users/halcy/statuses/110446183735368325", False, True),
    ("mastodon", "110446183735368325", False, False),
    ("mastodon", "https://mastodon.social/@halcy", True, True),
    ("other", "anything at all", False, True),  # a CSV's own platform name: not checked
])
def test_id_rules(platform: str, value: str, account: bool, ok: bool) -> None:
    why = id_problem(platform, value, account=account)
    assert (why is None) == ok, why
    if why:
        assert value not in why or len(value) < 3  # the value itself is never echoed


@pytest.mark.parametrize("fast", [True, False], ids=["duckdb", "python"])
def test_follows_csv_float_mangled_ids_are_rejected(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   fast: bool) -> None:
    if not fast:
        monkeypatch.setenv("GROUNDSWELL_NO_FAST_PATH", "1")
    f = tmp_path / "follows.csv"
    f.write_text("follower_id,followed_id\n12,34\n9.19365304114929e+17,34\n919365304114929665.0,12\n56,78\n"
                 "bluesky-is-not-twitter,12\n")
    db = tmp_path / "s.duckdb"
    r = cli("ingest", f, "--db", db)
    assert r.code == 1 and "3 rejected" in r.err
    assert sorted(_q(db, "SELECT follower_id, followed_id FROM follows")) == [("12", "34"), ("56", "78")]
    lines = sorted(x[0] for x in _q(db, "SELECT source_line FROM rejects"))
    assert lines == [3, 4, 6]
    reasons = [x[0] for x in _q(db, "SELECT reason FROM rejects WHERE source_line IN (3, 4)")]
    assert all("went through a float" in x for x in reasons)


def test_follows_of_bluesky_want_dids(cli, tmp_path: Path) -> None:
    f = tmp_path / "follows.csv"
    f.write_text("follower_id,followed_id,platform\n"
                 "did:plc:aaaa,did:plc:bbbb,bluesky\nalice.bsky.social,did:plc:bbbb,bluesky\n")
    db = tmp_path / "s.duckdb"
    r = cli("ingest", f, "--db", db)
    assert r.code == 1
    assert _q(db, "SELECT follower_id FROM follows") == [("did:plc:aaaa",)]


def test_v1_line_that_is_only_a_huge_id_str_is_not_a_post(cli, tmp_path: Path) -> None:
    lines = shared(V1).read_text().splitlines()[:3]
    f = tmp_path / "v1.jsonl"
    f.write_text("\n".join([lines[0], json.dumps({"id_str": "9" * 100_000}), lines[1], lines[2]]) + "\n")
    db = tmp_path / "s.duckdb"
    r = cli("ingest", f, "--db", db)
    assert r.code == 1 and "1 rejected" in r.err
    assert _q(db, "SELECT source_line FROM rejects") == [(2,)]
    assert _q(db, "SELECT max(length(id)) FROM posts")[0][0] <= 20
    reason = _q(db, "SELECT reason FROM rejects")[0][0]
    assert "100,000 characters" in reason and "9999" not in reason


@pytest.mark.parametrize("fast", [True, False], ids=["duckdb", "python"])
def test_v2_page_with_a_float_id_rejects_that_tweet_only(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        fast: bool) -> None:
    if not fast:
        monkeypatch.setenv("GROUNDSWELL_NO_FAST_PATH", "1")
    pages = [json.loads(x) for x in shared(V2).read_text().splitlines()]
    victim = pages[1]["data"][0]["id"]
    pages[1]["data"][0]["id"] = "1.37e+18"
    f = tmp_path / "v2.jsonl"
    f.write_text("\n".join(json.dumps(p) for p in pages) + "\n")
    db = tmp_path / "s.duckdb"
    r = cli("ingest", f, "--db", db)
    assert r.code == 1 and "1 rejected" in r.err
    clean = tmp_path / "clean.duckdb"
    assert cli("ingest", shared(V2), "--db", clean, "-q").code == 0
    want = {x[0] for x in _q(clean, "SELECT id FROM posts WHERE NOT is_reference")} - {victim}
    got = {x[0] for x in _q(db, "SELECT id FROM posts WHERE NOT is_reference")}
    assert got == want
    assert _q(db, "SELECT source_line FROM rejects") == [(2,)]


def test_bluesky_and_mastodon_ids(cli, tmp_path: Path) -> None:
    events = shared(JETSTREAM).read_text().splitlines()
    post = next(json.loads(x) for x in events if '"app.bsky.feed.post"' in x and '"create"' in x)
    post["did"] = "did:plc:not a did"
    statuses = shared(MASTODON).read_text().splitlines()
    status = json.loads(statuses[0])
    status["uri"] = "12345"
    status.pop("url", None)
    fb = tmp_path / "bsky.jsonl"
    fb.write_text("\n".join(events + [json.dumps(post)]) + "\n")
    fm = tmp_path / "masto.jsonl"
    fm.write_text("\n".join(statuses + [json.dumps(status)]) + "\n")
    db = tmp_path / "s.duckdb"
    r = cli("ingest", fb, fm, "--db", db)
    assert r.code == 1
    rej = _q(db, "SELECT source_file, source_line, reason FROM rejects ORDER BY 1")
    assert [(Path(a).name, b) for a, b, _ in rej] == [("bsky.jsonl", len(events) + 1),
                                                       ("masto.jsonl", len(statuses) + 1)]
    assert "not a bluesky id" in rej[0][2] and "not a mastodon id" in rej[1][2]
    # the real events and statuses are all read: no id of theirs is refused
    clean = tmp_path / "clean.duckdb"
    assert cli("ingest", shared(JETSTREAM), shared(MASTODON), "--db", clean, "-q").code == 0
    assert _q(db, "SELECT count(*) FROM posts") == _q(clean, "SELECT count(*) FROM posts")
