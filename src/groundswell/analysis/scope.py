"""The movement under study: its hashtags, time window and posts.

:func:`movement_scope` normalizes the question (hashtags case-folded, without
``#``; an optional ``[start, end)`` window in UTC; an interval of minute, hour
or day) and materializes the movement's posts once, as the temporary table
``gs_movement``, so every analysis reads a narrow table instead of the whole
store. A post belongs to the movement when it carries any of the hashtags, or
when it is a repost of a post that does: a repost shares its original's
content, and platforms whose repost records carry no text or tags of their own
(Bluesky's ``app.bsky.feed.repost``) would otherwise drop every repost. Only *collected* posts count: a post seen
only inside another record (``is_reference``: a retweeted original from two
years before, a quoted post) is not part of the archive's movement; the
analyses still find it as the parent or root of what was collected.

Accounts are keyed by ``account`` = ``coalesce(author_id, author_handle)``
(plain CSV archives give handles only); outputs keep ``account_id`` and
``handle`` apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from groundswell.analysis import sql
from groundswell.errors import UsageError

if TYPE_CHECKING:
    from groundswell.analysis.conversations import Conversation

STEP = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 text or a datetime -> naive UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        try:
            dt = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(f"not an ISO 8601 time: {value!r} (try 2017-10-15T20:00:00Z)") from None
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt


def normalize_tags(hashtags: Any) -> list[str]:
    if isinstance(hashtags, str):
        hashtags = [hashtags]
    tags: list[str] = []
    for h in hashtags or []:
        for part in str(h).split(","):
            t = part.strip().lstrip("#").casefold()
            if t and t not in tags:
                tags.append(t)
    if not tags:
        raise UsageError("name at least one hashtag: --hashtag metoo")
    return tags


@dataclass
class Scope:
    hashtags: list[str]
    start: datetime | None
    end: datetime | None
    interval: str
    table: sql.Raw = field(default_factory=lambda: sql.Raw("gs_movement"))
    # conversations.conversation()'s result, computed once per scope: not part of the question
    _gs_conversation: Conversation | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def step(self) -> timedelta:
        return STEP[self.interval]

    def window_sql(self, col: str = "created_at") -> sql.Raw:
        parts = ["true"]
        if self.start is not None:
            parts.append(f"{col} >= {sql.literal(self.start)}")
        if self.end is not None:
            parts.append(f"{col} < {sql.literal(self.end)}")
        return sql.Raw(" AND ".join(parts))

    def describe(self) -> dict[str, Any]:
        return {"hashtags": self.hashtags, "start": sql.iso(self.start), "end": sql.iso(self.end),
                "interval": self.interval}


_COLUMNS = """p.platform, p.id, coalesce(p.author_id, p.author_handle) AS account,
       p.author_id, p.author_handle, p.created_at, p.kind,
       p.repost_of_id, p.reply_to_id, p.quote_of_id, p.hashtags, p.mentions,
       p.lang, p.country, p.repost_count, p.reply_count, p.quote_count, p.like_count,
       CASE WHEN p.kind <> 'repost' AND p.text IS NOT NULL THEN md5(p.text) END AS text_key"""

# Two disjoint parts, each read straight from ``posts`` (no join back to it, no de-duplication):
# the posts carrying a hashtag, and the reposts without one of a post carrying one.
MOVEMENT_SQL = f"""
SELECT {_COLUMNS} FROM posts p
WHERE p.created_at IS NOT NULL AND NOT coalesce(p.is_reference, false) AND {{window}} AND {{has_tag_p}}
UNION ALL
SELECT {_COLUMNS} FROM posts p
WHERE p.created_at IS NOT NULL AND NOT coalesce(p.is_reference, false) AND {{window}} AND p.kind = 'repost'
  AND NOT coalesce({{has_tag_p}}, false)
  AND EXISTS (SELECT 1 FROM posts t WHERE t.platform = p.platform AND t.id = p.repost_of_id AND {{has_tag_t}})
"""


def has_tag(tags: list[str], col: str = "hashtags") -> sql.Raw:
    """``col`` (a list of case-folded hashtags) holds any of ``tags``."""
    return sql.Raw("(" + " OR ".join(f"list_contains({col}, {sql.literal(t)})" for t in tags) + ")")


def movement_scope(store: Any, hashtags: Any, start: Any = None, end: Any = None,
                   interval: str = "hour") -> Scope:
    """Normalize the question and materialize the movement's posts (``gs_movement``)."""
    if interval not in STEP:
        raise UsageError(f"--interval must be one of {', '.join(STEP)}, not {interval!r}")
    scope = Scope(normalize_tags(hashtags), parse_time(start), parse_time(end), interval)
    if scope.start is not None and scope.end is not None and scope.start >= scope.end:
        raise UsageError(f"--start {sql.iso(scope.start)} is not before --end {sql.iso(scope.end)}: "
                         "give the earlier time as --start")
    sql.materialize(store, "gs_movement", MOVEMENT_SQL, has_tag_t=has_tag(scope.hashtags, "t.hashtags"),
                    has_tag_p=has_tag(scope.hashtags, "p.hashtags"), window=scope.window_sql("p.created_at"))
    return scope


def bucket(interval: str, col: str = "created_at") -> sql.Raw:
    if interval not in STEP:
        raise UsageError(f"unknown interval {interval!r}")
    return sql.Raw(f"date_trunc('{interval}', {col})")
