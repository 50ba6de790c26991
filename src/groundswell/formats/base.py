"""What every format parser shares: the sink it writes to and small helpers.

A JSON format module exposes::

    NAME: str                      # e.g. "twitter-v2"
    def sniff(obj: Any) -> bool    # does this decoded first record look like mine?
    def parse(obj: Any, sink: Sink) -> None

``parse`` receives one decoded JSON value (one line of a JSON-lines file, or
one element of a whole-document JSON array, or the whole document) and calls
``sink.post`` / ``sink.account`` / ``sink.volume`` / ``sink.deletion`` for
what it finds, and ``sink.reject(reason)`` for a part it cannot read (then it
goes on with the rest: one bad tweet never loses the other 99 of its page).
It raises :class:`RecordError` when the whole record is unreadable.
The driver (``groundswell.ingest``) sets the provenance (file, line).

Records are plain dicts keyed by the column names in :mod:`groundswell.model`;
missing keys are NULL (lists: empty). Times are naive UTC ``datetime``
objects (use :func:`iso_time` / :func:`twitter_v1_time`). Ids are ``str``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

from groundswell.errors import RecordError

__all__ = [
    "is_json_line",
    "RecordError",
    "Sink",
    "ListSink",
    "iso_time",
    "twitter_v1_time",
    "epoch_time",
    "as_id",
    "fold_tag",
    "post_kind",
    "HASHTAG_RE",
    "id_problem",
    "REPLACES",
    "raw_json",
    "response_json",
    "obj_of",
    "list_of",
    "objs_of",
    "str_of",
    "record_id_problem",
    "json_type",
]


class Sink(Protocol):
    def post(self, rec: dict[str, Any]) -> None: ...
    def account(self, rec: dict[str, Any]) -> None: ...
    def volume(self, rec: dict[str, Any]) -> None: ...
    def deletion(self, rec: dict[str, Any]) -> None: ...
    def follow(self, rec: dict[str, Any]) -> None: ...
    def reject(self, reason: str) -> None: ...


class ListSink:
    """A sink that keeps everything in lists (tests, small inputs)."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.accounts: list[dict[str, Any]] = []
        self.volumes: list[dict[str, Any]] = []
        self.deletions: list[dict[str, Any]] = []
        self.follows: list[dict[str, Any]] = []
        self.rejects: list[str] = []

    def post(self, rec: dict[str, Any]) -> None:
        self.posts.append(rec)

    def account(self, rec: dict[str, Any]) -> None:
        self.accounts.append(rec)

    def volume(self, rec: dict[str, Any]) -> None:
        self.volumes.append(rec)

    def deletion(self, rec: dict[str, Any]) -> None:
        self.deletions.append(rec)

    def follow(self, rec: dict[str, Any]) -> None:
        self.follows.append(rec)

    def reject(self, reason: str) -> None:
        self.rejects.append(reason)


_UTC = UTC

# a post record holding this key (true) is a new version of the whole post (a
# Bluesky edit): it replaces the stored post instead of merging into it
REPLACES = "_replaces"


def iso_time(value: Any) -> datetime | None:
    """ISO 8601 ('2021-09-22T12:00:00.000Z', with offset or not) -> naive UTC."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RecordError(f"time is not a string: {type(value).__name__}")
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise RecordError(f"unreadable time {value[:40]!r}") from None
    if dt.tzinfo is not None:
        dt = dt.astimezone(_UTC).replace(tzinfo=None)
    return dt


def twitter_v1_time(value: Any) -> datetime | None:
    """'Wed Oct 10 20:19:24 +0000 2018' -> naive UTC."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RecordError(f"time is not a string: {type(value).__name__}")
    try:
        dt = datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y")
    except ValueError:
        try:
            dt = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            raise RecordError(f"unreadable time {value[:40]!r}") from None
    if dt.tzinfo is not None:
        dt = dt.astimezone(_UTC).replace(tzinfo=None)
    return dt


