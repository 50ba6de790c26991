"""Mastodon statuses (REST API entities and streaming events) -> posts and accounts.

Accepted input (one decoded JSON value at a time): a Status object; a list of
them (a timeline page, a whole-document array); a thread context
``{"ancestors": [...], "descendants": [...]}``; a streaming event
``{"event": "update"|"status.update", "payload": "<status JSON>"}`` or
``{"event": "delete", "payload": "<id>"}``. A ``_server`` field on a status
(added by our collectors) names the server it was fetched from.

Identifiers (chosen for platform-wide uniqueness)
-------------------------------------------------
* A post's ``id`` is the status ``uri``: its ActivityPub id, the same on every
  server that knows the status (the numeric ``id`` is local to the server that
  answered, so the same status fetched from two servers would otherwise be two
  posts). A status without ``uri`` falls back to its ``url``.
* ``author_id`` is the account ``url`` (its profile page), which is globally
  unique and, unlike the actor ``uri``, also present in every mention, so
  ``mention_ids`` and ``reply_to_author_id`` use the same form. ``author_handle``
  and ``mentions`` are the full ``user@domain`` address (a local ``acct``
  without a domain gets the host of its profile url).
* ``in_reply_to_id`` is a server-local number. ``reply_to_id`` is the parent's
  uri whenever it can be derived exactly: the status is local to the server
  that answered (its uri ends in ``/statuses/{id}``) and the parent's author is
  a local account of that server (the author itself, or a mention without a
  domain) -> the parent's uri is built the way this server builds uris
  (``…/users/{username}/statuses/{n}`` or ``…/ap/users/{account id}/statuses/{n}``).
  So a reply and its parent fetched from the same server link up whenever the
  parent is local there. Otherwise ``reply_to_id`` is the server-scoped address
  ``https://{server}/api/v1/statuses/{n}`` (server: ``_server``, else the host
  of a local author's profile), which names the parent unambiguously; the
  store turns it into the parent's URI as soon as it holds the parent, in this
  file or any other, before or after (:mod:`groundswell.addresses`). Without
  any server it is NULL. Either way the kind is 'reply'. ``conversation_id`` is
  not given by the API and stays NULL.
* The server that answered: a status' ``_server`` (collect's envelope, our
  collectors), else, for the statuses of one response (a list, a timeline
  page, a thread context), the one host its *local* statuses share (a status
  whose ``id`` is the number its URI or url ends with is local to that host);
  that server is written into each status' ``_server`` (so into ``raw``).
  A list whose local statuses name two hosts gets none.

Content
-------
``content`` HTML is reduced to text with :mod:`html.parser`: paragraphs are
separated by a blank line, ``<br>`` is a newline, entities are unescaped, tags
are dropped (the hidden parts of shortened links are kept, so links are
whole). A content warning (``spoiler_text``) is put before the text, followed by
a blank line. Deleted-status responses carry the source ``text`` instead and it
is used as is. ``tags`` give ``hashtags`` (folded names); ``hashtags_raw`` is
the spelling found in the text ('#MeToo') or the tag name. Links in the
content (not mentions or hashtags) and the card url give ``urls``;
``media_attachments`` give ``media`` ('type:remote_url-or-url').
Counts come from reblogs/replies/favourites/quotes_count. Accounts are never
``verified``: Mastodon has no platform verification (a profile field with
``verified_at`` only proves a link to the person's own web page, and makes
nobody a public figure). The API does not
say when they were observed, so ``metrics_observed_at`` (and the author's
``observed_at``) is the latest time known to precede the observation: the
creation time of the status embedding this one (a reblog, a quote), else the
status' own. A reblogged status seen with 57 reblogs inside a later reblog
thus replaces the 0 its first sighting had (docs/data-model.md, merging).

A reblog is a post of kind 'repost' (its own uri, author and time) with
``repost_of_id`` = the reblogged status' uri; the reblogged status is emitted
too with ``is_reference`` true, and the repost row carries its hashtags (as a
Twitter retweet does) so a reblog counts toward a movement. A Mastodon 4.4+
``quote`` makes a 'quote' with ``quote_of_id`` (the quoted status is emitted as
a reference when included; a shallow quote, which gives only
``quoted_status_id``, gets the server-scoped address as for replies). Every author becomes an account observation
(observed as above).
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import orjson

from groundswell.addresses import status_address
from groundswell.formats.base import (
    HASHTAG_RE,
    RecordError,
    Sink,
    as_id,
    fold_tag,
    iso_time,
    json_type,
    post_kind,
    raw_json,
)

NAME = "mastodon"

_STATUS_KEYS = ("uri", "account", "created_at")
_LOCAL_URI = re.compile(r"^(?P<base>https?://[^/]+)(?P<ap>/ap)?/users/(?P<who>[^/]+)/statuses/(?P<n>[^/]+)$")
_LOCAL_URL = re.compile(r"^(?P<base>https?://[^/]+)/@(?P<who>[^/@]+)/(?P<n>[0-9]+)$")


def sniff(obj: Any) -> bool:
    """A Mastodon status, thread context or streaming event."""
    if isinstance(obj, list):
        return bool(obj) and sniff(obj[0])
    if not isinstance(obj, dict):
        return False
    if "event" in obj and "payload" in obj and obj.get("event") in ("update", "status.update", "delete"):
        return True
    if "ancestors" in obj and "descendants" in obj:
        return True
    return _is_status(obj)


def _is_status(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and all(k in obj for k in _STATUS_KEYS)
        and isinstance(obj.get("account"), dict)
        and ("content" in obj or "text" in obj)
        and "visibility" in obj
    )


def parse(obj: Any, sink: Sink) -> None:
    """Parse a status, a list of statuses, a context or a streaming event."""
    if isinstance(obj, list):
        obj = with_server(obj)
        for i, item in enumerate(obj):
            try:
                parse(item, sink)
            except RecordError as e:
                sink.reject(f"element {i}: {e}")
        return
    if not isinstance(obj, dict):
        raise RecordError(f"not a Mastodon status: a JSON {json_type(obj)}")
    if "event" in obj and "payload" in obj:
        _event(obj, sink)
    elif "ancestors" in obj and "descendants" in obj:
        parts = {part: obj.get(part) for part in ("ancestors", "descendants")}
        both = [x for v in parts.values() if isinstance(v, list) for x in v]
        server = answering_server(both)
        for part, items in parts.items():
            if not isinstance(items, list):
                sink.reject(f"context {part} is not a list")
                continue
            parse(with_server(items, server), sink)
    else:
        _status(obj, sink, is_reference=False)


def _local_host(s: Any) -> str | None:
    """The host a status is local to, when its URI (or url) says the answering server is its
    home: the status' own ``id`` is the number at the end of its URI."""
    if not isinstance(s, dict):
        return None
    own = s.get("id")
    if not isinstance(own, (str, int)) or isinstance(own, bool):
        return None
    for key, pattern in (("uri", _LOCAL_URI), ("url", _LOCAL_URL)):
        v = s.get(key)
        m = pattern.match(v) if isinstance(v, str) else None
        if m is not None and m.group("n") == str(own):
            return urlsplit(m.group("base")).netloc.lower() or None
    return None


