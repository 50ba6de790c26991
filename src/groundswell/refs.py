"""References between posts that an archive records only as links or text conventions.

A platform's own fields say that a post reposts, quotes or replies to another
(``repost_of_id``, ``quote_of_id``, ``reply_to_id``). Scraped archives
(GetOldTweets, a CSV export without reference columns) and plain links carry
the same evidence less directly:

* a link to a post: ``twitter.com|x.com/<handle>/status/<id>`` (also
  ``mobile.``/``www.`` hosts and ``/statuses/``), ``bsky.app/profile/<handle
  or DID>/post/<rkey>``, a Mastodon status
  (``https://<host>/@<user>/<id>`` or ``https://<host>/users/<user>/statuses/<id>``);
* text conventions of scraped tweets: ``RT @handle:`` at the start (a repost of
  that account's post, which post unknown) and a leading ``@handle`` (a reply
  to that account). These are *inferred*, and marked so wherever they count.

GetOldTweets put spaces into what it scraped ("https:// twitter.com/ …",
"@ user"): the patterns allow blanks after ``://``, around ``/`` and after
``@``.

This module only reads strings; it knows nothing of the store. The analyses
call it on the few rows a SQL prefilter (:data:`URL_LIKE`, :data:`TEXT_LIKE`)
lets through, so texts are parsed, never printed or kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = ["PostRef", "TextRef", "parse_post_url", "post_refs_in", "text_convention", "twitter_id_time",
           "mastodon_id_time", "bluesky_id_time", "id_time", "URL_LIKE", "TEXT_LIKE"]

# Twitter's Snowflake ids (from 2010-11-04): (milliseconds since this epoch) << 22 | worker and sequence
_SNOWFLAKE_EPOCH_MS = 1288834974657
# the sequential ids before Snowflake stayed below 3e10; from 1e15 on (2010-11-07) every id is a Snowflake
_SNOWFLAKE_MIN = 10**15

_B = r"[ \t]*"  # GetOldTweets' blanks inside links
_TWITTER = re.compile(
    rf"(?:https?:{_B}//{_B})?(?:www\.|mobile\.|m\.)?(?:twitter|x)\.com{_B}/{_B}(?:#!/)?"
    rf"(?P<handle>[A-Za-z0-9_]{{1,15}}){_B}/{_B}status(?:es)?{_B}/{_B}(?P<id>\d{{5,20}})",
    re.IGNORECASE)
_TWITTER_WEB = re.compile(  # twitter.com/i/web/status/<id>: the author is not named
    rf"(?:https?:{_B}//{_B})?(?:www\.|mobile\.)?(?:twitter|x)\.com{_B}/{_B}i{_B}/{_B}web{_B}/{_B}"
    rf"status{_B}/{_B}(?P<id>\d{{5,20}})", re.IGNORECASE)
_BSKY = re.compile(
    rf"(?:https?:{_B}//{_B})?(?:www\.)?bsky\.app{_B}/{_B}profile{_B}/{_B}(?P<actor>[A-Za-z0-9._:%-]+)"
    rf"{_B}/{_B}post{_B}/{_B}(?P<rkey>[A-Za-z0-9._~-]{{1,64}})", re.IGNORECASE)
_MASTODON_AT = re.compile(
    rf"https?:{_B}//{_B}(?P<host>[A-Za-z0-9.-]+\.[A-Za-z]{{2,}}){_B}/{_B}@(?P<user>[A-Za-z0-9_.]+)"
    rf"(?:@(?P<remote>[A-Za-z0-9.-]+))?{_B}/{_B}(?P<id>\d{{6,20}})\b")
_MASTODON_USERS = re.compile(
    rf"https?:{_B}//{_B}(?P<host>[A-Za-z0-9.-]+\.[A-Za-z]{{2,}}){_B}/{_B}users{_B}/{_B}(?P<user>[A-Za-z0-9_.]+)"
    rf"{_B}/{_B}statuses{_B}/{_B}(?P<id>\d{{6,20}})\b")
_NOT_MASTODON = frozenset({"twitter.com", "x.com", "www.twitter.com", "mobile.twitter.com", "bsky.app",
                           "www.instagram.com", "instagram.com", "medium.com", "www.tiktok.com", "tiktok.com",
                           "www.youtube.com", "youtube.com"})
_RT = re.compile(r"^\s*RT\s*@\s*(?P<handle>[A-Za-z0-9_]{1,30})\s*:", re.IGNORECASE)
_LEAD_AT = re.compile(r"^\s*(?:\.\s*)?@\s*(?P<handle>[A-Za-z0-9_]{1,30})\b")

# SQL LIKE prefilters (portable across engines): a url or text that may hold a reference
URL_LIKE = ("%/status%", "%bsky.app%/post/%", "%/@%", "%/statuses/%")
TEXT_LIKE = ("RT @%", "RT  @%", "@%", " @%", ".@%", "RT @ %")


@dataclass(frozen=True)
class PostRef:
    """A post named by a link. ``post_id`` is the id the store would keep the
    post under when the link alone says it (tweet ids, Mastodon status URIs of
    the instance's own statuses); ``rkey`` and ``actor`` are kept for Bluesky,
    whose store ids need the author's DID."""

    platform: str
    handle: str | None
    post_id: str | None
    actor: str | None = None
    rkey: str | None = None

    @property
    def key(self) -> str:
        """One string for grouping links to the same post."""
        if self.post_id:
            return f"{self.platform}:{self.post_id}"
        return f"{self.platform}:{(self.actor or self.handle or '').lower()}/{self.rkey}"


@dataclass(frozen=True)
class TextRef:
    """An inferred reference from a scraped text convention: ``kind`` is
    ``repost`` (``RT @handle:``) or ``reply`` (a leading ``@handle``)."""

    kind: str
    handle: str


def parse_post_url(url: str | None) -> PostRef | None:
    """The post a URL points to, or None when it does not point to a post."""
    if not url:
        return None
    for ref in post_refs_in(url):
        return ref
    return None


def post_refs_in(text: str | None) -> list[PostRef]:
    """Every post link in a string (a URL column's value or a whole text), in order, without repeats."""
    if not text:
        return []
    found: list[tuple[int, PostRef]] = []
    for m in _TWITTER.finditer(text):
        h = m.group("handle")
        if h.lower() in ("i", "intent", "share", "search", "hashtag", "home"):
            continue
        found.append((m.start(), PostRef("twitter", h, m.group("id"))))
    for m in _TWITTER_WEB.finditer(text):
        found.append((m.start(), PostRef("twitter", None, m.group("id"))))
    for m in _BSKY.finditer(text):
        actor = m.group("actor").replace("%3A", ":").replace("%3a", ":")
        did = actor if actor.startswith("did:") else None
        pid = f"at://{did}/app.bsky.feed.post/{m.group('rkey')}" if did else None
        found.append((m.start(), PostRef("bluesky", None if did else actor.lower(), pid, actor, m.group("rkey"))))
    for m in _MASTODON_USERS.finditer(text):
        host, user = m.group("host").lower(), m.group("user")
        if host in _NOT_MASTODON:
            continue
        found.append((m.start(), PostRef("mastodon", f"{user}@{host}",
                                         f"https://{host}/users/{user}/statuses/{m.group('id')}")))
    for m in _MASTODON_AT.finditer(text):
        host, user, remote = m.group("host").lower(), m.group("user"), m.group("remote")
        if host in _NOT_MASTODON or host.endswith(("twitter.com", "x.com", "bsky.app")):
            continue
        if remote:  # the instance's copy of a remote status: its id is local to that instance
            found.append((m.start(), PostRef("mastodon", f"{user}@{remote.lower()}", None, host, m.group("id"))))
        else:
            found.append((m.start(), PostRef("mastodon", f"{user}@{host}",
                                             f"https://{host}/users/{user}/statuses/{m.group('id')}")))
    out: list[PostRef] = []
    seen: set[str] = set()
    for _, ref in sorted(found, key=lambda x: x[0]):
        if ref.key not in seen:
            seen.add(ref.key)
            out.append(ref)
    return out


def text_convention(text: str | None) -> TextRef | None:
    """``RT @handle:`` (repost) or a leading ``@handle`` (reply) at the start of a scraped text."""
    if not text:
        return None
    m = _RT.match(text)
    if m:
        return TextRef("repost", m.group("handle"))
    m = _LEAD_AT.match(text)
    if m:
        return TextRef("reply", m.group("handle"))
    return None


# Mastodon's ids since 2.0 (October 2017): milliseconds since 1970 shifted left by 16 bits; a status
# URI (https://host/users/<name>/statuses/<id>) or URL (https://host/@<name>/<id>) carries its server's id
_MASTODON_FIRST = datetime(2017, 9, 1)  # snowflake ids came with Mastodon 2.0


def _plausible(t: datetime, first: datetime) -> datetime | None:
    """``t`` when it lies between ``first`` and a day from now (an id read as a time outside that holds none)."""
    return t if first <= t <= datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1) else None


