"""Tests of the CSV reader: real #MeToo and twarc-csv files, synonyms, bad rows."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groundswell.errors import UsageError
from groundswell.formats import csv as csvfmt
from groundswell.formats.base import ListSink

DATA = Path("../shared/data")
GOT = DATA / "metoo-getoldtweets-2017/tweets_2017-10-15_all.csv"
TWARC_CSV = DATA / "twarc-csv/expected-output-twarc-csv-0.7.2"
METOOMA = DATA / "metooma-bigmm/train_shared.csv"


class LineSink(ListSink):
    """A ListSink that notes the line set before each post and reject."""

    def __init__(self) -> None:
        super().__init__()
        self.line = 0
        self.lines: list[int] = []
        self.post_lines: list[int] = []
        self.reject_lines: list[int] = []

    def set_line(self, n: int) -> None:
        self.lines.append(n)
        self.line = n

    def post(self, rec: dict[str, Any]) -> None:
        super().post(rec)
        self.post_lines.append(self.line)

    def reject(self, reason: str) -> None:
        super().reject(reason)
        self.reject_lines.append(self.line)


def _read(source: Path | str, **kw: Any) -> LineSink:
    sink = LineSink()
    if isinstance(source, Path):
        with source.open(newline="", encoding="utf-8-sig") as fh:
            csvfmt.read(fh, sink, set_line=sink.set_line, **kw)
    else:
        csvfmt.read(io.StringIO(source, newline=""), sink, set_line=sink.set_line, **kw)
    return sink


def _header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return next(csv.reader(fh))


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def got() -> LineSink:
    return _read(GOT)


def test_getoldtweets_day_one(got: LineSink) -> None:
    assert len(got.posts) == 13_666
    assert got.rejects == []
    assert got.post_lines == list(range(2, 13_668))
    assert all(isinstance(p["id"], str) and p["id"].isdigit() for p in got.posts)
    assert len({p["id"] for p in got.posts}) == 13_666
    # no user-id column: the lower-cased handle from the permalink stands as the account id
    assert all(p["platform"] == "twitter" and p["author_id"] == p["author_handle"].lower() for p in got.posts)
    assert got.posts[0]["created_at"] == datetime(2017, 10, 15, 0, 52, 24, 139000)
    hours = Counter(p["created_at"].hour for p in got.posts)
    assert hours[20] == 1_243 and hours[23] == 6_711


def test_getoldtweets_authors_and_spaced_hashtags(got: LineSink) -> None:
    rows = _rows(GOT)
    for row, p in zip(rows, got.posts):
        assert p["id"] == row["tweet_id"]
        assert f"/{p['author_handle']}/status/{p['id']}" in row["permalink"]
        assert " " not in p["author_handle"]
    # "# MeToo" with GetOldTweets' spacing is read as a hashtag
    tagged = sum("metoo" in p["hashtags"] for p in got.posts)
    assert 13_600 <= tagged <= 13_666
    # no tag glued to a following URL ("…https")
    assert not any(t.endswith("https") for p in got.posts for t in p["hashtags"])
    assert Counter(p["kind"] for p in got.posts)["repost"] == 5  # texts starting 'RT @'
    assert all(p["repost_of_id"] is None for p in got.posts)
    assert got.posts[0]["repost_count"] == 0


def test_twarc_csv_2sets() -> None:
    path = TWARC_CSV / "2sets.csv"
    header = _header(path)
    assert len(header) == 84 and csvfmt.sniff_header(header)
    sink = _read(path)
    rows = _rows(path)
    assert len(sink.posts) == 200 and sink.rejects == []
    assert Counter(p["kind"] for p in sink.posts) == {"repost": 145, "quote": 11, "reply": 10, "original": 34}
    for row, p in zip(rows, sink.posts):
        assert p["id"] == row["id"] and p["author_id"] == row["author_id"]
        assert p["author_handle"] == row["author.username"]
        assert p["repost_of_id"] == (row["referenced_tweets.retweeted.id"] or None)
        assert p["quote_of_id"] == (row["referenced_tweets.quoted.id"] or None)
        assert p["reply_to_id"] == (row["referenced_tweets.replied_to.id"] or None)
        expected = [t.lstrip("#").casefold() for t in orjson.loads(row["entities.hashtags"] or "[]")]
        assert p["hashtags"] == expected
        assert p["repost_count"] == int(row["public_metrics.retweet_count"])
        assert p["metrics_observed_at"] is not None
    assert len(sink.accounts) == 200
    assert all(isinstance(a["followers"], int) for a in sink.accounts)


def test_twarc_csv_non_tweet_files_not_sniffed() -> None:
    for name in ("users.csv", "counts.csv", "tweets_compliance.csv", "lists.csv"):
        assert not csvfmt.sniff_header(_header(TWARC_CSV / name)), name
    for name in ("flat.csv", "withheld.csv", "geo_tweets.csv"):
        assert csvfmt.sniff_header(_header(TWARC_CSV / name)), name


def test_twarc_csv_geo() -> None:
    sink = _read(TWARC_CSV / "geo_tweets.csv")
    assert len(sink.posts) == 2
    assert all(p["country"] is None or len(p["country"]) == 2 for p in sink.posts)
    assert any(p["place"] for p in sink.posts)


def test_metooma_without_author() -> None:
    assert csvfmt.sniff_header(_header(METOOMA))
    sink = _read(METOOMA)
    rows = _rows(METOOMA)
    assert len(sink.posts) == 5_318 and sink.rejects == []
    assert [p["id"] for p in sink.posts] == [r["TweetId"] for r in rows]
    assert all(p["author_handle"] is None and p["author_id"] is None for p in sink.posts)
    dated = [p for p in sink.posts if p["created_at"] is not None]
    assert len(dated) == sum(bool(r["date"]) for r in rows) == 970
    assert sum(p["text"] is None for p in sink.posts) == 907
    # country names are places, not ISO codes; 'UK' is GB
    countries = Counter(p["country"] for p in sink.posts)
    assert set(countries) == {None, "GB"} and countries["GB"] == sum(r["Country"] == "UK" for r in rows)
    assert Counter(p["place"] for p in sink.posts)["India"] == sum(r["Country"] == "India" for r in rows)
    assert sum(p["like_count"] is not None for p in sink.posts) > 0


HEADER = "Tweet_ID,User,Created_At,Text,retweet_count\n"


def test_synonyms_are_case_insensitive_and_columns_map() -> None:
    sink = _read(HEADER + '123,alice,2020-01-02 03:04:05,"#One, and #two",3\n')
    (p,) = sink.posts
    assert (p["id"], p["author_handle"], p["repost_count"]) == ("123", "alice", 3)
    assert p["created_at"] == datetime(2020, 1, 2, 3, 4, 5)
    assert p["hashtags"] == ["one", "two"] and p["hashtags_raw"] == ["One", "two"]
    text = "TweetKey,who,body,when,Net\n77,bob,plain words,1577934245,mastodon\n"
    assert not csvfmt.sniff_header(text.splitlines()[0].split(","))
    sink = _read(text, columns={"id": "tweetkey", "author": "Who", "text": "BODY", "created_at": "when",
                                "platform": "net"})
    (p,) = sink.posts
    assert (p["id"], p["author_handle"], p["platform"]) == ("77", "bob", "mastodon")
    assert p["created_at"] == datetime(2020, 1, 2, 3, 4, 5)
    with pytest.raises(UsageError):
        _read(text, columns={"id": "nope"})
    with pytest.raises(UsageError):
        _read(text, columns={"bogus": "who"})
    with pytest.raises(UsageError):
        _read(text)  # no id column


def test_platform_argument_and_kinds() -> None:
    text = ("id,text,in_reply_to_status_id,quoted_status_id,retweeted_status_id\n"
            "1,a,,,\n2,b,1,,\n3,c,,1,\n4,d,1,1,1\n5,RT @x: e,,,\n")
    sink = _read(text, platform="bluesky")
    assert [p["kind"] for p in sink.posts] == ["original", "reply", "quote", "repost", "repost"]
    assert [p["repost_of_id"] for p in sink.posts] == [None, None, None, "1", None]
    assert {p["platform"] for p in sink.posts} == {"bluesky"}


def test_times() -> None:
    text = ("id,text,date\n"
            "1,a,2018-10-10T20:19:24Z\n"
            "2,a,Wed Oct 10 20:19:24 +0000 2018\n"
            "3,a,1539202764\n"
            "4,a,1539202764000\n"
            "5,a,2018-10-10 22:19:24+02:00\n"
            "6,a,not a date\n"
            "7,a,\n")
    sink = _read(text)
    t = datetime(2018, 10, 10, 20, 19, 24)
    assert [p["created_at"] for p in sink.posts] == [t, t, t, t, t, None]
    assert sink.reject_lines == [7]


def test_float_ids_rejected() -> None:
    text = ("id,text,in_reply_to_status_id\n"
            "9.2e17,a,\n"
            "921234567890123456.0,b,\n"
            "921234567890123456,c,9.21e17\n"
            "00123,d,\n")
    sink = _read(text)
    assert [p["id"] for p in sink.posts] == ["921234567890123456", "00123"]
    assert sink.posts[0]["reply_to_id"] is None and sink.posts[0]["kind"] == "reply"
    assert sink.rejects == ["float-corrupted id", "float-corrupted id", "float-corrupted reply id"]
    assert sink.reject_lines == [2, 3, 4]
    for p in sink.posts:
        assert isinstance(p["id"], str)


def test_bad_rows_rejected_alone_with_line_numbers() -> None:
    text = (
        "id,author,created_at,text\n"          # 1
        '1,a,2020-01-01,"first\n'              # 2
        'still first\n'                        # 3
        'and more"\n'                          # 4
        "2,b,2020-01-01,too,many,fields\n"     # 5
        "\n"                                   # 6 (blank)
        '3,c,2020-01-01,"x ""quoted""\r\n'     # 7
        'y"\r\n'                               # 8
        ",d,2020-01-01,no id\n"                # 9
        "4,e,2020-01-01,fine\n"                # 10
    )
    sink = _read(text)
    assert [p["id"] for p in sink.posts] == ["1", "3", "4"]
    assert sink.post_lines == [2, 7, 10]
    assert sink.reject_lines == [5, 9]
    assert sink.lines == [2, 5, 7, 9, 10]
    assert sink.rejects[0] == "6 fields, the header has 4"
    assert sink.posts[0]["text"].count("\n") == 2


def test_huge_field_and_tsv() -> None:
    big = "x" * 300_000
    sink = _read(f"id\ttext\thashtags\n1\t{big}\t#A #b\n2\tsmall\t\n")
    assert [p["id"] for p in sink.posts] == ["1", "2"]
    assert len(sink.posts[0]["text"]) == 300_000
    assert sink.posts[0]["hashtags"] == ["a", "b"] and sink.posts[1]["hashtags"] == []
    assert csvfmt.sniff_header(["id\ttext\thashtags"])


def test_account_from_twarc_csv_columns() -> None:
    text = ("id,text,author_id,author.username,author.public_metrics.followers_count,author.verified\n"
            "10,a,55,carol,12,True\n")
    sink = _read(text)
    (a,) = sink.accounts
    assert (a["id"], a["handle"], a["followers"], a["verified"]) == ("55", "carol", 12, True)


_cell = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(min_value=0, max_value=2**63 - 1), _cell, st.booleans()), max_size=12))
def test_property_good_rows_survive_bad_ones(rows: list[tuple[int, str, bool]]) -> None:
    """Any texts (newlines, quotes, commas) round-trip; a broken row loses only itself."""
    out = io.StringIO(newline="")
    w = csv.writer(out)
    w.writerow(["id", "text"])
    good: list[tuple[str, str]] = []
    for n, text, broken in rows:
        if broken:
            w.writerow([str(n), text, "extra"])
        else:
            w.writerow([str(n), text])
            good.append((str(n), text))
    sink = _read(out.getvalue())
    assert [(p["id"], p["text"] or "") for p in sink.posts] == [(i, t if t.strip() else "") for i, t in good]
    assert len(sink.rejects) == sum(b for _, _, b in rows)
    assert sink.lines == sorted(sink.lines)
