"""A link on any site that carries the id of a private person's post (or account) gets its label.

Found on real data: the default export of the 2017-10-15 GetOldTweets scrape
kept a thread unroller's link (``tttthreads.com/thread/<id>``) with the real id
of a post in the archive by a private author. The rule is general: any link or
text carrying the id of a stored post (or account) whose author is not a
public figure gets that id replaced by its label, whatever the site.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from groundswell import privacy as P
from groundswell.ingest import ingest
from groundswell.store import open_store

from ..conftest import shared
from .synth import page, tweet, user, write_jsonl

SCRAPE = "metoo-getoldtweets-2017/tweets_2017-10-15_all.csv"
ID_RUN = re.compile(r"(?<![0-9])[0-9]{15,20}(?![0-9])")

PRIVATE_POST = "919675934772531201"
PUBLIC_POST = "919675934772531999"
PRIVATE_ACCOUNT = "880000000000000101"
STRANGER = "123456789012345678"  # a number of the right length that the store does not hold


def _scrape_ids() -> set[str]:
    with open(shared(SCRAPE), newline="", encoding="utf-8") as f:
        return {r["tweet_id"] for r in csv.DictReader(f)}


def test_no_stored_post_id_in_any_default_export_of_the_real_scrape(tmp_path: Path, cli) -> None:
    ids = _scrape_ids()
    assert len(ids) == 13_666
    db = tmp_path / "s.duckdb"
    assert cli("ingest", "--db", db, "--quiet", shared(SCRAPE)).code == 0
    # the scrape has no profiles: every author is a private person, every stored id is private
    with open_store(db, read_only=True) as st:
        urls = [u for (u,) in st.con.execute("SELECT unnest(urls) FROM posts").fetchall()]
    carried = [u for u in urls if any(m.group(0) in ids for m in ID_RUN.finditer(u))
               and not re.match(r"https?://(www\.|mobile\.)?(twitter|x)\.com/", u)]
    assert carried, "the scrape holds links of other sites carrying a stored id"
    for fmt in ("csv", "jsonl", "parquet"):
        out = tmp_path / f"p.{fmt}"
        r = cli("export", "--db", db, "--format", fmt, "--output", out)
        assert r.code == 0, r.err
        if fmt == "parquet":
            text = json.dumps(pq.read_table(out).to_pylist(), default=str)
        else:
            text = out.read_text(encoding="utf-8")
        leaked = {m.group(0) for m in ID_RUN.finditer(text)} & ids
        assert not leaked, f"{fmt}: {len(leaked)} ids of private people's posts"


@pytest.fixture
def store(tmp_path: Path):
    alice = user(PRIVATE_ACCOUNT, "alice_private", followers=12)
    star = user("880000000000000103", "famous_star", followers=2_000_000, verified=True)
    posts = [tweet(PRIVATE_POST, PRIVATE_ACCOUNT, "#MeToo mine"), tweet(PUBLIC_POST, star["id"], "#MeToo theirs")]
    s = open_store(tmp_path / "m.duckdb")
    ingest(s, [str(write_jsonl(tmp_path / "p.jsonl", [page(posts, [alice, star])]))], progress=False)
    P.ensure_secret(s)
    yield s
    s.close()


def test_links_of_any_site(store) -> None:
    ps = P.Pseudonymizer(store)
    post, acct = ps.post_label("twitter", PRIVATE_POST), ps.label("twitter", PRIVATE_ACCOUNT)
    cases = {
        f"https://tttthreads.com/thread/{PRIVATE_POST}": f"https://tttthreads.com/thread/{post}",
        f"https://threadreaderapp.com/thread/{PRIVATE_POST}.html?x=1": f"https://threadreaderapp.com/thread/{post}.html?x=1",
        f"https://unroll.example/t/{PUBLIC_POST}": f"https://unroll.example/t/{PUBLIC_POST}",  # a public figure's
        f"https://stats.example/user/{PRIVATE_ACCOUNT}/followers": f"https://stats.example/user/{acct}/followers",
        f"https://n.example/{STRANGER}": f"https://n.example/{STRANGER}",  # not in the store: nobody's
        # a link inside a link (an archive, a redirect), as is and percent-encoded
        f"https://web.archive.org/web/2017/https://twitter.com/alice_private/status/{PRIVATE_POST}":
            f"https://web.archive.org/web/2017/https://twitter.com/{acct}/status/{post}",
        f"https://r.example/?u=https%3A%2F%2Ftwitter.com%2Falice_private%2Fstatus%2F{PRIVATE_POST}":
            f"https://r.example/?u=https://twitter.com/{acct}/status/{post}",
    }
    for url, want in cases.items():
        assert ps.link(url) == want, url
        assert ps.links([url]) == [want]


def test_bluesky_and_mastodon_ids_carried_by_other_sites(store) -> None:
    ps = P.Pseudonymizer(store)
    did = "did:plc:abcdefghijklmnopqrstuvwx"
    who = ps.label("bluesky", did)
    got = ps.link(f"https://pdsls.example/at://{did}/app.bsky.feed.post/3kabc")
    assert did not in got and who in got
    got = ps.link(f"https://viewer.example/?uri=at%3A%2F%2F{did.replace(':', '%3A')}%2Fapp.bsky.feed.post%2F3kabc")
    assert "abcdefghijklmnopqrstuvwx" not in got and who in got
    got = ps.link(f"https://clearsky.example/{did}/blocked-by")
    assert got == f"https://clearsky.example/{who}/blocked-by"
    got = ps.link("https://proxy.example/?url=https://mastodon.example/@someone/109294719267373593")
    assert "someone" not in got and "109294719267373593" not in got


def test_ids_in_text_and_in_identified_outputs(store) -> None:
    ps = P.Pseudonymizer(store)
    text = f"see {PRIVATE_POST} and {PUBLIC_POST} and {STRANGER}"
    assert ps.text(text, "twitter") == \
        f"see {ps.post_label('twitter', PRIVATE_POST)} and {PUBLIC_POST} and {STRANGER}"
    ident = P.Pseudonymizer(store, P.Policy(identify=True))
    assert ident.link(f"https://tttthreads.com/thread/{PRIVATE_POST}") == \
        f"https://tttthreads.com/thread/{PRIVATE_POST}"
