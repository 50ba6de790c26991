"""Twitter parsers (v1.1, v2 pages, flattened v2, compliance) and the twarc-csv export,
against the real twarc / SFM test data in ../shared/data.

Post texts are never printed: assertions compare ids, counts and hashes.
"""

from __future__ import annotations

import copy
import csv
import hashlib
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groundswell.formats import twarc_csv_export as export
from groundswell.formats import twitter_compliance
from groundswell.formats import twitter_v1 as v1
from groundswell.formats import twitter_v2 as v2
from groundswell.formats import twitter_v2_flat as v2flat
from groundswell.formats.base import ListSink, RecordError
from groundswell.model import POST_FIELDS, ACCOUNT_FIELDS

DATA = Path("../shared/data")
TWARC_CSV = DATA / "twarc-csv"
EXPECTED_CSV = TWARC_CSV / "expected-output-twarc-csv-0.7.2"
SFM = DATA / "sfm-twitter-harvester"

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="shared test data not present")

POST_COLUMNS = {n for n, _, _ in POST_FIELDS}
ACCOUNT_COLUMNS = {n for n, _, _ in ACCOUNT_FIELDS}

# tweet files of twarc-csv (v2 pages), and the flattened one
PAGE_FILES = [
    "2sets", "brexit", "cashtags", "cotweet", "edited", "edited_after", "edited_before",
    "entities_test", "geo_tweets", "kpop", "many_urls", "media_policy_violation_off",
    "media_policy_violation_on", "media_tweet", "mentions_tweet", "noflat", "quoted_edit",
    "streaming_output_with_error", "two_tweets", "verified_type", "withheld",
]  # fmt: skip
# tweet totals in data[] per file, from SOURCES.md
DATA_TWEETS = {"2sets": 200, "brexit": 100, "kpop": 100, "noflat": 100, "withheld": 215,
               "media_policy_violation_on": 100, "media_policy_violation_off": 100,
               "entities_test": 474, "streaming_output_with_error": 7, "geo_tweets": 2,
               "two_tweets": 1, "cashtags": 1, "cotweet": 1, "edited": 1, "edited_after": 1,
               "edited_before": 1, "quoted_edit": 1, "media_tweet": 1, "mentions_tweet": 1,
               "many_urls": 1, "verified_type": 1}  # fmt: skip


def _lines(path: Path) -> list[Any]:
    """Decoded JSON lines; blank and undecodable lines skipped (the driver rejects those)."""
    out = []
    for raw in path.read_bytes().splitlines():
        if raw.strip():
            try:
                out.append(orjson.loads(raw))
            except orjson.JSONDecodeError:
                continue
    return out


def _parse(module: Any, path: Path) -> ListSink:
    sink = ListSink()
    for obj in _lines(path):
        module.parse(obj, sink)
    return sink


