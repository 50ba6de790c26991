"""How the simulated movement was collected: which posts reach the files.

A real archive is never the whole movement. It was collected by a stream
that stopped for a while (a *gap*: nothing kept from ``start`` to ``end``),
or a sample of some stretches (a *sampled* stretch keeps each post with
probability ``share``: a "100 a day" tail), or a search for the hashtag (only
posts that carry it; a hashtag search never returns the call to action when
the call lacks the tag, only the posts that point at it). The GetOldTweets-like
``csv-scraped`` format is always a search, and a scrape of search results
holds few retweets: a repost is kept with probability
``scraped_retweet_share`` (written as an old-style "RT @ name:" row).

Every post is still made, and the truth keeps it (``collected`` False): the
movement is the same whatever the collection, so the truth's takeoff is the
movement's, and an analysis of the files must find it through the holes.
The keep/drop draws come from a generator of their own.
"""

from __future__ import annotations

import random
from typing import Any

from groundswell.simulate.config import SimConfig, _utc
from groundswell.simulate.process import Post


def _ms(text: str) -> int:
    return int(_utc(text).timestamp() * 1000)


class Collection:
    """Decides, post by post, whether the archive holds it."""

    def __init__(self, cfg: SimConfig) -> None:
        self.rnd = random.Random(cfg.seed * 7919 + 41)
        self.gaps = sorted((_ms(a), _ms(b)) for a, b in cfg.gaps)
        self.sampled = sorted((_ms(a), _ms(b), float(s)) for a, b, s in cfg.sampled)
        self.scraped = cfg.format == "csv-scraped"
        self.search = cfg.collection == "search" or self.scraped
        self.mode = "search" if self.search else "stream"
        self.tag = cfg.hashtag.casefold()
        self.retweets = cfg.scraped_retweet_share
        self.kept = 0
        self.dropped = {"gap": 0, "sampled": 0, "search": 0, "scrape": 0}
        self.first_ms: int | None = None
        self.last_ms: int | None = None

    def keep(self, p: Post) -> bool:
        ok = self._keep(p)
        if ok:
            self.kept += 1
            if self.first_ms is None:
                self.first_ms = p.t
            self.last_ms = p.t
        return ok

    def _keep(self, p: Post) -> bool:
        t = p.t
        for a, b in self.gaps:
            if a <= t < b:
                self.dropped["gap"] += 1
                return False
        if self.search and not any(tg[0].casefold() == self.tag for tg in p.tags):
            self.dropped["search"] += 1
            return False
        if self.scraped and p.kind == "repost" and self.rnd.random() >= self.retweets:
            self.dropped["scrape"] += 1
            return False
        for a, b, share in self.sampled:
            if a <= t < b:
                if self.rnd.random() < share:
                    return True
                self.dropped["sampled"] += 1
                return False
        return True

    def describe(self, iso: Any) -> dict[str, Any]:
        """The truth's ``collection`` section; ``iso`` formats ms times."""
        return {
            "mode": self.mode,
            "definition": "stream: every post made is in the files unless dropped below; search: only posts "
                          "carrying the hashtag (csv-scraped: always, and reposts only at scraped_retweet_share)",
            "gaps": [{"start": iso(a), "end": iso(b)} for a, b in self.gaps],
            "sampled": [{"start": iso(a), "end": iso(b), "share": s} for a, b, s in self.sampled],
            "posts_collected": self.kept,
            "posts_dropped": dict(self.dropped),
            "first_collected_at": iso(self.first_ms) if self.first_ms is not None else None,
            "last_collected_at": iso(self.last_ms) if self.last_ms is not None else None,
        }
