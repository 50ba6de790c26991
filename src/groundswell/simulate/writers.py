"""Write simulated posts as the real platforms' files.

One writer per format, each producing records shaped exactly like the real
ones (field names, nesting, id styles, time formats) so the ordinary parsers
read them:

``twitter-v2``  ``posts.jsonl``: twarc2 search pages, one per line, up to 100
                tweets in ``data`` (newest first), ``includes.users`` and
                ``includes.tweets`` (every referenced tweet), ``meta``,
                ``__twarc``. Deletions: ``compliance.jsonl``, twarc2 compliance
                job lines ``{"id","action":"delete","created_at","redacted_at","reason":"deleted"}``.
``twitter-v1``  ``posts.jsonl``: one v1.1 extended tweet per line (``full_text``,
                ``id_str``, ``retweeted_status``, ``quoted_status``, entities with
                ``indices``); deletions in ``compliance.jsonl`` as above.
``bluesky``     ``posts.jsonl``: Jetstream v1 events in ``time_us`` order: an
                ``identity`` event (with the handle) before an account's first
                post, ``app.bsky.feed.post`` creates (hashtag facets with UTF-8
                byte offsets, ``reply`` refs, ``app.bsky.embed.record`` quotes),
                ``app.bsky.feed.repost`` creates (``via`` when reposted from a
                repost), and ``delete`` commits for deletions.
``mastodon``    ``posts.jsonl``: one Mastodon API Status per line, as a hashtag
                timeline on ``mastodon.example`` returns them (HTML ``content``,
                ``tags``, ``reblog``, ``in_reply_to_id``, ``quote``, ``account``).
                All accounts are local to that server (so replies link up: a
                post's id is its status ``uri``, an account's its profile url).
                Deleted statuses are in the file (collected before deletion);
                the truth lists them.
``csv``         ``posts.csv``: id, author, author_id, created_at, text, lang,
                country, hashtags, reply_to_id, reply_to_author_id,
                repost_of_id, quote_of_id, conversation_id and counts. Deleted
                posts are in the file; the truth lists them.
``csv-scraped`` ``posts.csv`` as the GetOldTweets scrapes of 2017 were saved
                (the columns of ``metoo-getoldtweets-2017``): tweet_id,
                created_at_utc, date_as_scraped (US Eastern), username,
                text, retweets, favorites, mentions, hashtags, geo,
                permalink. No reference columns and no user ids: a reply is
                its leading "@ name", a repost an "RT @ name:" row, a quote
                or link the status URL in the text; GetOldTweets' quirks are
                kept ("# MeToo" and "@ name" detached in the text, bare '#'
                and '@' marks in the hashtags and mentions columns, the
                replied-to name after the author's in username). No
                follows.csv (a scrape has no follower graph).

Mentions and links (:mod:`.process`) are written into the text after the
post's own words, with the entities/facets each platform gives them (Twitter:
``t.co`` links with the status URL as ``expanded_url``).

Everything written is a pure function of the simulation, so the same
arguments give byte-identical files (gzip is written with mtime 0).
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from datetime import UTC, datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, cast

import numpy as np
import orjson

from groundswell.simulate import ids
from groundswell.simulate.config import COMMUNITIES, SimConfig
from groundswell.simulate.network import Network
from groundswell.simulate.process import HOUR_MS, Delete, Post

_UTC = UTC
_SOURCES = ("Twitter for iPhone", "Twitter for Android", "Twitter Web App", "TweetDeck")
_SOURCE_URLS = (
    "http://twitter.com/download/iphone",
    "http://twitter.com/download/android",
    "https://mobile.twitter.com",
    "https://about.twitter.com/products/tweetdeck",
)
_COUNTRY = {"US": "United States", "GB": "United Kingdom", "CA": "Canada", "AU": "Australia",
            "IN": "India", "FR": "France", "BE": "Belgium", "ES": "Spain", "MX": "Mexico",
            "AR": "Argentina", "DE": "Germany", "AT": "Austria"}
_BIO = {"entertainment": "films, shows and music", "news_media": "reporter, views my own",
        "politics": "policy and public life", "sports": "game day every day",
        "tech": "building things", "academia": "research and teaching",
        "francophone": "cinéma et actualité", "hispanophone": "noticias y cultura",
        "germanophone": "Kultur und Nachrichten"}
MASTODON_HOME = "mastodon.example"


def _kept(b: bytes) -> orjson.Fragment:
    """JSON kept for reuse (a post embedded later, a user object): copied to its
    own size, as ``orjson.dumps`` returns bytes inside a buffer of at least 4 KiB."""
    return orjson.Fragment(bytes(memoryview(b)))


def open_out(path: Path, compress: str | None) -> tuple[IO[bytes], Path]:
    """A binary file to write, compressed on request (deterministically)."""
    if compress == "gz":
        path = path.with_name(path.name + ".gz")
        raw = open(path, "wb")  # noqa: SIM115 - closed with the gzip stream below
        gz = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0)
        gz._gs_raw = raw  # type: ignore[attr-defined]
        # a GzipFile is a binary file (io.BufferedIOBase), though not nominally a typing.IO
        return cast(IO[bytes], gz), path
    if compress == "zst":
        import zstandard

        path = path.with_name(path.name + ".zst")
        return zstandard.ZstdCompressor(level=3).stream_writer(open(path, "wb")), path  # noqa: SIM115
    return open(path, "wb", buffering=1 << 20), path  # noqa: SIM115


def close_out(fh: IO[bytes]) -> None:
    fh.close()
    raw = getattr(fh, "_gs_raw", None)
    if raw is not None:
        raw.close()


_last_sec = [-1, ""]


def iso_ms(ms: int) -> str:
    sec = ms // 1000
    if sec != _last_sec[0]:
        _last_sec[0] = sec
        _last_sec[1] = f"{datetime.fromtimestamp(sec, _UTC):%Y-%m-%dT%H:%M:%S}"
    return f"{_last_sec[1]}.{ms % 1000:03d}Z"


def v1_time(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, _UTC).strftime("%a %b %d %H:%M:%S +0000 %Y")


def _tco(url: str) -> str:
    """A t.co-style short link for ``url`` (Twitter shows every link so)."""
    return "https://t.co/" + ids.cid(url)[7:17]


class Writer:
    """Base: account ids and handles, collection time, output files."""

    name = ""
    platform = "twitter"  # the platform ingest stores the posts under
    writes_follows = True  # follows.csv beside the posts
    # a reply or repost in the files names the post it answers by id (a scrape names only its author)
    reply_ids_in_files = True
    short_links = False  # links in the text as t.co (expanded in the entities)

    def __init__(self, out: Path, cfg: SimConfig, net: Network, window_end_ms: int) -> None:
        self.out = out
        self.cfg = cfg
        self.net = net
        self.collected_ms = window_end_ms + HOUR_MS
        self.files: list[Path] = []
        self.counter = 0
        self._aid: dict[int, str] = {}

    # ids and handles as this platform writes them
    def account_id(self, a: int) -> str:
        v = self._aid.get(a)
        if v is None:
            v = self._aid[a] = self._make_account_id(a)
        return v

    def _make_account_id(self, a: int) -> str:
        return ids.twitter_user_id(int(self.net.created_ms[a]), a)

    def account_handle(self, a: int) -> str:
        return self.net.handle(a)

    def assign(self, p: Post) -> None:
        self.counter += 1
        p.id = ids.snowflake(p.t, self.counter)

    def mention_name(self, a: int) -> str:
        """How a mention of ``a`` is written after the '@'."""
        return self.net.handle(a)

    def status_url(self, x: Post) -> str:
        """The public URL of post ``x`` (what a link to it looks like)."""
        return f"https://twitter.com/{self.net.handle(x.author)}/status/{x.id}"

    def full_text(self, p: Post) -> tuple[str, list[tuple[int, int, int]], list[tuple[str, str, int, int]]]:
        """``p.text`` with its mentions and link appended: (text, [(account, start, end)],
        [(url, as shown, start, end)]); the hashtag spans of ``p.tags`` stay valid."""
        text = p.text
        mentions = []
        for a in p.mentions:
            tok = "@" + self.mention_name(a)
            text += " "
            mentions.append((a, len(text), len(text) + len(tok)))
            text += tok
        urls = []
        if p.link is not None:
            url = self.status_url(p.link)
            shown = _tco(url) if self.short_links else url
            text += " "
            urls.append((url, shown, len(text), len(text) + len(shown)))
            text += shown
        return text, mentions, urls

    def post(self, p: Post) -> None:
        raise NotImplementedError

    def delete(self, d: Delete) -> None:  # noqa: B027 - formats without deletions ignore them
        pass

    def close(self, last_ms: int) -> None:
        raise NotImplementedError

    def _open(self, name: str) -> IO[bytes]:
        fh, path = open_out(self.out / name, self.cfg.compress)
        self.files.append(path)
        return fh

    def _tweet_count(self, a: int) -> int:
        return int(50 + 400 * self.net.activity[a])

    def _source(self, p: Post) -> int:
        return (p.author * 7 + p.i) % len(_SOURCES)


class _ComplianceMixin:
    compliance: IO[bytes] | None = None

    def delete(self, d: Delete) -> None:
        if self.compliance is None:
            self.compliance = self._open("compliance.jsonl")  # type: ignore[attr-defined]
        self.compliance.write(
            orjson.dumps(
                {
                    "id": d.id,
                    "action": "delete",
                    "created_at": iso_ms(d.created),
                    "redacted_at": iso_ms(d.t),
                    "reason": "deleted",
                }
            )
            + b"\n"
        )

    def _close_compliance(self) -> None:
        if self.compliance is not None:
            close_out(self.compliance)


# ---------------------------------------------------------------------------
# Twitter API v2 (twarc2 pages)


class TwitterV2Writer(_ComplianceMixin, Writer):
    name = "twitter-v2"
    short_links = True

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.fh = self._open("posts.jsonl")
        self.page: list[Post] = []
        self.pages = 0
        self._user = lru_cache(maxsize=1 << 14)(self._user_obj)

    def _user_obj(self, a: int) -> orjson.Fragment:
        net = self.net
        comm = COMMUNITIES[net.community[a]][0]
        return _kept(orjson.dumps({
            "id": self.account_id(a),
            "name": net.display_name(a),
            "username": net.handle(a),
            "created_at": iso_ms(int(net.created_ms[a])),
            "description": _BIO[comm],
            "location": _COUNTRY.get(net.country[a], ""),
            "protected": False,
            "verified": bool(net.verified[a]),
            "public_metrics": {
                "followers_count": int(net.n_followers[a]),
                "following_count": int(net.n_following[a]),
                "tweet_count": self._tweet_count(a),
                "listed_count": int(net.n_followers[a]) // 40,
            },
            "profile_image_url": "https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png",
            "url": "",
        }))

    def _frag(self, p: Post) -> orjson.Fragment:
        """The tweet serialized once: in ``data`` and in every page's ``includes``."""
        if p.frag is None:
            p.frag = _kept(orjson.dumps(self._tweet(p)))
        return p.frag  # type: ignore[return-value]

    def _tweet(self, p: Post) -> dict[str, Any]:
        net = self.net
        t: dict[str, Any] = {
            "id": p.id,
            "author_id": self.account_id(p.author),
            "created_at": iso_ms(p.t),
            "conversation_id": p.conv or p.id,
            "lang": p.lang,
            "possibly_sensitive": False,
            "reply_settings": "everyone",
            "source": _SOURCES[self._source(p)],
        }
        mentions = []
        prefix = ""
        refs = []
        if p.kind == "repost":
            x = p.parent
            assert x is not None
            h = net.handle(x.author)
            prefix = f"RT @{h}: "
            mentions.append({"start": 3, "end": 4 + len(h), "username": h, "id": self.account_id(x.author)})
            refs.append({"type": "retweeted", "id": x.id})
            t["conversation_id"] = p.id
            metrics = {"retweet_count": x.n_repost, "reply_count": 0, "like_count": 0, "quote_count": 0}
        else:
            metrics = {"retweet_count": p.n_repost, "reply_count": p.n_reply,
                       "like_count": p.n_like, "quote_count": p.n_quote}
            if p.kind == "reply":
                x = p.parent
                assert x is not None
                h = net.handle(x.author)
                prefix = f"@{h} "
                mentions.append({"start": 0, "end": 1 + len(h), "username": h, "id": self.account_id(x.author)})
                refs.append({"type": "replied_to", "id": x.id})
                t["in_reply_to_user_id"] = self.account_id(x.author)
            elif p.kind == "quote":
                assert p.parent is not None
                refs.append({"type": "quoted", "id": p.parent.id})
        body, extra, urls = self.full_text(p)
        t["text"] = prefix + body
        off = len(prefix)
        mentions += [{"start": s + off, "end": e + off, "username": net.handle(a), "id": self.account_id(a)}
                     for a, s, e in extra]
        ents: dict[str, Any] = {}
        if p.tags:
            ents["hashtags"] = [{"start": s + off, "end": e + off, "tag": tag} for tag, s, e in p.tags]
        if mentions:
            ents["mentions"] = mentions
        if urls:
            ents["urls"] = [{"start": s + off, "end": e + off, "url": shown, "expanded_url": url,
                             "display_url": url.split("://", 1)[1][:26] + "…"} for url, shown, s, e in urls]
        if ents:
            t["entities"] = ents
        t["public_metrics"] = metrics
        if refs:
            t["referenced_tweets"] = refs
        return t

    def post(self, p: Post) -> None:
        self.page.append(p)
        if len(self.page) == 100:
            self._flush()

    def _flush(self) -> None:
        if not self.page:
            return
        data = []
        users: dict[int, None] = {}
        refd: dict[str, Post] = {}
        for p in reversed(self.page):  # newest first, as the search API returns them
            data.append(self._tweet(p) if p.kind == "repost" else self._frag(p))
            users[p.author] = None
            if p.parent is not None:
                refd.setdefault(p.parent.id, p.parent)
                users[p.parent.author] = None
        self.pages += 1
        newest = self.page[-1]
        retrieved = max(self.collected_ms, newest.t + HOUR_MS)
        page: dict[str, Any] = {
            "data": data,
            "includes": {
                "users": [self._user(a) for a in users],
                "tweets": [self._frag(x) for x in refd.values()],
            },
            "meta": {
                "newest_id": newest.id,
                "oldest_id": self.page[0].id,
                "result_count": len(data),
                "next_token": ids.cid(f"{self.cfg.seed}:{self.pages}")[7:40],
            },
            "__twarc": {
                "url": "https://api.twitter.com/2/tweets/search/all?expansions=author_id%2Creferenced_tweets.id"
                "%2Creferenced_tweets.id.author_id%2Cin_reply_to_user_id&tweet.fields=author_id%2Cconversation_id"
                "%2Ccreated_at%2Centities%2Cid%2Cin_reply_to_user_id%2Clang%2Cpublic_metrics%2Creferenced_tweets"
                f"%2Ctext&query=%23{self.cfg.hashtag}&max_results=100",
                "version": "2.14.0",
                "retrieved_at": iso_ms(retrieved)[:19] + "+00:00",
            },
        }
        if not page["includes"]["tweets"]:
            del page["includes"]["tweets"]
        self.fh.write(orjson.dumps(page) + b"\n")
        self.page = []

    def close(self, last_ms: int) -> None:
        self._flush()
        close_out(self.fh)
        self._close_compliance()


