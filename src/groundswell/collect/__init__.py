"""Collect: backfill a movement from the platforms' APIs (Bluesky search, Mastodon hashtag timelines).

::

    from groundswell.collect import Client, collect_bluesky
    with groundswell.open("metoo.duckdb") as store, Client() as client:
        summary = collect_bluesky(store, ["metoo"], client=client, since="2025-01-01", threads=True)

``http`` is the client (retries, backoff, rate limits, bounded concurrency);
``bluesky`` and ``mastodon`` the collectors; ``core`` what they share (one
path into the store through the format readers, checkpoints committed with
each page, the archive, the summary). See docs/collect.md.
"""

from __future__ import annotations

from groundswell.collect.bluesky import Session, collect_bluesky, handoff_time
from groundswell.collect.core import CollectSummary
from groundswell.collect.http import Client
from groundswell.collect.mastodon import Instance, collect_mastodon

__all__ = ["Client", "CollectSummary", "Instance", "Session", "collect_bluesky", "collect_mastodon", "handoff_time"]
