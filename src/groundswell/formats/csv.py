"""CSV (and TSV) files of posts -> posts and accounts.

One reader serves the CSV layouts found in the field: twarc-csv's 84-column
tweet CSV, twarc's v1 ``json2csv``, GetOldTweets scrapes, the MeTooMA/BigMM
challenge files and hand-made sheets. Columns are matched case-insensitively
against the synonyms in :data:`SYNONYMS` (the first synonym present wins);
``columns`` (the CLI's ``--columns id=TweetId,text=body``) maps a canonical
name to any other header. A header is taken for posts when it has an id and a
text column (:func:`sniff_header`); a tab-separated header is read as TSV.

Rules
-----
* The minimal useful columns are id, author, created_at and text; only id and
  text are required. A file without an author or time column (MeTooMA has
  neither an author nor, for most rows, a date) is accepted and those columns
  are NULL. Without a user-id column the author's lower-cased handle stands
  as ``author_id`` (handles are unique on a platform at any one time, and the
  analyses group by account id); with one, the id column is used. The author handle comes from a status
  permalink (``https://twitter.com/{name}/status/{id}``) when there is one:
  GetOldTweets' ``username`` may hold several names.
* Ids stay strings exactly as written. An id that went through a float
  ('9.2e17', '921234567890123456.0') rejects the row ("float-corrupted id");
  such a reply/repost/quote id is rejected as a part and left NULL.
* Times: ISO 8601 (with 'Z' or an offset; without one, and
  'YYYY-MM-DD HH:MM:SS', UTC is assumed), Twitter v1 ('Wed Oct 10 20:19:24
  +0000 2018'), or epoch seconds (13 digits: milliseconds). An unreadable
  time rejects the row.
* Hashtags: a hashtags column (space/comma separated, with or without '#',
  or a JSON list as twarc-csv writes ``entities.hashtags``) is trusted, empty
  or not. Without one, hashtags come from the text (:data:`HASHTAG_RE`).
  GetOldTweets detached the tag from its '#' in the text ("# MeToo") and left
  only bare '#' in its hashtags column: when that column holds nothing but '#'
  marks, '# word' in the text is read as a hashtag (and '@ name' as a
  mention), and a URL glued to the tag ('# Tagbhttps://…') is cut off. The
  spaced form is accepted only then: elsewhere '# 1' or 'issue # five' is not
  a hashtag. Mentions follow the same rules (a mentions column, else '@name'
  in the text).
* Kind: 'repost' when a repost id is present, else 'quote', else 'reply',
  else 'original' (twarc json2csv's ``tweet_type`` with ``retweet_or_quote_id``
  is understood). A float-corrupted reference still decides the kind; only its
  id is lost. Old twarc json2csv files name the retweeted *or quoted* id
  ``retweet_id``: there a row whose text does not start with 'RT @' (every
  retweet's does) is a quote. A text starting with 'RT @' without a repost id is a
  'repost' whose ``repost_of_id`` is NULL (the original is unknown).
* platform: a platform column, else the ``platform`` argument, else 'twitter'.
* Counts (retweets, favorites, ...) may be written '12.0'; a ``retrieved_at``
  column (twarc's ``__twarc.retrieved_at``) gives ``metrics_observed_at``.
* When there is an author id and author profile columns (twarc-csv's
  ``author.*``, json2csv's ``user_*``), an account record is emitted too.
* A ``country`` value that is not a two-letter code (MeTooMA writes country
  names: 'India', 'USA') goes to ``place`` instead; 'UK' becomes 'GB'.
* A row with the wrong number of fields, a float-corrupted or missing id or
  an unreadable time is rejected alone (``sink.reject``) and reading goes on.
  ``set_line`` is called with the 1-based physical line of each record's
  first line before the record (or its reject) is emitted; multi-line quoted
  fields are counted.
"""

from __future__ import annotations

import csv as _csv
import re
import sys
from datetime import datetime
from typing import IO, Any, Callable

import orjson

from groundswell.errors import UsageError
from groundswell.formats.base import (
    HASHTAG_RE,
    RecordError,
    Sink,
    epoch_time,
    fold_tag,
    iso_time,
    post_kind,
    twitter_v1_time,
)

NAME = "csv"