def answering_server(statuses: list[Any]) -> str | None:
    """The server that gave one response (a timeline page, a context): the one host its local
    statuses share (a local status' ``id`` ends its URI), or None when none is local or two
    hosts are (a list made of several servers' answers says nothing)."""
    hosts = {h for h in map(_local_host, statuses) if h is not None}
    return hosts.pop() if len(hosts) == 1 else None


def with_server(statuses: list[Any], server: str | None = None) -> list[Any]:
    """The statuses of one response, each with ``_server`` (the server that gave it): the one
    they carry, else ``server``, else :func:`answering_server`. Their ``id`` and
    ``in_reply_to_id`` are that server's numbers, so replies can name their parents."""
    if all(isinstance(x, dict) and x.get("_server") for x in statuses):
        return statuses
    server = server or answering_server(statuses)
    if not server:
        return statuses
    return [{**x, "_server": server} if isinstance(x, dict) and not x.get("_server") else x for x in statuses]


def _event(obj: dict[str, Any], sink: Sink) -> None:
    event, payload = obj.get("event"), obj.get("payload")
    if event == "delete":
        local = as_id(payload)
        if local is None:
            raise RecordError("delete event without an id")
        server = obj.get("_server")
        # only the server-local number is known: use the server-scoped address
        sid = status_address(server, local) if isinstance(server, str) and server else local
        sink.deletion({"platform": NAME, "id": sid, "reason": "mastodon-delete"})
        return
    if event not in ("update", "status.update"):
        return  # notifications, filters_changed, ...: not posts
    if isinstance(payload, str):
        try:
            payload = orjson.loads(payload)
        except orjson.JSONDecodeError:
            raise RecordError(f"{event} event payload is not JSON") from None
    if isinstance(payload, dict) and "_server" in obj and "_server" not in payload:
        payload["_server"] = obj["_server"]
    _status(payload, sink, is_reference=False)


