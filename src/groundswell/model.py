"""The one normalized data model of groundswell.

Every format parser produces records of these shapes (plain dicts keyed by the
column names below); the store keeps them in tables of the same names. The
Arrow schemas are the contract between ``formats/`` and ``store/``.

Tables
------
posts       one row per (platform, id): the post, its links to other posts,
            entities, platform-reported engagement and provenance.
accounts    one row per (platform, id, observed_at): an account as it was
            observed at one moment (profiles change over time).
volumes     platform-reported volume series (twarc2 ``counts``).
deletions   requests to delete posts (Jetstream deletes, compliance files,
            ``groundswell forget``).
follows     the follower graph, where an archive has it (follower lists,
            a simulator's network): who follows whom.
rejects     records that could not be read: file, line, reason.
sources     one row per ingested input: fingerprint, progress and outcome.

The store also keeps ``pages`` (input lines as they came, compressed) that
``posts`` and ``accounts`` rows may point into instead of holding ``raw``
(:data:`RAW_REF_FIELDS`, :data:`PAGE_FIELDS`).

Ids are strings end to end, never floats. Times are UTC ``TIMESTAMP``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

KINDS = ("original", "repost", "reply", "quote")
PLATFORMS = ("twitter", "bluesky", "mastodon")

_str = pa.string()
_ts = pa.timestamp("us")
_i64 = pa.int64()
_strs = pa.list_(pa.string())

POST_FIELDS: list[tuple[str, pa.DataType, str]] = [
    ("platform", _str, "twitter, bluesky, mastodon (or what a CSV's platform column says)"),
    ("id", _str, "the platform's post id (tweet id, at:// URI, status id)"),
    ("author_id", _str, "the author's account id"),
    ("author_handle", _str, "the author's handle (screen name, username, acct) when known"),
    ("created_at", _ts, "when the post was made (UTC)"),
    ("text", _str, "the full text (HTML reduced to text); NULL once deleted"),
    ("lang", _str, "language code as the platform reported it"),
    ("kind", _str, "original, repost, reply or quote"),
    ("repost_of_id", _str, "for a repost: the reposted post"),
    ("reply_to_id", _str, "for a reply: the post replied to"),
    ("reply_to_author_id", _str, "for a reply: the author replied to"),
    ("quote_of_id", _str, "for a quote: the quoted post"),
    ("conversation_id", _str, "the root of the conversation (thread) when known"),
    ("hashtags", _strs, "hashtags, case-folded, without '#', in order of appearance"),
    ("hashtags_raw", _strs, "hashtags as written"),
    ("mentions", _strs, "mentioned handles, as written (without '@')"),
    ("mention_ids", _strs, "mentioned account ids, where the platform gives them"),
    ("urls", _strs, "links (expanded where the platform gives the expansion)"),
    ("media", _strs, "media: 'type:url-or-key' per attachment"),
    ("place", _str, "the place name attached to the post"),
    ("country", _str, "ISO 3166 country code of the place"),
    ("source", _str, "the client application that made the post"),
    ("sensitive", pa.bool_(), "marked sensitive / content warning"),
    ("repost_count", _i64, "reposts (retweets, reblogs) the platform reported"),
    ("reply_count", _i64, "replies the platform reported"),
    ("like_count", _i64, "likes (favorites, favourites) the platform reported"),
    ("quote_count", _i64, "quotes the platform reported"),
    ("metrics_observed_at", _ts, "when those counts were observed (collection time)"),
    ("is_reference", pa.bool_(), "true when only seen embedded in another record (includes, retweeted_status, ...)"),
    ("deleted", pa.bool_(), "true once a deletion was seen for this post"),
    ("raw", _str, "the original platform object as JSON, for loss-free re-export; NULL once deleted"),
    ("source_file", _str, "the input file the row was first read from ('-' for stdin)"),
    ("source_line", _i64, "the line (or record number, for whole-document JSON) in that file"),
]

ACCOUNT_FIELDS: list[tuple[str, pa.DataType, str]] = [
    ("platform", _str, "platform"),
    ("id", _str, "account id (user id, DID, account id)"),
    ("observed_at", _ts, "when this state of the account was observed"),
    ("handle", _str, "screen name / username / handle / acct"),
    ("display_name", _str, "display name"),
    ("followers", _i64, "followers count"),
    ("following", _i64, "following count"),
    ("posts_count", _i64, "posts count"),
    ("verified", pa.bool_(),
     "verified by the platform (Twitter's flags, Bluesky's verification; never on Mastodon, which has none)"),
    ("created_at", _ts, "account creation time"),
    ("description", _str, "profile description"),
    ("location", _str, "profile location"),
    ("raw", _str, "the original account object as JSON"),
    ("source_file", _str, "input file"),
    ("source_line", _i64, "line in that file"),
]

VOLUME_FIELDS: list[tuple[str, pa.DataType, str]] = [
    ("platform", _str, "platform"),
    ("query", _str, "the query the counts were made for, when recorded"),
    ("start", _ts, "bucket start"),
    ("end", _ts, "bucket end"),
    ("count", _i64, "posts in the bucket"),
    ("source_file", _str, "input file"),
    ("source_line", _i64, "line in that file"),
]

DELETION_FIELDS: list[tuple[str, pa.DataType, str]] = [
    ("platform", _str, "platform"),
    ("id", _str, "the deleted post id"),
    ("author_id", _str, "author, when known"),
    ("deleted_at", _ts, "when it was deleted, when known"),
    ("reason", _str, "jetstream-delete, compliance:<reason>, forget"),
    ("source_file", _str, "input file"),
    ("source_line", _i64, "line in that file"),
]

FOLLOW_FIELDS: list[tuple[str, pa.DataType, str]] = [
    ("platform", _str, "platform"),
    ("follower_id", _str, "the account that follows"),
    ("followed_id", _str, "the account followed"),
    ("source_file", _str, "input file"),
    ("source_line", _i64, "line in that file"),
]

REJECT_FIELDS: list[tuple[str, pa.DataType, str]] = [
    ("source_file", _str, "input file"),
    ("source_line", _i64, "line (1-based)"),
    ("format", _str, "the format the file was read as"),
    ("reason", _str, "why the record was skipped (never the record's text)"),
    ("bytes", _i64, "length of the rejected line in bytes"),
]


def _schema(fields: list[tuple[str, pa.DataType, str]]) -> pa.Schema:
    return pa.schema([pa.field(n, t) for n, t, _ in fields])


POSTS = _schema(POST_FIELDS)
ACCOUNTS = _schema(ACCOUNT_FIELDS)
VOLUMES = _schema(VOLUME_FIELDS)
DELETIONS = _schema(DELETION_FIELDS)
REJECTS = _schema(REJECT_FIELDS)
FOLLOWS = _schema(FOLLOW_FIELDS)

SCHEMAS: dict[str, pa.Schema] = {
    "posts": POSTS,
    "accounts": ACCOUNTS,
    "volumes": VOLUMES,
    "deletions": DELETIONS,
    "follows": FOLLOWS,
    "rejects": REJECTS,
}

DOCS: dict[str, list[tuple[str, pa.DataType, str]]] = {
    "posts": POST_FIELDS,
    "accounts": ACCOUNT_FIELDS,
    "volumes": VOLUME_FIELDS,
    "deletions": DELETION_FIELDS,
    "follows": FOLLOW_FIELDS,
    "rejects": REJECT_FIELDS,
}

# columns holding lists: parsers may omit them (an empty list is stored)
LIST_COLUMNS = frozenset(n for n, t, _ in POST_FIELDS if pa.types.is_list(t))

# -- where the original objects are kept -------------------------------------------------
# The fast paths do not write each object back out as JSON: they keep the input lines as
# they came, compressed, in the store's ``pages`` table, and the rows they make point into
# them. A row then has ``raw`` NULL and these two columns set (every other row has them
# NULL); readers get ``raw`` back through the store (:mod:`groundswell.store.pages`),
# exactly as the Python readers would have written it. They follow the model's columns in
# ``posts`` and ``accounts`` batches and tables.
RAW_REF_FIELDS: list[tuple[str, pa.DataType, str]] = [
    ("raw_page", _i64, "the stored input page that holds the original object (pages.page), when raw is kept there"),
    ("raw_at", _str, "where in that page: a JSON path ('$.data[3]', '$.includes.users[0]') or, for a CSV "
                     "page, '$[k]', its k-th record after the header"),
]
RAW_REF = [pa.field(n, t) for n, t, _ in RAW_REF_FIELDS]

PAGE_FIELDS: list[tuple[str, pa.DataType, str]] = [
    ("page", _i64, "the page's number (in the order pages were stored)"),
    ("source_file", _str, "the input file"),
    ("source_line", _i64, "its first line in that file"),
    ("format", _str, "'json' (one JSON line) or 'csv' (the header, then a block of lines)"),
    ("delimiter", _str, "a CSV page's delimiter"),
    ("body", pa.binary(), "the lines as they came (without their line ends), zstd-compressed"),
]
PAGES = _schema(PAGE_FIELDS)


def with_raw_ref(schema: pa.Schema) -> pa.Schema:
    """A posts or accounts schema with the page pointer columns after the model's."""
    return pa.schema(list(schema) + RAW_REF)


@dataclass(frozen=True)
class Select:
    """Rows for :meth:`Store.write_batch` given as a SELECT on the store's own
    connection (the table's columns, in the model's order) instead of an Arrow
    table: millions of rows go from DuckDB to DuckDB without leaving it. Not
    for ``posts`` (its merge needs the rows in hand)."""

    sql: str
    params: list[Any] = field(default_factory=list)
