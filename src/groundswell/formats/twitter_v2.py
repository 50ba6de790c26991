"""Twitter API v2 as twarc2 writes it: response pages, one per line.

A page is ``{"data": [...], "includes": {...}, "meta": {...}, "__twarc": {...}}``.
What it becomes:

* every tweet in ``data`` is a post; every tweet in ``includes.tweets`` is a
  post too, marked ``is_reference`` (seen only because another tweet points
  at it), unless the same id is already in ``data``;
* every user in ``includes.users`` is an account, observed at the page's
  ``__twarc.retrieved_at`` (else at the creation time of one of the user's
  tweets in the page, else of the newest tweet in the page: the page cannot
  have been fetched earlier than that);
* authors' handles come from ``includes.users``, media from
  ``includes.media`` (``type:url``, or ``type:media_key`` for video, whose
  ``url`` the API does not give), places from ``includes.places``;
* ``retrieved_at`` is also when the public metrics were observed.

Other twarc2 outputs read by the same :func:`parse`: streaming output (``data``
is one tweet, with ``matching_rules``), a whole pretty-printed response (same
shape), pages holding only ``errors`` or only ``meta`` (nothing to emit),
users-lookup pages (``data`` items are users → accounts), and ``counts``
pages (``data`` items with ``start``/``end``/``tweet_count`` → volumes, the
query taken from ``__twarc.url``). List-lookup pages are not claimed.

Compliance-job result lines (``{"id", "action": "delete", "created_at",
"redacted_at", "reason"}``) are a separate format, :data:`COMPLIANCE`
(``twitter-compliance``), each line a deletion with reason
``compliance:<reason>``; the deletion time is ``redacted_at`` when given
(the API's ``created_at`` is when the tweet was created, not deleted).

Kinds: a tweet that retweets is a ``repost`` (whatever else it references);
else a reply (``replied_to``) is a ``reply`` even when it also quotes; else a
``quote``; else ``original``. All referenced ids are kept either way.

Hashtags are the API's ``entities.hashtags`` (``note_tweet.entities`` for long
tweets), never re-extracted from the text: a retweet carries the hashtags of
its own (possibly truncated) ``RT @user: ...`` text, as the API reports them.
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

from groundswell.formats.base import (
    RecordError,
    Sink,
    as_id,
    fold_tag,
    iso_time,
    json_type,
    list_of,
    obj_of,
    objs_of,
    post_kind,
    raw_json,
    str_of,
)

NAME = "twitter-v2"

__all__ = [
    "NAME",
    "sniff",
    "parse",
    "COMPLIANCE",
    "post_from_tweet",
    "account_from_user",
    "media_type",
]

# the media key's prefix names its type when includes.media lacks the object
_MEDIA_PREFIX = {"3": "photo", "7": "video", "13": "video", "16": "animated_gif"}

# what is wrong with one object: reject it alone (any other exception is a parser bug)
_SHAPE_ERRORS = (RecordError,)


def media_type(media_key: str) -> str:
    """The media type a v2 media key encodes ('3_…' photo, '7_…' video, …)."""
    return _MEDIA_PREFIX.get(media_key.partition("_")[0], "media")


def _dumps(obj: Any) -> str:
    return raw_json(obj)


_fromiso = datetime.fromisoformat


def _time(value: Any) -> datetime | None:
    """:func:`iso_time` with a fast path for the API's '2021-09-22T16:37:20.000Z'."""
    if type(value) is str and value.endswith("Z"):
        try:
            return _fromiso(value[:-1])
        except ValueError:
            pass
    return iso_time(value)


def _sid(value: Any) -> str | None:
    """:func:`as_id`, fast for the usual string ids."""
    return value if type(value) is str and value else as_id(value)


def _shape_reason(where: str, exc: Exception) -> str:
    return f"{where}: {exc}"


# --------------------------------------------------------------------------- sniff


def _is_list_object(item: Any) -> bool:
    return isinstance(item, dict) and ("member_count" in item or "owner_id" in item)


def sniff(obj: Any) -> bool:
    """A twarc2 page: ``data`` (list or one tweet), or an errors/meta-only page."""
    if not isinstance(obj, dict):
        return False
    data = obj.get("data")
    if isinstance(data, list):
        return not (data and _is_list_object(data[0]))
    if isinstance(data, dict):
        return "id" in data and "text" in data
    if data is None and "data" not in obj:
        meta = obj.get("meta")
        if isinstance(meta, dict) and "result_count" in meta:
            return True
        errors = obj.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return "title" in errors[0] or "detail" in errors[0]
    return False