def _status(s: Any, sink: Sink, *, is_reference: bool, seen: datetime | None = None) -> dict[str, Any]:
    """One status (and its author, its reblogged or quoted status). ``seen``: the
    creation time of the status embedding this one, the latest time known to
    precede this observation (the API gives none)."""
    if not isinstance(s, dict) or not isinstance(s.get("account"), dict):
        raise RecordError("not a Mastodon status: no account")
    sid = s.get("uri") or s.get("url")
    if not isinstance(sid, str) or not sid:
        raise RecordError("status without uri or url")
    server = s.get("_server") if isinstance(s.get("_server"), str) else None
    account = s["account"]
    author_id, handle = _account_ids(account)
    if author_id is None:
        raise RecordError("status account without url, uri or acct")
    try:
        created = iso_time(s.get("created_at"))
    except RecordError as e:
        sink.reject(f"created_at: {e}")
        created = None
    observed = seen or created  # the API says nothing of when it answered: the latest time known before it
    sink.account(_account(account, author_id, handle, server, observed))

    reblog = s.get("reblog")
    if isinstance(reblog, dict):
        if server and "_server" not in reblog:
            reblog = {**reblog, "_server": server}
        try:
            inner = _status(reblog, sink, is_reference=True, seen=observed)
        except RecordError as e:
            raise RecordError(f"reblog: {e}") from None
        rec: dict[str, Any] = {
            "platform": NAME,
            "id": sid,
            "author_id": author_id,
            "author_handle": handle,
            "created_at": created,
            "kind": "repost",
            "repost_of_id": inner["id"],
            "hashtags": inner["hashtags"],
            "hashtags_raw": inner["hashtags_raw"],
            "sensitive": _bool(s.get("sensitive")),
            "source": _app(s),
            "is_reference": is_reference,
            "raw": raw_json(s),
        }
        sink.post(rec)
        return rec

    content = s.get("content")
    links: list[str] = []
    if isinstance(content, str):
        text = html_to_text(content, links)
    elif isinstance(s.get("text"), str):
        text = s["text"]  # a deleted-status response: the source text
    else:
        text = None
    spoiler = s.get("spoiler_text")
    if isinstance(spoiler, str) and spoiler.strip():
        text = f"{spoiler}\n\n{text}" if text else spoiler

    hashtags, hashtags_raw = _hashtags(s.get("tags"), text or "", sink)
    mentions, mention_ids, local_mentions = _mentions(s.get("mentions"), sink)
    urls = list(links)
    card = s.get("card")
    if isinstance(card, dict) and isinstance(card.get("url"), str) and card["url"]:
        urls.append(card["url"])

    reply_to_id = reply_to_author = None
    parent_local = as_id(s.get("in_reply_to_id"))
    if parent_local is not None:
        parent_acct = as_id(s.get("in_reply_to_account_id"))
        reply_to_author, reply_to_id = _parent(s, sid, account, parent_local, parent_acct,
                                               local_mentions, author_id, server)

    quote_of_id = _quote(s.get("quote"), sink, server, observed)

    kind = post_kind(None, parent_local, quote_of_id)
    rec = {
        "platform": NAME,
        "id": sid,
        "author_id": author_id,
        "author_handle": handle,
        "created_at": created,
        "text": text,
        "lang": s.get("language") if isinstance(s.get("language"), str) else None,
        "kind": kind,
        "reply_to_id": reply_to_id,
        "reply_to_author_id": reply_to_author,
        "quote_of_id": quote_of_id,
        "hashtags": hashtags,
        "hashtags_raw": hashtags_raw,
        "mentions": mentions,
        "mention_ids": mention_ids,
        "urls": list(dict.fromkeys(urls)),
        "media": _media(s.get("media_attachments"), sink),
        "source": _app(s),
        "sensitive": _bool(s.get("sensitive")),
        "repost_count": _count(s.get("reblogs_count")),
        "reply_count": _count(s.get("replies_count")),
        "like_count": _count(s.get("favourites_count")),
        "quote_count": _count(s.get("quotes_count")),
        "metrics_observed_at": observed,
        "is_reference": is_reference,
        "raw": raw_json(s),
    }
    sink.post(rec)
    return rec


