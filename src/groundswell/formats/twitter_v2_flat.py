"""Flattened Twitter API v2 tweets, one per line (``twarc2 flatten`` output).

Each line is one v2 tweet with its expansions merged in: ``author`` and
``in_reply_to_user`` (user objects), ``referenced_tweets[]`` (each the whole
referenced tweet, itself expanded), ``attachments.media`` / ``attachments.poll``,
``geo`` merged with its place, ``entities.mentions[]`` merged with the user,
plus the page's ``__twarc`` (and ``matching_rules`` when streamed).

The line becomes a post; a referenced tweet given in full becomes a post
marked ``is_reference``; every expanded user (author, replied-to, mentioned,
authors of referenced tweets) becomes an account observed at
``__twarc.retrieved_at`` (else at the tweet's ``created_at``).

``raw`` holds the tweet as the API sent it (:func:`unflatten` takes the
expansions back out), so that raw objects are the same whichever twarc2
output they were read from.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from groundswell.formats.base import RecordError, Sink, iso_time, json_type, list_of
from groundswell.formats.twitter_v2 import account_from_user, post_from_tweet

NAME = "twitter-v2-flat"

__all__ = ["NAME", "sniff", "parse", "unflatten"]

# what is wrong with one object: reject it alone (anything else is a parser bug)
_SHAPE_ERRORS = (RecordError,)
_EXPANSION_KEYS = ("author", "in_reply_to_user", "__twarc", "matching_rules", "type")
_MENTION_KEYS = ("start", "end", "username", "id")
_GEO_KEYS = ("place_id", "coordinates")


def sniff(obj: Any) -> bool:
    """One v2 tweet per line: ``id`` and ``text`` with v2 fields, no page, no v1 ``user``."""
    return (
        isinstance(obj, dict)
        and "id" in obj
        and "text" in obj
        and "data" not in obj
        and "user" not in obj
        and (
            "author_id" in obj
            or isinstance(obj.get("author"), dict)
            or "edit_history_tweet_ids" in obj
            or "conversation_id" in obj
        )
    )


def unflatten(t: dict[str, Any]) -> dict[str, Any]:
    """The API's tweet object back from a flattened one (expansions removed)."""
    out = {k: v for k, v in t.items() if k not in _EXPANSION_KEYS}
    refs = out.get("referenced_tweets")
    if isinstance(refs, list):
        out["referenced_tweets"] = [{"type": r.get("type"), "id": r.get("id")} if isinstance(r, dict) else r
                                    for r in refs]  # a non-object is rejected by post_from_tweet
    att = out.get("attachments")
    if isinstance(att, dict) and ("media" in att or "poll" in att):
        out["attachments"] = {k: v for k, v in att.items() if k not in ("media", "poll")}
    geo = out.get("geo")
    if isinstance(geo, dict) and "full_name" in geo:
        out["geo"] = {k: geo[k] for k in _GEO_KEYS if k in geo}
    ent = out.get("entities")
    if isinstance(ent, dict) and isinstance(ent.get("mentions"), list):  # else rejected by post_from_tweet
        mentions = [
            {k: m[k] for k in _MENTION_KEYS if k in m} if isinstance(m, dict) else m
            for m in ent["mentions"]
        ]
        out["entities"] = {**ent, "mentions": mentions}
    return out


def _items(value: Any) -> list[Any]:
    """A list's items, or none when it is not a list (the tweet's own reading rejects it)."""
    return value if isinstance(value, list) else []


def _expansions(
    t: dict[str, Any],
    users: dict[str, dict[str, Any]],
    media: dict[str, dict[str, Any]],
    places: dict[str, dict[str, Any]],
) -> None:
    """Collect the users, media and place a flattened tweet carries inline."""
    for key in ("author", "in_reply_to_user"):
        u = t.get(key)
        if isinstance(u, dict) and isinstance(u.get("id"), (str, int)):
            users[u["id"]] = u
    ent = t.get("entities")
    if isinstance(ent, dict):
        for m in _items(ent.get("mentions")):
            if isinstance(m, dict) and isinstance(m.get("id"), (str, int)) and "name" in m:
                users.setdefault(m["id"], m)
                users.setdefault("@" + str(m.get("username", "")).lower(), m)
    att = t.get("attachments")
    if isinstance(att, dict):
        for m in _items(att.get("media")):
            if isinstance(m, dict) and isinstance(m.get("media_key"), str):
                media[m["media_key"]] = m
    geo = t.get("geo")
    if isinstance(geo, dict) and isinstance(geo.get("place_id"), str) and "full_name" in geo:
        places[geo["place_id"]] = geo


def parse(obj: Any, sink: Sink) -> None:
    """Read one flattened v2 tweet."""
    if not isinstance(obj, dict):
        raise RecordError(f"not a flattened tweet: a JSON {json_type(obj)}")
    tw = obj.get("__twarc")
    observed: datetime | None = None
    if isinstance(tw, dict):
        try:
            observed = iso_time(tw.get("retrieved_at"))
        except RecordError:
            observed = None

    users: dict[str, dict[str, Any]] = {}
    media: dict[str, dict[str, Any]] = {}
    places: dict[str, dict[str, Any]] = {}
    _expansions(obj, users, media, places)
    refs = [r for r in list_of(obj.get("referenced_tweets"), "referenced_tweets")
            if isinstance(r, dict) and ("text" in r or "created_at" in r)]
    for r in refs:
        _expansions(r, users, media, places)
    post = post_from_tweet(unflatten(obj), users, media, places, observed, False)
    sink.post(post)
    for i, r in enumerate(refs):
        try:
            sink.post(post_from_tweet(unflatten(r), users, media, places, observed, True))
        except _SHAPE_ERRORS as exc:
            sink.reject(f"referenced_tweets[{i}]: {exc}")

    when = observed or post["created_at"]
    seen: set[int] = set()
    for key, u in users.items():
        if not isinstance(key, str) or key.startswith("@") or id(u) in seen:
            continue
        seen.add(id(u))
        try:
            sink.account(account_from_user(u, when))
        except _SHAPE_ERRORS as exc:
            sink.reject(f"user {key}: {exc}")

