"""Bluesky Jetstream v1 events -> posts, accounts and deletions.

Jetstream (https://github.com/bluesky-social/jetstream) serves the AT
Protocol firehose as JSON, one event per message (and per line once saved)::

    {"did": ..., "time_us": ..., "kind": "commit",
     "commit": {"rev", "operation", "collection", "rkey", "record", "cid"}}
    {"did": ..., "time_us": ..., "kind": "identity", "identity": {"handle", ...}}
    {"did": ..., "time_us": ..., "kind": "account", "account": {"active", ...}}

What becomes what
-----------------
* ``app.bsky.feed.post`` create/update -> a post (an update replaces the stored
  post as a whole: text, hashtags, links and all; ``REPLACES``). Its id is the at:// URI
  ``at://{did}/app.bsky.feed.post/{rkey}``; ``author_id`` is the DID.
  ``createdAt`` (as the client declared it) is ``created_at``; when it is
  missing or unreadable, the event time (``time_us``) is used instead.
  ``lang`` is ``langs[0]``. Rich-text facets (and ``tags``) are the only source of entities:
  ``#tag`` facets give hashtags, then ``record.tags`` (the extra hashtags the
  app lets an author add outside the text) those not already among them,
  ``#mention`` facets give ``mention_ids``
  (DIDs) and ``mentions`` (the handle as written in the text), ``#link`` facets
  give urls. A '#word' in the text without a tag facet is NOT a hashtag: the
  Bluesky app shows it as plain text, so we do not invent one.
  ``reply.parent.uri`` -> ``reply_to_id`` (its DID -> ``reply_to_author_id``),
  ``reply.root.uri`` -> ``conversation_id`` (an original post is the root of
  its own conversation). An embedded post (``app.bsky.embed.record`` or
  ``recordWithMedia`` pointing at an ``app.bsky.feed.post``) -> ``quote_of_id``.
  Kind: quote, else reply, else original. Images/video -> ``media``
  ('image:<blob cid>', 'video:<blob cid>'); external link cards -> ``urls``.
  Self-labels porn/sexual/nudity/graphic-media/gore -> ``sensitive``.
* ``app.bsky.feed.repost`` create -> a post of kind 'repost' whose id is the
  repost record's own at:// URI, ``repost_of_id`` = ``subject.uri`` and
  ``created_at`` = the record's ``createdAt``. A repost record carries no text
  or hashtags of what it reposts.
* delete of a post or a repost -> a deletion (reason 'jetstream-delete',
  ``deleted_at`` = event time).
* ``identity`` events -> an account observation with the handle;
  ``account`` events -> an account observation (its active/status stay in
  ``raw``); ``app.bsky.actor.profile`` create/update -> an account observation
  with display name and description. All observed at the event time.
* Likes, follows, blocks, list items and other collections are not posts and
  are skipped without a reject.
"""

from __future__ import annotations

from typing import Any

from groundswell.formats.base import (
    REPLACES,
    RecordError,
    Sink,
    as_id,
    epoch_time,
    fold_tag,
    iso_time,
    json_type,
    post_kind,
    raw_json,
)

NAME = "bluesky"

POST = "app.bsky.feed.post"
REPOST = "app.bsky.feed.repost"
PROFILE = "app.bsky.actor.profile"
_KINDS = ("commit", "identity", "account")
_SENSITIVE_LABELS = frozenset({"porn", "sexual", "nudity", "graphic-media", "gore"})


def sniff(obj: Any) -> bool:
    """A Jetstream event: a dict with did, time_us and a known kind."""
    return (
        isinstance(obj, dict)
        and isinstance(obj.get("did"), str)
        and "time_us" in obj
        and obj.get("kind") in _KINDS
    )


def time_us(obj: Any) -> int | None:
    """The event's ``time_us`` (the Jetstream cursor), or None."""
    if not isinstance(obj, dict):
        return None
    value = obj.get("time_us")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def parse(obj: Any, sink: Sink) -> None:
    """Parse one Jetstream event into ``sink``."""
    if not isinstance(obj, dict):
        raise RecordError(f"not a Jetstream event: a JSON {json_type(obj)}")
    did = obj.get("did")
    if not isinstance(did, str) or not did.startswith("did:"):
        raise RecordError("Jetstream event without a did")
    kind = obj.get("kind")
    tus = time_us(obj)
    observed = epoch_time(tus, "us") if tus is not None else None
    if kind == "commit":
        _commit(obj, did, observed, sink)
    elif kind == "identity":
        ident = obj.get("identity")
        handle = ident.get("handle") if isinstance(ident, dict) else None
        sink.account(_account(obj, did, observed, handle=handle if isinstance(handle, str) else None))
    elif kind == "account":
        sink.account(_account(obj, did, observed))
    else:
        raise RecordError(f"unknown Jetstream event kind {str(kind)[:30]!r}")