def _account_ids(account: dict[str, Any]) -> tuple[str | None, str | None]:
    url = account.get("url") or account.get("uri")
    acct = account.get("acct")
    handle = _full_acct(acct, url) if isinstance(acct, str) and acct else None
    if isinstance(url, str) and url:
        return url, handle
    return handle, handle


def _full_acct(acct: str, url: Any) -> str:
    if "@" in acct or not isinstance(url, str):
        return acct
    host = urlsplit(url).hostname
    return f"{acct}@{host}" if host else acct


def _account(account: dict[str, Any], author_id: str, handle: str | None, server: str | None,
             observed: datetime | None) -> dict[str, Any]:
    note = account.get("note")
    created = None
    try:
        created = iso_time(account.get("created_at"))
    except RecordError:
        created = None
    raw = dict(account)
    if server:
        raw["_server"] = server
    name = account.get("display_name")
    return {
        "platform": NAME,
        "id": author_id,
        "observed_at": observed,
        "handle": handle,
        "display_name": name if isinstance(name, str) else None,
        "followers": _count(account.get("followers_count")),
        "following": _count(account.get("following_count")),
        "posts_count": _count(account.get("statuses_count")),
        # Mastodon verifies nobody: a profile link proved with rel=me (a field with
        # ``verified_at``) says the person owns a web page, not that they are notable
        "verified": False,
        "created_at": created,
        "description": html_to_text(note) if isinstance(note, str) else None,
        "raw": raw_json(raw),
    }


def _hashtags(tags: Any, text: str, sink: Sink) -> tuple[list[str], list[str]]:
    if not tags:
        return [], []
    if not isinstance(tags, list):
        sink.reject("tags is not a list")
        return [], []
    names: dict[str, str] = {}
    for t in tags:
        name = t.get("name") if isinstance(t, dict) else None
        if isinstance(name, str) and name.lstrip("#"):
            name = name.lstrip("#")
            names.setdefault(fold_tag(name), name)
        else:
            sink.reject("tag without a name")
    written: dict[str, str] = {}
    for m in HASHTAG_RE.finditer(text):
        key = fold_tag(m.group(1))
        if key in names and key not in written:
            written[key] = m.group(1)
    for key, name in names.items():
        written.setdefault(key, name)
    return list(written), list(written.values())


def _mentions(items: Any, sink: Sink) -> tuple[list[str], list[str], dict[str, dict[str, Any]]]:
    mentions: list[str] = []
    ids: list[str] = []
    local: dict[str, dict[str, Any]] = {}  # local account id -> mention
    if not isinstance(items, list):
        return mentions, ids, local
    for m in items:
        if not isinstance(m, dict):
            sink.reject("mention is not an object")
            continue
        acct, url = m.get("acct"), m.get("url")
        if isinstance(acct, str) and acct:
            mentions.append(_full_acct(acct, url))
        if isinstance(url, str) and url:
            ids.append(url)
        mid = m.get("id")
        if isinstance(mid, (str, int)) and not isinstance(mid, bool):
            local[str(mid)] = m
    return mentions, ids, local