# ---------------------------------------------------------------------------
# Twitter API v1.1 (twarc 1.x lines)


class TwitterV1Writer(_ComplianceMixin, Writer):
    name = "twitter-v1"
    short_links = True

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.fh = self._open("posts.jsonl")
        self._user = lru_cache(maxsize=1 << 14)(self._user_obj)

    def _user_obj(self, a: int) -> orjson.Fragment:
        net = self.net
        uid = self.account_id(a)
        return _kept(orjson.dumps({
            "id": int(uid),
            "id_str": uid,
            "name": net.display_name(a),
            "screen_name": net.handle(a),
            "location": _COUNTRY.get(net.country[a], ""),
            "description": _BIO[COMMUNITIES[net.community[a]][0]],
            "url": None,
            "entities": {"description": {"urls": []}},
            "protected": False,
            "followers_count": int(net.n_followers[a]),
            "friends_count": int(net.n_following[a]),
            "listed_count": int(net.n_followers[a]) // 40,
            "created_at": v1_time(int(net.created_ms[a])),
            "favourites_count": self._tweet_count(a) * 2,
            "utc_offset": None,
            "time_zone": None,
            "geo_enabled": False,
            "verified": bool(net.verified[a]),
            "statuses_count": self._tweet_count(a),
            "lang": None,
            "contributors_enabled": False,
            "is_translator": False,
            "is_translation_enabled": False,
            "profile_background_color": "F5F8FA",
            "profile_image_url_https": "https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png",
            "default_profile": True,
            "default_profile_image": False,
            "following": None,
            "follow_request_sent": None,
            "notifications": None,
            "translator_type": "none",
        }))

    def _tweet(self, p: Post, embed: bool = True) -> dict[str, Any]:
        net = self.net
        src = self._source(p)
        mentions = []
        prefix = ""
        x = p.parent
        if p.kind == "repost":
            assert x is not None
            h = net.handle(x.author)
            prefix = f"RT @{h}: "
            mentions.append(self._mention(x.author, 3))
        elif p.kind == "reply":
            assert x is not None
            h = net.handle(x.author)
            prefix = f"@{h} "
            mentions.append(self._mention(x.author, 0))
        off = len(prefix)
        body, extra, urls = self.full_text(p)
        text = prefix + body
        mentions += [self._mention(a, s + off) for a, s, _ in extra]
        t: dict[str, Any] = {
            "created_at": v1_time(p.t),
            "id": int(p.id),
            "id_str": p.id,
            "full_text": text,
            "truncated": False,
            "display_text_range": [off if p.kind == "reply" else 0, len(text)],
            "entities": {
                "hashtags": [{"text": tag, "indices": [s + off, e + off]} for tag, s, e in p.tags],
                "symbols": [],
                "user_mentions": mentions,
                "urls": [{"url": shown, "expanded_url": url, "display_url": url.split("://", 1)[1][:26] + "…",
                          "indices": [s + off, e + off]} for url, shown, s, e in urls],
            },
            "source": f'<a href="{_SOURCE_URLS[src]}" rel="nofollow">{_SOURCES[src]}</a>',
            "in_reply_to_status_id": int(x.id) if p.kind == "reply" and x else None,
            "in_reply_to_status_id_str": x.id if p.kind == "reply" and x else None,
            "in_reply_to_user_id": int(self.account_id(x.author)) if p.kind == "reply" and x else None,
            "in_reply_to_user_id_str": self.account_id(x.author) if p.kind == "reply" and x else None,
            "in_reply_to_screen_name": net.handle(x.author) if p.kind == "reply" and x else None,
            "user": self._user(p.author),
            "geo": None,
            "coordinates": None,
            "place": None,
            "contributors": None,
            "is_quote_status": p.kind == "quote",
        }
        if p.kind == "repost" and x is not None:
            t["retweeted_status"] = self._embedded(x)
            t["retweet_count"] = x.n_repost
            t["favorite_count"] = 0
        else:
            t["retweet_count"] = p.n_repost
            t["favorite_count"] = p.n_like
        if p.kind == "quote" and x is not None:
            t["quoted_status_id"] = int(x.id)
            t["quoted_status_id_str"] = x.id
            if embed:
                t["quoted_status"] = self._embedded(x)
        t["favorited"] = False
        t["retweeted"] = False
        t["possibly_sensitive"] = False
        t["lang"] = p.lang
        return t

    def _mention(self, a: int, start: int) -> dict[str, Any]:
        uid = self.account_id(a)
        h = self.net.handle(a)
        return {"screen_name": h, "name": self.net.display_name(a), "id": int(uid), "id_str": uid,
                "indices": [start, start + 1 + len(h)]}

    def _embedded(self, x: Post) -> orjson.Fragment:
        """A tweet as embedded in another (a quote's own quoted_status is left out)."""
        if x.frag is None:
            x.frag = _kept(orjson.dumps(self._tweet(x, embed=False)))
        return x.frag  # type: ignore[return-value]

    def post(self, p: Post) -> None:
        if p.kind in ("quote", "repost"):  # never embedded as they are here: not kept
            self.fh.write(orjson.dumps(self._tweet(p)) + b"\n")
        else:
            self.fh.write(orjson.dumps(self._embedded(p)) + b"\n")

    def close(self, last_ms: int) -> None:
        close_out(self.fh)
        self._close_compliance()


