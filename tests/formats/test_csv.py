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


# -- links, hashtags and mentions: from the columns and the text -------------------------------

CALL = "919659438700670976"  # the call to action of 2017-10-15 (a public figure's status)


def test_getoldtweets_links_to_the_call_to_action(got: LineSink) -> None:
    """Every row whose raw text names the call's status yields a link to it (counted
    independently, by substring, from the raw CSV), and no other row does."""
    rows = _rows(GOT)
    raw = {r["tweet_id"] for r in rows if f"/status/{CALL}" in r["text"]}
    linked = {p["id"] for p in got.posts if any(u.endswith(f"/status/{CALL}") for u in p["urls"])}
    assert len(raw) >= 300 and linked == raw
    for p in got.posts:
        for u in p["urls"]:
            if CALL in u:
                handle = u.split("/")[3]
                assert u == f"https://twitter.com/{handle}/status/{CALL}" and handle.lower() == "alyssa_milano"
    # Twitter's photo links, written without a scheme and often glued to the word before
    pics = sum(r["text"].count("pic.twitter.com/") for r in rows)
    assert pics > 500
    assert sum(u.startswith("https://pic.twitter.com/") for p in got.posts for u in p["urls"]) == pics
    # no link keeps a glued neighbour: one scheme per link, none ends in the '…' GetOldTweets adds
    for p in got.posts:
        for u in p["urls"]:
            assert u.count("://") == 1 and "…" not in u and " " not in u


def test_getoldtweets_no_row_loses_its_tag(got: LineSink) -> None:
    rows = _rows(GOT)
    assert all("metoo" in r["text"].lower() for r in rows)  # the scrape searched for #metoo
    assert sum("metoo" in p["hashtags"] for p in got.posts) == len(rows) == 13_666
    # every tag is written in the text ('#tag' or GetOldTweets' '# tag') or in the hashtags column,
    # and none swallowed a link glued after it ('# MeToohttps://…', '# MeToopic.twitter.com/…')
    for r, p in zip(rows, got.posts):
        text, column = r["text"].casefold(), r["hashtags"].casefold().split()
        for t in p["hashtags"]:
            assert f"#{t}" in text or f"# {t}" in text or f"#{t}" in column
            assert "https" not in t and "pictwitter" not in t
        # GetOldTweets wrote one bare '#' for each spaced tag: each is read
        spaced = sum(1 for t in p["hashtags"] if f"# {t}" in text)
        assert spaced >= min(1, column.count("#"))


def test_links_from_text_and_columns() -> None:
    text = ("id,text,urls,quote_url,permalink\n"
            '1,"read https://e.org/a_(b). and (https://t.co/Ab1) or www.e.org/p.",https://e.org/long,,\n'
            '2,"# MeToohttps://twitter.com/A_b/status/99…pic.twitter.com/Xy9 x.com/c/status/5",,,\n'
            '3,"https://a.b/xhttps://c.d/y https://twitter.com/me/status/3/photo/1",,https://x.com/q/status/7,\n'
            '4,"see bsky.app/profile/a.bsky.social/post/3k2 and https://a.b/c?u=https://d.e",,,\n'
            "5,https://e.org/self,https://e.org/self,,https://e.org/self\n")
    sink = _read(text)
    urls = [p["urls"] for p in sink.posts]
    assert urls[0] == ["https://e.org/long", "https://e.org/a_(b", "https://www.e.org/p"]  # t.co: the column has it
    assert urls[1] == ["https://twitter.com/A_b/status/99", "https://pic.twitter.com/Xy9", "https://x.com/c/status/5"]
    assert urls[2] == ["https://x.com/q/status/7", "https://a.b/x", "https://c.d/y"]  # its own photo link left out
    assert urls[3] == ["https://bsky.app/profile/a.bsky.social/post/3k2", "https://a.b/c?u=https://d.e"]
    assert urls[4] == []  # the post's own link
    sink = _read("id,text\n1,\"https://t.co/Ab1 http://a.b/#frag @x/y https://a.b/@user\"\n")
    (p,) = sink.posts
    assert p["urls"] == ["https://t.co/Ab1", "http://a.b/#frag", "https://a.b/@user"]
    assert p["hashtags"] == [] and p["mentions"] == ["x"]  # a fragment or path is not a name


def test_hashtags_and_mentions_are_a_union_of_column_and_text() -> None:
    text = ("id,text,hashtags,mentions\n"
            '1,"#One two #Three @Ann",#one,\n'                # column partial: text order, then column-only
            '2,"#One",#two #One,@bob\n'                       # column covers the text: its order
            '3,"# MeToo and # Two @ ann",# #,@\n'             # GetOldTweets: bare marks, spaced names
            '4,"# MeToo glued#Named",# #Named,\n'             # bare and named: union
            '5,"no tags #http://e.org",#http,\n'              # a '#' glued to a link is no tag
            '6,"RT @a: text #MeTo…",#metoo,@a\n'              # a truncated tag is not read from the text
            "7,\"#a #a #A\",#a,\n"                            # each occurrence once
            "8,plain,\"['x', 'y']\",\"['@z']\"\n")            # twint's Python list literals
    sink = _read(text)
    tags = [p["hashtags_raw"] for p in sink.posts]
    assert tags == [["One", "Three"], ["two", "One"], ["MeToo", "Two"], ["MeToo", "Named"], [], ["metoo"],
                    ["a", "a", "A"], ["x", "y"]]
    assert [p["mentions"] for p in sink.posts] == [["Ann"], ["bob"], ["ann"], [], [], ["a"], [], ["z"]]
    assert sink.posts[0]["hashtags"] == ["one", "three"]


def test_delimiters_are_guessed_from_the_header() -> None:
    for d in (";", "\t", "|"):
        sink = _read(f"id{d}text{d}hashtags\n1{d}a, b #x{d}\n2{d}c{d}#y\n")
        assert [p["text"] for p in sink.posts] == ["a, b #x", "c"], d
        assert [p["hashtags"] for p in sink.posts] == [["x"], ["y"]]
    assert csvfmt.guess_delimiter("id;text;note,with,commas") == ";"
    assert csvfmt.guess_delimiter("a,b;c") == ","  # no id/text either way: the most fields, comma on a tie
    assert csvfmt.sniff_header(["id;text"])
    sink = _read("id;text\n1;a,b\n", delimiter=";")
    assert sink.posts[0]["text"] == "a,b"