SYNONYMS: dict[str, tuple[str, ...]] = {
    "id": ("id", "tweet_id", "post_id", "status_id", "tweetid", "id_str"),
    "author": ("author", "username", "user_screen_name", "screen_name", "author.username",
               "user", "user.screen_name", "author_handle", "handle"),
    "author_id": ("author_id", "user_id", "author.id", "user.id", "user_id_str"),
    "created_at": ("created_at", "created_at_utc", "date", "timestamp", "time", "datetime"),
    "text": ("text", "tweet", "content", "full_text", "body", "tweets"),
    "reply_to_id": ("in_reply_to_id", "reply_to_id", "referenced_tweets.replied_to.id",
                    "in_reply_to_status_id", "in_reply_to_status_id_str"),
    "reply_to_author_id": ("reply_to_author_id", "in_reply_to_user_id", "in_reply_to_user_id_str"),
    "repost_of_id": ("repost_of_id", "retweet_id", "retweeted_id", "referenced_tweets.retweeted.id",
                     "retweeted_status_id", "retweeted_status.id"),
    "quote_of_id": ("quote_of_id", "quoted_id", "referenced_tweets.quoted.id", "quoted_status_id",
                    "quoted_status.id"),
    "tweet_type": ("tweet_type",),
    "retweet_or_quote_id": ("retweet_or_quote_id",),
    "lang": ("lang", "language"),
    "conversation_id": ("conversation_id",),
    "platform": ("platform",),
    "hashtags": ("hashtags", "entities.hashtags", "tags"),
    "mentions": ("mentions", "entities.mentions", "user_mentions"),
    "urls": ("urls", "entities.urls", "expanded_urls"),
    "country": ("country", "country_code", "geo.country_code", "place_country_code"),
    "place": ("place", "geo.full_name", "place_name", "place.full_name"),
    "source": ("source",),
    "sensitive": ("possibly_sensitive", "sensitive"),
    "repost_count": ("retweets", "retweet_count", "public_metrics.retweet_count", "repost_count",
                     "reposts", "reblogs_count"),
    "like_count": ("favorites", "favorite_count", "like_count", "public_metrics.like_count",
                   "favourites_count", "likes"),
    "reply_count": ("replies", "reply_count", "public_metrics.reply_count", "replies_count"),
    "quote_count": ("quotes", "quote_count", "public_metrics.quote_count", "quotes_count"),
    "retrieved_at": ("__twarc.retrieved_at", "retrieved_at", "collected_at"),
    "permalink": ("permalink", "tweet_url", "url"),
    "author_name": ("author.name", "user_name", "display_name"),
    "author_followers": ("author.public_metrics.followers_count", "user_followers_count"),
    "author_following": ("author.public_metrics.following_count", "user_friends_count"),
    "author_posts": ("author.public_metrics.tweet_count", "user_statuses_count"),
    "author_verified": ("author.verified", "user_verified"),
    "author_created_at": ("author.created_at", "user_created_at"),
    "author_description": ("author.description", "user_description"),
    "author_location": ("author.location", "user_location"),
}

_FLOAT_ID = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][+-]?\d+)$")
_PERMALINK = re.compile(r"^https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/([A-Za-z0-9_]+)/status(?:es)?/\d+")
_SPACED_TAG = re.compile(r"(?<![\w&])[#＃] ?(\w*[^\W\d]\w*)")
_MENTION = re.compile(r"(?<![\w@])[@＠](\w{1,50})")
_SPACED_MENTION = re.compile(r"(?<![\w@])[@＠] ?(\w{1,50})")
_SPLIT = re.compile(r"[\s,]+")
_TRUE = frozenset({"true", "1", "1.0", "yes", "t", "y"})
_FALSE = frozenset({"false", "0", "0.0", "no", "f", "n"})
_ACCOUNT_COLS = ("author_name", "author_followers", "author_following", "author_posts",
                 "author_verified", "author_created_at", "author_description", "author_location")


def _split_header(header: list[str]) -> list[str]:
    if len(header) == 1 and "\t" in header[0]:
        return header[0].split("\t")
    return header


def _columns(header: list[str], columns: dict[str, str] | None) -> dict[str, int]:
    """Canonical name -> column index."""
    lowered: dict[str, int] = {}
    for i, h in enumerate(header):
        lowered.setdefault(h.strip().lower(), i)
    found: dict[str, int] = {}
    for name, syns in SYNONYMS.items():
        for s in syns:
            if s in lowered:
                found[name] = lowered[s]
                break
    for name, col in (columns or {}).items():
        if name not in SYNONYMS:
            raise UsageError(f"--columns: unknown column name {name!r}; known: {', '.join(SYNONYMS)}")
        idx = lowered.get(col.strip().lower())
        if idx is None:
            raise UsageError(f"--columns {name}={col}: the file has no column {col!r}")
        found[name] = idx
    return found


def sniff_header(header: list[str]) -> bool:
    """Is this the header of a CSV of posts (an id and a text column)?"""
    found = _columns(_split_header(header), None)
    return "id" in found and "text" in found