def mastodon_id_time(post_id: str | None) -> datetime | None:
    """When a Mastodon post was made, read from the id in its status URI or URL (UTC, naive, to the
    millisecond; the origin server's id, which Mastodon makes from the post's time); None for anything
    else, and for ids from before Mastodon 2.0 (sequential, no time in them) or from the future."""
    s = post_id or ""
    m = _MASTODON_USERS.fullmatch(s) or _MASTODON_AT.fullmatch(s)
    if m is None or m.group("host").lower() in _NOT_MASTODON:
        return None
    n = int(m.group("id"))
    if n >= 1 << 63:
        return None
    return _plausible(datetime.fromtimestamp((n >> 16) / 1000, tz=UTC).replace(tzinfo=None), _MASTODON_FIRST)


# Bluesky record keys are TIDs: 13 base32-sortable characters of (microseconds since 1970 << 10 | clock id),
# made by the posting client from its clock
_TID_CHARS = "234567abcdefghijklmnopqrstuvwxyz"
_BSKY_POST = re.compile(r"^at://did:[a-z0-9]+:[A-Za-z0-9._:%-]+/app\.bsky\.feed\.post/(?P<tid>[2-7a-j][2-7a-z]{12})$")
_TID_FIRST = datetime(2000, 1, 1)


def bluesky_id_time(post_id: str | None) -> datetime | None:
    """When a Bluesky post was made, read from the TID in its ``at://`` URI (UTC, naive; the posting
    client's clock: on the real recorded posts in ../shared/data, 229 of 275 within 1 s of ``createdAt``,
    273 within a minute); None for anything else."""
    m = _BSKY_POST.match(post_id or "")
    if m is None:
        return None
    n = 0
    for ch in m.group("tid"):
        n = n * 32 + _TID_CHARS.index(ch)
    return _plausible(datetime.fromtimestamp((n >> 10) / 1e6, tz=UTC).replace(tzinfo=None), _TID_FIRST)


def id_time(post_id: str | None) -> datetime | None:
    """A post's time read from its id, where the platform writes it there (Twitter, Mastodon, Bluesky);
    else None."""
    return twitter_id_time(post_id) or mastodon_id_time(post_id) or bluesky_id_time(post_id)


def twitter_id_time(post_id: str | None) -> datetime | None:
    """When a Twitter post was made, read from its Snowflake id (UTC, naive, to the millisecond); None for
    anything that is not a Snowflake tweet id (older sequential ids, other platforms' ids)."""
    if not post_id or not post_id.isascii() or not post_id.isdigit() or len(post_id) > 20:
        return None
    n = int(post_id)
    if n < _SNOWFLAKE_MIN or n >= 1 << 63:
        return None
    ms = (n >> 22) + _SNOWFLAKE_EPOCH_MS
    return datetime.fromtimestamp(ms / 1000, tz=UTC).replace(tzinfo=None)
