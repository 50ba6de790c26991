"""One name per number: posts carrying a tag and the tag's occurrences, in info, hashtags and
the dashboard, on a hand-made file (known answers) and on the real 2017-10-15 #MeToo scrape."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from .conftest import shared

# post 1 writes #MeToo twice: one post, two occurrences
CSV = ("id,author,created_at,text\n"
       "1,ann,2017-10-15T20:00:00Z,#MeToo and again #metoo\n"
       "2,ben,2017-10-15T20:01:00Z,#MeToo #TimesUp\n"
       "3,cat,2017-10-15T20:02:00Z,#timesup\n"
       "4,dan,2017-10-15T20:03:00Z,#Other #other #OTHER\n")
WANT = [{"hashtag": "metoo", "posts": 2, "occurrences": 3},
        {"hashtag": "timesup", "posts": 2, "occurrences": 2},
        {"hashtag": "other", "posts": 1, "occurrences": 3}]


@pytest.fixture
def small(tmp_path: Path, cli) -> Path:
    path = tmp_path / "p.csv"
    path.write_text(CSV)
    db = tmp_path / "s.duckdb"
    assert cli("ingest", path, "--db", db, "-q").code == 0
    return db


def test_hashtags_name_posts_and_occurrences_apart(small: Path, cli) -> None:
    r = cli("hashtags", "--db", small, "--json")
    assert r.code == 0 and r.json() == WANT
    r = cli("hashtags", "--db", small, "--csv")
    assert list(csv.DictReader(r.out.splitlines())) == [{k: str(v) for k, v in w.items()} for w in WANT]
    r = cli("hashtags", "--db", small)
    lines = r.out.splitlines()
    assert lines[0].split() == ["posts", "occurrences", "hashtag"]
    assert [ln.split() for ln in lines[1:]] == [["2", "3", "#metoo"], ["2", "2", "#timesup"], ["1", "3", "#other"]]
    # twarc-hashtags' own CSV: its 'tweets' counts occurrences, ties by hashtag descending
    r = cli("hashtags", "--db", small, "--twarc-hashtags")
    assert r.out == "hashtag,tweets\nother,3\nmetoo,3\ntimesup,2\n"
    assert cli("hashtags", "--db", small, "--json", "--limit", "1").json() == WANT[:1]


def test_info_names_them_apart(small: Path, cli) -> None:
    d = cli("info", "--db", small, "--json").json()
    assert d["posts"] == 4 and d["top_hashtags"] == WANT
    text = cli("info", "--db", small).out
    head = next(ln for ln in text.splitlines() if ln.startswith("top hashtags"))
    assert "posts" in head and "occurrences" in head
    assert any(ln.split() == ["#metoo", "2", "3"] for ln in text.splitlines())


def test_dashboard_names_them_apart(small: Path) -> None:
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from groundswell.store import open_store
    from groundswell.web.app import create_app

    with open_store(small, read_only=True) as store, TestClient(create_app(store), base_url="http://127.0.0.1") as c:
        assert c.get("/api/hashtags").json()["hashtags"] == WANT
        page = c.get("/").text
        assert "<th class=\"num\">posts</th><th class=\"num\">occurrences</th>" in page
        assert '#metoo</a></td><td class="num">2</td><td class="num">3</td>' in page


def test_real_scrape_every_row_carries_metoo(tmp_path: Path, cli) -> None:
    """The scrape searched for #metoo: every row's raw text names it (counted here by substring),
    and every row is a post carrying the tag; occurrences are a different, larger number."""
    path = shared("metoo-getoldtweets-2017/tweets_2017-10-15_all.csv")
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    naming = sum("metoo" in r["text"].lower() for r in rows)
    db = tmp_path / "got.duckdb"
    assert cli("ingest", path, "--db", db, "-q").code == 0
    top: dict[str, Any] = cli("hashtags", "--db", db, "--json", "--limit", "1").json()[0]
    assert top["hashtag"] == "metoo" and top["posts"] == naming == len(rows) == 13_666
    assert top["occurrences"] > top["posts"]
    assert cli("info", "--db", db, "--json").json()["top_hashtags"][0] == top
