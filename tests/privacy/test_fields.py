"""The one field declaration: every output column has a role, and every output passes through it.

A column added to the model, to twarc-csv's layout, to the network files or to
the dashboard's post payload without a declared role fails here; an undeclared
column never reaches a pseudonymous output. Links, mentions and places are
checked on crafted records and on the real samples in ../shared/data.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from groundswell import model
from groundswell import privacy as P
from groundswell.embedded import POST_SCRUB
from groundswell.ingest import ingest
from groundswell.privacy import fields as F
from groundswell.store import open_store

from ..conftest import shared
from .synth import page, tweet, user, write_jsonl

# ------------------------------------------------------------------ every column has a role


@pytest.mark.parametrize("table", sorted(model.SCHEMAS))
def test_every_store_column_has_a_role(table: str) -> None:
    declared = set(F.STORE_TABLES[table].fields)
    columns = set(model.SCHEMAS[table].names)
    assert columns - declared == set(), f"{table}: give these columns a role in privacy/fields.py"
    assert declared - columns == set(), f"{table}: privacy/fields.py declares columns the model no longer has"


def test_every_twarc_csv_column_has_a_role() -> None:
    from groundswell.formats.twarc_csv_export import COLUMNS

    assert set(COLUMNS) == set(F.LAYOUTS["twarc-csv"].fields)


def test_roles_and_encodings_are_known() -> None:
    for lay in F.LAYOUTS.values():
        for c, f in lay.fields.items():
            assert f.role in F.ROLES and f.encoding in F.ENCODINGS, (lay.name, c)
        for c in (lay.owner_id, lay.owner_handle, lay.own_post, lay.repost_of, lay.reposted_author):
            assert c is None or c in lay.fields, (lay.name, c)
    with pytest.raises(ValueError):
        F.Field("secret-ish")


def test_what_forget_clears_is_every_post_column_that_names_a_person() -> None:
    naming = {c for c, f in F.LAYOUTS["posts"].fields.items()
              if f.role in ("text", "handle", "urls", "media", "location", "client", "raw")}
    naming.add("mention_ids")
    assert naming <= set(POST_SCRUB), f"POST_SCRUB misses {naming - set(POST_SCRUB)}"
    assert set(POST_SCRUB) <= set(model.POSTS.names)


@pytest.fixture(scope="module")
def network_store(tmp_path_factory: pytest.TempPathFactory):
    db = tmp_path_factory.mktemp("net") / "n.duckdb"
    with open_store(db) as s:
        ingest(s, [str(shared("twarc-network/test-data/tweets.jsonl"))], progress=False)
        P.ensure_secret(s)
    s = open_store(db, read_only=True)
    yield s
    s.close()


@pytest.mark.parametrize("nodes", ["users", "posts", "hashtags"])
def test_every_network_attribute_has_a_role(network_store, nodes: str) -> None:
    from groundswell.analysis.network import build_network

    g = build_network(network_store, nodes=nodes)
    lay = {"users": F.NETWORK_USERS, "posts": F.NETWORK_POSTS, "hashtags": F.NETWORK_HASHTAGS}[nodes]
    node_keys = {k for v in g.nodes.values() for k in v}
    link_keys = {k for v in g.links.values() for k in v}
    assert node_keys and link_keys
    assert node_keys <= set(lay.fields), node_keys - set(lay.fields)
    assert link_keys <= set(F.NETWORK_LINKS.fields), link_keys - set(F.NETWORK_LINKS.fields)


def test_an_undeclared_column_never_reaches_a_pseudonymous_output(store) -> None:
    t = store.con.sql("SELECT *, author_handle AS shadow_copy FROM posts").to_arrow_table()
    out = P.pseudonymize_table(store, t, kind="posts")
    assert "shadow_copy" not in out.column_names and "raw" not in out.column_names
    assert "alice_private" not in json.dumps(out.to_pylist(), default=str)


# ------------------------------------------------------------------ links, mentions, queries

@pytest.fixture
def store(tmp_path: Path):
    from .synth import movement

    s = open_store(tmp_path / "m.duckdb")
    ingest(s, [str(movement(tmp_path))], progress=False)
    P.ensure_secret(s)
    yield s
    s.close()


def test_links_to_private_accounts_and_posts_are_rewritten(store) -> None:
    ps = P.Pseudonymizer(store)
    alice, post = ps.label("twitter", "101"), ps.post_label("twitter", "9001")
    for url in ("https://twitter.com/alice_private/status/9001", "https://x.com/Alice_Private/status/9001?s=20",
                "https://mobile.twitter.com/alice_private/status/9001/photo/1"):
        got = ps.link(url)
        assert "alice_private" not in got.lower() and "9001" not in got and alice in got and post in got, got
    # the id names the post even when the handle in the link is stale or missing
    assert ps.link("https://twitter.com/i/web/status/9001") == f"https://twitter.com/{alice}/status/{post}"
    assert ps.link("https://twitter.com/alice_private") == f"https://twitter.com/{alice}"
    # a public figure's post and profile stay; other sites stay
    assert ps.link("https://twitter.com/famous_star/status/9004") == "https://twitter.com/famous_star/status/9004"
    assert ps.link("https://twitter.com/hashtag/MeToo") == "https://twitter.com/hashtag/MeToo"
    assert ps.link("https://www.example.org/news/1") == "https://www.example.org/news/1"
    # Bluesky, at:// and Mastodon addresses (unknown to the store: private by default)
    b = ps.link("https://bsky.app/profile/someone.bsky.social/post/3kabc")
    assert "someone" not in b and b.startswith("https://bsky.app/profile/user-") and "/post/post-" in b
    a = ps.link("at://did:plc:abcdefghijklmnop/app.bsky.feed.post/3kabc")
    assert "did:plc" not in a and a.startswith("at://user-")
    for url in ("https://mastodon.social/@someone/109294719267373593",
                "https://mastodon.social/users/someone/statuses/109294719267373593",
                "https://mastodon.social/@someone@other.example/123", "https://mastodon.social/@someone"):
        got = ps.link(url)
        assert "someone" not in got and "/@user-" in got, got
    # the same post by either address gets the same label
    assert ps.link("https://mastodon.social/@someone/77") == ps.link("https://mastodon.social/users/someone/statuses/77")


def test_text_mentions_links_and_redirects(store) -> None:
    ps = P.Pseudonymizer(store)
    alice = ps.label("twitter", "101")
    text = ("first line\n@alice_private hi\\n@alice_private again, ＠alice_private, @ alice_private "
            "see https://twitter.com/alice_private/status/9001. and https://t.co/AbC123 and pic.twitter.com/xYz9 "
            "and did:plc:abcdefghijklmnop; @famous_star stays")
    got = ps.text(text, "twitter")
    assert "alice_private" not in got and "9001" not in got and "did:plc" not in got
    assert got.count(alice) == 5 and "@famous_star stays" in got
    assert "[link] and [link]" in got and "t.co" not in got
    assert ps.text("meet @ home at 5", "twitter") == "meet @ home at 5"   # a common word is not a handle


def test_queries_name_nobody_private(store) -> None:
    ps = P.Pseudonymizer(store)
    alice = ps.label("twitter", "101")
    q = ps.query("#metoo (from:alice_private OR to:alice_private) @alice_private", "twitter")
    assert "alice_private" not in q and q.count(alice) == 3
    u = ps.query("https://api.twitter.com/2/users/101/tweets?query=from%3Aalice_private", "twitter")
    assert "101/" not in u and "alice_private" not in u


# ------------------------------------------------------------------ end to end, crafted

def _crafted(tmp: Path) -> Path:
    alice = user("201", "alice_hidden", followers=5)
    star = user("203", "big_star", followers=5_000_000, verified=True)
    t1 = tweet("9101", "203", "Statement from my office #MeToo\n@alice_hidden thank you for speaking up",
               mentions=["alice_hidden"])
    t1["entities"]["urls"] = [{"url": "https://t.co/a", "expanded_url": "https://twitter.com/alice_hidden/status/9102",
                               "start": 0, "end": 1}]
    t2 = tweet("9102", "201", "#MeToo we believe survivors, read the report")
    t2["geo"] = {"place_id": "pl1"}
    pg = page([t1, t2], [alice, star])
    pg["includes"]["places"] = [{"id": "pl1", "full_name": "Smallville, KS", "country": "United States",
                                 "country_code": "US", "name": "Smallville", "place_type": "city",
                                 "geo": {"type": "Feature", "bbox": [-1, 2, -1, 2]}}]
    return write_jsonl(tmp / "crafted.jsonl", [pg])


def test_twarc_csv_export_mention_at_line_start_and_links(cli, tmp_path: Path) -> None:
    db = tmp_path / "c.duckdb"
    assert cli("ingest", _crafted(tmp_path), "--db", db, "--quiet").code == 0
    out = tmp_path / "c.csv"
    r = cli("export", "--db", db, "--format", "csv", "--output", out)
    assert r.code == 0, r.err
    data = out.read_text(encoding="utf-8")
    assert "alice_hidden" not in data and "9102" not in data and "201" not in re.findall(r"\b\d+\b", data)
    assert "\\n@user-" in data                       # twarc-csv writes the newline as \n: the mention still goes
    assert "big_star" in data and "9101" in data    # the public figure's post and handle stay
    assert "Smallville" not in data and ",US," not in data


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_posts_layout_withholds_place_of_private_people(cli, tmp_path: Path, fmt: str) -> None:
    db = tmp_path / "c.duckdb"
    assert cli("ingest", _crafted(tmp_path), "--db", db, "--quiet").code == 0
    out = tmp_path / f"c.{fmt}"
    assert cli("export", "--db", db, "--format", fmt, "--output", out).code == 0
    rows = pq.read_table(out).to_pylist() if fmt == "parquet" else [json.loads(x) for x in out.read_text().splitlines()]
    private = next(r for r in rows if r["author_id"].startswith("user-"))
    assert private["place"] is None and private["country"] is None and private["id"].startswith("post-")
    public = next(r for r in rows if r["author_id"] == "203")
    assert public["urls"] and all("alice_hidden" not in u and "9102" not in u for u in public["urls"])


# ------------------------------------------------------------------ the real samples

# a word standing as a handle would: alone, @name, "@ name", in a twitter.com link; not a #hashtag
# (GetOldTweets writes "# tag"), not part of a web domain
_AS_HANDLE = re.compile(r"(?<![\w#.@/-])(?<!# )(?:@ ?)?([A-Za-z0-9_]+)(?![\w]|\.[A-Za-z]{2,})")
_IN_LINK = re.compile(r"(?:twitter|x)\.com/@?([A-Za-z0-9_]+)(?![\w])", re.I)   # other sites' links are kept


def private_names(db: Path) -> tuple[set[str], set[str], set[str]]:
    """(handles, account ids, post ids) of people who are not public figures, by the store's own rule."""
    with open_store(db, read_only=True) as s:
        ps = P.Pseudonymizer(s)
        rows = s.con.execute("SELECT DISTINCT platform, author_id, author_handle FROM posts "
                             "UNION SELECT DISTINCT platform, id, handle FROM accounts").fetchall()
        private = [(p, i, h) for p, i, h in rows if not ps.is_public(p, i, h)]
        ids = {i for _, i, _ in private if i}
        posts = {r[0] for r in s.con.execute("SELECT id FROM posts WHERE author_id IN (SELECT unnest(?::VARCHAR[]))",
                                             [sorted(ids)]).fetchall()}
    handles = {h.lower() for _, _, h in private if h and len(h) >= 4}
    return handles, {i for i in ids if len(i) >= 6}, {i for i in posts if len(i) >= 6}