# --------------------------------------------------------------------------- records


def account_from_user(u: dict[str, Any], observed_at: datetime | None) -> dict[str, Any]:
    """An ``accounts`` record from a v2 user object."""
    if not isinstance(u, dict):
        raise RecordError("a user is not an object")
    uid = as_id(u.get("id"))
    if uid is None:
        raise RecordError("missing id")
    pm = obj_of(u.get("public_metrics"), "public_metrics")
    vtype = u.get("verified_type")
    return {
        "platform": "twitter",
        "id": uid,
        "observed_at": observed_at,
        "handle": u.get("username"),
        "display_name": u.get("name"),
        "followers": pm.get("followers_count"),
        "following": pm.get("following_count"),
        "posts_count": pm.get("tweet_count"),
        "verified": bool(u.get("verified")) or (vtype is not None and vtype != "none"),
        "created_at": _time(u.get("created_at")),
        "description": u.get("description"),
        "location": u.get("location"),
        "raw": _dumps(u),
    }


def post_from_tweet(
    t: dict[str, Any],
    users: dict[str, dict[str, Any]],
    media: dict[str, dict[str, Any]],
    places: dict[str, dict[str, Any]],
    observed_at: datetime | None,
    is_reference: bool,
) -> dict[str, Any]:
    """A ``posts`` record from a raw v2 tweet, with the page's expansions."""
    get = t.get
    tid = _sid(get("id"))
    if tid is None:
        raise RecordError("missing id")
    author_id = _sid(get("author_id"))
    author = users.get(author_id) if author_id is not None else None

    note = obj_of(get("note_tweet"), "note_tweet")
    if note:
        text = note.get("text")
        entities = note.get("entities") or get("entities")
    else:
        text = get("text")
        entities = get("entities")
    if text is not None and not isinstance(text, str):
        raise RecordError("text is not a string")

    repost_of = reply_to = quote_of = None
    for ref in objs_of(get("referenced_tweets"), "referenced_tweets"):
        rtype = ref.get("type")
        if rtype in ("retweeted", "replied_to", "quoted") and "id" not in ref:
            raise RecordError(f"a {rtype} reference without an id")
        if rtype == "retweeted":
            repost_of = _sid(ref["id"])
        elif rtype == "replied_to":
            reply_to = _sid(ref["id"])
        elif rtype == "quoted":
            quote_of = _sid(ref["id"])
    kind = post_kind(repost_of, reply_to, quote_of)

    hashtags: list[str] = []
    hashtags_raw: list[str] = []
    mentions: list[str] = []
    mention_ids: list[str] = []
    urls: list[str] = []
    entities = obj_of(entities, "entities")
    if entities:
        for h in objs_of(entities.get("hashtags"), "entities.hashtags"):
            tag = str_of(h.get("tag"), "a hashtag's tag")
            if tag is None:
                raise RecordError("a hashtag without a tag")
            hashtags_raw.append(tag)
            hashtags.append(fold_tag(tag))
        for m in objs_of(entities.get("mentions"), "entities.mentions"):
            name = str_of(m.get("username"), "a mention's username")
            if name is not None:
                mentions.append(name)
            mid = m.get("id")
            if mid is None and name is not None:
                # the id is not in old payloads; includes.users has it by handle
                mid = users.get("@" + name.lower(), {}).get("id")
            if mid is not None:
                mention_ids.append(_sid(mid))  # type: ignore[arg-type]
        for u in objs_of(entities.get("urls"), "entities.urls"):
            link = u.get("expanded_url") or u.get("url")
            if link:
                urls.append(link)

    media_out: list[str] = []
    att = obj_of(get("attachments"), "attachments")
    if att:
        for key in list_of(att.get("media_keys"), "attachments.media_keys"):
            if not isinstance(key, str):
                raise RecordError("a media key is not a string")
            mk = media.get(key)
            if mk is not None:
                media_out.append(f"{mk.get('type') or media_type(key)}:{mk.get('url') or key}")
            else:
                media_out.append(f"{media_type(key)}:{key}")

    place = country = None
    geo = obj_of(get("geo"), "geo")
    if geo:
        pid = _key(geo.get("place_id"))
        p = places.get(pid) if pid is not None else None
        if p is not None:
            place = p.get("full_name")
            country = p.get("country_code")

    pm = obj_of(get("public_metrics"), "public_metrics")
    return {
        "platform": "twitter",
        "id": tid,
        "author_id": author_id,
        "author_handle": author.get("username") if author is not None else None,
        "created_at": _time(get("created_at")),
        "text": text,
        "lang": get("lang"),
        "kind": kind,
        "repost_of_id": repost_of,
        "reply_to_id": reply_to,
        "reply_to_author_id": _sid(get("in_reply_to_user_id")),
        "quote_of_id": quote_of,
        "conversation_id": _sid(get("conversation_id")),
        "hashtags": hashtags,
        "hashtags_raw": hashtags_raw,
        "mentions": mentions,
        "mention_ids": mention_ids,
        "urls": urls,
        "media": media_out,
        "place": place,
        "country": country,
        "source": get("source"),
        "sensitive": get("possibly_sensitive"),
        "repost_count": pm.get("retweet_count"),
        "reply_count": pm.get("reply_count"),
        "like_count": pm.get("like_count"),
        "quote_count": pm.get("quote_count"),
        "metrics_observed_at": observed_at,
        "is_reference": is_reference,
        "raw": _dumps(t),
    }


