"""The simulator's settings (:class:`SimConfig`) and its fixed vocabulary of
communities.

Every number that shapes the simulated movement lives here, so a run is fully
described by its ``SimConfig`` (written into ``truth.json`` as ``config``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from groundswell.errors import UsageError

FORMATS = ("twitter-v2", "twitter-v1", "bluesky", "mastodon", "csv", "csv-scraped")
COLLECTIONS = ("stream", "search")
LABELS = ("disclosure", "support", "news", "opposition", "other")
COMPRESSIONS = (None, "gz", "zst")

# name, share of accounts, [(lang, country, weight)]
COMMUNITIES: list[tuple[str, float, list[tuple[str, str, float]]]] = [
    ("entertainment", 0.16, [("en", "US", 0.75), ("en", "GB", 0.15), ("en", "CA", 0.10)]),
    ("news_media", 0.09, [("en", "US", 0.6), ("en", "GB", 0.3), ("en", "AU", 0.1)]),
    ("politics", 0.13, [("en", "US", 0.8), ("en", "GB", 0.2)]),
    ("sports", 0.13, [("en", "US", 0.6), ("en", "GB", 0.25), ("en", "AU", 0.15)]),
    ("tech", 0.11, [("en", "US", 0.6), ("en", "IN", 0.25), ("en", "GB", 0.15)]),
    ("academia", 0.08, [("en", "US", 0.5), ("en", "GB", 0.3), ("en", "IN", 0.2)]),
    ("francophone", 0.10, [("fr", "FR", 0.7), ("fr", "CA", 0.2), ("fr", "BE", 0.1)]),
    ("hispanophone", 0.12, [("es", "ES", 0.4), ("es", "MX", 0.4), ("es", "AR", 0.2)]),
    ("germanophone", 0.08, [("de", "DE", 0.8), ("de", "AT", 0.2)]),
]
COMMUNITY_NAMES = tuple(c[0] for c in COMMUNITIES)


def _utc(text: str) -> datetime:
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        raise UsageError(f"unreadable time {text!r}: use ISO 8601, e.g. 2017-10-15T20:21:00Z") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


@dataclass
class SimConfig:
    """What to simulate. Times are ISO 8601 UTC strings; shares are fractions."""

    posts: int = 10_000
    seed: int = 0
    format: str = "twitter-v2"
    hashtag: str = "MeToo"
    related_hashtag: str | None = "TimesUp"
    start: str = "2017-10-12T00:00:00Z"
    days: float = 10.0
    onset: str | None = "2017-10-15T20:21:00Z"  # None: 30% into the window
    call_has_hashtag: bool = False
    accounts: int | None = None  # None: posts // 10, within [400, 500_000]
    origin: str = "entertainment"
    notables: int = 8
    background_share: float = 0.35
    label_shares: dict[str, float] = field(
        default_factory=lambda: {
            "disclosure": 0.35,
            "support": 0.30,
            "news": 0.15,
            "opposition": 0.10,
            "other": 0.10,
        }
    )
    first_time_share: float = 0.4  # of disclosures
    waves: int = 2
    coordinated: int = 0
    deletions: float = 0.02
    branching: float = 0.8  # mean offspring per movement post (subcritical Hawkes)
    # the call to action's engagement, per kind, as a multiple of an ordinary movement post's
    call_reposts: float = 12.0
    call_replies: float = 25.0
    call_quotes: float = 1.0
    call_adopts: float = 1.0
    notable_boost: float = 4.0  # notables' and news posts' reposts and replies, same way
    seed_rank: int = 0  # the notable who posts the call (0: the most followed)
    reply_hashtag_share: float = 0.93  # replies in the movement that carry the hashtag
    call_mention_share: float = 0.0  # movement posts after the onset that mention the call's author
    call_link_share: float = 0.0  # ... that link to the call (a status URL in the text, not a quote)
    ramp_hours: float = 4.0  # the outside rate of movement posts rises as 1 - exp(-t / ramp)
    decay_hours: float = 6.0  # ... and decays as 1 / (1 + t / decay)
    decoys: int = 0  # accounts mentioned steadily by every kind of post (brands, platforms)
    decoy_mention_share: float = 0.05  # posts (not reposts) that mention one of them
    collection: str = "stream"  # stream: every post; search: only posts carrying the hashtag
    gaps: list[tuple[str, str]] = field(default_factory=list)  # [start, end): nothing collected
    sampled: list[tuple[str, str, float]] = field(default_factory=list)  # [start, end, kept share)
    scraped_retweet_share: float = 0.05  # csv-scraped: reposts written as "RT @ name:" rows
    compress: str | None = None
    quiet: bool = True

    def validate(self) -> None:
        if self.posts < 1:
            raise UsageError("--posts must be at least 1")
        if self.format not in FORMATS:
            raise UsageError(f"unknown format {self.format!r}; choose one of {', '.join(FORMATS)}")
        if self.days <= 0:
            raise UsageError("--days must be positive")
        if self.compress not in COMPRESSIONS:
            raise UsageError("--compress must be gz or zst")
        if not self.hashtag or not self.hashtag.replace("_", "a").isalnum():
            raise UsageError(f"--hashtag {self.hashtag!r}: letters, digits and '_' only, without '#'")
        if self.related_hashtag is not None and not self.related_hashtag.replace("_", "a").isalnum():
            raise UsageError(f"--related-hashtag {self.related_hashtag!r}: letters, digits and '_' only")
        if self.origin not in COMMUNITY_NAMES:
            raise UsageError(f"--origin must be one of {', '.join(COMMUNITY_NAMES)}")
        if not 0 <= self.deletions < 1:
            raise UsageError("--deletions is a fraction in [0, 1)")
        if not 0 <= self.background_share < 1:
            raise UsageError("--background-share is a fraction in [0, 1)")
        if not 0 < self.branching < 1:
            raise UsageError("--branching must be in (0, 1): the process must be subcritical")
        if self.coordinated < 0 or self.notables < 1 or self.waves < 0:
            raise UsageError("--coordinated, --waves must be >= 0 and --notables >= 1")
        if set(self.label_shares) != set(LABELS) or any(v < 0 for v in self.label_shares.values()):
            raise UsageError(f"label shares must name exactly {', '.join(LABELS)}")
        if abs(sum(self.label_shares.values()) - 1) > 1e-6:
            raise UsageError("label shares must sum to 1")
        onset = self.onset_dt
        if not self.start_dt <= onset < self.start_dt.replace() + _days(self.days):
            raise UsageError("--onset must fall inside the simulated window")
        if self.accounts is not None and self.accounts < 50:
            raise UsageError("--accounts must be at least 50")
        for name in ("call_reposts", "call_replies", "call_quotes", "call_adopts", "notable_boost"):
            if not 0 < getattr(self, name) <= 1000:
                raise UsageError(f"--{name.replace('_', '-')} is a multiplier in (0, 1000]")
        if not 0 <= self.seed_rank < self.notables:
            raise UsageError("--seed-rank must be in [0, --notables)")
        for name in ("reply_hashtag_share", "call_mention_share", "call_link_share", "decoy_mention_share",
                     "scraped_retweet_share"):
            if not 0 <= getattr(self, name) <= 1:
                raise UsageError(f"--{name.replace('_', '-').removesuffix('-share')} is a fraction in [0, 1]")
        if not (self.ramp_hours > 0 and self.decay_hours > 0):
            raise UsageError("--ramp-hours and --decay-hours must be positive")
        if self.decoys < 0:
            raise UsageError("--decoys must be >= 0")
        if self.collection not in COLLECTIONS:
            raise UsageError(f"--collection must be one of {', '.join(COLLECTIONS)}")
        for a, b in self.gaps:
            if not _utc(a) < _utc(b):
                raise UsageError(f"--gap {a}/{b}: the start must come before the end")
        for a, b, share in self.sampled:
            if not _utc(a) < _utc(b):
                raise UsageError(f"--sampled {a}/{b}/{share}: the start must come before the end")
            if not 0 < share <= 1:
                raise UsageError(f"--sampled {a}/{b}/{share}: the kept share must be in (0, 1]")

    @property
    def start_dt(self) -> datetime:
        return _utc(self.start)

    @property
    def onset_dt(self) -> datetime:
        if self.onset is None:
            return self.start_dt + _days(self.days * 0.3)
        return _utc(self.onset)

    @property
    def n_accounts(self) -> int:
        if self.accounts is not None:
            return self.accounts
        return int(min(500_000, max(400, self.posts // 10)))

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("quiet")
        d["gaps"] = [list(g) for g in self.gaps]
        d["sampled"] = [list(x) for x in self.sampled]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SimConfig:
        """The config of a truth.json's ``config`` (lists back to tuples)."""
        d = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        d["gaps"] = [tuple(g) for g in d.get("gaps") or []]
        d["sampled"] = [(a, b, float(x)) for a, b, x in d.get("sampled") or []]
        return cls(**d)


def _days(d: float) -> timedelta:
    return timedelta(days=d)
