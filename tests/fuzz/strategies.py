"""Hypothesis strategies: valid records for every input format, and corruptions of them.

A *valid* record is one its parser must read whole: :func:`valid` returns the
decoded object and the post ids it must produce. *Corruptions* are lines that
may or may not be readable (truncated JSON, a field of the wrong type, junk
bytes); the property tested is that none of them crashes the ingest and none
makes a valid record elsewhere in the file disappear.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from typing import Any

import orjson
from hypothesis import strategies as st

FORMATS = ("twitter-v1", "twitter-v2", "twitter-v2-flat", "bluesky", "mastodon")

# text: any unicode except surrogates (not encodable) and NUL, sometimes huge
_chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
texts = st.one_of(
    st.text(_chars, max_size=80),
    st.text(_chars, min_size=1, max_size=8).map(lambda s: s * 4000),   # ~tens of KB
    st.sampled_from(["#MeToo me too", "#MeToo\nline two", "ünïcödé #Tag 😀", "a \"quoted\" text, with commas"]),
)
names = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,14}", fullmatch=True)
tags = st.lists(st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,10}", fullmatch=True), max_size=3)
followers = st.integers(0, 5_000_000)
times = st.datetimes(min_value=datetime(2006, 3, 21), max_value=datetime(2030, 1, 1))


def _v1_time(t: datetime) -> str:
    return t.strftime("%a %b %d %H:%M:%S +0000 %Y")


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


@st.composite
def v1_tweet(draw: Any, tid: int, depth: int = 0) -> tuple[dict[str, Any], list[str]]:
    uid = draw(st.integers(1, 2**62))
    t: dict[str, Any] = {
        "id": tid, "id_str": str(tid), "created_at": _v1_time(draw(times)), "text": draw(texts),
        "user": {"id": uid, "id_str": str(uid), "screen_name": draw(names), "name": draw(texts),
                 "followers_count": draw(followers), "friends_count": 1, "statuses_count": 2,
                 "verified": draw(st.booleans()), "created_at": _v1_time(draw(times))},
        "entities": {"hashtags": [{"text": h, "indices": [0, 1]} for h in draw(tags)], "user_mentions": [],
                     "urls": []},
        "lang": "en", "retweet_count": draw(st.integers(0, 10**6)), "favorite_count": 0,
    }
    ids = [str(tid)]
    if depth == 0 and draw(st.booleans()):
        inner, inner_ids = draw(v1_tweet(tid + 1, depth=1))
        t["retweeted_status"] = inner
        ids += inner_ids
    return t, ids


@st.composite
def v2_tweet(draw: Any, tid: int, flat: bool = False) -> dict[str, Any]:
    uid = str(draw(st.integers(1, 2**62)))
    t: dict[str, Any] = {
        "id": str(tid), "text": draw(texts), "author_id": uid, "created_at": _iso(draw(times)),
        "conversation_id": str(tid), "lang": "en", "edit_history_tweet_ids": [str(tid)],
        "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": draw(st.integers(0, 10**6)),
                           "quote_count": 0},
        "entities": {"hashtags": [{"start": 0, "end": 1, "tag": h} for h in draw(tags)]},
    }
    if flat:
        t["author"] = {"id": uid, "username": draw(names), "name": draw(texts),
                       "public_metrics": {"followers_count": draw(followers)}}
    return t


@st.composite
def v2_page(draw: Any, tid: int) -> tuple[dict[str, Any], list[str]]:
    n = draw(st.integers(1, 4))
    data = [draw(v2_tweet(tid + i)) for i in range(n)]
    users = [{"id": t["author_id"], "username": draw(names), "name": draw(texts),
              "public_metrics": {"followers_count": draw(followers)}} for t in data]
    page = {"data": data, "includes": {"users": users},
            "meta": {"result_count": n, "newest_id": data[0]["id"], "oldest_id": data[-1]["id"]},
            "__twarc": {"url": "https://api.twitter.com/2/tweets/search/all", "version": "2.0",
                        "retrieved_at": "2021-06-26T20:00:00+00:00"}}
    return page, [t["id"] for t in data]


@st.composite
def bluesky_event(draw: Any, tid: int) -> tuple[dict[str, Any], list[str]]:
    did = "did:plc:" + draw(st.from_regex(r"[a-z2-7]{24}", fullmatch=True))
    rkey = f"3k{tid:x}"
    when = draw(times)
    tus = int(when.replace(tzinfo=timezone.utc).timestamp() * 1_000_000)
    text = draw(texts)
    facets = []
    for h in draw(tags):
        facets.append({"index": {"byteStart": 0, "byteEnd": 1},
                       "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": h}]})
    ev = {"did": did, "time_us": tus, "kind": "commit",
          "commit": {"rev": "r", "operation": "create", "collection": "app.bsky.feed.post", "rkey": rkey,
                     "cid": "bafy", "record": {"$type": "app.bsky.feed.post", "text": text,
                                               "createdAt": _iso(when), "langs": ["en"], "facets": facets}}}
    return ev, [f"at://{did}/app.bsky.feed.post/{rkey}"]


@st.composite
def mastodon_status(draw: Any, tid: int) -> tuple[dict[str, Any], list[str]]:
    user = draw(names)
    host = draw(st.sampled_from(["mastodon.social", "example.org", "chaos.social"]))
    uri = f"https://{host}/users/{user}/statuses/{tid}"
    text = draw(texts)
    content = "<p>" + text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") + "</p>"
    s = {"id": str(tid), "uri": uri, "url": f"https://{host}/@{user}/{tid}", "created_at": _iso(draw(times)),
         "content": content, "visibility": "public", "sensitive": False, "spoiler_text": "", "language": "en",
         "account": {"id": str(draw(st.integers(1, 2**40))), "username": user, "acct": user,
                     "url": f"https://{host}/@{user}", "display_name": draw(texts),
                     "followers_count": draw(followers), "note": ""},
         "tags": [{"name": h.lower(), "url": f"https://{host}/tags/{h}"} for h in draw(tags)],
         "mentions": [], "media_attachments": [], "reblogs_count": 0, "favourites_count": 0, "replies_count": 0}
    return s, [uri]


def valid(fmt: str, tid: int) -> st.SearchStrategy[tuple[Any, list[str]]]:
    """A strategy for one valid record of ``fmt`` (ids from ``tid``) and the post ids it must yield."""
    if fmt == "twitter-v1":
        return v1_tweet(tid)
    if fmt == "twitter-v2":
        return v2_page(tid)
    if fmt == "twitter-v2-flat":
        return v2_tweet(tid, flat=True).map(lambda t: (t, [t["id"]]))
    if fmt == "bluesky":
        return bluesky_event(tid)
    if fmt == "mastodon":
        return mastodon_status(tid)
    raise KeyError(fmt)


# -- corruptions ------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(_chars, max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(_chars, max_size=8), inner, max_size=4),
    max_leaves=12,
)


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.append(prefix + (k,))
            out.extend(_paths(v, prefix + (k,)))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out.append(prefix + (i,))
            out.extend(_paths(v, prefix + (i,)))
    return out


@st.composite
def mutated(draw: Any, obj: Any) -> Any:
    """``obj`` with one field replaced by a value of any type, or removed."""
    obj = orjson.loads(orjson.dumps(obj))
    paths = _paths(obj)
    if not paths:
        return draw(json_values)
    path = draw(st.sampled_from(paths))
    parent = obj
    for k in path[:-1]:
        parent = parent[k]
    if draw(st.booleans()) and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(json_values)
    return obj


junk = st.binary(min_size=1, max_size=200).map(lambda b: b.replace(b"\n", b" ").replace(b"\r", b" "))


def _dumps(obj: Any) -> bytes:
    """JSON of any value (integers beyond 64 bits too, which orjson cannot write)."""
    return json.dumps(obj, ensure_ascii=False).encode("utf-8", "surrogatepass")


@st.composite
def corrupt_line(draw: Any, line: bytes, obj: Any) -> bytes:
    """One corruption of a serialized valid record (never containing a newline)."""
    kind = draw(st.sampled_from(["truncate", "mutate", "junk", "wrong-top", "prefix"]))
    if kind == "truncate":
        return line[: draw(st.integers(1, max(1, len(line) - 1)))]
    if kind == "mutate":
        return _dumps(draw(mutated(obj)))
    if kind == "junk":
        return draw(junk)
    if kind == "wrong-top":
        return _dumps(draw(json_values))
    return draw(junk) + line


# -- CSV ----------------------------------------------------------------------------

CSV_HEADER = ["id", "author", "created_at", "text", "hashtags", "retweets"]


@st.composite
def csv_row(draw: Any, tid: int) -> list[str]:
    when = draw(times)
    form = draw(st.sampled_from(["iso", "v1", "epoch", "space"]))
    t = {"iso": _iso(when), "v1": _v1_time(when),
         "epoch": str(int(when.replace(tzinfo=timezone.utc).timestamp())),
         "space": when.strftime("%Y-%m-%d %H:%M:%S")}[form]
    text = draw(texts.filter(lambda s: s.strip() != "" and "\r" not in s))
    return [str(tid), draw(names), t, text, " ".join(draw(tags)), str(draw(st.integers(0, 10**6)))]


@st.composite
def csv_bad_row(draw: Any, tid: int) -> list[str]:
    """A row ingest must reject alone: wrong width, float id, unreadable time."""
    kind = draw(st.sampled_from(["width", "float-id", "time"]))
    row = draw(csv_row(tid))
    if kind == "width":
        return row + ["extra"] if draw(st.booleans()) else row[:-2]
    if kind == "float-id":
        row[0] = f"{tid}.0" if draw(st.booleans()) else f"{tid / 10**3:.3e}"
        return row
    row[2] = draw(st.sampled_from(["yesterday", "2017-13-45", "32/32/2017 99:99"]))
    return row


def csv_bytes(rows: list[list[str]]) -> tuple[bytes, list[int]]:
    """Serialize rows (after CSV_HEADER); returns the bytes and each row's first physical line."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_HEADER)
    starts = []
    line = 2
    for r in rows:
        starts.append(line)
        before = buf.tell()
        w.writerow(r)
        line += buf.getvalue()[before:].count("\n")
    return buf.getvalue().encode("utf-8"), starts