# ---------------------------------------------------------------------------
# Bluesky Jetstream


class BlueskyWriter(Writer):
    name = "bluesky"
    platform = "bluesky"
    POST = "app.bsky.feed.post"
    REPOST = "app.bsky.feed.repost"

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.fh = self._open("posts.jsonl")
        self.seen_accounts: set[int] = set()
        self.seq = 31_000_000_000

    def _make_account_id(self, a: int) -> str:
        return ids.did(self.cfg.seed, a)

    def account_handle(self, a: int) -> str:
        return f"{self.net.handle(a).lower()}.bsky.social"

    def mention_name(self, a: int) -> str:
        return self.account_handle(a)

    def status_url(self, x: Post) -> str:
        return f"https://bsky.app/profile/{self.account_handle(x.author)}/post/{x.id.rsplit('/', 1)[1]}"

    def assign(self, p: Post) -> None:
        self.counter += 1
        coll = self.REPOST if p.kind == "repost" else self.POST
        p.id = f"at://{self.account_id(p.author)}/{coll}/{ids.tid(p.t * 1000 + self.counter % 1000, self.counter)}"

    def _ref(self, q: Post) -> dict[str, str]:
        if q.frag is None:
            q.frag = ids.cid(q.id)  # the record's CID, computed once
        return {"cid": q.frag, "uri": q.id}  # type: ignore[dict-item]

    def _time_us(self, ms: int) -> int:
        self.counter += 1
        return ms * 1000 + 250_000 + self.counter % 1000

    def post(self, p: Post) -> None:
        did = self.account_id(p.author)
        time_us = self._time_us(p.t)
        if p.author not in self.seen_accounts:
            self.seen_accounts.add(p.author)
            self.seq += 1
            self.fh.write(orjson.dumps({
                "did": did, "time_us": time_us - 1, "kind": "identity",
                "identity": {"did": did, "handle": self.account_handle(p.author), "seq": self.seq,
                             "time": iso_ms(p.t)},
            }) + b"\n")
        rkey = p.id.rsplit("/", 1)[1]
        if p.kind == "repost":
            assert p.parent is not None and p.seen is not None
            record: dict[str, Any] = {
                "$type": self.REPOST,
                "createdAt": iso_ms(p.t),
                "subject": self._ref(p.parent),
            }
            if p.seen is not p.parent:
                record["via"] = self._ref(p.seen)
            coll = self.REPOST
        else:
            coll = self.POST
            record = {"$type": self.POST, "createdAt": iso_ms(p.t)}
            if p.kind == "quote" and p.parent is not None:
                record["embed"] = {"$type": "app.bsky.embed.record", "record": self._ref(p.parent)}
            text, extra, urls = self.full_text(p)
            spans = [(s, e, {"$type": "app.bsky.richtext.facet#tag", "tag": tag}) for tag, s, e in p.tags]
            spans += [(s, e, {"$type": "app.bsky.richtext.facet#mention", "did": self.account_id(a)})
                      for a, s, e in extra]
            spans += [(s, e, {"$type": "app.bsky.richtext.facet#link", "uri": url}) for url, _, s, e in urls]
            if spans:
                facets = []
                for s, e, feature in spans:
                    bs = len(text[:s].encode())
                    facets.append({
                        "features": [feature],
                        "index": {"byteEnd": bs + len(text[s:e].encode()), "byteStart": bs},
                    })
                record["facets"] = facets
            record["langs"] = [p.lang]
            if p.kind == "reply" and p.parent is not None:
                root = p.conv or p.parent.id
                record["reply"] = {
                    "parent": self._ref(p.parent),
                    "root": {"cid": ids.cid(root), "uri": root},
                }
            record["text"] = text
        ev = {
            "did": did,
            "time_us": time_us,
            "kind": "commit",
            "commit": {
                "rev": ids.tid(time_us, self.counter),
                "operation": "create",
                "collection": coll,
                "rkey": rkey,
                "record": record,
                "cid": self._ref(p)["cid"],
            },
        }
        self.fh.write(orjson.dumps(ev) + b"\n")

    def delete(self, d: Delete) -> None:
        did = self.account_id(d.author)
        time_us = self._time_us(d.t)
        self.fh.write(orjson.dumps({
            "did": did, "time_us": time_us, "kind": "commit",
            "commit": {"rev": ids.tid(time_us, self.counter), "operation": "delete",
                       "collection": self.POST, "rkey": d.id.rsplit("/", 1)[1]},
        }) + b"\n")

    def close(self, last_ms: int) -> None:
        close_out(self.fh)