def _account(obj: Any, did: str, observed: Any, **fields: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {"platform": NAME, "id": did, "observed_at": observed}
    rec.update(fields)
    rec["raw"] = raw_json(obj)
    return rec


def _commit(obj: dict[str, Any], did: str, observed: Any, sink: Sink) -> None:
    commit = obj.get("commit")
    if not isinstance(commit, dict):
        raise RecordError("commit event without a commit")
    collection = commit.get("collection")
    operation = commit.get("operation")
    if collection not in (POST, REPOST, PROFILE):
        return  # likes, follows, blocks, ...: not posts
    rkey = commit.get("rkey")
    if not isinstance(rkey, str) or not rkey:
        raise RecordError(f"{collection} commit without an rkey")
    uri = f"at://{did}/{collection}/{rkey}"
    if operation == "delete":
        if collection != PROFILE:
            sink.deletion(
                {
                    "platform": NAME,
                    "id": uri,
                    "author_id": did,
                    "deleted_at": observed,
                    "reason": "jetstream-delete",
                }
            )
        return
    if operation not in ("create", "update"):
        raise RecordError(f"unknown commit operation {str(operation)[:30]!r}")
    record = commit.get("record")
    if not isinstance(record, dict):
        raise RecordError(f"{collection} {operation} without a record")
    if collection == PROFILE:
        name = record.get("displayName")
        desc = record.get("description")
        sink.account(
            _account(
                obj,
                did,
                observed,
                display_name=name if isinstance(name, str) else None,
                description=desc if isinstance(desc, str) else None,
            )
        )
        return
    created = _created(record, observed, sink)
    raw = raw_json(obj)
    if collection == REPOST:
        subject = record.get("subject")
        target = subject.get("uri") if isinstance(subject, dict) else None
        if not isinstance(target, str) or not target:
            raise RecordError("repost without a subject uri")
        sink.post(
            {
                "platform": NAME,
                "id": uri,
                "author_id": did,
                "created_at": created,
                "kind": "repost",
                "repost_of_id": target,
                "conversation_id": None,
                "is_reference": False,
                "raw": raw,
            }
        )
        return
    rec = _post(record, uri, did, created, raw, sink)
    if operation == "update":
        rec[REPLACES] = True  # an edited post: the new version as a whole, not merged into the old
    sink.post(rec)


def _created(record: dict[str, Any], observed: Any, sink: Sink) -> Any:
    try:
        created = iso_time(record.get("createdAt"))
    except RecordError:
        sink.reject("unreadable createdAt; the event time was used")
        created = None
    return created if created is not None else observed


def _post(
    record: dict[str, Any], uri: str, did: str, created: Any, raw: str, sink: Sink
) -> dict[str, Any]:
    text = record.get("text")
    if text is not None and not isinstance(text, str):
        raise RecordError("post text is not a string")
    langs = record.get("langs")
    lang = langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None

    hashtags: list[str] = []
    hashtags_raw: list[str] = []
    mentions: list[str] = []
    mention_ids: list[str] = []
    urls: list[str] = []
    media: list[str] = []
    _facets(record.get("facets"), text or "", hashtags, hashtags_raw, mentions, mention_ids, urls, sink)
    _extra_tags(record.get("tags"), hashtags, hashtags_raw, sink)

    reply_to_id = reply_to_author = None
    conversation_id: str | None = uri
    reply = record.get("reply")
    if reply is not None:
        parent = _ref_uri(reply.get("parent")) if isinstance(reply, dict) else None
        if parent is None:
            sink.reject("reply without a parent uri")
        else:
            reply_to_id = parent
            reply_to_author = _uri_did(parent)
            root = _ref_uri(reply.get("root"))
            conversation_id = root if root is not None else None

    quote_of_id = _embed(record.get("embed"), urls, media, sink)

    kind = post_kind(None, reply_to_id, quote_of_id)
    return {
        "platform": NAME,
        "id": uri,
        "author_id": did,
        "created_at": created,
        "text": text,
        "lang": lang,
        "kind": kind,
        "reply_to_id": reply_to_id,
        "reply_to_author_id": reply_to_author,
        "quote_of_id": quote_of_id,
        "conversation_id": conversation_id,
        "hashtags": hashtags,
        "hashtags_raw": hashtags_raw,
        "mentions": mentions,
        "mention_ids": mention_ids,
        "urls": _unique(urls),
        "media": media,
        "sensitive": _sensitive(record.get("labels")),
        "is_reference": False,
        "raw": raw,
    }


def _facets(
    facets: Any,
    text: str,
    hashtags: list[str],
    hashtags_raw: list[str],
    mentions: list[str],
    mention_ids: list[str],
    urls: list[str],
    sink: Sink,
) -> None:
    if facets is None:
        return
    if not isinstance(facets, list):
        sink.reject("facets is not a list")
        return
    encoded: bytes | None = None
    for facet in facets:
        features = facet.get("features") if isinstance(facet, dict) else None
        if not isinstance(features, list):
            sink.reject("facet without features")
            continue
        for feature in features:
            if not isinstance(feature, dict):
                sink.reject("facet feature is not an object")
                continue
            ftype = feature.get("$type")
            if ftype == "app.bsky.richtext.facet#tag":
                tag = feature.get("tag")
                if isinstance(tag, str) and tag.lstrip("#"):
                    tag = tag.lstrip("#")
                    hashtags_raw.append(tag)
                    hashtags.append(fold_tag(tag))
                else:
                    sink.reject("tag facet without a tag")
            elif ftype == "app.bsky.richtext.facet#mention":
                target = feature.get("did")
                if not isinstance(target, str) or not target:
                    sink.reject("mention facet without a did")
                    continue
                mention_ids.append(target)
                if encoded is None:
                    encoded = text.encode("utf-8")
                handle = _slice(encoded, facet.get("index"))
                if handle:
                    mentions.append(handle.lstrip("@"))
            elif ftype == "app.bsky.richtext.facet#link":
                link = feature.get("uri")
                if isinstance(link, str) and link:
                    urls.append(link)
                else:
                    sink.reject("link facet without a uri")


def _extra_tags(tags: Any, hashtags: list[str], hashtags_raw: list[str], sink: Sink) -> None:
    """``record.tags``: hashtags the author added outside the text (the app's extra tags,
    up to 8). Each one not already a tag facet of the post is added after them."""
    if tags is None:
        return
    if not isinstance(tags, list):
        sink.reject("tags is not a list")
        return
    have = set(hashtags)
    for tag in tags:
        if not isinstance(tag, str) or not tag.lstrip("#").strip():
            sink.reject("a tag of record.tags is not a name")
            continue
        tag = tag.lstrip("#").strip()
        key = fold_tag(tag)
        if key not in have:
            have.add(key)
            hashtags.append(key)
            hashtags_raw.append(tag)


def _slice(encoded: bytes, index: Any) -> str | None:
    """The text a facet covers (facet indexes count UTF-8 bytes)."""
    if not isinstance(index, dict):
        return None
    start, end = index.get("byteStart"), index.get("byteEnd")
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(encoded)):
        return None
    return encoded[start:end].decode("utf-8", errors="replace").strip() or None