def epoch_time(value: Any, unit: str = "s") -> datetime | None:
    """Seconds (or 'ms', 'us') since the epoch -> naive UTC."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RecordError(f"epoch time is not a number: {type(value).__name__}")
    div = {"s": 1, "ms": 1_000, "us": 1_000_000}[unit]
    return datetime.fromtimestamp(value / div, _UTC).replace(tzinfo=None)


_JSON_TYPES = {dict: "object", list: "list", str: "string", int: "number", float: "number", bool: "boolean",
               type(None): "null"}


def json_type(value: Any) -> str:
    """The JSON name of a decoded value's type, for a reason ("a JSON string, not a list")."""
    return _JSON_TYPES.get(type(value), type(value).__name__)


def obj_of(value: Any, what: str) -> dict[str, Any]:
    """An object field: missing or empty is ``{}``; anything but an object is a bad record."""
    if not value:
        return {}
    if not isinstance(value, dict):
        raise RecordError(f"{what} is not an object")
    return value


def list_of(value: Any, what: str) -> list[Any]:
    """A list field: missing or empty is ``[]``; anything but a list is a bad record."""
    if not value:
        return []
    if not isinstance(value, list):
        raise RecordError(f"{what} is not a list")
    return value


def objs_of(value: Any, what: str) -> list[dict[str, Any]]:
    """A list of objects (entities, mentions, ...): each item must be an object."""
    items = list_of(value, what)
    for item in items:
        if not isinstance(item, dict):
            raise RecordError(f"{what} holds a JSON {json_type(item)}, not an object")
    return items


def str_of(value: Any, what: str) -> str | None:
    """A text field: missing is None; anything but a string is a bad record."""
    if value is None or isinstance(value, str):
        return value
    raise RecordError(f"{what} is not a string")


def raw_json(obj: Any) -> str:
    """The original object as JSON for ``raw``; one JSON cannot carry (an integer
    beyond 64 bits, say) makes the record unreadable, not the parser crash."""
    import orjson

    try:
        return orjson.dumps(obj).decode()
    except orjson.JSONEncodeError as e:
        raise RecordError(f"cannot be kept as JSON ({str(e).split(':')[0][:60]})") from None


def response_json(obj: Any) -> str:
    """JSON text of a collected API response object for ``raw``: orjson, or the standard library where
    an integer is beyond 64 bits (a collected page is kept whole, never refused for it)."""
    import json

    import orjson

    try:
        return orjson.dumps(obj).decode()
    except TypeError:
        return json.dumps(obj, ensure_ascii=False)


