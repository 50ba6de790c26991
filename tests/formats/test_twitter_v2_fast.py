"""The DuckDB fast path for twarc2 pages equals the Python parser, row for row.

For every line ``convert`` handles, its tables equal what ``twitter_v2.parse`` +
``BatchSink`` + ``records_to_table`` make of the same lines; the lines it hands
back (``fallback``) are the ones it must not guess about. Post texts are never
printed: only column names and counts appear in assertion messages.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pytest

from groundswell import model
from groundswell.formats import twitter_v2
from groundswell.formats import twitter_v2_fast as fast
from groundswell.ingest import BatchSink, _parse_safely

from ..conftest import shared

TWARC_CSV = "twarc-csv/test-data"
# files that are not twarc2 tweet pages: every line falls back
NOT_PAGES = {"counts.jsonl", "flat.jsonl", "lists.jsonl", "streaming_output_with_error.jsonl",
             "tweets_compliance.jsonl", "users.jsonl", "users_compliance.jsonl"}
OTHER_FILES = {
    "twarc-network/test-data/tweets.jsonl": [],
    "twarc-hashtags/test-data/tweets1.jsonl": [],
    "sfm-twitter-harvester/v2_pages_2023.jsonl": [1],  # a meta-only page: nothing to read
    "twarc-edits/test-data/tweets.jsonl": [],
}


def _lines(path: Path) -> pa.Table:
    texts = path.read_text(encoding="utf-8").split("\n")
    if texts and texts[-1] == "":
        texts.pop()
    lines = pa.array(range(1, len(texts) + 1), pa.int64())
    # pages numbered apart from lines, as in a store that holds other files' pages
    return pa.table({"line": lines, "page": pa.array([1000 + n for n in range(1, len(texts) + 1)], pa.int64()),
                     "text": texts})


def _resolve(t: pa.Table, lines: pa.Table) -> pa.Table:
    """The fast path's rows with raw read where they point: the object at raw_at in the page's
    line, written as the Python parser writes raw (orjson)."""
    assert t.column("raw").null_count == t.num_rows  # nothing is written back out
    assert t.column("raw_page").null_count == 0 and t.column("raw_at").null_count == 0
    text = dict(zip(lines["page"].to_pylist(), lines["text"].to_pylist()))
    parsed: dict[int, Any] = {}
    raws = []
    for page, at in zip(t["raw_page"].to_pylist(), t["raw_at"].to_pylist()):
        if page not in parsed:
            parsed[page] = orjson.loads(text[page])
        obj: Any = parsed[page]
        m = re.fullmatch(r"\$\.(data|includes\.tweets|includes\.users)\[([0-9]+)\]", at)
        assert m, at
        for key in m.group(1).split("."):
            obj = obj[key]
        raws.append(orjson.dumps(obj[int(m.group(2))]).decode())
    return t.set_column(t.column_names.index("raw"), "raw", pa.array(raws, pa.string())).drop_columns(
        ["raw_page", "raw_at"])


def _python(path: Path, lines: set[int]) -> dict[str, pa.Table]:
    sink = BatchSink(str(path), "twitter-v2")
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            if n not in lines:
                continue
            sink.line, sink.line_bytes = n, len(raw)
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            _parse_safely(twitter_v2.parse, obj, sink, "twitter-v2")
    return sink.tables()


def _differing_columns(a: pa.Table, b: pa.Table, keys: list[str]) -> list[str]:
    order = [(k, "ascending") for k in keys]
    a, b = a.sort_by(order), b.sort_by(order)
    assert a.num_rows == b.num_rows
    return [c for c in a.column_names if not a[c].equals(b[c])]


def _check(con: duckdb.DuckDBPyConnection, path: Path, start: int = 0, stop: int | None = None) -> list[int]:
    """convert == Python on the handled lines (rows start:stop); returns the fallback lines."""
    lines = _lines(path)
    lines = lines.slice(start, (stop if stop is not None else lines.num_rows) - start)
    tables, fallback = fast.convert(con, lines, str(path))
    assert tables["posts"].schema == model.with_raw_ref(model.POSTS)
    assert tables["accounts"].schema == model.with_raw_ref(model.ACCOUNTS)
    assert fallback == sorted(set(fallback))
    handled = set(lines["line"].to_pylist()) - set(fallback)
    ref = _python(path, handled)
    has_rejects = "rejects" in ref
    assert not has_rejects, "a handled line has rejects in Python"
    for name, keys in (("posts", ["id"]), ("accounts", ["id", "observed_at"])):
        want = ref.get(name, model.SCHEMAS[name].empty_table())
        got = _resolve(tables[name], lines)
        assert got.num_rows == want.num_rows, name
        assert _differing_columns(got, want, keys) == [], name
    # every tweet of a handled page (data and includes) is listed as held by that page
    page_of = dict(zip(lines["line"].to_pylist(), lines["page"].to_pylist()))
    want_held = set()
    for n, text in zip(lines["line"].to_pylist(), lines["text"].to_pylist()):
        if n in handled and text.strip():
            obj = orjson.loads(text)
            if obj.get("data"):
                inc = obj.get("includes") or {}
                for t in obj["data"] + (inc.get("tweets") or []):
                    want_held.add((page_of[n], t["id"]))
    held = tables["page_posts"]
    assert set(zip(held["page"].to_pylist(), held["id"].to_pylist())) == want_held
    assert held.num_rows == len(want_held)
    return fallback


@pytest.fixture(scope="module", params=[1, 2])
def con(request: pytest.FixtureRequest) -> duckdb.DuckDBPyConnection:
    """On one DuckDB thread (as the ingest runs it) and on two (the rows read in small batches)."""
    c = duckdb.connect()
    c.execute(f"SET threads = {request.param}")
    return c


@pytest.mark.parametrize("name", sorted(p.name for p in Path(shared(TWARC_CSV)).glob("*.jsonl")))
def test_twarc_csv_files(con: duckdb.DuckDBPyConnection, name: str) -> None:
    path = shared(f"{TWARC_CSV}/{name}")
    fallback = _check(con, path)
    if name in NOT_PAGES:
        assert len(fallback) == _lines(path).num_rows
    else:
        assert fallback == []


@pytest.mark.parametrize("rel", sorted(OTHER_FILES))
def test_other_page_files(con: duckdb.DuckDBPyConnection, rel: str) -> None:
    assert _check(con, shared(rel)) == OTHER_FILES[rel]


def test_scaled_copies_in_chunks(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    out = tmp_path / "s3.jsonl"
    tool = Path(shared("twarc-csv")).parent.parent / "tools" / "scale_twarc2.py"
    subprocess.run([sys.executable, str(tool), str(out), "3"], check=True, capture_output=True)
    assert _check(con, out) == []
    # the same file in two chunks: each chunk is merged on its own
    half = _lines(out).num_rows // 2
    assert _check(con, out, 0, half) == []
    assert _check(con, out, half) == []


# -- synthetic pages: every rule, and what must fall back -------------------------------

def _tweet(tid: str, **kw: Any) -> dict[str, Any]:
    t = {"id": tid, "author_id": "10", "text": f"t{tid}", "created_at": "2021-01-02T03:04:05.000Z",
         "lang": "en", "public_metrics": {"retweet_count": 1, "reply_count": 2, "like_count": 3,
                                           "quote_count": 4}}
    t.update(kw)
    return {k: v for k, v in t.items() if v is not None}


USERS = [{"id": "10", "username": "Alice", "name": "A", "public_metrics": {"followers_count": 5},
          "verified": False, "verified_type": "none", "created_at": "2010-01-01T00:00:00.000Z"},
         {"id": "11", "username": "bob", "verified_type": "blue"},
         {"id": "10", "username": "alice2", "description": "later copy"}]


def _page(data: Any, retrieved: Any = "2021-01-03T00:00:00+00:00", **includes: Any) -> dict[str, Any]:
    page: dict[str, Any] = {"data": data, "includes": includes, "meta": {"result_count": 1}}
    if retrieved is not None:
        page["__twarc"] = {"url": "https://api.twitter.com/2/tweets/search/all", "retrieved_at": retrieved}
    return page


def _write(tmp_path: Path, pages: list[Any]) -> Path:
    out = [orjson.dumps(p).decode() if not isinstance(p, str) else p for p in pages]
    p = tmp_path / "pages.jsonl"
    p.write_text("\n".join(out) + "\n", encoding="utf-8")
    return p


def test_rules_on_synthetic_pages(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    ent = {"hashtags": [{"tag": "Straße"}, {"tag": "ΣΊΣΥΦΟΣ"}, {"tag": "MeToo"}],
           "mentions": [{"username": "bob"}, {"username": "Alice"}, {"username": "nobody"},
                        {"username": "x", "id": "77"}],
           "urls": [{"url": "u1", "expanded_url": "e1"}, {"url": "u2", "expanded_url": ""}, {"url": ""}]}
    media = [{"media_key": "3_1", "type": "photo", "url": "http://m/1"}, {"media_key": "7_2", "type": "video"},
             {"media_key": "3_1", "type": "photo", "url": "http://m/1b"}]
    places = [{"id": "p1", "full_name": "Paris, France", "country_code": "FR"}]
    pages: list[Any] = [
        # 1: kinds, entities, media, places, references repeated in includes
        _page([_tweet("1", entities=ent, attachments={"media_keys": ["3_1", "7_2", "16_9", "99_1"]},
                      geo={"place_id": "p1"}, possibly_sensitive=True),
               _tweet("2", referenced_tweets=[{"type": "retweeted", "id": "1"}], author_id="11"),
               _tweet("3", referenced_tweets=[{"type": "quoted", "id": "1"}, {"type": "replied_to", "id": "2"}],
                      in_reply_to_user_id="11", conversation_id="2"),
               _tweet("4", note_tweet={"text": "long", "entities": {"hashtags": [{"tag": "Note"}]}}),
               _tweet("4", public_metrics={"like_count": 9})],
              users=USERS, media=media, places=places,
              tweets=[_tweet("1"), _tweet("50", public_metrics=None), _tweet("51", author_id="12")]),
        # 2: a later page sees 50 in full and 1 again by reference, with newer counts
        _page([_tweet("50", entities={"hashtags": [{"tag": "X"}]})], retrieved="2021-01-05T10:00:00.5Z",
              tweets=[_tweet("1", public_metrics={"like_count": 100}), _tweet("52")], users=USERS[:1]),
        # 3: no __twarc: accounts observed at their tweets' (or the newest) creation time
        _page([_tweet("60", author_id="10", created_at="2021-02-01T00:00:00.000Z"),
               _tweet("61", author_id="13", created_at="2021-03-01T00:00:00.123Z")], retrieved=None,
              users=[{"id": "10", "username": "alice"}, {"id": "99", "username": "zed"}]),
        # 4: retrieved_at with an offset, an earlier time than page 2: counts stay from page 2
        _page([_tweet("52", public_metrics={"like_count": 7})], retrieved="2021-01-04T12:00:00-05:30"),
        # 5: an empty page and 6: a meta-only page
        _page([]),
        {"meta": {"result_count": 0}},
        # 7, 8: what DuckDB would write out differently from orjson: read where it is, the page
        _page([_tweet("77", geo={"coordinates": {"type": "Point", "coordinates": [1e16, 2.5]}})]),
        _page([_tweet("78", text="a\x1fb")]),
    ]
    bad: list[Any] = [
        _page(_tweet("70")),                                      # streaming: data is an object
        _page([_tweet("71", id=71)]),                             # id not a string
        _page([_tweet("72", created_at="2021-02-30T00:00:00.000Z")]),  # no such day
        _page([_tweet("73", created_at="2021-01-02 03:04:05")]),  # not the API's form
        _page([_tweet("74", public_metrics={"like_count": "3"})]),  # count not an integer
        _page([_tweet("75", entities={"hashtags": [{"tag": 5}]})]),
        _page([_tweet("76", entities="none")]),                   # an object field holding a string
        _page([_tweet("76", entities={"urls": "x"})]),            # a list field holding a string
        _page([_tweet("76", entities={"mentions": [5]})]),        # a list item that is not an object
        _page([_tweet("76", attachments={"media_keys": [None]})]),
        _page([_tweet("76", note_tweet={"entities": {}})]),       # a note without text
        _page([_tweet("76", text=None)]),
        '{"data": [{"id": "79", "text": "x", "n": 12345678901234567890123}]}',   # beyond 64 bits
        '{"data": [{"id": "79", "text": "x",}]}',                 # a trailing comma
        _page([_tweet("82", id="12345678901234567890123")]),     # not a Twitter id
        _page([_tweet("76", referenced_tweets=[{"id": "1"}])]),   # reference without type
        '{"data": [{"id": "79", "text": "x", "n": NaN}]}',
        _page([{"tweet_count": 5, "start": "2021-01-01T00:00:00.000Z", "end": "2021-01-02T00:00:00.000Z"}]),
        _page([{"id": "10", "username": "alice", "name": "A"}]),  # users lookup
        _page([_tweet("80", entities={"mentions": [{"username": "Ünïcode"}]})], users=USERS),
        _page([_tweet("81")], users=[{"id": 10, "username": "alice"}]),
        # includes (or a list of it) of another type: Python rejects it on the line, keeps the tweets
        _page([_tweet("83")], users={"id": "10", "username": "alice"}),
        _page([_tweet("84")], tweets="none"),
        _page([_tweet("85")], media={"media_key": "3_1"}),
        _page([_tweet("86")], places=5),
        {**_page([_tweet("87")]), "includes": ["users"]},
        "not json",
        "",
    ]
    path = _write(tmp_path, pages + bad)
    fallback = _check(con, path)
    assert fallback == [6] + list(range(len(pages) + 1, len(pages) + len(bad) + 1))
    # 52: seen by reference on page 2, then in full on page 4, which was retrieved earlier:
    # the full sighting's fields, the newest observation's counts (as across batches in the store)
    p52 = next(r for r in _python(path, set(range(1, 6)))["posts"].to_pylist() if r["id"] == "52")
    assert not p52["is_reference"] and p52["like_count"] == 3 and p52["reply_count"] == 2


@pytest.mark.parametrize("tag", ["ß", "ς", "ﬁ", "İstanbul", "ǅ", "Ꭰ", "ẞ", "K"])
def test_hashtags_fold_like_python(con: duckdb.DuckDBPyConnection, tmp_path: Path, tag: str) -> None:
    path = _write(tmp_path, [_page([_tweet("1", entities={"hashtags": [{"tag": tag}, {"tag": tag.upper()}]})])])
    assert _check(con, path) == []


_ID_KEYS = {"id", "author_id", "in_reply_to_user_id", "conversation_id"}


def _apart(obj: Any, k: int) -> Any:
    """The page with every Twitter id (a string of digits under an id key) moved to a range of its
    own: each changed copy of a page holds posts and accounts no other copy holds, so merging
    across copies hides no difference."""
    if isinstance(obj, dict):
        return {key: (str(int(v) + k * 10**15) if key in _ID_KEYS and isinstance(v, str) and v.isdigit()
                      and len(v) <= 19 else _apart(v, k)) for key, v in obj.items()}
    if isinstance(obj, list):
        return [_apart(v, k) for v in obj]
    return obj


def _changed_pages(pages: list[dict[str, Any]]) -> Iterator[Any]:
    from ..fuzz.test_mutations import OTHERS, _paths, _variants, _with

    for page in pages:
        for variant in _variants("twitter-v2", page):
            for path in _paths(variant):
                if path:  # the page itself in another type is refused whole by both
                    for value in OTHERS:
                        yield _with(variant, path, value)


def test_every_value_changed_fast_equals_python(tmp_path: Path) -> None:
    """Every value of real pages (with and without ``__twarc``) replaced in turn by a value of
    another JSON type: on each changed page the fast path either makes exactly the Python parser's
    rows or leaves the line to it (``_check``: a handled line Python would reject is a failure).
    On one DuckDB thread, as the ingest runs it."""
    con = duckdb.connect()
    con.execute("SET threads = 1")
    # a page of 100 tweets with users, media and referenced tweets; one with a place; one with media
    pages = [json.loads(Path(shared(rel)).read_text(encoding="utf-8").splitlines()[n])
             for rel, n in (("twarc-network/test-data/tweets.jsonl", 0), ("twarc-csv/test-data/geo_tweets.jsonl", 1),
                            ("twarc-csv/test-data/media_tweet.jsonl", 0))]
    changed = [_apart(p, k) for k, p in enumerate(_changed_pages(pages), 1)]
    path = _write(tmp_path, changed)
    fallback = _check(con, path)
    # most changes are of values the fast path reads or checks: many lines are left to Python, and
    # many are not (a change to a value nobody reads, or one read the same way by both)
    assert len(changed) > 2000 and 0.1 < len(fallback) / len(changed) < 0.9, (len(fallback), len(changed))