def leaks(data: str, handles: set[str], ids: set[str], posts: set[str]) -> dict[str, list[str]]:
    """Private handles (as handles), account ids and post ids found in an output."""
    standing = {m.group(1) for m in _AS_HANDLE.finditer(data)} | {m.group(1) for m in _IN_LINK.finditer(data)}
    low = {w.lower() for w in standing}
    words = set(re.findall(r"[A-Za-z0-9_]+", data))
    return {"handles": sorted(handles & low), "ids": sorted(i for i in ids & words if i.isdigit() or i in standing),
            "posts": sorted(posts & words)}


# hashtags are kept as written (a hashtag may spell someone's handle: #KewtStudio, #womensmarch)
_HASHTAG_COLUMNS = ("hashtags", "hashtags_raw", "entities.hashtags")


def _export_all(cli, db: Path, tmp: Path) -> dict[str, str]:
    import csv

    out = {}
    for fmt in ("jsonl", "csv", "parquet"):
        f = tmp / f"out.{fmt}"
        r = cli("export", "--db", db, "--format", fmt, "--output", f)
        assert r.code == 0, r.err
        assert "withheld here:" in r.err
        if fmt == "parquet":
            rows = pq.read_table(f).to_pylist()
        elif fmt == "csv":
            rows = list(csv.DictReader(io.StringIO(f.read_text(encoding="utf-8"))))
        else:
            rows = [json.loads(x) for x in f.read_text().splitlines()]
        out[fmt] = json.dumps([{k: v for k, v in r.items() if k not in _HASHTAG_COLUMNS} for r in rows], default=str)
    return out


