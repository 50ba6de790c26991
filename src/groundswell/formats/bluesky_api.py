"""Bluesky AppView API responses (XRPC ``app.bsky.*`` views) -> posts, accounts and follows.

Input: one response body as the API returns it (a file of atrrr's or bskyr's
recordings, say), or the envelope ``groundswell collect`` wraps it in
(:mod:`groundswell.formats.envelope`), which adds when it was fetched.

What becomes what
-----------------
* A ``postView`` (``searchPosts``, ``getPosts``, ``getQuotes``, each post of a
  ``getPostThread`` tree, a feed item's post) -> a post made from its
  ``record`` by the Jetstream reader's own rules (:mod:`groundswell.formats.bluesky`):
  the same id (the at:// URI), author (the DID), hashtags (tag facets and ``record.tags``),
  links, mentions, reply and quote links, kind and media as the post's
  Jetstream event gives. On top, the view adds ``author_handle``, the counts
  (``replyCount``, ``repostCount``, ``likeCount``, ``quoteCount``) with
  ``metrics_observed_at`` = the envelope's ``fetched_at`` (NULL for a bare
  body), and labels from moderation services (porn, sexual, nudity,
  graphic-media, gore -> ``sensitive``). ``created_at`` is the record's
  ``createdAt``, else the view's ``indexedAt``. ``raw`` is the view.
* A post quoted in a view (``embed`` ``app.bsky.embed.record#view`` or
  ``recordWithMedia#view`` holding a ``viewRecord`` of a post) -> a post with
  ``is_reference`` true, made the same way from the ``viewRecord``.
* Thread trees: every ``threadViewPost`` (the anchor, its ``parent`` chain and
  all ``replies``) is a full post; ``notFoundPost`` and ``blockedPost`` nodes
  are skipped (there is nothing to read).
* ``getRepostedBy`` (``{uri, repostedBy}``): one post of kind 'repost' per
  actor, ``repost_of_id`` = ``uri``. The API names neither the repost record
  nor its time, so its id is ``{uri}#reposted-by:{did}`` and ``created_at`` is
  NULL (time-based analyses leave such reposts out; who shared what stays).
* Feeds (``getAuthorFeed``, ``getTimeline``, ``getFeed``: ``{feed}``): each
  item's post; a ``reasonRepost`` adds a repost by ``reason.by`` at
  ``reason.indexedAt`` (its id is ``reason.uri`` when the API gives it, else
  as above) and the reposted post becomes a reference, as a Mastodon reblog's
  does; a reply's ``parent`` and ``root`` views are references.
* Accounts: the author of every view, reposters, likers and follow lists are
  observations at an unknown time (``observed_at`` None: the store keeps the
  epoch, its mark for "unknown", and exports write NULL), so they never hide
  a dated profile (a view's author carries no counts); ``getProfile``/
  ``getProfiles`` views (with follower, follow and post counts) are observed
  at ``fetched_at``.
* ``getFollows`` (``{subject, follows}``) -> follows ``subject`` -> each;
  ``getFollowers`` (``{subject, followers}``) -> each -> ``subject``.
* ``getLikes`` -> the likers as accounts (likes are not in the model).

One unreadable element of a list is a reject and the rest of the response is
read; a body in none of these shapes raises :class:`RecordError`.
"""

from __future__ import annotations

from typing import Any

from groundswell.formats import bluesky
from groundswell.formats import envelope as env
from groundswell.formats.base import RecordError, Sink, iso_time, json_type, response_json

NAME = "bluesky-api"
PLATFORM = bluesky.NAME

_THREAD_POST = "app.bsky.feed.defs#threadViewPost"
_VIEW_RECORD = "app.bsky.embed.record#viewRecord"
_REASON_REPOST = "app.bsky.feed.defs#reasonRepost"
_POST_PATH = f"/{bluesky.POST}/"