def as_id(value: Any) -> str | None:
    """An id as a string; ints are exact, floats are refused (they corrupt ids)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise RecordError("id is a boolean")
    if isinstance(value, int):
        return str(value)
    raise RecordError(f"id is a {type(value).__name__}, not a string or integer")


def post_kind(repost_of: object, reply_to: object, quote_of: object) -> str:
    """The one rule for a post's kind on every platform.

    A repost is a ``repost`` (even of a reply); else a post that replies is a
    ``reply`` even when it also quotes; else a ``quote``; else ``original``.
    Every link is kept in its own column whatever the kind.
    """
    if repost_of:
        return "repost"
    if reply_to:
        return "reply"
    if quote_of:
        return "quote"
    return "original"


def fold_tag(tag: str) -> str:
    """Case-fold a hashtag for counting (what #MeToo, #metoo, #METOO share)."""
    return tag.casefold()


# hashtags in plain text (for formats without entities): '#' then letters, digits, '_'
HASHTAG_RE = re.compile(r"(?<![\w&])[#＃](\w*[^\W\d]\w*)")


# -- ids per platform ----------------------------------------------------------------
# Twitter: a snowflake or user id, digits only (19 today; 20 leaves room and still
# fits an unsigned 64-bit integer). What went through a float ('9.19365304114929e+17',
# '919365304114929665.0') or is absurdly long is refused: it cannot be repaired.
_TWITTER_ID = re.compile(r"[0-9]{1,20}")
# Bluesky: accounts are DIDs; posts, reposts and their links are AT-URIs of records (a repost
# the API reports without its record, collect's getRepostedBy, is '<post uri>#reposted-by:<DID>')
_DID = re.compile(r"did:[a-z]+:[A-Za-z0-9._:%-]+")
_AT_URI = re.compile(r"at://did:[a-z]+:[A-Za-z0-9._:%-]+/[A-Za-z0-9.-]+/[A-Za-z0-9._:~-]+"
                     r"(?:#reposted-by:did:[a-z]+:[A-Za-z0-9._:%-]+)?")
# Mastodon: statuses and accounts are known by URI (or the API address of a status)
_URI = re.compile(r"https?://[^\s/]+/\S*")
MAX_ID_CHARS = 8192  # no platform's id comes near

# (pattern for post-like ids, pattern for account ids, what a good one looks like)
_ID_RULES: dict[str, tuple[re.Pattern[str], re.Pattern[str], str, str]] = {
    "twitter": (_TWITTER_ID, _TWITTER_ID, "1-20 digits", "1-20 digits"),
    "bluesky": (_AT_URI, _DID, "an at:// URI", "a DID (did:plc:..., did:web:...)"),
    "mastodon": (_URI, _URI, "an http(s) URI", "an http(s) URI"),
}
POST_ID_COLUMNS = ("id", "repost_of_id", "reply_to_id", "quote_of_id", "conversation_id")
ACCOUNT_ID_COLUMNS = ("author_id", "reply_to_author_id")


def id_problem(platform: Any, value: Any, account: bool = False) -> str | None:
    """What is wrong with an id of ``platform`` (a post's, or an account's), or None.

    Never echoes the value (a broken line may put anything there); platforms
    other than twitter, bluesky and mastodon are not checked.
    """
    if value is None:
        return None
    if platform == "twitter" and type(value) is str and 0 < len(value) <= 20 and value.isdigit() \
            and value.isascii():
        return None  # the common case, without a regex
    rule = _ID_RULES.get(platform) if isinstance(platform, str) else None
    if rule is None:
        return None
    if not isinstance(value, str):
        return f"not a string but a {type(value).__name__}"
    pattern, want = (rule[1], rule[3]) if account else (rule[0], rule[2])
    if len(value) <= MAX_ID_CHARS and pattern.fullmatch(value):
        return None
    if platform == "twitter" and re.fullmatch(r"[0-9.]+(e\+?[0-9]+)?", value, re.I) and (
            "." in value or "e" in value.lower()):
        return f"not a {platform} id (want {want}): it went through a float and cannot be repaired"
    return f"not a {platform} id (want {want}; got {len(value):,} characters)"


def record_id_problem(table: str, rec: dict[str, Any]) -> str | None:
    """The first id of a record (``posts``, ``accounts``, ``deletions``) that its
    platform would not give, as a reject reason, or None."""
    platform = rec.get("platform")
    if table == "posts":
        get = rec.get
        for col in POST_ID_COLUMNS:
            value = get(col)
            if value is not None:
                why = id_problem(platform, value)
                if why:
                    return f"{col}: {why}"
        for col in ACCOUNT_ID_COLUMNS:
            value = get(col)
            if value is not None:
                why = id_problem(platform, value, account=True)
                if why:
                    return f"{col}: {why}"
        return None
    if table == "accounts":
        why = id_problem(platform, rec.get("id"), account=True)
        return f"account id: {why}" if why else None
    if table == "deletions":
        why = id_problem(platform, rec.get("id"))
        return f"deletion id: {why}" if why else None
    return None


def account_id_sql(platform: str, column: str) -> str:
    """A SQL (DuckDB, RE2) test that ``column`` is an account id of the platform
    in the column ``platform`` (true for other platforms), as :func:`id_problem` checks."""
    cases = " ".join(f"WHEN '{name}' THEN length({column}) <= {MAX_ID_CHARS} AND "
                     f"regexp_full_match({column}, '{rule[1].pattern}')" for name, rule in _ID_RULES.items())
    return f"coalesce(CASE {platform} {cases} ELSE true END, false)"


def is_json_line(line: bytes) -> bool:
    """Does this line hold one whole JSON value? (A whole-document file's first line does not.)"""
    import orjson

    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return True