def test_twarc_network_sample_exports_name_nobody_private(cli, tmp_path: Path) -> None:
    db = tmp_path / "tn.duckdb"
    assert cli("ingest", shared("twarc-network/test-data/tweets.jsonl"), "--db", db, "--quiet").code == 0
    handles, ids, posts = private_names(db)
    assert len(handles) > 300 and len(posts) > 300
    outs = _export_all(cli, db, tmp_path)
    for fmt, data in outs.items():
        assert leaks(data, handles, ids, posts) == {"handles": [], "ids": [], "posts": []}, fmt
    # the links that named private accounts and posts are there, rewritten
    assert len(re.findall(r"twitter\.com/user-[0-9a-f]{12}/status/post-[0-9a-f]{12}", outs["jsonl"])) >= 50
    assert len(re.findall(r"twitter\.com/user-[0-9a-f]{12}/status/post-[0-9a-f]{12}", outs["csv"])) >= 150


def test_twarc_network_shown_texts_are_in_a_covered_language(cli, tmp_path: Path) -> None:
    """Twitter's own language tag is the outside truth: no private person's text in another language is shown."""
    db = tmp_path / "tn.duckdb"
    assert cli("ingest", shared("twarc-network/test-data/tweets.jsonl"), "--db", db, "--quiet").code == 0
    out = tmp_path / "o.jsonl"
    r = cli("export", "--db", db, "--format", "jsonl", "--output", out, "--identify")  # ids to check against
    assert r.code == 0
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    with open_store(db, read_only=True) as s:
        ps = P.Pseudonymizer(s)
        authors = dict(s.con.execute("SELECT id, author_id FROM posts").fetchall())
        # whose words a row shows: a repost's are the original author's
        owner = {x["id"]: authors.get(x["repost_of_id"]) if x["repost_of_id"] else x["author_id"] for x in rows}
        private = [x for x in rows if owner[x["id"]] is None or not ps.is_public("twitter", owner[x["id"]])]
    shown = [x for x in private if x["text"] and not x["text"].startswith("[text withheld")]
    foreign = [x for x in private if x["lang"] not in ("en", None)]
    assert len(shown) > 50 and len(foreign) > 20
    assert all(x["lang"] == "en" for x in shown)
    assert all(x["text"] == P.PLACEHOLDERS["language"] for x in foreign if x["text"])
    n_lang = sum(1 for x in rows if x["text"] == P.PLACEHOLDERS["language"])
    assert f"{n_lang:,} in a language the models do not cover" in r.err


@pytest.mark.slow
def test_getoldtweets_sample_exports_name_nobody_private(cli, tmp_path: Path) -> None:
    db = tmp_path / "mt.duckdb"
    src = shared("metoo-getoldtweets-2017/tweets_2017-10-15_all.csv")
    assert cli("ingest", src, "--db", db, "--quiet").code == 0
    handles, ids, posts = private_names(db)
    assert len(handles) > 10_000
    outs = _export_all(cli, db, tmp_path)
    for fmt, data in outs.items():
        found = leaks(data, handles, ids, posts)
        assert found == {"handles": [], "ids": [], "posts": []}, (fmt, {k: v[:5] for k, v in found.items()})


def test_docs_state_every_role_and_reason() -> None:
    from ..conftest import ROOT

    doc = (ROOT / "docs" / "privacy.md").read_text(encoding="utf-8")
    for role in F.ROLES:
        assert f"| `{role}` |" in doc, f"docs/privacy.md does not state the role {role!r}"
    for reason, placeholder in P.PLACEHOLDERS.items():
        assert f"| `{reason}` | `{placeholder}` |" in doc
    assert f"at least {F.CLIENT_MIN_ACCOUNTS} accounts" in doc
