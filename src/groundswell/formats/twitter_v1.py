"""Twitter API v1.1 tweets, one per line, as twarc 1.x (and most v1 tools) write them.

Each tweet line becomes a post and its ``user`` an account. The full text is
``extended_tweet.full_text`` (streaming API, 280 characters), else
``full_text`` (REST API in extended mode), else ``text``; entities are taken
from the same place as the text. A retweet (``retweeted_status``) and a quote
(``quoted_status``) carry the tweet they point at: each embedded tweet is
emitted as a post too, marked ``is_reference``, with its author as an account
(recursively: a retweet of a quote yields three posts).

Kinds: a retweet is a ``repost`` (even of a reply); else a tweet with
``in_reply_to_status_id`` is a ``reply`` (even when it also quotes); else a
tweet quoting another (``quoted_status_id``) is a ``quote``; else ``original``.

Media are ``extended_entities.media`` (all photos of a tweet; ``entities``
holds only the first) as ``type:media_url_https``; links are
``entities.urls[].expanded_url``.

v1 tweets carry no collection time. Unless the line has a twarc-style
``__twarc.retrieved_at`` (then that time is used), ``metrics_observed_at``
and the author's ``observed_at`` are the latest time known to precede the
observation: for a tweet embedded in another (``retweeted_status``,
``quoted_status``) the embedding tweet's time, else the tweet's own
``created_at``. So an original seen first with 0 retweets takes the 57 a later
retweet's embedded copy carries (docs/data-model.md, merging).

A users-lookup line (a bare v1.1 user object) becomes one account, observed
at the creation time of the user's embedded latest ``status`` when present.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from groundswell.formats.base import (
    RecordError,
    Sink,
    as_id,
    fold_tag,
    iso_time,
    json_type,
    obj_of,
    objs_of,
    post_kind,
    raw_json,
    str_of,
    twitter_v1_time,
)

NAME = "twitter-v1"

__all__ = ["NAME", "sniff", "parse", "post_from_tweet", "account_from_user"]


def _dumps(obj: Any) -> str:
    return raw_json(obj)


_MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}


def _time(value: Any) -> datetime | None:
    """:func:`twitter_v1_time`, with a fast path for 'Wed Oct 10 20:19:24 +0000 2018'."""
    if type(value) is str and len(value) == 30 and value[20:25] == "+0000":
        month = _MONTHS.get(value[4:7])
        if month is not None:
            try:
                return datetime(
                    int(value[26:]), month, int(value[8:10]), int(value[11:13]), int(value[14:16]), int(value[17:19])
                )
            except ValueError:
                pass
    return twitter_v1_time(value)


def _is_user(obj: dict[str, Any]) -> bool:
    return "screen_name" in obj and "followers_count" in obj and ("id_str" in obj or "id" in obj)


def sniff(obj: Any) -> bool:
    """A v1.1 tweet (``user`` object, v1 ``created_at``) or a v1.1 user object."""
    if not isinstance(obj, dict) or "data" in obj:
        return False
    if isinstance(obj.get("user"), dict) and ("id_str" in obj or "id" in obj):
        return "text" in obj or "full_text" in obj or "extended_tweet" in obj
    return _is_user(obj) and "user" not in obj


def _id(obj: dict[str, Any], key: str = "id") -> str | None:
    """v1 gives ids twice: ``id`` (a number) and ``id_str``; prefer the string."""
    v = obj.get(key + "_str")
    if v is None:
        v = obj.get(key)
    return as_id(v)


def account_from_user(u: dict[str, Any], observed_at: datetime | None) -> dict[str, Any]:
    """An ``accounts`` record from a v1.1 user object."""
    uid = _id(u)
    if uid is None:
        raise RecordError("user has no id")
    return {
        "platform": "twitter",
        "id": uid,
        "observed_at": observed_at,
        "handle": u.get("screen_name"),
        "display_name": u.get("name"),
        "followers": u.get("followers_count"),
        "following": u.get("friends_count"),
        "posts_count": u.get("statuses_count"),
        "verified": u.get("verified"),
        "created_at": _time(u.get("created_at")),
        "description": u.get("description"),
        "location": u.get("location"),
        "raw": _dumps(u),
    }


def post_from_tweet(t: dict[str, Any], observed_at: datetime | None, is_reference: bool) -> dict[str, Any]:
    """A ``posts`` record from one v1.1 tweet (embedded tweets are not followed)."""
    tid = _id(t)
    if tid is None:
        raise RecordError("missing id")
    user = t.get("user")
    if user is None:
        user = {}  # 2015 search results embed quoted tweets without their user
    elif not isinstance(user, dict):
        raise RecordError("user is not an object")

    ext = obj_of(t.get("extended_tweet"), "extended_tweet")
    if ext:
        text = ext.get("full_text")
        entities = ext.get("entities") or t.get("entities")
        ext_entities = ext.get("extended_entities") or t.get("extended_entities")
    else:
        text = t.get("full_text")
        if text is None:
            text = t.get("text")
        entities = t.get("entities")
        ext_entities = t.get("extended_entities")
    if text is not None and not isinstance(text, str):
        raise RecordError("text is not a string")

    rt = t.get("retweeted_status")
    repost_of = _id(rt) if isinstance(rt, dict) else None
    reply_to = _id(t, "in_reply_to_status_id")
    quote_of = _id(t, "quoted_status_id")
    if quote_of is None and isinstance(t.get("quoted_status"), dict):
        quote_of = _id(t["quoted_status"])
    kind = post_kind(repost_of, reply_to, quote_of)

    hashtags: list[str] = []
    hashtags_raw: list[str] = []
    mentions: list[str] = []
    mention_ids: list[str] = []
    urls: list[str] = []
    entities = obj_of(entities, "entities")
    ext_entities = obj_of(ext_entities, "extended_entities")
    if entities:
        for h in objs_of(entities.get("hashtags"), "entities.hashtags"):
            tag = str_of(h.get("text"), "a hashtag's text")
            if tag is None:
                raise RecordError("a hashtag without text")
            hashtags_raw.append(tag)
            hashtags.append(fold_tag(tag))
        for m in objs_of(entities.get("user_mentions"), "entities.user_mentions"):
            name = m.get("screen_name")
            if name is not None:
                mentions.append(name)
            mid = _id(m)
            if mid is not None:
                mention_ids.append(mid)
        for u in objs_of(entities.get("urls"), "entities.urls"):
            link = u.get("expanded_url") or u.get("url")
            if link:
                urls.append(link)
    media: list[str] = []
    for m in objs_of((ext_entities or entities).get("media"), "entities.media"):
        media.append(f"{m.get('type') or 'photo'}:{m.get('media_url_https') or m.get('media_url') or _id(m)}")

    place = country = None
    p = obj_of(t.get("place"), "place")
    if p:
        place = p.get("full_name")
        country = p.get("country_code")

    return {
        "platform": "twitter",
        "id": tid,
        "author_id": _id(user),
        "author_handle": user.get("screen_name"),
        "created_at": _time(t.get("created_at")),
        "text": text,
        "lang": t.get("lang"),
        "kind": kind,
        "repost_of_id": repost_of,
        "reply_to_id": reply_to,
        "reply_to_author_id": _id(t, "in_reply_to_user_id"),
        "quote_of_id": quote_of,
        "conversation_id": None,
        "hashtags": hashtags,
        "hashtags_raw": hashtags_raw,
        "mentions": mentions,
        "mention_ids": mention_ids,
        "urls": urls,
        "media": media,
        "place": place,
        "country": country,
        "source": t.get("source"),
        "sensitive": t.get("possibly_sensitive"),
        "repost_count": t.get("retweet_count"),
        "reply_count": t.get("reply_count"),
        "like_count": t.get("favorite_count"),
        "quote_count": t.get("quote_count"),
        "metrics_observed_at": observed_at,
        "is_reference": is_reference,
        "raw": _dumps(t),
    }


def _collected_at(obj: dict[str, Any]) -> datetime | None:
    tw = obj.get("__twarc")
    if isinstance(tw, dict):
        try:
            return iso_time(tw.get("retrieved_at"))
        except RecordError:
            return None
    return None


def _emit(t: dict[str, Any], observed: datetime | None, is_reference: bool, sink: Sink, depth: int,
          seen: datetime | None = None) -> None:
    """One tweet, its author and the tweets it embeds; ``observed``: the collection
    time when known; ``seen``: the time of the tweet embedding this one."""
    rec = post_from_tweet(t, observed, is_reference)
    when = observed or seen or rec["created_at"]
    rec["metrics_observed_at"] = when
    user = t.get("user")
    acc = account_from_user(user, when) if user else None
    sink.post(rec)
    if acc is not None:
        sink.account(acc)
    if depth > 3:  # embedded tweets nest at most retweet -> quote; stop runaway input
        return
    for key in ("retweeted_status", "quoted_status"):
        inner = t.get(key)
        if isinstance(inner, dict):
            try:
                _emit(inner, observed, True, sink, depth + 1, when)
            except RecordError as exc:  # the embedded tweet alone is rejected
                sink.reject(f"{key}: {exc}")


def parse(obj: Any, sink: Sink) -> None:
    """Read one v1.1 tweet line (or user-lookup line)."""
    if not isinstance(obj, dict):
        raise RecordError(f"not a v1.1 tweet: a JSON {json_type(obj)}, not an object")
    if "user" not in obj and _is_user(obj):
        status = obj.get("status")
        when = None
        if isinstance(status, dict):
            when = _time(status.get("created_at"))
        sink.account(account_from_user(obj, _collected_at(obj) or when or twitter_v1_time(obj.get("created_at"))))
        return
    _emit(obj, _collected_at(obj), False, sink, 0)
