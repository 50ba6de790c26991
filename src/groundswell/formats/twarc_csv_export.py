"""Rows in the layout of twarc-csv 0.7.2 (``twarc2 csv``), the DocNow CSV export.

:data:`COLUMNS` is twarc-csv's default tweet column set (84 columns, its
order). :func:`row` gives the cells twarc-csv writes for one raw v2 tweet,
given the page's raw users and tweets (its ``includes``) by id, doing what
twarc-csv does with default options:

1. twarc's ``expansions.flatten``: ``author``, ``in_reply_to_user``,
   ``referenced_tweets[]`` (the whole referenced tweets, expanded),
   ``attachments.media`` / ``attachments.poll``, ``geo`` merged with its place,
   ``entities.mentions`` merged with the users, ``__twarc`` and
   ``matching_rules`` from the page;
2. ``DataFrameConverter._format_tweet``: ``in_reply_to_username``,
   ``retweeted_user_id``/``_username``, ``quoted_user_id``/``_username``; a
   retweet takes text, entities, attachments, context annotations and public
   metrics from the retweeted tweet (``--merge-retweets``); referenced tweets
   reduced to ``referenced_tweets.<type>.id`` (the first of each type);
   entities reduced to ``#tag`` / ``$tag`` / ``@user`` / expanded URLs (the
   display URL for media links); a missing ``impression_count`` left empty;
3. ``pandas.json_normalize`` (nested objects to dotted columns, empty objects
   vanish), newlines written as ``\\n`` and ``\\r`` dropped in strings, lists
   and objects JSON-encoded with Python's ``json.dumps``, booleans as
   ``True``/``False``, missing values empty.

pandas writes a whole integer column as floats (``12.0``) when some row of
the same 100-line batch lacks the value (a deleted author, a poll without a
duration): :func:`row` sees one tweet and writes ``12``; :func:`batch_rows`
takes a batch of pages and does as pandas does, and writes each tweet id once
(twarc-csv keeps the first occurrence in a file).

:func:`row_from_post` fills what a normalized post (e.g. from a v1.1 tweet,
which has no v2 raw) can give.
"""

from __future__ import annotations

import copy
import json
import re
from collections import ChainMap
from datetime import datetime
from typing import Any

__all__ = ["COLUMNS", "BATCH_LINES", "Expander", "row", "batch_of", "batch_rows", "row_from_post", "cell"]

COLUMNS: list[str] = [
    "id", "conversation_id", "referenced_tweets.replied_to.id", "referenced_tweets.retweeted.id",
    "referenced_tweets.quoted.id", "author_id", "in_reply_to_user_id", "in_reply_to_username",
    "retweeted_user_id", "retweeted_username", "quoted_user_id", "quoted_username", "created_at",
    "text", "lang", "source", "public_metrics.impression_count", "public_metrics.reply_count",
    "public_metrics.retweet_count", "public_metrics.quote_count", "public_metrics.like_count",
    "public_metrics.bookmark_count", "reply_settings", "edit_history_tweet_ids",
    "edit_controls.edits_remaining", "edit_controls.editable_until", "edit_controls.is_edit_eligible",
    "possibly_sensitive", "withheld.scope", "withheld.copyright", "withheld.country_codes",
    "entities.annotations", "entities.cashtags", "entities.hashtags", "entities.mentions",
    "entities.urls", "context_annotations", "attachments.media", "attachments.media_keys",
    "attachments.poll.duration_minutes", "attachments.poll.end_datetime", "attachments.poll.id",
    "attachments.poll.options", "attachments.poll.voting_status", "attachments.poll_ids",
    "author.id", "author.created_at", "author.username", "author.name", "author.description",
    "author.entities.description.cashtags", "author.entities.description.hashtags",
    "author.entities.description.mentions", "author.entities.description.urls",
    "author.entities.url.urls", "author.url", "author.location", "author.pinned_tweet_id",
    "author.profile_image_url", "author.protected", "author.public_metrics.followers_count",
    "author.public_metrics.following_count", "author.public_metrics.listed_count",
    "author.public_metrics.tweet_count", "author.verified", "author.verified_type",
    "author.withheld.scope", "author.withheld.copyright", "author.withheld.country_codes",
    "geo.coordinates.coordinates", "geo.coordinates.type", "geo.country", "geo.country_code",
    "geo.full_name", "geo.geo.bbox", "geo.geo.type", "geo.id", "geo.name", "geo.place_id",
    "geo.place_type", "matching_rules", "__twarc.retrieved_at", "__twarc.url", "__twarc.version",
]  # fmt: skip