def _sha(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()


def _check_post(p: dict[str, Any]) -> None:
    assert set(p) <= POST_COLUMNS, sorted(set(p) - POST_COLUMNS)
    assert p["platform"] == "twitter"
    assert isinstance(p["id"], str) and p["id"].isdigit()
    for key in ("author_id", "repost_of_id", "reply_to_id", "reply_to_author_id", "quote_of_id", "conversation_id"):
        assert p[key] is None or isinstance(p[key], str), key
    assert p["created_at"] is None or (isinstance(p["created_at"], datetime) and p["created_at"].tzinfo is None)
    assert p["kind"] in ("original", "repost", "reply", "quote")
    assert all(h == h.casefold() and not h.startswith("#") for h in p["hashtags"])
    assert [h.casefold() for h in p["hashtags_raw"]] == p["hashtags"]
    assert all(isinstance(i, str) for i in p["mention_ids"])
    assert isinstance(p["raw"], str) and orjson.loads(p["raw"])["id"] is not None


def _check_account(a: dict[str, Any]) -> None:
    assert set(a) <= ACCOUNT_COLUMNS, sorted(set(a) - ACCOUNT_COLUMNS)
    assert isinstance(a["id"], str) and a["id"].isdigit()
    assert isinstance(a["observed_at"], datetime)


# ----------------------------------------------------------------------------- sniffing


def test_sniff_tells_the_formats_apart() -> None:
    first = {name: _lines(TWARC_CSV / "test-data" / f"{name}.jsonl")[0] for name in PAGE_FILES}
    for name, obj in first.items():
        assert v2.sniff(obj), name
        assert not v1.sniff(obj) and not v2flat.sniff(obj) and not v2.COMPLIANCE.sniff(obj), name
    for name in ("counts", "users"):
        assert v2.sniff(_lines(TWARC_CSV / "test-data" / f"{name}.jsonl")[0]), name
    lists = _lines(TWARC_CSV / "test-data" / "lists.jsonl")[0]
    assert not any(m.sniff(lists) for m in (v1, v2, v2flat, v2.COMPLIANCE))
    flat = _lines(TWARC_CSV / "test-data" / "flat.jsonl")[0]
    assert v2flat.sniff(flat) and not v2.sniff(flat) and not v1.sniff(flat)
    for path in (SFM / "v1.1_search_gelman_2015.jsonl", SFM / "v1.1_users_lookup_2016.jsonl", DATA / "twarc-text/test-data/flat.jsonl"):
        obj = _lines(path)[0]
        assert v1.sniff(obj) and not v2.sniff(obj) and not v2flat.sniff(obj), path.name
    for name in ("tweets_compliance", "users_compliance"):
        obj = _lines(TWARC_CSV / "test-data" / f"{name}.jsonl")[0]
        assert v2.COMPLIANCE.sniff(obj) and not v2.sniff(obj) and not v1.sniff(obj)
    response = orjson.loads((DATA / "flatten-tweet/test-data/response.json").read_bytes())
    assert v2.sniff(response)
    assert v2.NAME == "twitter-v2" and v1.NAME == "twitter-v1"
    assert v2flat.NAME == "twitter-v2-flat" and v2.COMPLIANCE.NAME == "twitter-compliance"


# ----------------------------------------------------------------------------- v2 pages


@pytest.mark.parametrize("name", PAGE_FILES)
def test_v2_pages_give_every_tweet_of_twarc_csv(name: str) -> None:
    sink = _parse(v2, TWARC_CSV / "test-data" / f"{name}.jsonl")
    assert sink.rejects == []
    data = [p for p in sink.posts if not p["is_reference"]]
    assert len(data) == DATA_TWEETS[name]
    for p in sink.posts:
        _check_post(p)
    for a in sink.accounts:
        _check_account(a)
    with open(EXPECTED_CSV / f"{name}.csv", encoding="utf8", newline="") as f:
        expected_ids = {r["id"] for r in csv.DictReader(f)}
    parsed = {p["id"] for p in sink.posts}
    assert expected_ids and expected_ids <= parsed, len(expected_ids - parsed)
    if name != "two_tweets":  # two_tweets' CSV inlines referenced tweets
        assert expected_ids == {p["id"] for p in data}


def test_v2_page_fields_resolved_from_includes() -> None:
    sink = _parse(v2, TWARC_CSV / "test-data/brexit.jsonl")
    with open(EXPECTED_CSV / "brexit.csv", encoding="utf8", newline="") as f:
        rows = {r["id"]: r for r in csv.DictReader(f)}
    data = {p["id"]: p for p in sink.posts if not p["is_reference"]}
    retrieved = datetime(2021, 9, 22, 16, 38, 9)
    kinds = Counter()
    for pid, r in rows.items():
        p = data[pid]
        kinds[p["kind"]] += 1
        assert p["author_id"] == r["author_id"] and p["author_handle"] == r["author.username"]
        assert p["created_at"].strftime("%Y-%m-%dT%H:%M:%S.000Z") == r["created_at"]
        assert (p["repost_of_id"] or "") == r["referenced_tweets.retweeted.id"]
        assert (p["reply_to_id"] or "") == r["referenced_tweets.replied_to.id"]
        assert (p["quote_of_id"] or "") == r["referenced_tweets.quoted.id"]
        assert p["conversation_id"] == r["conversation_id"] and p["lang"] == r["lang"]
        assert p["metrics_observed_at"] == retrieved
        if p["kind"] != "repost":  # twarc-csv gives retweets the retweeted tweet's metrics
            assert str(p["like_count"]) == r["public_metrics.like_count"]
    assert kinds["repost"] > 0 and kinds["original"] > 0
    refs = [p for p in sink.posts if p["is_reference"]]
    assert refs and not {p["id"] for p in refs} & set(data)
    # every retweeted tweet is in the page (data or includes), so it is a post too
    posted = {p["id"] for p in sink.posts}
    assert all(data[i]["repost_of_id"] in posted for i in data if data[i]["kind"] == "repost")
    assert all(a["observed_at"] == retrieved for a in sink.accounts)
    assert len({a["id"] for a in sink.accounts}) == len(sink.accounts)


def test_v2_media_places_and_verification() -> None:
    media = _parse(v2, TWARC_CSV / "test-data/media_tweet.jsonl").posts[0]
    assert media["media"] == ["video:7_1558552952549277696"]
    geo = _parse(v2, TWARC_CSV / "test-data/geo_tweets.jsonl")
    placed = [p for p in geo.posts if p["place"] is not None]
    assert [(p["place"], p["country"]) for p in placed if not p["is_reference"]] == [("Berlin, Germany", "DE")]
    verified = _parse(v2, TWARC_CSV / "test-data/verified_type.jsonl").accounts
    assert [a["verified"] for a in verified] == [True]
    kpop = _parse(v2, TWARC_CSV / "test-data/kpop.jsonl")
    photos = [m for p in kpop.posts for m in p["media"] if m.startswith("photo:")]
    with_url = [m for m in photos if m.startswith("photo:https://pbs.twimg.com/")]
    # media missing from includes (a retweet's original's photos) keep their key
    assert with_url and all(m in with_url or m.startswith("photo:3_") for m in photos)


def test_v2_hashtags_reproduce_twarc_hashtags() -> None:
    """twarc-hashtags: each entities.hashtags occurrence of each tweet in data[]
    (not includes), lower-cased, counted; retweets count through their own entities."""
    sink = _parse(v2, DATA / "twarc-hashtags/test-data/tweets1.jsonl")
    data = [p for p in sink.posts if not p["is_reference"]]
    assert len(data) == 300
    counts = Counter(h for p in data for h in p["hashtags"])
    expected_csv = (DATA / "twarc-hashtags/expected-output/hashtags_tweets1.csv").read_text()
    expected = {tag: int(n) for tag, n in (line.split(",") for line in expected_csv.split()[1:])}
    assert dict(counts) == expected
    # counting each tag once per tweet gives the same here
    assert Counter(h for p in data for h in set(p["hashtags"])) == counts


def test_v2_pretty_printed_response() -> None:
    response = orjson.loads((DATA / "flatten-tweet/test-data/response.json").read_bytes())
    assert "errors" in response
    sink = ListSink()
    v2.parse(response, sink)
    assert sum(not p["is_reference"] for p in sink.posts) == 90
    assert sink.rejects == []
    assert all(p["author_handle"] for p in sink.posts if not p["is_reference"])


def test_v2_streaming_and_other_pages() -> None:
    stream = _lines(TWARC_CSV / "test-data/streaming_output_with_error.jsonl")
    assert isinstance(stream[0]["data"], dict) and "matching_rules" in stream[0]
    sink = ListSink()
    v2.parse(stream[0], sink)
    assert sum(not p["is_reference"] for p in sink.posts) == 1
    # the SFM pages: one holds only meta (no results), one page has no __twarc
    sfm = _parse(v2, SFM / "v2_pages_2023.jsonl")
    assert sum(not p["is_reference"] for p in sfm.posts) == 11
    assert all(p["metrics_observed_at"] is None for p in sfm.posts)
    assert all(a["observed_at"] is not None for a in sfm.accounts)
    # twarc-edits: every edit version is its own post
    edits = _parse(v2, DATA / "twarc-edits/test-data/tweets.jsonl")
    assert sum(not p["is_reference"] for p in edits.posts) == 199
    ids = _parse(v2, DATA / "twarc-ids/test-data/tweets2.jsonl")
    assert [p["id"] for p in ids.posts] == ["1366871005755547653"]
    network = _parse(v2, DATA / "twarc-network/test-data/tweets.jsonl")
    assert sum(not p["is_reference"] for p in network.posts) == 500


def test_v2_errors_only_page_emits_nothing() -> None:
    sink = ListSink()
    v2.parse({"errors": [{"title": "Not Found Error", "detail": "gone", "type": "about:blank"}]}, sink)
    v2.parse({"meta": {"result_count": 0}}, sink)
    assert (sink.posts, sink.accounts, sink.rejects) == ([], [], [])
    with pytest.raises(RecordError):
        v2.parse({"something": "else"}, sink)
    with pytest.raises(RecordError):
        v2.parse([1, 2], sink)


def test_v2_counts_users_and_lists() -> None:
    counts = _parse(v2, TWARC_CSV / "test-data/counts.jsonl")
    assert len(counts.volumes) == 169 and counts.posts == []
    assert {v["query"] for v in counts.volumes} == {"dogs"}
    assert sum(v["count"] for v in counts.volumes) == 771665  # meta.total_tweet_count
    assert all(v["start"] < v["end"] for v in counts.volumes)
    users = _parse(v2, TWARC_CSV / "test-data/users.jsonl")
    assert len(users.accounts) == 96
    assert all(p["is_reference"] for p in users.posts)  # pinned tweets in includes
    for a in users.accounts:
        _check_account(a)
    with pytest.raises(RecordError):
        v2.parse(_lines(TWARC_CSV / "test-data/lists.jsonl")[0], ListSink())


def test_v2_bad_tweet_is_rejected_alone() -> None:
    page = _lines(TWARC_CSV / "test-data/brexit.jsonl")[0]
    bad = copy.deepcopy(page)
    del bad["data"][3]["id"]
    bad["data"][5]["entities"] = ["not", "an", "object"]
    bad["data"][7]["created_at"] = 12
    sink = ListSink()
    v2.parse(bad, sink)
    assert sorted(r.split(":")[0] for r in sink.rejects) == ["data[3]", "data[5]", "data[7]"]
    assert sink.rejects[0] == "data[3]: missing id"
    assert sum(not p["is_reference"] for p in sink.posts) == 97
    good = ListSink()
    v2.parse(page, good)
    kept = {p["id"] for p in sink.posts if not p["is_reference"]}
    lost = {p["id"] for p in good.posts if not p["is_reference"]} - kept
    assert lost == {page["data"][i]["id"] for i in (3, 5, 7)}


def test_compliance_lines_are_deletions() -> None:
    sink = _parse(v2.COMPLIANCE, TWARC_CSV / "test-data/tweets_compliance.jsonl")
    assert [(d["id"], d["reason"]) for d in sink.deletions] == [
        ("1170025343920402432", "compliance:protected"),
        ("1170147183095664640", "compliance:deactivated"),
    ]
    assert sink.deletions[0]["deleted_at"] is None
    assert sink.deletions[1]["deleted_at"] == datetime(2021, 8, 17, 17, 26, 15, 788000)
    assert all(d["platform"] == "twitter" for d in sink.deletions)
    with pytest.raises(RecordError):
        v2.COMPLIANCE.parse({"id": "1", "action": "undelete", "reason": "x"}, ListSink())
    # the module the detector loads is the same format
    assert twitter_compliance.NAME == "twitter-compliance"
    again = _parse(twitter_compliance, TWARC_CSV / "test-data/tweets_compliance.jsonl")
    assert again.deletions == sink.deletions


# ----------------------------------------------------------------------------- flattened v2


def test_flat_equals_pages() -> None:
    """flat.jsonl is noflat.jsonl flattened: the same posts, the same raw tweets
    (up to the mention ids the flattening merged in)."""
    flat = _parse(v2flat, TWARC_CSV / "test-data/flat.jsonl")
    pages = _parse(v2, TWARC_CSV / "test-data/noflat.jsonl")
    assert flat.rejects == []
    for p in flat.posts:
        _check_post(p)
    a = {p["id"]: p for p in flat.posts}
    b = {p["id"]: p for p in pages.posts}
    assert sum(not p["is_reference"] for p in flat.posts) == 100
    assert set(a) == set(b)
    for pid in a:
        for key in POST_COLUMNS - {"raw"}:
            assert a[pid].get(key) == b[pid].get(key), (pid, key)

        def strip(raw: str) -> Any:
            obj = orjson.loads(raw)
            for m in obj.get("entities", {}).get("mentions", []):
                m.pop("id", None)
            return obj

        assert strip(a[pid]["raw"]) == strip(b[pid]["raw"]), pid
    with open(EXPECTED_CSV / "flat.csv", encoding="utf8", newline="") as f:
        assert {r["id"] for r in csv.DictReader(f)} == {p["id"] for p in flat.posts if not p["is_reference"]}
    ids = _parse(v2flat, DATA / "twarc-ids/test-data/tweets4.jsonl")
    data = [p["id"] for p in ids.posts if not p["is_reference"]]
    assert (data[0], data[-1], len(data)) == ("1380845952819466249", "1380845036326301699", 100)


# ----------------------------------------------------------------------------- v1.1


def test_v1_sfm_counts_and_json2csv_ids() -> None:
    timeline = _parse(v1, SFM / "v1.1_user_timeline_2016.jsonl")
    search = _parse(v1, SFM / "v1.1_search_gelman_2015.jsonl")
    assert timeline.rejects == [] and search.rejects == []
    tweets = [p for s in (timeline, search) for p in s.posts if not p["is_reference"]]
    assert len(tweets) == 1473
    assert tweets[0]["id"] == "721345764362948609"
    assert sum(p["author_id"] == "481186914" for p in tweets) == 244
    for p in timeline.posts + search.posts:
        _check_post(p)
    for a in timeline.accounts + search.accounts:
        _check_account(a)
    search_kinds = Counter(p["kind"] for p in search.posts if not p["is_reference"])
    assert search_kinds == {"repost": 557, "reply": 152, "quote": 25, "original": 495}
    for sink, name in ((timeline, "v1.1_user_timeline_2016"), (search, "v1.1_search_gelman_2015")):
        with open(SFM / f"expected-output-twarc-json2csv/{name}.csv", encoding="utf8", newline="") as f:
            rows = list(csv.DictReader(f))
        mine = {p["id"]: p for p in sink.posts if not p["is_reference"]}
        assert [r["id"] for r in rows] == list(mine)
        for r in rows:
            p = mine[r["id"]]
            assert p["author_handle"] == r["user_screen_name"]
            assert (p["reply_to_id"] or "") == r["in_reply_to_status_id"]
            assert sorted(p["hashtags_raw"]) == sorted(r["hashtags"].split()) if r["hashtags"] else not p["hashtags"]
    # retweets carry the retweeted tweet (a reference post) and its author
    ref_ids = {p["id"] for p in search.posts if p["is_reference"]}
    reposts = [p for p in search.posts if p["kind"] == "repost" and not p["is_reference"]]
    assert len(reposts) == 557 and all(p["repost_of_id"] in ref_ids for p in reposts)
    assert len({a["id"] for a in search.accounts}) > 1


def test_v1_extended_tweet_and_user_lookup() -> None:
    ext = _parse(v1, DATA / "twarc-text/test-data/flat.jsonl")
    assert len(ext.posts) == 1 and len(ext.accounts) == 1
    post = ext.posts[0]
    raw = orjson.loads(post["raw"])
    assert _sha(post["text"]) == _sha(raw["full_text"]) and len(post["text"]) > 140
    lookup = _parse(v1, SFM / "v1.1_users_lookup_2016.jsonl")
    assert lookup.posts == [] and len(lookup.accounts) == 1
    _check_account(lookup.accounts[0])
    streaming = {
        "id": 1, "id_str": "1", "created_at": "Wed Oct 10 20:19:24 +0000 2018", "text": "short",
        "truncated": True, "user": {"id": 2, "id_str": "2", "screen_name": "a", "followers_count": 1},
        "extended_tweet": {"full_text": "longer #MeToo", "entities": {"hashtags": [{"text": "MeToo"}]}},
        "entities": {"hashtags": []},
    }  # fmt: skip
    sink = ListSink()
    v1.parse(streaming, sink)
    assert sink.posts[0]["text"] == "longer #MeToo" and sink.posts[0]["hashtags"] == ["metoo"]
    assert sink.posts[0]["created_at"] == datetime(2018, 10, 10, 20, 19, 24)
    assert sink.accounts[0]["observed_at"] == datetime(2018, 10, 10, 20, 19, 24)
    with pytest.raises(RecordError):
        v1.parse({"id": 1.5e18, "user": {}, "text": "x"}, ListSink())


# ----------------------------------------------------------------------------- twarc-csv export

EXPORT_FILES = ["brexit", "kpop", "2sets", "withheld", "entities_test", "streaming_output_with_error", "geo_tweets"]
EXACT = ["id", "author_id", "created_at", "conversation_id", "referenced_tweets.replied_to.id",
         "referenced_tweets.retweeted.id", "referenced_tweets.quoted.id", "public_metrics.reply_count",
         "public_metrics.retweet_count", "public_metrics.quote_count", "public_metrics.like_count",
         "author.username", "lang"]  # fmt: skip


def _index(items: Any, key: str = "id") -> dict[str, Any]:
    return {i[key]: i for i in items or []}


@pytest.mark.parametrize("name", EXPORT_FILES)
def test_export_row_matches_twarc_csv(name: str) -> None:
    assert len(export.COLUMNS) == 84
    with open(EXPECTED_CSV / f"{name}.csv", encoding="utf8", newline="") as f:
        reader = csv.reader(f)
        assert next(reader) == export.COLUMNS
        expected = {r[0]: r for r in reader}
    pages = _lines(TWARC_CSV / "test-data" / f"{name}.jsonl")
    # rows from the parsed posts' raw objects, the page's includes as context
    got: dict[str, list[str]] = {}
    for page in pages:
        sink = ListSink()
        v2.parse(page, sink)
        inc = page.get("includes", {})
        users, tweets = _index(inc.get("users")), _index(inc.get("tweets"))
        for p in sink.posts:
            if p["is_reference"] or p["id"] in got:
                continue
            got[p["id"]] = export.row(
                orjson.loads(p["raw"]), users, tweets,
                media=_index(inc.get("media"), "media_key"), polls=_index(inc.get("polls")),
                places=_index(inc.get("places")), twarc=page.get("__twarc"),
                matching_rules=page.get("matching_rules"),
            )  # fmt: skip
    assert set(got) == set(expected)
    col = {c: i for i, c in enumerate(export.COLUMNS)}
    for pid, want in expected.items():
        row = got[pid]
        assert len(row) == 84
        for c in EXACT:
            assert row[col[c]] == want[col[c]], (pid, c)
        assert _sha(row[col["text"]]) == _sha(want[col["text"]]), (pid, "text")
    # the whole file, batch-wise as twarc-csv writes it (integer columns with gaps as floats)
    assert export.batch_rows(pages) == list(expected.values())


def test_export_row_from_v1_post() -> None:
    sink = _parse(v1, SFM / "v1.1_user_timeline_2016.jsonl")
    col = {c: i for i, c in enumerate(export.COLUMNS)}
    for p in sink.posts:
        row = export.row_from_post(p)
        assert len(row) == 84
        assert row[col["id"]] == p["id"] and row[col["author.username"]] == p["author_handle"]
        assert row[col["referenced_tweets.retweeted.id"]] == (p["repost_of_id"] or "")
        assert datetime.strptime(row[col["created_at"]], "%Y-%m-%dT%H:%M:%S.000Z") == p["created_at"]
        assert "<" not in row[col["source"]] and "\n" not in row[col["text"]]
        assert row[col["public_metrics.like_count"]] == str(p["like_count"])
        tags = orjson.loads(row[col["entities.hashtags"]]) if p["hashtags_raw"] else []
        assert tags == ["#" + h for h in p["hashtags_raw"]]


def test_export_cells() -> None:
    assert export.cell(None) == "" and export.cell(True) == "True" and export.cell(3) == "3"
    assert export.cell("a\r\nb") == "a\\nb"
    assert export.cell(["é", 1]) == '["\\u00e9", 1]'
    assert export.cell(12.0) == "12.0"


# ----------------------------------------------------------------------------- property

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
_FIELDS = ["id", "author_id", "created_at", "text", "entities", "referenced_tweets", "attachments",
           "geo", "public_metrics", "note_tweet", "conversation_id", "lang"]  # fmt: skip
_PAGE = _lines(TWARC_CSV / "test-data/brexit.jsonl")[0] if DATA.is_dir() else {}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 99), st.sampled_from(_FIELDS), _json), min_size=1, max_size=4))
def test_v2_never_loses_a_good_tweet(damage: list[tuple[int, str, Any]]) -> None:
    """Damaged tweets are posted or rejected, one by one; the untouched ones are all posted."""
    page = copy.deepcopy(_PAGE)
    for i, field, value in damage:
        page["data"][i][field] = value
    sink = ListSink()
    v2.parse(page, sink)
    data_posts = {p["id"] for p in sink.posts if not p["is_reference"]}
    touched = {i for i, _, _ in damage}
    untouched = {t["id"] for i, t in enumerate(page["data"]) if i not in touched}
    assert untouched <= data_posts
    # each data tweet is posted once or rejected once
    assert sum(not p["is_reference"] for p in sink.posts) + len(sink.rejects) == 100
    assert all(r.startswith("data[") for r in sink.rejects)
    for p in sink.posts:
        assert isinstance(p["id"], str)


def test_flat_bad_records() -> None:
    with pytest.raises(RecordError):
        v2flat.parse({"text": "x", "author_id": "1"}, ListSink())
    with pytest.raises(RecordError):
        v2flat.parse({"id": "1", "text": "x", "author_id": "2", "entities": [1]}, ListSink())
    sink = ListSink()
    tweet = {"id": "1", "text": "x", "author": {"id": "2", "username": "u"},
             "referenced_tweets": [{"type": "retweeted", "id": "3", "text": "y", "entities": "z"}]}  # fmt: skip
    v2flat.parse(tweet, sink)
    assert [p["id"] for p in sink.posts] == ["1"] and sink.posts[0]["kind"] == "repost"
    assert [r.split(":")[0] for r in sink.rejects] == ["referenced_tweets[0]"]
