"""Incremental trending with bounded memory, for live feeds.

What it counts
--------------
Like Mastodon's trending tags, a hashtag trends when *more distinct accounts*
use it than expected, not when one account posts it a thousand times. Each
(hashtag, account) pair counts once per ``window`` seconds (a bounded recency
table of pair hashes: at most ``max_pairs`` entries, the oldest are forgotten
first, so a forgotten pair may count again -- an over-count, never a loss).

Two exponentially decayed sums are kept per hashtag (forward decay, Cormode,
Shkapenyuk, Srivastava and Xu, ICDE 2009: weights grow with time from a
landmark instead of every counter shrinking at every tick):

* ``fast``: distinct-account uses with half-life ``half_life`` (default 5 min),
  "how many accounts use it now";
* ``slow``: the same with half-life ``baseline_half_life`` (default 1 h).

Under a steady rate *r*, ``fast ~ r*tf`` and ``slow ~ r*ts`` (tf, ts the mean
lifetimes), so the expected fast sum is ``slow * tf/ts``. The score is the
excess ``fast - slow*tf/ts``: a hashtag that is only as busy as usual scores
about zero; a surge scores its number of extra accounts.

Memory
------
Counters live in a Space-Saving summary (Metwally, Agrawal and El Abbadi,
ICDT 2005) in its lazy form: at most ``2*capacity`` hashtags are tracked;
when that is exceeded the ``capacity`` with the highest fast sums are kept
and the largest evicted fast sum becomes the floor a newly seen hashtag
starts from (its possible over-count, reported as ``error``). So memory is
bounded whatever the stream, and any hashtag whose true fast sum exceeds the
floor is tracked.

Alerts
------
:meth:`Trending.update` recomputes the top K (at most once per call; the
follower calls it after each committed batch, at least every second) and
returns an :class:`Alert` for each hashtag that entered the top K since the
previous update. A hashtag leaves when its rank drops below K, and entering
again alerts again. ``min_accounts`` keeps hashtags used by fewer (decayed)
accounts out of the board, so a quiet stream does not alert on noise.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Alert", "Trending"]

_LOG2 = math.log(2.0)


@dataclass
class Alert:
    """A hashtag entered the top K."""

    hashtag: str
    rank: int
    score: float
    accounts: float
    posts: int
    at: float  # event time (epoch seconds) of the update

    def as_dict(self) -> dict[str, Any]:
        return {"event": "enter", "hashtag": self.hashtag, "rank": self.rank,
                "score": round(self.score, 3), "accounts": round(self.accounts, 3),
                "posts": self.posts, "at": self.at}


@dataclass
class _Counter:
    fast: float = 0.0   # forward-decayed weight sums (relative to the landmark)
    slow: float = 0.0
    posts: int = 0      # posts seen since tracked (not decayed)
    error: float = 0.0  # Space-Saving over-count bound (in fast units)


@dataclass
class Trending:
    """Decayed distinct-account counts per hashtag, top K and entry alerts."""

    k: int = 10
    half_life: float = 300.0
    baseline_half_life: float = 3600.0
    window: float = 300.0
    capacity: int = 1000
    max_pairs: int = 200_000
    min_accounts: float = 3.0
    _landmark: float | None = None
    _counters: dict[str, _Counter] = field(default_factory=dict)
    _floor: float = 0.0
    _pairs: dict[int, float] = field(default_factory=dict)
    _top: list[str] = field(default_factory=list)
    _now: float = 0.0
    posts_seen: int = 0

    def __post_init__(self) -> None:
        if self.k < 1 or self.capacity < self.k:
            raise ValueError("need 1 <= k <= capacity")
        self._lf = _LOG2 / self.half_life          # decay rates
        self._ls = _LOG2 / self.baseline_half_life
        self._ratio = self.half_life / self.baseline_half_life  # tf / ts

    # -- feeding --------------------------------------------------------------
    def add(self, t: float, author: str | None, hashtags: Iterable[str]) -> None:
        """One post at event time ``t`` (epoch seconds) by ``author`` with ``hashtags``."""
        self.posts_seen += 1
        if t > self._now:
            self._now = t
        if self._landmark is None:
            self._landmark = t
        elif t - self._landmark > 40.0 * self.half_life:
            self._rescale(t)
        d = t - self._landmark
        wf = math.exp(self._lf * d)
        ws = math.exp(self._ls * d)
        pairs = self._pairs
        counters = self._counters
        for tag in dict.fromkeys(hashtags):  # a tag twice in one post counts once
            c = counters.get(tag)
            if c is None:
                c = counters[tag] = _Counter(fast=self._floor, slow=0.0, error=self._floor)
                if len(counters) > 2 * self.capacity:
                    self._prune()
                    c = counters.get(tag) or c
            c.posts += 1
            key = hash((tag, author))
            last = pairs.get(key)
            if last is not None and t - last < self.window:
                continue
            if last is not None:
                del pairs[key]  # re-insert: the dict's order is recency
            pairs[key] = t
            c.fast += wf
            c.slow += ws
        if len(pairs) > self.max_pairs:
            self._forget_pairs()

    def _forget_pairs(self) -> None:
        drop = len(self._pairs) - self.max_pairs // 2
        it = iter(self._pairs)
        old = [next(it) for _ in range(drop)]
        for key in old:
            del self._pairs[key]

    def _prune(self) -> None:
        ranked = sorted(self._counters.items(), key=lambda kv: kv[1].fast, reverse=True)
        keep, drop = ranked[: self.capacity], ranked[self.capacity:]
        if drop:  # (landmark-relative units, like the counters)
            self._floor = max(self._floor, drop[0][1].fast)
        self._counters = dict(keep)

    def _rescale(self, t: float) -> None:
        """Move the landmark to ``t`` (keeps the exponentials finite)."""
        assert self._landmark is not None
        d = t - self._landmark
        ff, fs = math.exp(-self._lf * d), math.exp(-self._ls * d)
        for c in self._counters.values():
            c.fast *= ff
            c.slow *= fs
            c.error *= ff
        self._floor *= ff
        self._landmark = t

    # -- reading ----------------------------------------------------------------
    def _values(self, c: _Counter, t: float) -> tuple[float, float]:
        """(decayed distinct accounts, score) at time t."""
        d = t - (self._landmark or t)
        fast = c.fast * math.exp(-self._lf * d)
        slow = c.slow * math.exp(-self._ls * d)
        return fast, fast - slow * self._ratio

    def top(self, n: int | None = None, t: float | None = None) -> list[dict[str, Any]]:
        """The current board: hashtags by score, with decayed accounts and posts."""
        t = self._now if t is None else t
        rows = []
        for tag, c in self._counters.items():
            fast, score = self._values(c, t)
            if fast < self.min_accounts:
                continue
            rows.append((score, fast, tag, c))
        rows.sort(key=lambda r: (-r[0], r[2]))
        out = []
        for i, (score, fast, tag, c) in enumerate(rows[: n or self.k], 1):
            err = c.error * math.exp(-self._lf * (t - (self._landmark or t)))
            out.append({"rank": i, "hashtag": tag, "score": round(score, 3),
                        "accounts": round(fast, 3), "posts": c.posts, "error": round(err, 3)})
        return out

    def update(self, t: float | None = None) -> list[Alert]:
        """Recompute the top K; alerts for hashtags that entered it since the last update."""
        t = self._now if t is None else t
        board = self.top(self.k, t)
        before = set(self._top)
        self._top = [r["hashtag"] for r in board]
        return [Alert(r["hashtag"], r["rank"], r["score"], r["accounts"], r["posts"], t)
                for r in board if r["hashtag"] not in before]

    @property
    def tracked(self) -> int:
        """How many hashtags are tracked now (at most 2 * capacity)."""
        return len(self._counters)

    @property
    def pairs(self) -> int:
        return len(self._pairs)
