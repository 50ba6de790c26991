"""CSV (and TSV) files of posts -> posts and accounts.

One reader serves the CSV layouts found in the field: twarc-csv's 84-column
tweet CSV, twarc's v1 ``json2csv``, GetOldTweets scrapes, the MeTooMA/BigMM
challenge files and hand-made sheets. Columns are matched case-insensitively
against the synonyms in :data:`SYNONYMS` (the first synonym present wins);
``columns`` (the CLI's ``--columns id=TweetId,text=body``) maps a canonical
name to any other header. A header is taken for posts when it has an id and a
text column (:func:`sniff_header`). The delimiter is the one given, else the one
of comma, semicolon, tab and '|' under which the header has an id and a text
column (:func:`guess_delimiter`; the most fields when none does).

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
* Hashtags come from the text and from a hashtags column (space/comma
  separated, with or without '#', a JSON list as twarc-csv writes
  ``entities.hashtags``, or a Python list literal as twint writes), each
  occurrence once (compared case-folded): when the column holds every tag
  the text shows it is the platform's complete list and is kept in its order
  (a retweet's truncated text shows fewer); otherwise the text's tags come
  in their order, then those only the column has. Bare '#' marks are
  ignored. GetOldTweets detached the tag from its '#' in the text ("# MeToo")
  and wrote a bare '#' in its column for each: when a hashtags (mentions)
  column holds a bare '#' ('@'), '# word' in the text is read as a hashtag
  and '@ name' as a mention. The spaced form is accepted only then:
  elsewhere '# 1' or 'issue # five' is not a hashtag. A name cut short by a
  truncation mark ('#re…') is not read from the text (except in GetOldTweets
  texts, which are whole), nor is a column's '#http' (a '#' glued to a link).
  Mentions follow the same rules (a mentions column and '@name' in the text).
* Links (``urls``): a urls column (``urls``, ``entities.urls``,
  ``expanded_urls``, ``links``, ...; expanded URLs from twarc-csv's JSON),
  a quoted post's URL column (twint's ``quote_url``), then the links written
  in the text (:func:`text_links`): ``http(s)://`` links up to the last
  character a link can end with, cut apart where GetOldTweets glued one to
  the word or link before it ("MeToohttps://…"), and the scheme-less
  ``pic.twitter.com/…``, ``twitter.com/<handle>/status/<id>``,
  ``bsky.app/profile/…`` and ``www.…`` forms (given ``https://``). Each link
  once; the post's own link (its permalink, a status link with its own id)
  is left out, and so are the text's ``t.co`` short links when the column
  has the expanded ones. Hashtags and mentions are read from the text with
  its links blanked out, so a URL's ``#fragment`` is not a hashtag.
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

import ast
import codecs
import csv as _csv
import re
import sys
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import IO

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
    "urls": ("urls", "entities.urls", "expanded_urls", "links", "link_urls", "outlinks"),
    "quote_url": ("quote_url", "quoted_url", "quoted_tweet_url", "quoted_status_permalink"),
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
# links in a text: a scheme, then printable ASCII up to the last character a link can end with (so
# "(https://a.b/c)." leaves out ")." and a GetOldTweets "…" or "# MeToo" glued after it stays text)
_URL_END = "A-Za-z0-9/_=&%+~$*@-"
URL_RE = re.compile(rf"https?://[!-~]*[{_URL_END}]", re.ASCII | re.IGNORECASE)
# a link glued to the word or link before it ("MeToohttps://…", "…/xhttps://…", "…pic.twitter.com/…")
_INNER_URL = re.compile(r"(?<=[A-Za-z0-9])(?:https?://|pic\.twitter\.com/)", re.ASCII | re.IGNORECASE)
# links written without a scheme: Twitter's photo links (GetOldTweets glues them to the word
# before), status and Bluesky post links, and www. hosts
BARE_URL_RE = re.compile(
    rf"pic\.twitter\.com/[A-Za-z0-9]+|(?<![\w.@/-])(?:(?:www\.|mobile\.)?(?:twitter|x)\.com/\w{{1,15}}"
    rf"/status(?:es)?/\d+|bsky\.app/profile/[!-~]*[{_URL_END}]|www\.[!-~]*[{_URL_END}])",
    re.ASCII | re.IGNORECASE)
_STATUS_URL = re.compile(r"^https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/\w+/status(?:es)?/(\d+)",
                         re.ASCII | re.IGNORECASE)
_TCO = re.compile(r"^https?://t\.co/", re.ASCII | re.IGNORECASE)
_PERMALINK = re.compile(r"^https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/([A-Za-z0-9_]+)/status(?:es)?/\d+")
_SPACED_TAG = re.compile(r"(?<![\w&])[#＃] ?(\w*[^\W\d]\w*)")
_MENTION = re.compile(r"(?<![\w@])[@＠](\w{1,50})")
_SPACED_MENTION = re.compile(r"(?<![\w@])[@＠] ?(\w{1,50})")
_SPLIT = re.compile(r"[\s,]+")
_TRUE = frozenset({"true", "1", "1.0", "yes", "t", "y"})
_FALSE = frozenset({"false", "0", "0.0", "no", "f", "n"})
_ACCOUNT_COLS = ("author_name", "author_followers", "author_following", "author_posts",
                 "author_verified", "author_created_at", "author_description", "author_location")


DELIMITERS = (",", ";", "\t", "|")


def reading_options(encoding: str | None, delimiter: str | None) -> tuple[str | None, str | None]:
    """Check ``--encoding`` and ``--delimiter``; UTF-8 (the default) is returned as None.

    The encoding must write ASCII as single bytes (UTF-8, cp1252, latin-1,
    ...): files are split into lines as bytes. The delimiter is one
    character, 'tab' or '\\t' for a tab.
    """
    if encoding is not None:
        try:
            name = codecs.lookup(encoding).name
        except LookupError:
            raise UsageError(f"--encoding {encoding}: unknown encoding; try utf-8, cp1252 or latin-1") from None
        probe = "\n\r,;\t|\"'#@+~\\ azAZ09"
        try:
            ascii_ok = probe.encode(name) == probe.encode("ascii")
        except UnicodeError:
            ascii_ok = False
        if not ascii_ok:
            raise UsageError(f"--encoding {encoding}: only encodings that write ASCII as single bytes can be read "
                             f"(utf-8, cp1252, latin-1, ...); convert the file first: "
                             f"iconv -f {encoding} -t utf-8 FILE > FILE.utf8.csv")
        encoding = None if name == "utf-8" else name
    if delimiter is not None:
        delimiter = {"tab": "\t", "\\t": "\t"}.get(delimiter.lower(), delimiter)
        if len(delimiter) != 1 or delimiter in "\"\r\n":
            raise UsageError(f"--delimiter {delimiter!r}: give one character (',', ';', '|', or 'tab'), "
                             "not a quote or a line break")
    return encoding, delimiter


def guess_delimiter(line: str) -> str:
    """The delimiter of a header line: the first of :data:`DELIMITERS` under which it
    has an id and a text column, else the one giving the most fields (comma on a tie)."""
    best, most = ",", 0
    for d in DELIMITERS:
        fields = next(_csv.reader([line], delimiter=d), [])
        if "id" in (found := _columns(fields, None)) and "text" in found:
            return d
        if len(fields) > most:
            best, most = d, len(fields)
    return best


def _split_header(header: list[str]) -> list[str]:
    """A header split on commas, split again on its own delimiter when that is another one."""
    line = ",".join(header)
    d = guess_delimiter(line)
    return header if d == "," else next(_csv.reader([line], delimiter=d), [])


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
    delimiter: str | None = None,
    encoding: str | None = None,
) -> None:
    """Read a CSV of posts from a text file object (opened with newline='').

    ``delimiter``: one character, else guessed from the header
    (:func:`guess_delimiter`). ``encoding``: the file's encoding as the caller
    decoded it (undecodable bytes arrive as surrogates), for the reject message.
    """
    _raise_field_limit()
    first = fileobj_text.readline()
    if not first:
        return
    delimiter = delimiter or guess_delimiter(first.rstrip("\r\n"))
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
            _row(row, header, cols, platform, got, sink, encoding)
        except RecordError as e:
            sink.reject(str(e))


def _undecodable(encoding: str | None) -> str:
    if encoding is None or codecs.lookup(encoding).name == "utf-8":
        return "not valid UTF-8 (if the file is in another encoding, name it: --encoding cp1252)"
    return f"bytes that are not {encoding}"


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
    encoding: str | None = None,
) -> None:
    """One record. ``got_possible`` is not used any more (GetOldTweets rows are recognised by
    their bare '#' / '@' marks whatever the header); ``encoding`` names the file's encoding
    in the reject of a record with bytes it could not decode."""
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

    # GetOldTweets wrote '# MeToo' and '@ name' in its texts and a bare '#' / '@' in its columns
    spaced = _has_bare(get("hashtags"), "#＃") or _has_bare(get("mentions"), "@＠")
    links, rest = text_links(text) if text else ([], "")
    tags_col = [t for t in _marked(get("hashtags"), "#＃") if t.lower() not in ("http", "https")]  # '#http://…'
    hashtags_raw = _union(tags_col, _text_tags(rest, spaced))
    mentions = _union(_marked(get("mentions"), "@＠"), _names(_SPACED_MENTION if spaced else _MENTION, rest, spaced))

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
        raise RecordError(_undecodable(encoding)) from None
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
        "urls": _urls(get("urls"), get("quote_url"), links, pid, link),
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


def _list(value: str | None, *, whitespace_only: bool = False) -> list[str]:
    """A JSON list (twarc-csv), a Python list literal (twint) or a space/comma separated list."""
    if not value:
        return []
    if value.startswith("["):
        try:
            items = orjson.loads(value)
        except orjson.JSONDecodeError:
            items = None
            if value.endswith("]") and len(value) < 100_000:
                try:
                    items = ast.literal_eval(value)
                except (ValueError, SyntaxError, MemoryError, RecursionError):
                    items = None
        if isinstance(items, list):
            out = []
            for it in items:
                if isinstance(it, dict):
                    it = (it.get("tag") or it.get("text") or it.get("username") or it.get("expanded_url")
                          or it.get("url"))
                if isinstance(it, str) and it:
                    out.append(it)
            return out
    parts = value.split() if whitespace_only else _SPLIT.split(value)
    return [p for p in parts if p]


def text_links(text: str) -> tuple[list[str], str]:
    """The links written in a text, in order, and the text with them blanked out.

    A link starts with ``http(s)://`` (:data:`URL_RE`) or is one of the
    scheme-less forms of :data:`BARE_URL_RE`, which get ``https://``. Links
    glued to the link or word before them are cut apart. Hashtags and
    mentions are read from the blanked text, so a URL's ``#fragment`` or
    ``/@user`` path is not taken for one.
    """
    found: list[tuple[int, str]] = []

    def scheme(m: re.Match[str]) -> str:
        run, at = m.group(0), m.start()
        cuts = [0, *(x.start() for x in _INNER_URL.finditer(run)), len(run)]
        for a, b in zip(cuts, cuts[1:]):
            piece = run[a:b]
            found.append((at + a, piece if piece[:4].lower() == "http" else "https://" + piece))
        return " " * len(run)

    def bare(m: re.Match[str]) -> str:
        found.append((m.start(), "https://" + m.group(0)))
        return " " * len(m.group(0))

    rest = BARE_URL_RE.sub(bare, URL_RE.sub(scheme, text))
    return [u for _, u in sorted(found)], rest


def _urls(value: str | None, quote_url: str | None, links: list[str], pid: str, permalink: str | None) -> list[str]:
    """The urls column's links, a quoted post's URL, then the text's links; each once, the post's own
    link left out (a text's ``t.co`` short links too when the column has the expanded ones)."""
    column = _list(value, whitespace_only=True) + ([quote_url] if quote_url else [])
    out: list[str] = []
    for u in column + [u for u in links if not (column and _TCO.match(u))]:
        if u in out or u == permalink:
            continue
        m = _STATUS_URL.match(u)
        if m and m.group(1) == pid:
            continue
        out.append(u)
    return out


def _has_bare(value: str | None, marks: str) -> bool:
    """Does the column hold a bare mark ('#' or '@' with no name: GetOldTweets)?"""
    if not value or value.startswith("["):
        return False
    return any(p and not p.strip(marks) for p in _SPLIT.split(value))


def _marked(value: str | None, marks: str) -> list[str]:
    """A hashtags or mentions column's names, without their marks; bare marks are dropped."""
    names = [t.lstrip(marks) for t in _list(value)]
    return [n for n in names if n]


def _names(pattern: re.Pattern[str], text: str, spaced: bool) -> list[str]:
    """The names ``pattern`` finds in a text, but not one cut short by a truncation mark
    ('#re…' at the end of a retweet's shortened text is not the tag its author wrote).
    GetOldTweets' texts are whole (its '…' follows a complete name), so there every name counts."""
    return [m.group(1) for m in pattern.finditer(text) if spaced or not text.startswith("…", m.end())]


def _text_tags(text: str, spaced: bool) -> list[str]:
    return _names(_SPACED_TAG if spaced else HASHTAG_RE, text, spaced) if text else []


def _union(column: list[str], text: list[str]) -> list[str]:
    """Names from a column and from the text, each occurrence once (compared case-folded).

    When the column holds every name the text shows, it is the platform's own
    complete list (twarc-csv's entities, where a repost's truncated text
    shows fewer) and is kept as it is; otherwise the text's names come in
    their order, then those only the column has (a name the column holds
    twice and the text once is added once).
    """
    if not text or not column:
        return list(text or column)
    folded = [n.casefold() for n in column]
    in_text = [n.casefold() for n in text]
    if folded == in_text or not Counter(in_text) - Counter(folded):
        return list(column)
    out = list(text)
    have = Counter(in_text)
    for n in column:
        k = n.casefold()
        if have[k]:
            have[k] -= 1
        else:
            out.append(n)
    return out


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