BATCH_LINES = 100  # twarc-csv reads its input 100 lines at a time: one pandas frame, one float rule

# ----------------------------------------------------------------------------- cells


def cell(value: Any) -> str:
    """One value as twarc-csv (pandas ``to_csv``) writes it."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("\r", "").replace("\n", "\\n")
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(value)
    if isinstance(value, float):
        return "" if value != value else repr(value)
    return str(value)


def _normalize(obj: dict[str, Any], prefix: str, out: dict[str, Any]) -> None:
    """``pandas.json_normalize`` for one record: dotted keys, empty dicts vanish."""
    for k, v in obj.items():
        key = prefix + k
        if isinstance(v, dict):
            _normalize(v, key + ".", out)
        else:
            out[key] = v


# ----------------------------------------------------------------------------- flatten


class Expander:
    """twarc's ``expand_payload`` over one page's expansions."""

    def __init__(
        self,
        users: dict[str, dict[str, Any]],
        tweets: dict[str, dict[str, Any]],
        media: dict[str, dict[str, Any]],
        polls: dict[str, dict[str, Any]],
        places: dict[str, dict[str, Any]],
    ) -> None:
        self.users = dict(users)
        for u in users.values():
            name = u.get("username")
            if isinstance(name, str):
                self.users.setdefault(name, u)
        self.tweets = tweets
        self.media = media
        self.polls = polls
        self.places = places
        self._expanded: dict[str, dict[str, Any]] = {}

    def included(self, tid: str, depth: int) -> dict[str, Any]:
        if tid not in self.tweets:
            return {}
        if depth > 0:  # a referenced tweet's own references stay as the API gave them
            return self.tweets[tid]
        got = self._expanded.get(tid)
        if got is None:
            got = self.expand(copy.deepcopy(self.tweets[tid]), depth + 1)
            self._expanded[tid] = got
        return got

    def expand(self, payload: Any, depth: int) -> Any:
        if isinstance(payload, list):
            return [self.expand(item, depth) for item in payload]
        if not isinstance(payload, dict):
            return payload
        for key, value in payload.items():
            if isinstance(value, (dict, list)):
                payload[key] = self.expand(value, depth)
        if "author_id" in payload:
            payload["author"] = self.users.get(payload["author_id"], {})
        if "in_reply_to_user_id" in payload:
            payload["in_reply_to_user"] = self.users.get(payload["in_reply_to_user_id"], {})
        if "media_keys" in payload:
            payload["media"] = [self.media.get(k, {}) for k in payload["media_keys"]]
        if "poll_ids" in payload and len(payload["poll_ids"]) > 0:
            payload["poll"] = self.polls.get(payload["poll_ids"][-1], {})
        if "geo" in payload and isinstance(payload["geo"], dict) and "place_id" in payload["geo"]:
            payload["geo"] = {**payload["geo"], **self.places.get(payload["geo"]["place_id"], {})}
        if "mentions" in payload:
            payload["mentions"] = [{**m, **self.users.get(m.get("username"), {})} for m in payload["mentions"]]
        if "referenced_tweets" in payload:
            payload["referenced_tweets"] = [
                {**r, **self.included(r["id"], depth)} for r in payload["referenced_tweets"]
            ]
        return payload


# ----------------------------------------------------------------------------- format


def _process_entities(entities: dict[str, Any]) -> dict[str, Any]:
    if "cashtags" in entities:
        entities["cashtags"] = ["$" + h["tag"] for h in entities["cashtags"]]
    if "hashtags" in entities:
        entities["hashtags"] = ["#" + h["tag"] for h in entities["hashtags"]]
    if "mentions" in entities:
        entities["mentions"] = ["@" + m["username"] for m in entities["mentions"]]
    if "urls" in entities:
        entities["urls"] = [
            u["display_url"] if "media_key" in u else u["expanded_url"] if "expanded_url" in u else u["url"]
            for u in entities["urls"]
        ]
    return entities


def _last(refs: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    found = [r for r in refs if r.get("type") == kind]
    return found[-1] if found else None


def _format(tweet: dict[str, Any]) -> dict[str, Any]:
    tweet = copy.deepcopy(tweet)
    tweet.pop("pinned_tweet", None)
    tweet.pop("in_reply_to_user", None)
    refs = tweet.get("referenced_tweets")
    if refs is not None:
        reply = _last(refs, "replied_to")
        if reply and "author" in reply and "username" in reply["author"]:
            tweet["in_reply_to_username"] = reply["author"]["username"]
        rt = _last(refs, "retweeted")
        if rt and "author_id" in rt:
            tweet["retweeted_user_id"] = rt["author_id"]
            if "username" in rt.get("author", {}):
                tweet["retweeted_username"] = rt["author"]["username"]
        qt = _last(refs, "quoted")
        if qt and "author_id" in qt:
            tweet["quoted_user_id"] = qt["author_id"]
        if qt and "author" in qt and "username" in qt["author"]:
            tweet["quoted_username"] = qt["author"]["username"]
        if rt:
            for key in ("text", "entities", "attachments", "context_annotations", "public_metrics"):
                own = tweet.pop(key, None)
                tweet[key] = rt.pop(key, own)
        tweet["referenced_tweets"] = dict(ChainMap(*[{r["type"]: {"id": r["id"]}} for r in refs]))
    else:
        tweet["referenced_tweets"] = {}

    if tweet.get("entities"):
        tweet["entities"] = _process_entities(tweet["entities"])
    author = tweet.get("author")
    if author and author.get("entities"):
        aent = author["entities"]
        if "url" in aent:
            urls = [u["expanded_url"] if "expanded_url" in u else u["url"] for u in aent["url"].pop("urls", [])]
            aent["url"]["urls"] = urls
            if urls:
                author["url"] = urls[-1]
        if "description" in aent:
            aent["description"] = _process_entities(aent["description"])
    pm = tweet.get("public_metrics")
    if pm is not None and "impression_count" not in pm:
        pm["impression_count"] = None
    tweet.pop("type", None)
    for key in ("attachments", "entities", "public_metrics"):
        if key in tweet and not tweet[key]:
            tweet.pop(key, None)
    return tweet


def _values(
    tweet: dict[str, Any],
    exp: Expander,
    twarc: dict[str, Any] | None,
    matching_rules: list[Any] | None,
) -> dict[str, Any]:
    t = exp.expand(copy.deepcopy(tweet), 0)
    if twarc is not None:
        t["__twarc"] = twarc
    if matching_rules is not None:
        t["matching_rules"] = matching_rules
    flat: dict[str, Any] = {}
    _normalize(_format(t), "", flat)
    return flat


def row(
    tweet: dict[str, Any],
    users: dict[str, dict[str, Any]],
    tweets: dict[str, dict[str, Any]],
    *,
    media: dict[str, dict[str, Any]] | None = None,
    polls: dict[str, dict[str, Any]] | None = None,
    places: dict[str, dict[str, Any]] | None = None,
    twarc: dict[str, Any] | None = None,
    matching_rules: list[Any] | None = None,
) -> list[str]:
    """twarc-csv's row for one raw v2 tweet.

    ``users`` and ``tweets`` are the page's ``includes.users`` / ``includes.tweets``
    by id; ``media`` (by media_key), ``polls`` and ``places`` (by id) are the
    other includes, ``twarc`` the page's ``__twarc`` and ``matching_rules`` the
    streaming rules, when there are any.
    """
    exp = Expander(users, tweets, media or {}, polls or {}, places or {})
    flat = _values(tweet, exp, twarc, matching_rules)
    return [cell(flat.get(c)) for c in COLUMNS]


def _by(items: Any, key: str = "id") -> dict[str, dict[str, Any]]:
    if not isinstance(items, list):
        return {}
    return {i[key]: i for i in items if isinstance(i, dict) and key in i}


def batch_rows(pages: list[dict[str, Any]]) -> list[list[str]]:
    """twarc-csv's rows for one batch of twarc2 pages (it reads 100 lines a batch).

    Each tweet id is written once (its first occurrence), and integer columns
    with a gap anywhere in the batch are written as floats (``12.0``), as
    pandas does.
    """
    seen: set[str] = set()
    items: list[tuple[dict[str, Any], Expander, Any, Any]] = []
    for page in pages:
        data = page.get("data")
        if isinstance(data, dict):
            data = [data]
        if not isinstance(data, list) or not data:
            continue
        inc = page.get("includes")
        if not isinstance(inc, dict):
            inc = {}
        exp = Expander(
            _by(inc.get("users")),
            _by(inc.get("tweets")),
            _by(inc.get("media"), "media_key"),
            _by(inc.get("polls")),
            _by(inc.get("places")),
        )
        for t in data:
            if not isinstance(t, dict) or "id" not in t or t["id"] in seen:
                continue
            seen.add(t["id"])
            items.append((t, exp, page.get("__twarc"), page.get("matching_rules")))
    return batch_of(items)


def batch_of(items: list[tuple[dict[str, Any], Expander, Any, Any]]) -> list[list[str]]:
    """twarc-csv's rows for the tweets of one batch, each given with the expander of its page,
    the page's ``__twarc`` and ``matching_rules``: integer columns with a gap anywhere in the
    batch are written as floats (``12.0``), as pandas does."""
    flats = [_values(t, exp, twarc, rules) for t, exp, twarc, rules in items]
    floats = []
    for c in COLUMNS:
        vals = [f.get(c) for f in flats]
        if any(v is None for v in vals) and any(v is not None for v in vals):
            if all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in vals):
                floats.append(c)
    for f in flats:
        for c in floats:
            if f.get(c) is not None:
                f[c] = float(f[c])
    return [[cell(f.get(c)) for c in COLUMNS] for f in flats]


# ----------------------------------------------------------------------------- v1 fallback

_TAG_RE = re.compile(r"<[^>]*>")


def _v2_time(value: datetime | str | None) -> str | None:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return value


def row_from_post(post: dict[str, Any]) -> list[str]:
    """A twarc-csv row from a normalized post (for tweets with no v2 raw).

    Fills ids, references, author id and handle, creation time (in the API v2
    form twarc-csv copies, ``2021-09-22T16:37:20.000Z``), text, lang, source
    (the client name, without v1's HTML link), public metrics, sensitivity,
    entities (``#tag``, ``@user``, links), place name and country; the rest is
    left empty.
    """
    hashtags = post.get("hashtags_raw") or []
    mentions = post.get("mentions") or []
    urls = post.get("urls") or []
    source = post.get("source")
    if isinstance(source, str) and "<" in source:
        source = _TAG_RE.sub("", source)
    metrics_known = any(post.get(k) is not None for k in ("repost_count", "reply_count", "like_count", "quote_count"))
    values: dict[str, Any] = {
        "id": post.get("id"),
        "conversation_id": post.get("conversation_id"),
        "referenced_tweets.replied_to.id": post.get("reply_to_id"),
        "referenced_tweets.retweeted.id": post.get("repost_of_id"),
        "referenced_tweets.quoted.id": post.get("quote_of_id"),
        "author_id": post.get("author_id"),
        "in_reply_to_user_id": post.get("reply_to_author_id"),
        "created_at": _v2_time(post.get("created_at")),
        "text": post.get("text"),
        "lang": post.get("lang"),
        "source": source,
        "public_metrics.reply_count": post.get("reply_count"),
        "public_metrics.retweet_count": post.get("repost_count"),
        "public_metrics.quote_count": post.get("quote_count"),
        "public_metrics.like_count": post.get("like_count"),
        "possibly_sensitive": post.get("sensitive"),
        "entities.hashtags": ["#" + h for h in hashtags] if hashtags else None,
        "entities.mentions": ["@" + m for m in mentions] if mentions else None,
        "entities.urls": list(urls) if urls else None,
        "author.id": post.get("author_id"),
        "author.username": post.get("author_handle"),
        "geo.full_name": post.get("place"),
        "geo.country_code": post.get("country"),
    }
    if not metrics_known:
        for k in list(values):
            if k.startswith("public_metrics."):
                values[k] = None
    return [cell(values.get(c)) for c in COLUMNS]