def read(
    fileobj_text: IO[str],
    sink: Sink,
    *,
    columns: dict[str, str] | None = None,
    platform: str | None = None,
    set_line: Callable[[int], None],
) -> None:
    """Read a CSV of posts from a text file object (opened with newline='')."""
    _raise_field_limit()
    first = fileobj_text.readline()
    if not first:
        return
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    header = next(_csv.reader([first], delimiter=delimiter), [])
    if not header:
        return
    cols = _columns(header, columns)
    if "id" not in cols:
        raise UsageError("the CSV has no id column; name it with --columns id=<header>")
    got = "hashtags" in cols  # GetOldTweets is recognised per row (bare '#' marks)
    reader = _csv.reader(fileobj_text, delimiter=delimiter)
    header_lines = 1
    prev_end = header_lines  # physical lines consumed so far
    width = len(header)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except _csv.Error as e:
            start = prev_end + 1
            prev_end = header_lines + reader.line_num
            set_line(start)
            sink.reject(f"unreadable CSV record: {e}")
            continue
        start = prev_end + 1
        prev_end = header_lines + reader.line_num
        if not row:
            continue  # a blank line
        set_line(start)
        if len(row) != width:
            sink.reject(f"{len(row)} fields, the header has {width}")
            continue
        try:
            _row(row, header, cols, platform, got, sink)
        except RecordError as e:
            sink.reject(str(e))


def _raise_field_limit() -> None:
    limit = sys.maxsize
    while True:
        try:
            _csv.field_size_limit(limit)
            return
        except OverflowError:
            limit //= 2


def _row(
    row: list[str],
    header: list[str],
    cols: dict[str, int],
    platform: str | None,
    got_possible: bool,
    sink: Sink,
) -> None:
    def get(name: str) -> str | None:
        i = cols.get(name)
        if i is None:
            return None
        v = row[i].strip()
        return v or None

    pid = get("id")
    if pid is None:
        raise RecordError("no id")
    if _FLOAT_ID.match(pid):
        raise RecordError("float-corrupted id")

    created = _time(get("created_at"))
    text = row[cols["text"]] if "text" in cols else None
    text = text if text and text.strip() else None

    author = get("author")
    link = get("permalink")
    m = _PERMALINK.match(link) if link else None
    if m:
        author = m.group(1)
    elif author:
        author = author.lstrip("@")

    reply_to = _ref_id(get("reply_to_id"), "reply", sink)
    repost_of = _ref_id(get("repost_of_id"), "repost", sink)
    quote_of = _ref_id(get("quote_of_id"), "quote", sink)
    old_retweet_id = header[cols["repost_of_id"]].strip().lower() == "retweet_id" if "repost_of_id" in cols else False
    ttype = (get("tweet_type") or "").lower()
    roq = _ref_id(get("retweet_or_quote_id"), "retweet_or_quote", sink)
    if roq:
        if ttype == "retweet" and not repost_of:
            repost_of = roq
        elif ttype == "quote" and not quote_of:
            quote_of = roq

    spaced = got_possible and _bare_marks(get("hashtags"))
    hashtags_raw = _tags(get("hashtags"), text, "hashtags" in cols, spaced)
    mentions = _mentions(get("mentions"), text, "mentions" in cols, spaced)

    if repost_of and old_retweet_id and text is not None and not text.startswith("RT @"):
        quote_of, repost_of = quote_of or repost_of, None  # old json2csv: a quote's id
    # a link whose id was unreadable (rejected as a part) still tells the kind
    kind = post_kind(repost_of or (get("repost_of_id") and not old_retweet_id)
                     or (text is not None and text.startswith("RT @")) or ttype == "retweet",
                     reply_to or get("reply_to_id"),
                     quote_of or get("quote_of_id") or (get("repost_of_id") and old_retweet_id))

    country = get("country")
    place = get("place")
    if country and not (len(country) == 2 and country.isalpha()):
        place = place or country
        country = None
    elif country:
        country = country.upper()
        country = "GB" if country == "UK" else country  # reserved, not ISO 3166

    observed = _time_part(get("retrieved_at"), "retrieved_at", sink)
    author_id = get("author_id")
    if author_id and _FLOAT_ID.match(author_id):
        sink.reject("float-corrupted author id")
        author_id = None
    if not author_id and author and "author_id" not in cols:
        author_id = author.lower()
    try:
        raw = orjson.dumps(dict(zip(header, row))).decode()
    except orjson.JSONEncodeError:  # bytes that were not UTF-8 (read as surrogates)
        raise RecordError("not valid UTF-8") from None
    rec = {
        "platform": get("platform") or platform or "twitter",
        "id": pid,
        "author_id": author_id,
        "author_handle": author,
        "created_at": created,
        "text": text,
        "lang": get("lang"),
        "kind": kind,
        "repost_of_id": repost_of,
        "reply_to_id": reply_to,
        "reply_to_author_id": _ref_id(get("reply_to_author_id"), "reply author", sink),
        "quote_of_id": quote_of,
        "conversation_id": get("conversation_id"),
        "hashtags": [fold_tag(t) for t in hashtags_raw],
        "hashtags_raw": hashtags_raw,
        "mentions": mentions,
        "urls": _list(get("urls"), whitespace_only=True),
        "place": place,
        "country": country,
        "source": _source(get("source")),
        "sensitive": _bool(get("sensitive")),
        "repost_count": _count(get("repost_count"), "repost_count", sink),
        "reply_count": _count(get("reply_count"), "reply_count", sink),
        "like_count": _count(get("like_count"), "like_count", sink),
        "quote_count": _count(get("quote_count"), "quote_count", sink),
        "metrics_observed_at": observed,
        "is_reference": False,
        "raw": raw,
    }
    sink.post(rec)
    if author_id and any(n in cols for n in _ACCOUNT_COLS):
        sink.account({
            "platform": rec["platform"],
            "id": author_id,
            "observed_at": observed,
            "handle": author,
            "display_name": get("author_name"),
            "followers": _count(get("author_followers"), "followers", sink),
            "following": _count(get("author_following"), "following", sink),
            "posts_count": _count(get("author_posts"), "posts_count", sink),
            "verified": _bool(get("author_verified")),
            "created_at": _time_part(get("author_created_at"), "author created_at", sink),
            "description": get("author_description"),
            "location": get("author_location"),
        })