# ---------------------------------------------------------------------------
# Mastodon statuses


def _html_escape(s: str) -> str:
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            .replace("'", "&#39;"))


class MastodonWriter(Writer):
    name = "mastodon"
    platform = "mastodon"

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.fh = self._open("posts.jsonl")
        self._acct = lru_cache(maxsize=1 << 14)(lambda a: _kept(orjson.dumps(self._account_obj(a))))

    def domain(self, a: int) -> str:
        return MASTODON_HOME

    def _make_account_id(self, a: int) -> str:
        """The account's profile url: what identifies an account across servers."""
        return f"https://{MASTODON_HOME}/@{self.net.handle(a)}"

    def account_handle(self, a: int) -> str:
        return f"{self.net.handle(a)}@{MASTODON_HOME}"

    def local_account_id(self, a: int) -> str:
        return ids.mastodon_id(int(self.net.created_ms[a]), a)

    def status_url(self, x: Post) -> str:
        return f"https://{self.domain(x.author)}/@{self.net.handle(x.author)}/{x.x}"

    def assign(self, p: Post) -> None:
        """``p.id`` is the status uri (its ActivityPub id); ``p.x`` the server's numeric id."""
        self.counter += 1
        num = ids.mastodon_id(p.t, self.counter)
        h = self.net.handle(p.author)
        p.x = num
        p.id = f"https://{MASTODON_HOME}/users/{h}/statuses/{num}" + ("/activity" if p.kind == "repost" else "")

    def _fields(self, a: int, created: int) -> list[dict[str, Any]]:
        """Mastodon has no verified badge: a verified account proves its website (a profile
        field with ``verified_at``, the rel=me link check), as notable accounts do."""
        if not self.net.verified[a]:
            return []
        site = f"https://{self.net.handle(a).lower()}.example.org"
        return [{"name": "Website", "verified_at": iso_ms(created + 86_400_000),
                 "value": f'<a href="{site}" target="_blank" rel="nofollow noopener noreferrer me">'
                          f'<span class="invisible">https://</span><span class="">{site[8:]}</span></a>'}]

    def _account_obj(self, a: int) -> dict[str, Any]:
        net = self.net
        d = self.domain(a)
        h = net.handle(a)
        created = int(net.created_ms[a])
        return {
            "id": self.local_account_id(a),
            "username": h,
            "acct": h,
            "display_name": net.display_name(a),
            "locked": False,
            "bot": False,
            "discoverable": True,
            "group": False,
            "created_at": iso_ms(created - created % 86_400_000),
            "note": f"<p>{_html_escape(_BIO[COMMUNITIES[net.community[a]][0]])}</p>",
            "url": f"https://{d}/@{h}",
            "uri": f"https://{d}/users/{h}",
            "avatar": f"https://{MASTODON_HOME}/avatars/original/missing.png",
            "avatar_static": f"https://{MASTODON_HOME}/avatars/original/missing.png",
            "header": f"https://{MASTODON_HOME}/headers/original/missing.png",
            "header_static": f"https://{MASTODON_HOME}/headers/original/missing.png",
            "followers_count": int(net.n_followers[a]),
            "following_count": int(net.n_following[a]),
            "statuses_count": self._tweet_count(a),
            "last_status_at": None,
            "emojis": [],
            "fields": self._fields(a, created),
        }

    def _mention(self, a: int) -> tuple[str, dict[str, Any]]:
        h = self.net.handle(a)
        url = f"https://{self.domain(a)}/@{h}"
        html = f'<span class="h-card" translate="no"><a href="{url}" class="u-url mention">@<span>{h}</span></a></span>'
        return html, {"id": self.local_account_id(a), "username": h, "url": url, "acct": h}

    def _content(self, p: Post) -> tuple[str, list[dict[str, Any]]]:
        parts = ["<p>"]
        mentions = []
        if p.kind == "reply" and p.parent is not None:
            html, m = self._mention(p.parent.author)
            parts.append(html + " ")
            mentions.append(m)
        text, extra, urls = self.full_text(p)
        spans: list[tuple[int, int, str]] = []
        for tag, s, e in p.tags:
            spans.append((s, e, f'<a href="https://{MASTODON_HOME}/tags/{tag}" class="mention hashtag" '
                                f'rel="tag">#<span>{tag}</span></a>'))
        for a, s, e in extra:
            html, m = self._mention(a)
            spans.append((s, e, html))
            mentions.append(m)
        for url, _, s, e in urls:
            scheme, rest = url.split("://", 1)
            spans.append((s, e, f'<a href="{url}" target="_blank" rel="nofollow noopener noreferrer" translate="no">'
                                f'<span class="invisible">{scheme}://</span>'
                                f'<span class="">{_html_escape(rest)}</span></a>'))
        pos = 0
        for s, e, html in sorted(spans):
            parts.append(_html_escape(text[pos:s]))
            parts.append(html)
            pos = e
        parts.append(_html_escape(text[pos:]))
        parts.append("</p>")
        return "".join(parts), mentions

    def _status(self, p: Post) -> dict[str, Any]:
        d = self.domain(p.author)
        h = self.net.handle(p.author)
        if p.kind == "repost":
            assert p.parent is not None
            return {
                "id": p.x, "created_at": iso_ms(p.t), "in_reply_to_id": None, "in_reply_to_account_id": None,
                "sensitive": False, "spoiler_text": "", "visibility": "public", "language": None,
                "uri": p.id,
                "url": p.id,
                "replies_count": 0, "reblogs_count": 0, "favourites_count": 0, "quotes_count": 0,
                "edited_at": None, "favourited": False, "reblogged": False, "muted": False, "bookmarked": False,
                "content": "", "filtered": [], "reblog": self._frag(p.parent), "application": None,
                "account": self._acct(p.author), "media_attachments": [], "mentions": [], "tags": [],
                "emojis": [], "quote": None, "card": None, "poll": None,
            }
        content, mentions = self._content(p)
        x = p.parent
        return {
            "id": p.x, "created_at": iso_ms(p.t),
            "in_reply_to_id": x.x if p.kind == "reply" and x else None,
            "in_reply_to_account_id": self.local_account_id(x.author) if p.kind == "reply" and x else None,
            "sensitive": False, "spoiler_text": "", "visibility": "public", "language": p.lang,
            "uri": p.id,
            "url": f"https://{d}/@{h}/{p.x}",
            "replies_count": p.n_reply, "reblogs_count": p.n_repost, "favourites_count": p.n_like,
            "quotes_count": p.n_quote, "edited_at": None, "favourited": False, "reblogged": False,
            "muted": False, "bookmarked": False, "content": content, "filtered": [], "reblog": None,
            "application": {"name": "Web", "website": None} if d == MASTODON_HOME else None,
            "account": self._acct(p.author), "media_attachments": [], "mentions": mentions,
            "tags": [{"name": tag.lower(), "url": f"https://{MASTODON_HOME}/tags/{tag.lower()}"}
                     for tag, _, _ in p.tags],
            "emojis": [],
            "quote": {"state": "accepted", "quoted_status": self._frag(x)} if p.kind == "quote" and x else None,
            "card": None, "poll": None,
        }

    def _frag(self, p: Post) -> orjson.Fragment:
        if p.frag is None:
            p.frag = _kept(orjson.dumps(self._status(p)))
        return p.frag  # type: ignore[return-value]

    def post(self, p: Post) -> None:
        obj = self._status(p) if p.kind == "repost" else self._frag(p)  # reblogs are never embedded
        self.fh.write(orjson.dumps(obj) + b"\n")

    def close(self, last_ms: int) -> None:
        close_out(self.fh)


