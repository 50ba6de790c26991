"""Mastodon REST responses as ``groundswell collect`` keeps them -> posts and accounts.

Input: a collect envelope (:mod:`groundswell.formats.envelope`) around one
response of a Mastodon server. Statuses are read by the Mastodon reader
(:mod:`groundswell.formats.mastodon`), the one ``ingest`` uses for status
archives, after the envelope's server is set as each status' ``_server`` (a
status' ``in_reply_to_id`` is local to the server that answered):

* ``timelines/tag`` (a list of statuses) and ``statuses/context``
  (``{ancestors, descendants}``) -> the reader's posts and accounts. Counts
  were observed when the response was fetched: ``metrics_observed_at`` is the
  envelope's ``fetched_at``.
* ``statuses/reblogged_by`` (a list of accounts, about the envelope's
  ``subject`` status) -> one post of kind 'repost' per account, with
  ``repost_of_id`` = the subject's URI. The API names neither the boost nor its
  time: the id is ``{subject}#reposted-by:{account url}`` and ``created_at`` is
  NULL. Each account is an observation as the reader makes it.
"""

from __future__ import annotations

from typing import Any

from groundswell.formats import envelope as env
from groundswell.formats import mastodon
from groundswell.formats.base import RecordError, Sink, json_type, response_json

NAME = "mastodon-api"
PLATFORM = mastodon.NAME

STATUSES = ("timelines/tag", "statuses/context", "statuses")
REBLOGGED_BY = "statuses/reblogged_by"


def sniff(obj: Any) -> bool:
    """A collect envelope of a Mastodon response."""
    return env.is_envelope(obj, PLATFORM)


def parse(obj: Any, sink: Sink) -> None:
    if not env.is_envelope(obj):
        raise RecordError("not a collected Mastodon response (no collect envelope)")
    body, meta = env.unwrap(obj)
    if meta.platform != PLATFORM:
        raise RecordError(f"a {meta.platform[:20]} response, not a Mastodon one")
    if meta.method == REBLOGGED_BY:
        _reblogged_by(body, meta, sink)
        return
    if meta.method not in STATUSES:
        raise RecordError(f"unknown Mastodon method {meta.method[:40]!r}")
    if isinstance(body, list):
        body = [_on(s, meta.server) for s in body]
    elif isinstance(body, dict) and "ancestors" in body and "descendants" in body:
        body = {k: [_on(s, meta.server) for s in v] if isinstance(v, list) else v for k, v in body.items()}
    else:
        raise RecordError(f"not a list of statuses or a context: a JSON {json_type(body)}")
    mastodon.parse(body, _Observed(sink, meta.fetched_at))


def _on(status: Any, server: str | None) -> Any:
    if isinstance(status, dict) and server and "_server" not in status:
        return {**status, "_server": server}
    return status


def _reblogged_by(body: Any, meta: env.Envelope, sink: Sink) -> None:
    subject = meta.subject
    if not subject:
        raise RecordError("reblogged_by without the subject status")
    if not isinstance(body, list):
        raise RecordError(f"reblogged_by is not a list: a JSON {json_type(body)}")
    for i, account in enumerate(body):
        if not isinstance(account, dict):
            sink.reject(f"element {i}: account is not an object")
            continue
        author_id, handle = mastodon._account_ids(account)
        if author_id is None:
            sink.reject(f"element {i}: account without url, uri or acct")
            continue
        sink.account(mastodon._account(account, author_id, handle, meta.server, meta.fetched_at))
        raw = dict(account)
        if meta.server:
            raw["_server"] = meta.server
        sink.post({
            "platform": PLATFORM,
            "id": repost_id(subject, author_id),
            "author_id": author_id,
            "author_handle": handle,
            "created_at": None,
            "kind": "repost",
            "repost_of_id": subject,
            "is_reference": False,
            "raw": response_json(raw),
        })


def repost_id(subject: str, actor: str) -> str:
    """The id of a boost the API reports without its status: ``{subject}#reposted-by:{actor}``."""
    return f"{subject}#reposted-by:{actor}"


class _Observed:
    """Passes records on, dating the counts of each post and each account with the response's fetch time."""

    def __init__(self, sink: Sink, fetched: Any) -> None:
        self.sink, self.fetched = sink, fetched

    def post(self, rec: dict[str, Any]) -> None:
        if self.fetched is not None and any(rec.get(c) is not None for c in
                                            ("repost_count", "reply_count", "like_count", "quote_count")):
            rec["metrics_observed_at"] = self.fetched
        self.sink.post(rec)

    def account(self, rec: dict[str, Any]) -> None:
        if self.fetched is not None:
            rec["observed_at"] = self.fetched
        self.sink.account(rec)

    def volume(self, rec: dict[str, Any]) -> None:
        self.sink.volume(rec)

    def deletion(self, rec: dict[str, Any]) -> None:
        self.sink.deletion(rec)

    def follow(self, rec: dict[str, Any]) -> None:
        self.sink.follow(rec)

    def reject(self, reason: str) -> None:
        self.sink.reject(reason)
