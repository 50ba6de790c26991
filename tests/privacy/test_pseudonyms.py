"""Pseudonyms, the public-figure rule, disclosure text and safe exports."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groundswell import privacy as P
from groundswell.errors import StoreError, UsageError
from groundswell.ingest import ingest
from groundswell.store import open_store

from ..conftest import shared
from .synth import movement

PRIVATE_NAMES = ("alice_private", "bob_private", "carol_bystander", "Name alice", "bio of alice", "Town of alice")


@pytest.fixture
def store(tmp_path: Path):
    s = open_store(tmp_path / "m.duckdb")
    ingest(s, [str(movement(tmp_path))], progress=False)
    P.ensure_secret(s)
    yield s
    s.close()


def test_label_is_stable_keyed_and_not_the_id() -> None:
    a = P.Pseudonymizer(b"k" * 32)
    b = P.Pseudonymizer(b"j" * 32)
    la = a.label("twitter", "12345")
    assert la == a.label("twitter", "12345") == P.Pseudonymizer(b"k" * 32).label("twitter", "12345")
    assert la.startswith("user-") and len(la) == 5 + P.LABEL_HEX and "12345" not in la
    assert la != b.label("twitter", "12345")          # another store's key: another pseudonym
    assert la != a.label("bluesky", "12345")          # platforms do not share ids
    assert a.post_label("twitter", "12345") != la


def test_secret_lives_in_the_store(store) -> None:
    key = store.meta("privacy.secret")
    assert key and len(bytes.fromhex(key)) == 32
    l1 = P.Pseudonymizer(store).label("twitter", "101")
    P.ensure_secret(store)  # a second call keeps the key
    assert P.Pseudonymizer(store).label("twitter", "101") == l1


def test_read_only_store_without_key_says_how_to_fix(tmp_path: Path) -> None:
    open_store(tmp_path / "e.duckdb").close()
    with open_store(tmp_path / "e.duckdb", read_only=True) as s:
        with pytest.raises(StoreError, match="groundswell privacy --db"):
            P.Pseudonymizer(s)


def test_public_figure_rule(store) -> None:
    ps = P.Pseudonymizer(store)
    assert ps.account("twitter", "103", "famous_star") == {"label": "famous_star", "pseudonymous": False}
    alice = ps.account("twitter", "101", "alice_private")
    assert alice["pseudonymous"] and alice["label"] == ps.label("twitter", "101")
    # a handle alone resolves to the same person
    assert ps.account("twitter", None, "Alice_Private")["label"] == alice["label"]
    # followers and verification passed by the caller, the allowlist, identify
    assert ps.account("twitter", "999", None, followers=50)["pseudonymous"] is True
    assert ps.account("twitter", "999", "big", followers=10_000)["label"] == "big"
    low = P.Pseudonymizer(store, P.Policy(min_followers=30, verified=False))
    assert low.account("twitter", "102", "bob_private")["label"] == "bob_private"   # 40 followers
    assert low.account("twitter", "103", "famous_star")["label"] == "famous_star"   # 2M followers
    nobody = P.Pseudonymizer(store, P.Policy(min_followers=None, verified=False))
    assert nobody.account("twitter", "103", "famous_star")["pseudonymous"]
    allow = P.Pseudonymizer(store, P.Policy(allowlist=frozenset({"@alice_private"})))
    assert allow.account("twitter", "101")["label"] == "alice_private"
    allow_id = P.Pseudonymizer(store, P.Policy(allowlist=frozenset({"twitter:102"})))
    assert allow_id.account("twitter", "102")["label"] == "bob_private"
    ident = P.Pseudonymizer(store, P.Policy(identify=True))
    assert ident.account("twitter", "101")["label"] == "alice_private"


def test_policy_round_trips_through_meta(store) -> None:
    pol = P.Policy(verified=False, min_followers=500, allowlist=frozenset({"@x", "twitter:1"}), redact=False)
    pol.save(store)
    back = P.Policy.from_store(store)
    assert (back.verified, back.min_followers, back.allowlist, back.redact) == (False, 500, pol.allowlist, False)
    assert P.Policy.from_store(store, identify=True, redact=None).identify is True
    P.Policy(min_followers=None).save(store)
    assert P.Policy.from_store(store).min_followers is None


@settings(max_examples=40, deadline=None)
@given(platform=st.sampled_from(["twitter", "bluesky", "mastodon"]),
       ident=st.text(min_size=1, max_size=60).filter(lambda s: "\x00" not in s))
def test_sql_macros_match_python(tmp_path_factory: pytest.TempPathFactory, platform: str, ident: str) -> None:
    s = open_store(":memory:")
    try:
        ps = P.Pseudonymizer(s)
        ps.sql_macros()
        acc, post = s.con.execute("SELECT gs_account(?, ?), gs_post(?, ?)", [platform, ident, platform, ident]).fetchone()
        assert acc == ps.label(platform, ident)
        assert post == ps.post_label(platform, ident)
    finally:
        s.close()


def _all_text(t: pa.Table) -> str:
    return json.dumps(t.to_pylist(), default=str)


def test_pseudonymize_posts_table(store) -> None:
    t = store.con.sql("SELECT * FROM posts ORDER BY id").to_arrow_table()
    out = P.pseudonymize_table(store, t, kind="posts")
    blob = _all_text(out)
    for name in PRIVATE_NAMES[:3]:
        assert name not in blob
    assert "raw" not in out.column_names
    rows = {r["author_id"]: r for r in out.to_pylist()}
    ps = P.Pseudonymizer(store)
    alice = ps.label("twitter", "101")
    star = [r for r in out.to_pylist() if r["author_handle"] == "famous_star"]
    assert star and star[0]["author_id"] == "103" and star[0]["id"] == "9004"   # public: real ids
    assert alice in rows and rows[alice]["author_handle"] == alice               # handle -> id's pseudonym
    quote = next(r for r in out.to_pylist() if r["kind"] == "quote")
    assert quote["mentions"] == [alice]
    assert quote["text"].startswith("@" + alice)                                 # mention in text
    assert quote["quote_of_id"] == ps.post_label("twitter", "9001")
    original = next(r for r in out.to_pylist() if r["author_id"] == alice)
    assert original["id"] == quote["quote_of_id"]                                # links still join
    assert original["text"] == P.PLACEHOLDERS["disclosure"]                      # judged on the fly
    assert "example.com" not in blob and "7946" not in blob
    private = P.pseudonymize_table(store, t, P.Policy(show_disclosure_text=True, private=True), kind="posts")
    text = next(r["text"] for r in private.to_pylist() if r["id"] == original["id"])
    assert "[email]" in text and "[phone]" in text and "example.com" not in text
    # row count and non-identifying columns untouched
    assert out.num_rows == t.num_rows
    assert out.column("hashtags").to_pylist() == t.column("hashtags").to_pylist()


def test_pseudonymize_accounts_table(store) -> None:
    t = store.con.sql("SELECT * FROM accounts").to_arrow_table()
    out = P.pseudonymize_table(store, t, kind="accounts")
    blob = _all_text(out)
    for name in PRIVATE_NAMES:
        assert name not in blob
    star = [r for r in out.to_pylist() if r["handle"] == "famous_star"]
    assert star and star[0]["display_name"] == "Name famous_star" and star[0]["id"] == "103"
    assert all(r["followers"] is not None for r in out.to_pylist())


def test_identify_and_no_redact(store) -> None:
    t = store.con.sql("SELECT * FROM posts ORDER BY id").to_arrow_table()
    out = P.pseudonymize_table(store, t, P.Policy(identify=True), kind="posts")
    blob = _all_text(out)
    assert "alice_private" in blob and "jane.doe" not in blob        # identified, her disclosure still withheld
    out = P.pseudonymize_table(store, t, P.Policy(identify=True, show_disclosure_text=True, private=True), kind="posts")
    assert "alice_private" in _all_text(out) and "[email]" in _all_text(out)
    out2 = P.pseudonymize_table(store, t, P.Policy(identify=True, redact=False, show_disclosure_text=True, private=True),
                                kind="posts")
    assert "jane.doe@example.com" in _all_text(out2)


def _label(store, pid: str, label: str = "disclosure") -> None:
    """A classifier's verdict, in the content module's layout (one boolean column per label)."""
    store.con.execute("CREATE TABLE IF NOT EXISTS post_labels (platform VARCHAR, id VARCHAR, model VARCHAR, "
                      "disclosure BOOLEAN, support BOOLEAN)")
    store.con.execute("INSERT INTO post_labels VALUES ('twitter', ?, 'fast', ?, ?)",
                      [pid, label == "disclosure", label == "support"])


def test_disclosure_text_withheld_unless_asked_and_allowed(store) -> None:
    _label(store, "9001")   # alice: private
    _label(store, "9004")   # the star: public
    t = store.con.sql("SELECT * FROM posts ORDER BY id").to_arrow_table()

    def texts(**kw):
        out = P.pseudonymize_table(store, t, P.Policy(**kw), kind="posts")
        return {r: x for r, x in zip(t.column("id").to_pylist(), out.column("text").to_pylist())}

    default = texts()
    assert default["9001"] == P.WITHHELD and default["9004"] == P.WITHHELD
    assert default["9003"] != P.WITHHELD                       # not a disclosure
    asked = texts(show_disclosure_text=True)
    assert asked["9001"] == P.WITHHELD                         # private person: still withheld
    assert "stand with survivors" in asked["9004"]              # public figure: shown
    private = texts(show_disclosure_text=True, private=True)
    assert "it happened to me" in private["9001"]
    assert "[email]" in private["9001"]                        # still redacted
    identified = texts(identify=True)
    assert identified["9001"] == P.WITHHELD                    # --identify alone does not show it


def test_safe_text_rules() -> None:
    post = {"platform": "twitter", "text": "it happened, mail a@b.example.org"}
    pol = P.Policy()
    assert P.safe_text(post, ["disclosure"], pol) is None
    assert P.safe_text(post, ["disclosure"], P.Policy(show_disclosure_text=True)) is None
    assert P.safe_text(post, ["disclosure"], P.Policy(show_disclosure_text=True), author_public=True) \
        == "it happened, mail [email]"
    assert P.safe_text(post, ["disclosure"], P.Policy(show_disclosure_text=True, private=True)) is not None
    # a private person's text needs a judgement from a model covering its language
    assert P.safe_text(post, ["support"], pol) is None
    assert P.safe_text(post, ["support"], pol, judged=True) == "it happened, mail [email]"
    assert P.safe_text(post, ["support"], pol, author_public=True) == "it happened, mail [email]"
    assert P.safe_text(post, None, P.Policy(redact=False), author_public=True) == post["text"]


def test_privacy_header_and_mark_private() -> None:
    h = P.privacy_header(P.Policy())
    assert h["mode"] == "pseudonymous" and h["redacted"] and h["disclosure_text"] == "withheld"
    assert "Pseudonymous" in h["notice"] and not h["private"]
    h = P.privacy_header(P.Policy(identify=True, show_disclosure_text=True, private=True))
    assert h["notice"].startswith("PRIVATE") and "IDENTIFIED" in h["notice"]
    out = P.mark_private({"rows": [1]}, P.Policy(identify=True))
    assert out["rows"] == [1] and out["privacy"]["mode"] == "identified"


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
@pytest.mark.parametrize("table", ["posts", "accounts", "deletions"])
def test_export_safely_names_nobody_private(store, tmp_path: Path, fmt: str, table: str) -> None:
    store.con.execute("INSERT INTO deletions VALUES ('twitter', '9005', '102', NULL, 'forget', 'x', 1)")
    out = tmp_path / f"out.{fmt}"
    log = io.StringIO()
    n = P.export_safely(store, fmt, str(out), table=table, log=log)
    assert n == store.con.execute(f"SELECT count(*) FROM {table} WHERE {'NOT is_reference' if table == 'posts' else 'true'}"
                                  ).fetchone()[0]
    assert "Pseudonymous" in log.getvalue()
    data = json.dumps(pq.read_table(out).to_pylist(), default=str) if fmt == "parquet" else out.read_text()
    for name in ("alice_private", "bob_private", "carol_bystander", "jane.doe@example.com"):
        assert name not in data
    if table == "posts":
        assert "famous_star" in data
    if table == "deletions":
        assert "9005" not in data and "post-" in data


def test_export_safely_opt_outs(store, tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    P.export_safely(store, "jsonl", str(out), identify=True, log=io.StringIO())
    data = out.read_text()
    assert "alice_private" in data and "jane.doe@example.com" not in data
    P.export_safely(store, "jsonl", str(out), identify=True, redact=False, log=io.StringIO())
    assert "jane.doe@example.com" not in out.read_text()      # her disclosure is still withheld
    P.export_safely(store, "jsonl", str(out), identify=True, redact=False, show_disclosure_text=True, private=True,
                    log=io.StringIO())
    assert "jane.doe@example.com" in out.read_text()
    with pytest.raises(UsageError, match="--identify --no-redact --show-disclosure-text --private"):
        P.export_safely(store, "jsonl", str(out), raw=True, identify=True, redact=False, log=io.StringIO())


def test_real_archive_export_keeps_row_count_and_hides_private_handles(tmp_path: Path) -> None:
    with open_store(tmp_path / "r.duckdb") as s:
        ingest(s, [str(shared("twarc-network/test-data/tweets.jsonl"))], progress=False)
        P.ensure_secret(s)
        ps = P.Pseudonymizer(s)
        private = [h for (h,) in s.con.execute(
            "SELECT handle FROM accounts_latest WHERE NOT coalesce(verified, false) AND followers < 100 "
            "AND length(handle) >= 8 ORDER BY handle LIMIT 50").fetchall()]
        assert private
        out = tmp_path / "o.jsonl"
        n = P.export_safely(s, "jsonl", str(out), log=io.StringIO())
        assert n == s.con.execute("SELECT count(*) FROM posts WHERE NOT is_reference").fetchone()[0]
        rows = [json.loads(x) for x in out.read_text().splitlines()]
        handles = {r["author_handle"] for r in rows} | {m for r in rows for m in r["mentions"]}
        for h in private:
            assert h not in handles
            assert not ps.is_public("twitter", None, h)
        authors = {r["author_id"] for r in rows}
        n_authors = s.con.execute("SELECT count(DISTINCT author_id) FROM posts WHERE NOT is_reference").fetchone()[0]
        assert len(authors) == n_authors   # one person, one pseudonym; no two people share one


def test_label_index_finds_posts_and_accounts_and_keeps_up(store) -> None:
    ps = P.Pseudonymizer(store)
    idx = P.LabelIndex(ps)
    assert idx.post(ps.post_label("twitter", "9001")) == ("twitter", "9001")
    assert idx.account(ps.label("twitter", "101"))[:2] == ("twitter", "101")
    n = store.con.execute("SELECT count(*) FROM gs_post_labels").fetchone()[0]
    assert n == store.con.execute("SELECT count(*) FROM posts").fetchone()[0]
    # a label nobody has: found nowhere, and nothing is hashed again
    assert idx.post("post-000000000000") is None and idx.account("user-000000000000") is None
    assert store.con.execute("SELECT count(*) FROM gs_post_labels").fetchone()[0] == n
    assert store.con.execute("SELECT count(*) FROM duckdb_indexes() WHERE table_name = 'gs_post_labels'"
                             ).fetchone()[0] == 1   # benchmarks/label_lookup.py: a probe on large stores
    # the store grows (a live follower): the new rows are hashed on the next miss, and only those
    store.add_posts([{"platform": "twitter", "id": "9100", "author_id": "105", "kind": "original"},
                     {"platform": "twitter", "id": "9101", "author_handle": "only_a_handle", "kind": "original"}])
    assert idx.post(ps.post_label("twitter", "9100")) == ("twitter", "9100")
    assert store.con.execute("SELECT count(*) FROM gs_post_labels").fetchone()[0] == n + 2
    assert idx.account(ps.label("twitter", "105"))[:2] == ("twitter", "105")
    assert idx.account(ps.label("twitter", None, "only_a_handle")) == ("twitter", None, "only_a_handle")