# --------------------------------------------------------------------------- parse


def _key(value: Any) -> Any:
    """A value that can look up a user or an object by id (a string or an integer), or None: a
    list or an object is no key (and cannot be one of a dict)."""
    return value if isinstance(value, (str, int)) and not isinstance(value, bool) else None


def _index(items: Any, key: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict):
                k = _key(item.get(key))
                if k is not None:
                    out[k] = item
    return out


INCLUDED = ("users", "tweets", "media", "places")
"""The lists of a page's ``includes`` that are read: accounts, referenced tweets, and the lookups
of media and places."""


def _includes(includes: Any, sink: Sink) -> dict[str, Any]:
    """A page's ``includes``, its lists that are not lists (or itself, not an object) rejected on
    the page's line and left out: their accounts or tweets (or the posts' media and places) were
    not read, and the tweets in ``data`` still are. Absent or null is nothing to read."""
    if includes is None:
        return {}
    if not isinstance(includes, dict):
        sink.reject(f"includes: a JSON {json_type(includes)}, not an object")
        return {}
    bad = [k for k in INCLUDED if includes.get(k) is not None and not isinstance(includes[k], list)]
    for key in bad:
        sink.reject(f"includes.{key}: a JSON {json_type(includes[key])}, not a list")
    return {k: v for k, v in includes.items() if k not in bad} if bad else includes


def _retrieved_at(obj: dict[str, Any]) -> datetime | None:
    tw = obj.get("__twarc")
    if isinstance(tw, dict):
        try:
            return iso_time(tw.get("retrieved_at"))
        except RecordError:
            return None
    return None


def _counts_query(obj: dict[str, Any]) -> str | None:
    tw = obj.get("__twarc")
    if not isinstance(tw, dict) or not isinstance(tw.get("url"), str):
        return None
    q = parse_qs(urlsplit(tw["url"]).query).get("query")
    return q[0] if q else None


def _parse_counts(obj: dict[str, Any], data: list[Any], sink: Sink) -> None:
    query = _counts_query(obj)
    for i, b in enumerate(data):
        try:
            if not isinstance(b, dict):
                raise RecordError(f"a JSON {json_type(b)}, not an object")
            count = b.get("tweet_count")
            if isinstance(count, bool) or not isinstance(count, int):
                raise RecordError("tweet_count is not an integer")
            sink.volume(
                {
                    "platform": "twitter",
                    "query": query,
                    "start": iso_time(b.get("start")),
                    "end": iso_time(b.get("end")),
                    "count": count,
                }
            )
        except _SHAPE_ERRORS as exc:
            sink.reject(_shape_reason(f"data[{i}]", exc))


def _emit_users(
    items: list[Any], where: str, observed: datetime | None, seen_at: dict[str, datetime], fallback: datetime | None,
    sink: Sink
) -> None:
    for i, u in enumerate(items):
        try:
            when = observed
            if when is None:
                key = _key(u.get("id")) if isinstance(u, dict) else None
                when = seen_at.get(key, fallback) if key is not None else fallback
            sink.account(account_from_user(u, when))
        except _SHAPE_ERRORS as exc:
            sink.reject(_shape_reason(f"{where}[{i}]", exc))