def _time(value: str | None) -> datetime | None:
    if value is None:
        return None
    if value.isdigit() or (value.replace(".", "", 1).isdigit() and value.count(".") == 1):
        seconds = float(value)
        if seconds >= 1e11:  # milliseconds
            seconds /= 1000
        try:
            return epoch_time(seconds)
        except (OverflowError, OSError, ValueError):
            raise RecordError("unreadable epoch time") from None
    if value[:1].isalpha():
        return twitter_v1_time(value)
    return iso_time(value)


def _time_part(value: str | None, what: str, sink: Sink) -> datetime | None:
    try:
        return _time(value)
    except RecordError:
        sink.reject(f"unreadable {what}")
        return None


def _ref_id(value: str | None, what: str, sink: Sink) -> str | None:
    if value is None:
        return None
    if _FLOAT_ID.match(value):
        sink.reject(f"float-corrupted {what} id")
        return None
    return value


def _bare_marks(value: str | None) -> bool:
    return bool(value) and set(value or "") <= {"#", " "}


def _list(value: str | None, *, whitespace_only: bool = False) -> list[str]:
    """A JSON list (twarc-csv) or a space/comma separated list."""
    if not value:
        return []
    if value.startswith("["):
        try:
            items = orjson.loads(value)
        except orjson.JSONDecodeError:
            items = None
        if isinstance(items, list):
            out = []
            for it in items:
                if isinstance(it, dict):
                    it = it.get("tag") or it.get("text") or it.get("username") or it.get("expanded_url") or it.get("url")
                if isinstance(it, str) and it:
                    out.append(it)
            return out
    parts = value.split() if whitespace_only else _SPLIT.split(value)
    return [p for p in parts if p]


def _tags(value: str | None, text: str | None, has_col: bool, spaced: bool) -> list[str]:
    if has_col and not spaced:
        tags = [t.lstrip("#＃") for t in _list(value)]
        return [t for t in tags if t]
    if not text:
        return []
    if spaced:
        out = []
        for m in _SPACED_TAG.finditer(text):
            tag = m.group(1)
            if text.startswith("://", m.end()):
                tag = re.sub(r"https?$", "", tag)
            if tag:
                out.append(tag)
        return out
    return HASHTAG_RE.findall(text)


def _mentions(value: str | None, text: str | None, has_col: bool, spaced: bool) -> list[str]:
    if has_col and not spaced:
        names = [t.lstrip("@＠") for t in _list(value)]
        return [n for n in names if n]
    if not text:
        return []
    return (_SPACED_MENTION if spaced else _MENTION).findall(text)


def _count(value: str | None, what: str, sink: Sink) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        pass
    try:
        f = float(value)
    except ValueError:
        sink.reject(f"unreadable {what}")
        return None
    if f != f or f in (float("inf"), float("-inf")) or not f.is_integer():
        sink.reject(f"unreadable {what}")
        return None
    return int(f)


def _bool(value: str | None) -> bool | None:
    if value is None:
        return None
    v = value.lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    return None


def _source(value: str | None) -> str | None:
    if value and value.startswith("<"):
        m = re.search(r">([^<]*)<", value)
        return m.group(1) if m else value
    return value
