"""Collect: backfill a movement from the platforms' APIs (Bluesky search, Mastodon hashtag timelines).

::

    import groundswell
    from groundswell.collect import Client, collect_bluesky
    with groundswell.open("metoo.duckdb") as store, Client() as client:
        summary = collect_bluesky(store, ["metoo"], client=client, since="2025-01-01", threads=True)

``http`` is the client (retries, backoff, rate limits, bounded concurrency);
``bluesky`` and ``mastodon`` the collectors; ``core`` what they share (one
path into the store through the format readers, checkpoints committed with
the rows of their page, the archive, the summary). See docs/collect.md.
Nothing heavy is imported until a name is used.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["Client", "CollectSummary", "Instance", "Session", "collect_bluesky", "collect_mastodon", "handoff_time"]

_WHERE = {
    "Client": "groundswell.collect.http",
    "CollectSummary": "groundswell.collect.core",
    "Instance": "groundswell.collect.mastodon",
    "Session": "groundswell.collect.bluesky",
    "collect_bluesky": "groundswell.collect.bluesky",
    "collect_mastodon": "groundswell.collect.mastodon",
    "handoff_time": "groundswell.collect.bluesky",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(name)