def _embed(embed: Any, urls: list[str], media: list[str], sink: Sink) -> str | None:
    """Collect media and links of an embed; return the quoted post's uri."""
    if embed is None:
        return None
    if not isinstance(embed, dict):
        sink.reject("embed is not an object")
        return None
    etype = embed.get("$type")
    if etype == "app.bsky.embed.record":
        return _quoted(embed.get("record"), urls, sink)
    if etype == "app.bsky.embed.recordWithMedia":
        rec = embed.get("record")
        quoted = _quoted(rec.get("record") if isinstance(rec, dict) else None, urls, sink)
        _embed(embed.get("media"), urls, media, sink)
        return quoted
    if etype == "app.bsky.embed.images":
        images = embed.get("images")
        for image in images if isinstance(images, list) else []:
            ref = _blob(image.get("image") if isinstance(image, dict) else None)
            if ref:
                media.append(f"image:{ref}")
    elif etype == "app.bsky.embed.video":
        ref = _blob(embed.get("video"))
        if ref:
            media.append(f"video:{ref}")
    elif etype == "app.bsky.embed.external":
        ext = embed.get("external")
        link = ext.get("uri") if isinstance(ext, dict) else None
        if isinstance(link, str) and link:
            urls.append(link)
    return None


def _quoted(ref: Any, urls: list[str], sink: Sink) -> str | None:
    uri = _ref_uri(ref)
    if uri is None:
        sink.reject("record embed without a uri")
        return None
    if f"/{POST}/" in uri:
        return uri
    urls.append(uri)  # a feed, list or starter pack: a link, not a quote
    return None


def _blob(blob: Any) -> str | None:
    if not isinstance(blob, dict):
        return None
    ref = blob.get("ref")
    if isinstance(ref, dict) and isinstance(ref.get("$link"), str):
        return str(ref["$link"])
    cid = blob.get("cid")  # legacy blob form
    return cid if isinstance(cid, str) else None


def _ref_uri(ref: Any) -> str | None:
    if not isinstance(ref, dict):
        return None
    uri = ref.get("uri")
    return as_id(uri) if isinstance(uri, str) and uri else None


def _uri_did(uri: str) -> str | None:
    if not uri.startswith("at://"):
        return None
    authority = uri[5:].split("/", 1)[0]
    return authority if authority.startswith("did:") else None


def _sensitive(labels: Any) -> bool:
    """True when the author self-labelled the post as adult or graphic."""
    values = labels.get("values") if isinstance(labels, dict) else None
    if not isinstance(values, list):
        return False
    return any(isinstance(v, dict) and v.get("val") in _SENSITIVE_LABELS for v in values)


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