# ---------------------------------------------------------------------------
# plain CSV

CSV_COLUMNS = ("id", "author", "author_id", "created_at", "text", "lang", "country", "hashtags",
               "reply_to_id", "reply_to_author_id", "repost_of_id", "quote_of_id", "conversation_id",
               "repost_count", "reply_count", "like_count", "quote_count")


class CsvWriter(Writer):
    name = "csv"

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.raw = self._open("posts.csv")
        self.fh = io.TextIOWrapper(self.raw, encoding="utf-8", newline="", write_through=False)
        self.w = csv.writer(self.fh, lineterminator="\n")
        self.w.writerow(CSV_COLUMNS)

    def post(self, p: Post) -> None:
        x = p.parent
        src = x if p.kind == "repost" and x is not None else p
        self.w.writerow((
            p.id, self.net.handle(p.author), self.account_id(p.author), iso_ms(p.t), self.full_text(p)[0], p.lang,
            self.net.country[p.author], " ".join(t for t, _, _ in p.tags),
            x.id if p.kind == "reply" and x else "",
            self.account_id(x.author) if p.kind == "reply" and x else "",
            x.id if p.kind == "repost" and x else "",
            x.id if p.kind == "quote" and x else "",
            p.conv if p.kind == "reply" else p.id,
            src.n_repost, 0 if p.kind == "repost" else p.n_reply,
            0 if p.kind == "repost" else p.n_like, 0 if p.kind == "repost" else p.n_quote,
        ))

    def close(self, last_ms: int) -> None:
        self.fh.flush()
        self.fh.detach()
        close_out(self.raw)


