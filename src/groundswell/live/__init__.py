"""Live sources: follow Bluesky Jetstream or Mastodon streaming into the store.

* :class:`~groundswell.live.follower.Follower` -- a source into the store in
  micro-batches, with incremental trending and callbacks (embed it);
* :class:`~groundswell.live.jetstream.JetstreamSource`,
  :class:`~groundswell.live.mastodon.MastodonSource` -- the sources;
* :class:`~groundswell.live.replay.ReplayServer` -- recorded posts served
  with the Jetstream protocol on 127.0.0.1;
* :class:`~groundswell.live.trending.Trending` -- bounded-memory trending.

Nothing heavy is imported until used.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Follower", "JetstreamSource", "MastodonSource", "ReplayServer", "StatusServer", "Trending"]

_WHERE = {
    "Follower": "groundswell.live.follower",
    "JetstreamSource": "groundswell.live.jetstream",
    "MastodonSource": "groundswell.live.mastodon",
    "ReplayServer": "groundswell.live.replay",
    "StatusServer": "groundswell.live.status",
    "Trending": "groundswell.live.trending",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(name)