def sniff(obj: Any) -> bool:
    """A Bluesky AppView response body, or a collect envelope of one."""
    if env.is_envelope(obj, PLATFORM):
        return True
    if not isinstance(obj, dict) or "time_us" in obj:
        return False
    if _is_post_view(_first(obj.get("posts"))):
        return True
    thread = obj.get("thread")
    if isinstance(thread, dict) and str(thread.get("$type", "")).startswith("app.bsky.feed.defs#"):
        return True
    feed = _first(obj.get("feed"))
    if isinstance(feed, dict) and _is_post_view(feed.get("post")):
        return True
    for key in ("repostedBy", "likes"):
        if isinstance(obj.get(key), list) and isinstance(obj.get("uri"), str):
            return True
    for key in ("follows", "followers"):
        if isinstance(obj.get(key), list) and _is_profile(obj.get("subject")):
            return True
    if _is_profile(_first(obj.get("profiles"))):
        return True
    return _is_profile(obj) and ("followersCount" in obj or "indexedAt" in obj)


def parse(obj: Any, sink: Sink) -> None:
    """Parse one response body (bare, or in a collect envelope) into ``sink``."""
    fetched = subject = None
    if env.is_envelope(obj):
        body, meta = env.unwrap(obj)
        if meta.platform != PLATFORM:
            raise RecordError(f"a {meta.platform[:20]} response, not a Bluesky one")
        fetched, subject = meta.fetched_at, meta.subject
    else:
        body = obj
    if not isinstance(body, dict):
        raise RecordError(f"not a Bluesky API response: a JSON {json_type(body)}")
    read = _Reader(sink, fetched)
    if "posts" in body:
        read.each(body["posts"], "posts", read.post_view)
    elif "thread" in body:
        read.thread(body["thread"])
    elif "feed" in body:
        read.each(body["feed"], "feed", read.feed_item)
    elif "repostedBy" in body:
        target = body.get("uri") if isinstance(body.get("uri"), str) else subject
        if not target:
            raise RecordError("repostedBy without the uri of the reposted post")
        read.each(body["repostedBy"], "repostedBy", lambda a: read.reposted_by(a, target))
    elif "follows" in body or "followers" in body:
        read.follow_list(body)
    elif "profiles" in body:
        read.each(body["profiles"], "profiles", lambda p: read.account(p, fetched))
    elif "likes" in body:
        read.each(body["likes"], "likes", lambda like: read.account(like.get("actor") if isinstance(like, dict)
                                                                      else None, None))
    elif _is_profile(body):
        read.account(body, fetched)
    else:
        keys = ", ".join(sorted(str(k) for k in body)[:8])
        raise RecordError(f"not a Bluesky API response this reader knows (keys: {keys})")


# -- helpers ----------------------------------------------------------------------------------


def _first(items: Any) -> Any:
    return items[0] if isinstance(items, list) and items else None


def _is_post_view(v: Any) -> bool:
    return (isinstance(v, dict) and isinstance(v.get("uri"), str) and v["uri"].startswith("at://")
            and isinstance(v.get("author"), dict) and isinstance(v.get("record"), dict))


def _is_profile(v: Any) -> bool:
    return isinstance(v, dict) and isinstance(v.get("did"), str) and isinstance(v.get("handle"), str)


