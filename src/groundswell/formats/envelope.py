"""The envelope ``groundswell collect`` puts around each API response.

A collected response is kept (in memory, and as one JSON line of an
``--archive`` file) as::

    {"groundswell_collect": 1, "platform": "bluesky", "method": "app.bsky.feed.searchPosts",
     "server": "public.api.bsky.app", "url": "https://public.api.bsky.app/xrpc/...?q=%23metoo&...",
     "subject": "at://... (the post or account the request was about, when there is one)",
     "fetched_at": "2025-07-04T08:49:25.123456Z", "body": <the response body, unchanged>}

The body alone does not say everything a row needs: when the counts in it
were observed (``fetched_at``), which Mastodon server answered (a status'
``in_reply_to_id`` is local to that server) and, for Mastodon's
``reblogged_by``, which status the accounts boosted. The platform readers
(:mod:`groundswell.formats.bluesky_api`, :mod:`groundswell.formats.mastodon_api`)
take the envelope, so ``collect`` and ``ingest`` of its archive run the same
code on the same input and make the same rows. The URL never holds a
credential (tokens travel in headers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from groundswell.formats.base import RecordError, iso_time

KEY = "groundswell_collect"
VERSION = 1


@dataclass(frozen=True)
class Envelope:
    """What an envelope says about its body."""

    platform: str
    method: str
    server: str | None
    url: str | None
    subject: str | None
    fetched_at: datetime | None


def wrap(platform: str, method: str, body: Any, *, fetched_at: datetime, url: str | None = None,
         server: str | None = None, subject: str | None = None) -> dict[str, Any]:
    """An envelope around ``body`` (``fetched_at`` is naive UTC)."""
    stamp = fetched_at.replace(tzinfo=UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    env: dict[str, Any] = {KEY: VERSION, "platform": platform, "method": method, "server": server,
                           "url": url, "fetched_at": stamp}
    if subject is not None:
        env["subject"] = subject
    env["body"] = body
    return env


def is_envelope(obj: Any, platform: str | None = None) -> bool:
    """An envelope (of ``platform``, when given)."""
    return (isinstance(obj, dict) and obj.get(KEY) == VERSION and "body" in obj
            and (platform is None or obj.get("platform") == platform))


def unwrap(obj: dict[str, Any]) -> tuple[Any, Envelope]:
    """The body and what the envelope says about it."""
    def text(key: str) -> str | None:
        v = obj.get(key)
        if v is not None and not isinstance(v, str):
            raise RecordError(f"collect envelope: {key} is not a string")
        return v

    method = text("method")
    platform = text("platform")
    if not method or not platform:
        raise RecordError("collect envelope without platform or method")
    return obj.get("body"), Envelope(platform=platform, method=method, server=text("server"), url=text("url"),
                                     subject=text("subject"), fetched_at=iso_time(text("fetched_at")))