# ---------------------------------------------------------------------------
# GetOldTweets-like scrape (the layout of shared/data/metoo-getoldtweets-2017)

SCRAPED_COLUMNS = ("tweet_id", "created_at_utc", "date_as_scraped", "username", "text", "retweets", "favorites",
                   "mentions", "hashtags", "geo", "permalink")
_DETACH = re.compile(r"(?<![\w/])([#@])(?=\w)")


def _eastern(ms: int) -> str:
    """US Eastern local time, as GetOldTweets stored its dates."""
    try:
        from zoneinfo import ZoneInfo

        tz: Any = ZoneInfo("America/New_York")
    except Exception:  # noqa: BLE001 - no time zone data: EST all year
        from datetime import timedelta

        tz = timezone(timedelta(hours=-5))
    return datetime.fromtimestamp(ms // 1000, _UTC).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


class ScrapedCsvWriter(Writer):
    """Search results as GetOldTweets scraped them: no reference columns, no user ids."""

    name = "csv-scraped"
    writes_follows = False
    reply_ids_in_files = False  # '@ name ...' and 'RT @name:' name the author only; a quote is a status URL

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.raw = self._open("posts.csv")
        self.fh = io.TextIOWrapper(self.raw, encoding="utf-8", newline="", write_through=False)
        self.w = csv.writer(self.fh, lineterminator="\n")
        self.w.writerow(SCRAPED_COLUMNS)

    def _make_account_id(self, a: int) -> str:
        """What ingest stores without a user-id column: the lower-cased handle."""
        return self.net.handle(a).lower()

    def post(self, p: Post) -> None:
        net, x = self.net, p.parent
        h = net.handle(p.author)
        body, extra, urls = self.full_text(p)
        n_mentions = len(extra)
        username = h
        if p.kind == "repost" and x is not None:
            body = f"RT @{net.handle(x.author)}: {body}"
            n_mentions += 1
        elif p.kind == "reply" and x is not None:
            body = f"@{net.handle(x.author)} {body}"
            n_mentions += 1
            username = f"{h} {net.handle(x.author)}"  # GetOldTweets: several names, the author's first
        elif p.kind == "quote" and x is not None:
            body = f"{body} {self.status_url(x)}"  # a quote shows as the quoted tweet's URL
        text = _DETACH.sub(r"\1 ", body)
        rep = p.kind == "repost"
        self.w.writerow((
            p.id, iso_ms(p.t), _eastern(p.t), username, text,
            0 if rep else p.n_repost, 0 if rep else p.n_like,
            " ".join("@" for _ in range(n_mentions)), " ".join("#" for _ in p.tags), "",
            f"https://twitter.com/{h}/status/{p.id}",
        ))

    def close(self, last_ms: int) -> None:
        self.fh.flush()
        self.fh.detach()
        close_out(self.raw)


FOLLOWS_COLUMNS = ("follower_id", "followed_id", "platform")


def write_follows(out: Path, net: Network, writer: Writer, chunk: int = 1 << 16) -> Path:
    """The follower graph as ``follows.csv`` (``follower_id,followed_id,platform``), with
    the account ids ingest stores; rows ordered by followed account, then follower
    (the network's CSR order), written in chunks."""
    fh, path = open_out(out / "follows.csv", writer.cfg.compress)
    try:
        fh.write((",".join(FOLLOWS_COLUMNS) + "\n").encode())
        aid = [writer.account_id(a) for a in range(net.n)]
        plat = writer.platform
        for lo in range(0, len(net.followers), chunk):
            fs = net.followers[lo:lo + chunk].tolist()
            pos = np.arange(lo, min(lo + chunk, len(net.followers)), dtype=np.int64)
            ds = (np.searchsorted(net.indptr, pos, side="right") - 1).tolist()
            fh.write("".join(f"{aid[f]},{aid[d]},{plat}\n" for f, d in zip(fs, ds)).encode())
    finally:
        close_out(fh)
    return path


WRITERS: dict[str, type[Writer]] = {
    "twitter-v2": TwitterV2Writer,
    "twitter-v1": TwitterV1Writer,
    "bluesky": BlueskyWriter,
    "mastodon": MastodonWriter,
    "csv": CsvWriter,
    "csv-scraped": ScrapedCsvWriter,
}