def _count(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def _time(v: Any, sink: Sink, what: str) -> Any:
    try:
        return iso_time(v)
    except RecordError:
        sink.reject(f"unreadable {what}")
        return None


class _Reader:
    def __init__(self, sink: Sink, fetched: Any) -> None:
        self.sink = sink
        self.fetched = fetched

    def each(self, items: Any, what: str, fn: Any) -> None:
        if not isinstance(items, list):
            raise RecordError(f"{what} is not a list")
        for i, item in enumerate(items):
            try:
                fn(item)
            except RecordError as e:
                self.sink.reject(f"{what}[{i}]: {e}")

    # -- posts ---------------------------------------------------------------------------------
    def post_view(self, view: Any, is_reference: bool = False) -> dict[str, Any]:
        if not isinstance(view, dict):
            raise RecordError("post view is not an object")
        uri = view.get("uri")
        if not isinstance(uri, str) or not uri.startswith("at://"):
            raise RecordError("post view without an at:// uri")
        # a postView has its record in 'record', a quoted viewRecord in 'value'
        record = view.get("record") if "record" in view else view.get("value")
        rec = self._post(uri, view.get("author"), record, view, is_reference)
        if not is_reference:
            self._quoted(view.get("embed"))
        return rec

    def _post(self, uri: str, author: Any, record: Any, view: dict[str, Any], is_reference: bool) -> dict[str, Any]:
        sink = self.sink
        if not isinstance(author, dict) or not isinstance(author.get("did"), str):
            raise RecordError("post view without an author did")
        if not isinstance(record, dict):
            raise RecordError("post view without a record")
        did = author["did"]
        created = _time(record.get("createdAt"), sink, "createdAt; indexedAt was used")
        if created is None:
            created = _time(view.get("indexedAt"), sink, "indexedAt")
        rec = bluesky._post(record, uri, did, created, response_json(view), sink)
        counts = {k: _count(view.get(n)) for k, n in (("repost_count", "repostCount"), ("reply_count", "replyCount"),
                                                        ("like_count", "likeCount"), ("quote_count", "quoteCount"))}
        rec.update(counts)
        rec["metrics_observed_at"] = self.fetched if any(v is not None for v in counts.values()) else None
        rec["author_handle"] = _str(author.get("handle"))
        rec["sensitive"] = bool(rec.get("sensitive")) or _labelled(view.get("labels"))
        rec["is_reference"] = is_reference
        sink.post(rec)
        self.account(author, None)
        return rec

    def _quoted(self, embed: Any) -> None:
        """The post a view quotes, as a reference (what ``quote_of_id`` points at)."""
        if not isinstance(embed, dict):
            return
        etype = embed.get("$type")
        inner = embed.get("record")
        if etype == "app.bsky.embed.recordWithMedia#view" and isinstance(inner, dict):
            inner = inner.get("record")
        elif etype != "app.bsky.embed.record#view":
            return
        if not isinstance(inner, dict) or inner.get("$type") != _VIEW_RECORD:
            return  # not found, blocked, detached, or a feed/list/starter pack
        uri = inner.get("uri")
        if not isinstance(uri, str) or _POST_PATH not in uri:
            return
        try:
            self._post(uri, inner.get("author"), inner.get("value"), inner, True)
        except RecordError as e:
            self.sink.reject(f"quoted post: {e}")

    def thread(self, node: Any) -> None:
        """Every post of a thread tree: the anchor, its parents, all replies (iteratively: threads run deep)."""
        if not isinstance(node, dict):
            raise RecordError("thread is not an object")
        stack: list[tuple[Any, bool, bool]] = [(node, True, True)]  # (node, walk up, walk down)
        while stack:
            n, up, down = stack.pop()
            if not isinstance(n, dict):
                self.sink.reject("thread node is not an object")
                continue
            if n.get("$type", _THREAD_POST) != _THREAD_POST or "post" not in n:
                continue  # notFoundPost, blockedPost: nothing to read
            try:
                self.post_view(n.get("post"))
            except RecordError as e:
                self.sink.reject(f"thread post: {e}")
            if up and n.get("parent") is not None:
                stack.append((n["parent"], True, False))
            replies = n.get("replies")
            if down and isinstance(replies, list):
                stack.extend((r, False, True) for r in reversed(replies))

    def feed_item(self, item: Any) -> None:
        if not isinstance(item, dict):
            raise RecordError("feed item is not an object")
        reason = item.get("reason")
        reposted = isinstance(reason, dict) and reason.get("$type") == _REASON_REPOST
        rec = self.post_view(item.get("post"), is_reference=reposted)
        if reposted:
            assert isinstance(reason, dict)
            by = reason.get("by")
            if not isinstance(by, dict) or not isinstance(by.get("did"), str):
                raise RecordError("repost reason without the reposter's did")
            rid = _str(reason.get("uri")) or repost_id(rec["id"], by["did"])
            self._repost(rid, by, rec["id"], _time(reason.get("indexedAt"), self.sink, "repost indexedAt"), reason)
        reply = item.get("reply")
        if isinstance(reply, dict):
            for part in ("root", "parent"):
                view = reply.get(part)
                if _is_post_view(view):
                    try:
                        self.post_view(view, is_reference=True)
                    except RecordError as e:
                        self.sink.reject(f"reply {part}: {e}")

    def reposted_by(self, actor: Any, subject: str) -> None:
        if not isinstance(actor, dict) or not isinstance(actor.get("did"), str):
            raise RecordError("reposter without a did")
        self._repost(repost_id(subject, actor["did"]), actor, subject, None, actor)

    def _repost(self, rid: str, actor: dict[str, Any], subject: str, created: Any, raw: Any) -> None:
        self.sink.post({
            "platform": PLATFORM,
            "id": rid,
            "author_id": actor["did"],
            "author_handle": _str(actor.get("handle")),
            "created_at": created,
            "kind": "repost",
            "repost_of_id": subject,
            "conversation_id": None,
            "is_reference": False,
            "raw": response_json(raw),
        })
        self.account(actor, None)

    # -- accounts and follows ---------------------------------------------------------------------
    def account(self, p: Any, observed: Any) -> None:
        if not _is_profile(p) and not (isinstance(p, dict) and isinstance(p.get("did"), str)):
            raise RecordError("profile without a did")
        assert isinstance(p, dict)
        self.sink.account({
            "platform": PLATFORM,
            "id": p["did"],
            "observed_at": observed,
            "handle": _str(p.get("handle")),
            "display_name": p.get("displayName") if isinstance(p.get("displayName"), str) else None,
            "followers": _count(p.get("followersCount")),
            "following": _count(p.get("followsCount")),
            "posts_count": _count(p.get("postsCount")),
            "verified": _verified(p.get("verification")),
            "created_at": _time(p.get("createdAt"), self.sink, "profile createdAt") if p.get("createdAt") else None,
            "description": p.get("description") if isinstance(p.get("description"), str) else None,
            "raw": response_json(p),
        })

    def follow_list(self, body: dict[str, Any]) -> None:
        subject = body.get("subject")
        if not _is_profile(subject):
            raise RecordError("follow list without a subject profile")
        assert isinstance(subject, dict)
        self.account(subject, None)
        outgoing = "follows" in body
        key = "follows" if outgoing else "followers"

        def one(p: Any) -> None:
            if not isinstance(p, dict) or not isinstance(p.get("did"), str):
                raise RecordError("profile without a did")
            self.account(p, None)
            a, b = (subject["did"], p["did"]) if outgoing else (p["did"], subject["did"])
            self.sink.follow({"platform": PLATFORM, "follower_id": a, "followed_id": b})

        self.each(body.get(key), key, one)


def repost_id(subject: str, actor: str) -> str:
    """The id of a repost the API reports without its record: ``{subject}#reposted-by:{actor}``."""
    return f"{subject}#reposted-by:{actor}"


def _labelled(labels: Any) -> bool:
    """A moderation or self label that marks adult or graphic content."""
    if not isinstance(labels, list):
        return False
    return any(isinstance(x, dict) and x.get("val") in bluesky._SENSITIVE_LABELS and not x.get("neg")
               for x in labels)


def _verified(v: Any) -> bool | None:
    """Bluesky's blue check: ``verification.verifiedStatus == 'valid'`` (or a trusted verifier)."""
    if not isinstance(v, dict):
        return None
    return v.get("verifiedStatus") == "valid" or v.get("trustedVerifierStatus") == "valid"