def _parent(
    s: dict[str, Any],
    sid: str,
    account: dict[str, Any],
    parent_local: str,
    parent_acct: str | None,
    local_mentions: dict[str, dict[str, Any]],
    author_id: str,
    server: str | None,
) -> tuple[str | None, str | None]:
    """(reply_to_author_id, reply_to_id) for a status' in_reply_to ids."""
    own_id = as_id(s.get("id"))
    parent_account: dict[str, Any] | None = None
    if parent_acct is not None:
        if parent_acct == as_id(account.get("id")):
            parent_account = account
        else:
            parent_account = local_mentions.get(parent_acct)
    parent_author = None
    if parent_account is not None:
        parent_author = author_id if parent_account is account else parent_account.get("url")
    m = _LOCAL_URI.match(sid)
    if (
        m is not None
        and own_id is not None
        and m.group("n") == own_id
        and parent_account is not None
        and "@" not in str(parent_account.get("acct", "@"))
        and "@" not in str(account.get("acct", "@"))
    ):
        # this status is local to the answering server and so is the parent
        if m.group("ap"):
            who = parent_acct
        else:
            who = parent_account.get("username")
        if isinstance(who, str) and who:
            return parent_author, f"{m.group('base')}{m.group('ap') or ''}/users/{who}/statuses/{parent_local}"
    if server is None and "@" not in str(account.get("acct", "@")):
        url = account.get("url")
        host = urlsplit(url).netloc if isinstance(url, str) else ""
        server = host or None
    if server is None:
        return parent_author, None
    return parent_author, status_address(server, parent_local)


def _quote(q: Any, sink: Sink, server: str | None, seen: datetime | None) -> str | None:
    if not isinstance(q, dict):
        return None
    quoted = q.get("quoted_status")
    if isinstance(quoted, dict):
        if server and "_server" not in quoted:
            quoted = {**quoted, "_server": server}
        try:
            return str(_status(quoted, sink, is_reference=True, seen=seen)["id"])
        except RecordError as e:
            sink.reject(f"quoted status: {e}")
            return None
    local = q.get("quoted_status_id")
    if q.get("state") == "accepted" and isinstance(local, (str, int)) and not isinstance(local, bool) and server:
        # a shallow quote (nested quotes): only the server-local id is given
        return status_address(server, str(local))
    return None  # pending, rejected or revoked quotes


def _media(items: Any, sink: Sink) -> list[str]:
    out: list[str] = []
    if not isinstance(items, list):
        return out
    for a in items:
        if not isinstance(a, dict):
            sink.reject("media attachment is not an object")
            continue
        url = a.get("remote_url") or a.get("url")
        out.append(f"{a.get('type') or 'unknown'}:{url or ''}")
    return out


def _app(s: dict[str, Any]) -> str | None:
    app = s.get("application")
    name = app.get("name") if isinstance(app, dict) else None
    return name if isinstance(name, str) else None


def _count(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _bool(v: Any) -> bool | None:
    return v if isinstance(v, bool) else None


# -- HTML -> text -------------------------------------------------------------


class _TextParser(HTMLParser):
    def __init__(self, links: list[str] | None) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links = links
        self._para = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p":
            if self._para:
                self.parts.append("\n\n")
            self._para = False
        elif tag == "a" and self.links is not None:
            a = dict(attrs)
            classes = (a.get("class") or "").split()
            href = a.get("href")
            if href and "mention" not in classes and "hashtag" not in classes:
                self.links.append(href)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self._para = True

    def handle_data(self, data: str) -> None:
        if self._para and data.strip():
            self.parts.append("\n\n")
            self._para = False
        self.parts.append(data)


def html_to_text(content: str, links: list[str] | None = None) -> str:
    """Mastodon's status HTML -> plain text (links found go to ``links``)."""
    if "<" not in content:
        return html.unescape(content) if "&" in content else content
    p = _TextParser(links)
    p.feed(content)
    p.close()
    return "".join(p.parts).strip()