def parse(obj: Any, sink: Sink) -> None:
    """Read one twarc2 page (or streaming record, or whole response)."""
    if not isinstance(obj, dict):
        raise RecordError(f"not a twarc2 page: a JSON {json_type(obj)}, not an object")
    data = obj.get("data")
    if data is None:
        if "data" in obj or "errors" in obj or "meta" in obj:
            return  # an errors-only or empty page: nothing collected
        raise RecordError("not a twarc2 page: it has no 'data' key")
    if isinstance(data, dict):
        data = [data]
    elif not isinstance(data, list):
        raise RecordError(f"'data' is a {type(data).__name__}, not a list or object")
    if not data:
        return
    first = data[0]
    if isinstance(first, dict):
        if "tweet_count" in first and "id" not in first:
            _parse_counts(obj, data, sink)
            return
        if _is_list_object(first):
            raise RecordError("a list-lookup page (lists, not tweets)")
    includes = _includes(obj.get("includes"), sink)
    observed = _retrieved_at(obj)

    # users-lookup page: data items are users (they have a username, tweets do not)
    if isinstance(first, dict) and "username" in first and "text" not in first:
        _emit_users(data, "data", observed, {}, None, sink)
        inc_tweets = includes.get("tweets")
        if isinstance(inc_tweets, list) and inc_tweets:
            _emit_tweets(inc_tweets, "includes.tweets", {}, {}, {}, observed, True, set(), sink)
        return

    inc_users = includes.get("users")
    users = _index(inc_users, "id")
    for u in list(users.values()):
        name = u.get("username")
        if isinstance(name, str):
            users["@" + name.lower()] = u
    media = _index(includes.get("media"), "media_key")
    places = _index(includes.get("places"), "id")
    inc_tweets = includes.get("tweets")

    data_ids = _emit_tweets(data, "data", users, media, places, observed, False, None, sink)
    if isinstance(inc_tweets, list) and inc_tweets:
        _emit_tweets(inc_tweets, "includes.tweets", users, media, places, observed, True, data_ids, sink)

    if isinstance(inc_users, list) and inc_users:
        seen_at: dict[str, datetime] = {}
        newest: datetime | None = None
        if observed is None:
            for t in data if not isinstance(inc_tweets, list) else data + inc_tweets:
                if not isinstance(t, dict):
                    continue
                try:
                    when = iso_time(t.get("created_at"))
                except RecordError:
                    continue
                if when is None:
                    continue
                aid = _key(t.get("author_id"))
                if aid is not None and aid not in seen_at:
                    seen_at[aid] = when
                if newest is None or when > newest:
                    newest = when
        _emit_users(inc_users, "includes.users", observed, seen_at, newest, sink)


def _emit_tweets(
    items: list[Any],
    where: str,
    users: dict[str, dict[str, Any]],
    media: dict[str, dict[str, Any]],
    places: dict[str, dict[str, Any]],
    observed: datetime | None,
    is_reference: bool,
    skip: set[str] | None,
    sink: Sink,
) -> set[str]:
    ids: set[str] = set()
    post = sink.post
    for i, t in enumerate(items):
        try:
            if not isinstance(t, dict):
                raise RecordError(f"a JSON {json_type(t)}, not an object")
            if skip and isinstance(t.get("id"), str) and t["id"] in skip:
                continue
            rec = post_from_tweet(t, users, media, places, observed, is_reference)
        except _SHAPE_ERRORS as exc:
            sink.reject(_shape_reason(f"{where}[{i}]", exc))
            continue
        ids.add(rec["id"])
        post(rec)
    return ids


# --------------------------------------------------------------------------- compliance

COMPLIANCE_NAME = "twitter-compliance"


def sniff_compliance(obj: Any) -> bool:
    """A compliance-job result line: ``{"id", "action", "created_at", "reason"}``."""
    return (
        isinstance(obj, dict)
        and "action" in obj
        and "id" in obj
        and "reason" in obj
        and "text" not in obj
        and "data" not in obj
    )


def parse_compliance(obj: Any, sink: Sink) -> None:
    """One compliance line → one deletion (``compliance:<reason>``)."""
    if not isinstance(obj, dict):
        raise RecordError(f"not a compliance line: a JSON {json_type(obj)}")
    try:
        pid = as_id(obj["id"])
    except KeyError:
        raise RecordError("missing id") from None
    if pid is None:
        raise RecordError("missing id")
    action = obj.get("action")
    if action != "delete":
        raise RecordError(f"compliance action {str(action)[:20]!r} is not 'delete'")
    reason = obj.get("reason")
    sink.deletion(
        {
            "platform": "twitter",
            "id": pid,
            "deleted_at": iso_time(obj.get("redacted_at")),
            "reason": f"compliance:{reason}" if reason else "compliance",
        }
    )


COMPLIANCE = SimpleNamespace(NAME=COMPLIANCE_NAME, sniff=sniff_compliance, parse=parse_compliance)
"""The ``twitter-compliance`` format, for a driver that wants NAME/sniff/parse."""
