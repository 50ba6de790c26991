"""Copies of posts inside other records, and what a deletion clears: shared by the store and privacy.

A platform record often carries whole copies of other posts: a retweet its
``retweeted_status``, a quote its ``quoted_status``, a twarc2 page its
``includes.tweets``, a Bluesky repost or quote its ``embed.record``, a
Mastodon boost its ``reblog``, an account its latest ``status``. When a post
is deleted, every such copy must go too, at any depth (a retweet of a quote
of a reply ...). Both engines finish deletions (:mod:`groundswell.privacy`
on DuckDB, :mod:`groundswell.store.spark` on Spark), so what they share lives
here, below both: it knows nothing but JSON.
"""

from __future__ import annotations

from typing import Any

__all__ = ["POST_SCRUB", "strip_embedded"]

# post columns a deletion clears (the SQL value each becomes): every column that holds what
# the person wrote or who they are, beyond the id, author id, time, links and counts kept for
# honest aggregates; checked against the field declaration by tests/privacy/test_fields.py
POST_SCRUB: dict[str, str] = {"text": "NULL", "raw": "NULL", "author_handle": "NULL", "mentions": "[]",
                              "mention_ids": "[]", "urls": "[]", "media": "[]", "place": "NULL",
                              "country": "NULL", "source": "NULL"}

# keys whose presence makes a dict a copy of a post (not a bare reference such as {"id": ...})
_CONTENT_KEYS = ("text", "full_text", "content", "extended_tweet", "record", "note_tweet", "value")


def strip_embedded(obj: Any, ids: set[str] | frozenset[str]) -> tuple[Any, bool]:
    """Replace embedded copies of the posts ``ids`` (dicts with text) by ``{"id": …, "deleted": true}``.

    Returns (the new object, whether anything changed); an unchanged object is
    returned as is.
    """
    if isinstance(obj, dict):
        for k in ("id_str", "id", "uri"):
            v = obj.get(k)
            if isinstance(v, (str, int)) and not isinstance(v, bool) and str(v) in ids and any(
                    c in obj for c in _CONTENT_KEYS):
                return {"id": str(v), "deleted": True}, True
        changed = False
        out = {}
        for k, v in obj.items():
            nv, c = strip_embedded(v, ids)
            out[k] = nv
            changed = changed or c
        return (out, True) if changed else (obj, False)
    if isinstance(obj, list):
        changed = False
        lst = []
        for v in obj:
            nv, c = strip_embedded(v, ids)
            lst.append(nv)
            changed = changed or c
        return (lst, True) if changed else (obj, False)
    return obj, False
