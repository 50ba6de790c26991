"""A DuckDB-native fast path for twarc2 response pages (``twitter-v2``).

:func:`convert` turns a chunk of lines (one twarc2 page per line) into the
``posts`` and ``accounts`` tables that :func:`groundswell.formats.twitter_v2.parse`
plus :class:`groundswell.ingest.BatchSink` plus ``records_to_table`` would
make of the same lines, already merged within the chunk, using DuckDB's JSON
functions only: no Python work per tweet. Each page is parsed once, into the
fields the store needs (``from_json`` with a nested schema whose leaves keep
their JSON text, so their types can be checked).

The original objects are not written back out: every row points at its
object in the page it came from (``raw_page``, ``raw_at``, see
:data:`groundswell.model.RAW_REF_FIELDS`), and the caller keeps the page
(:mod:`groundswell.store.pages`). ``raw`` read through that pointer is
``orjson.dumps`` of the object, as the Python parser writes it.

The Python parser defines the truth. This module mirrors each of its rules
for the common, clean shape of a page and hands every line it is not sure
about back to the caller (``fallback``), whole, to be parsed in Python:

* lines that are not valid JSON for DuckDB, or that orjson would read
  differently or refuse: ``NaN`` / ``Infinity`` tokens, numbers of 20 or more
  digits or with three-digit exponents, trailing commas;
* pages whose ``data`` is not a list of tweet objects (streaming records,
  counts pages, users-lookup pages, list pages, errors-only pages; an empty
  ``data`` list is handled: it emits nothing, as in Python);
* a list field (``referenced_tweets``, ``hashtags``, ``mentions``, ``urls``,
  ``media_keys``, and ``includes``' ``users``, ``tweets``, ``media``, ``places``)
  anywhere in the line holding something other than a list or null, or
  ``includes`` something other than an object or null (Python rejects it on the
  line and keeps the tweets); an object field (``entities``, ``note_tweet``, ``attachments``,
  ``geo``, ``public_metrics``) holding none of the keys read from it (which is
  how a string or number in its place shows); any list item that is not an
  object with the keys read from it;
* any tweet or user with a field of an unexpected JSON type (an id that is
  not 1-20 digits in a string, a count that is not an integer of at most 18
  digits, a text that is not a string, ...), a ``created_at`` not of the form
  ``YYYY-MM-DDTHH:MM:SS[.fff|.ffffff]Z``, a ``__twarc.retrieved_at`` not of
  the form ``YYYY-MM-DDTHH:MM:SS[.f{1,6}][Z|±HH:MM]``;
* hashtags holding characters beyond ASCII are folded by Python's
  ``str.casefold()`` (DuckDB's ``lower()`` differs on a few);
* a mention without an id that must be looked up by handle where the
  handle or a username of the page is not ASCII (``str.lower`` vs ``lower``).

Known gaps (files written by twarc cannot hold them): an object with a
repeated key (orjson keeps the last value, DuckDB the first) and a line
nested deeper than orjson's limit (1,024 levels), which the Python parser
refuses whole.
"""

from __future__ import annotations

import time
from typing import Any

import duckdb
import pyarrow as pa

from groundswell import model

__all__ = ["convert", "parse", "rows", "POSTS", "ACCOUNTS"]

POSTS = model.with_raw_ref(model.POSTS)
ACCOUNTS = model.with_raw_ref(model.ACCOUNTS)


def _struct(fields: list[str] | dict[str, str]) -> str:
    if isinstance(fields, list):
        fields = {f: '"JSON"' for f in fields}
    return "{" + ",".join(f'"{k}":{v}' for k, v in fields.items()) + "}"


_ENT = _struct({"hashtags": "[" + _struct(["tag"]) + "]",
                "mentions": "[" + _struct(["username", "id"]) + "]",
                "urls": "[" + _struct(["expanded_url", "url"]) + "]",
                "annotations": '"JSON"', "cashtags": '"JSON"'})
_PM_TWEET = ["retweet_count", "reply_count", "like_count", "quote_count", "impression_count", "bookmark_count"]
_TWEET = _struct({
    **{f: '"JSON"' for f in ("id", "author_id", "text", "created_at", "lang", "source", "possibly_sensitive",
                            "in_reply_to_user_id", "conversation_id")},
    "note_tweet": _struct({"text": '"JSON"', "entities": _ENT}),
    "entities": _ENT,
    "referenced_tweets": "[" + _struct(["type", "id"]) + "]",
    "attachments": _struct({"media_keys": '["JSON"]', "poll_ids": '"JSON"', "media_source_tweet_id": '"JSON"'}),
    "geo": _struct(["place_id", "coordinates"]),
    "public_metrics": _struct(_PM_TWEET),
})
_PM_USER = ["followers_count", "following_count", "tweet_count", "listed_count", "like_count"]
_USER = _struct({**{f: '"JSON"' for f in ("id", "username", "name", "verified", "verified_type", "created_at",
                                          "description", "location")},
                 "public_metrics": _struct(_PM_USER)})
_PAGE = _struct({
    "data": f"[{_TWEET}]",
    "includes": _struct({"users": f"[{_USER}]", "tweets": f"[{_TWEET}]",
                         "media": "[" + _struct(["media_key", "type", "url"]) + "]",
                         "places": "[" + _struct(["id", "full_name", "country_code"]) + "]"}),
    "__twarc": _struct(["retrieved_at"]),
})

# what orjson (so the Python parser) would read differently or refuse, and list fields that are
# not lists: the whole line goes to Python (texts may match too: that only costs speed). A line is
# risky where any of them matches (one pass of their alternation, see _steps).
_LIST_KEYS = r'"(referenced_tweets|hashtags|mentions|urls|media_keys|users|tweets|media|places)"\s*:\s*[^\[\sn]'
_INCLUDES = r'"includes"\s*:\s*[^{\sn]'  # includes not an object: Python rejects it on the line
_NAN = r'[:,\[]\s*-?(NaN|Infinity)'
_COMMA = r',\s*[\]}]'
_LIST_PAGE = r'"(member_count|owner_id)"\s*:'  # a list-lookup page: refused whole by Python
_BIG = (r':\s*-?[0-9]{20}', r',\s*-?[0-9]{20}', r'\[\s*-?[0-9]{20}', r'-[0-9]{19}')  # beyond 64 bits

STEP_TIMES: dict[str, list[float]] = {}
"""Seconds per step of :func:`convert`, for benchmarks (appended to on every call)."""


def _timed(name: str, fn: Any, *args: Any) -> Any:
    t0 = time.perf_counter()
    out = fn(*args)
    STEP_TIMES.setdefault(name, []).append(time.perf_counter() - t0)
    return out


# -- SQL helpers: x is a JSON leaf (DuckDB's text of the value; NULL for null or missing)

def _str_ok(x: str) -> str:
    return f"({x} IS NULL OR starts_with({x}, '\"'))"


def _sval(x: str) -> str:
    return f"({x} ->> '$')"


_ID_RE = '"[0-9]{1,20}"'


def _id_ok(x: str) -> str:
    """An id field: missing/null, or 1-20 digits in a string (what the id check passes)."""
    return f"({x} IS NULL OR regexp_full_match({x}, '{_ID_RE}'))"


def _idv(x: str) -> str:
    return f"nullif({x} ->> '$', '')"


def _int_ok(x: str) -> str:
    return f"({x} IS NULL OR regexp_full_match({x}, '-?[0-9]{{1,18}}'))"


def _intv(x: str) -> str:
    return f"TRY_CAST({x} AS BIGINT)"


def _bool_ok(x: str) -> str:
    return f"({x} IS NULL OR {x} IN ('true', 'false'))"


def _any(x: str, fields: list[str]) -> str:
    """An object field read as a struct: missing/null, or holding at least one of the keys read
    (a string or number in its place reads as a struct of NULLs)."""
    return f"({x} IS NULL OR " + " OR ".join(f"{x}.{f} IS NOT NULL" for f in fields) + ")"


_TIME_RE = r'"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{3}|\.[0-9]{6})?Z"'


def _timev(x: str) -> str:
    """_time of a string leaf in the API's form (NULL when unreadable: SQL does not promise to test
    the regular expression of :func:`_time_ok` first, so nothing here may fail on other strings)."""
    return (f"(try_strptime(substr({x}, 2, 19), '%Y-%m-%dT%H:%M:%S') + to_microseconds("
            f"CASE WHEN length({x}) > 23 THEN TRY_CAST(rpad(substr({x}, 22, length({x}) - 23), 6, '0') AS BIGINT) "
            f"ELSE 0 END))")


def _time_ok(x: str) -> str:
    return (f"({x} IS NULL OR {x} = '\"\"' OR (regexp_full_match({x}, '{_TIME_RE}') "
            f"AND substr({x}, 2, 4) <> '0000' AND {_timev(x)} IS NOT NULL))")


def _time(x: str) -> str:
    return f"CASE WHEN {x} IS NULL OR {x} = '\"\"' THEN NULL ELSE {_timev(x)} END"


_RTIME_RE = (r'"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?'
             r'(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?"')


def _all(lst: str, pred: str) -> str:
    """Every element of a list satisfies a lambda body over ``el`` (true for NULL/empty)."""
    return f"coalesce(list_bool_and(list_transform({lst}, lambda el: coalesce({pred}, false))), true)"


def _ent_ok(e: str) -> str:
    """An entities object: its lists hold objects with the keys read, of the right types."""
    q = '"'
    hs = _all(f"{e}.hashtags", f"el.tag IS NOT NULL AND starts_with(el.tag, '{q}')")
    ms = _all(f"{e}.mentions", f"(el.username IS NOT NULL OR el.id IS NOT NULL) AND {_str_ok('el.username')} "
                               f"AND {_str_ok('el.id')} AND coalesce(el.id <> '{q}{q}', true)")
    us = _all(f"{e}.urls", f"(el.expanded_url IS NOT NULL OR el.url IS NOT NULL) AND {_str_ok('el.expanded_url')} "
                           f"AND {_str_ok('el.url')}")
    return f"({_any(e, ['hashtags', 'mentions', 'urls', 'annotations', 'cashtags'])} AND {hs} AND {ms} AND {us})"


def _steps() -> list[tuple[str, str]]:
    """The conversion as named steps (common table expressions): the first parses ``_gs_lines``
    into ``_gs_pg``, the others read ``_gs_pg`` (see :func:`convert`), its lines that are ``ok``
    only (the others' parsed fields are kept as they came: a CASE dropping them copied every
    page's nested values, 4% of the parse)."""
    # the risks of a line (module doc): one regular expression, the alternatives of all (one pass
    # over the text: half the time of a pass for each)
    either = "|".join(f"(?:{r})" for r in (_LIST_KEYS, _INCLUDES, _LIST_PAGE, _NAN, _COMMA, *_BIG))
    risky = f"regexp_matches(text, '{either}')"
    ra = "p.__twarc.retrieved_at"
    pages = f"""
SELECT line, page, ok, ra, n_data,
  p.data AS data, p.includes.tweets AS itweets, p.includes.users AS users, p.includes.media AS media,
  p.includes.places AS places
FROM (
  SELECT line, page, p, {ra} AS ra, coalesce(len(p.data), 0) AS n_data,
    p IS NOT NULL AND p.data IS NOT NULL AND NOT risky
    AND ({ra} IS NULL OR NOT starts_with({ra}, '"') OR {ra} = '""'
         OR (regexp_full_match({ra}, '{_RTIME_RE}') AND substr({ra}, 2, 4) <> '0000'
             AND try_strptime(substr({ra}, 2, 19), '%Y-%m-%dT%H:%M:%S') IS NOT NULL)) AS ok
  FROM (SELECT line, page, try(from_json(text, '{_PAGE}')) AS p, {risky} AS risky FROM _gs_lines))
"""
    # observed (retrieved_at) per page; non-strings and "" mean None
    observed = """
SELECT line, CASE WHEN ra IS NULL OR NOT starts_with(ra, '"') OR ra = '""' THEN NULL ELSE
  strptime(substr(ra, 2, 19), '%Y-%m-%dT%H:%M:%S')
  + to_microseconds(CASE WHEN substr(ra, 21, 1) = '.'
        THEN rpad(regexp_extract(ra, '\\.([0-9]+)', 1), 6, '0')::BIGINT ELSE 0 END)
  - to_minutes(CASE WHEN regexp_matches(ra, '[+-][0-9]{2}:[0-9]{2}"$')
        THEN (CASE WHEN substr(ra, -7, 1) = '-' THEN -1 ELSE 1 END)
             * (substr(ra, -6, 2)::BIGINT * 60 + substr(ra, -3, 2)::BIGINT) ELSE 0 END)
  END AS obs
FROM _gs_pg WHERE ok
"""
    # the page's lookups: media, places (last item per key wins; items without a string key are not keys)
    media = f"""
SELECT line, key, arg_max(mtype, i) AS mtype, arg_max(murl, i) AS murl, bool_and(ok) AS ok FROM (
  SELECT line, i, m.media_key ->> '$' AS key, m.type ->> '$' AS mtype, m.url ->> '$' AS murl,
         {_str_ok('m.type')} AND {_str_ok('m.url')} AS ok
  FROM (SELECT line, unnest(media) AS m, generate_subscripts(media, 1) AS i FROM _gs_pg WHERE ok)
  WHERE starts_with(m.media_key, '"'))
GROUP BY line, key
"""
    places = f"""
SELECT line, pid, arg_max(full_name, i) AS full_name, arg_max(cc, i) AS cc, bool_and(ok) AS ok FROM (
  SELECT line, i, q.id ->> '$' AS pid, q.full_name ->> '$' AS full_name, q.country_code ->> '$' AS cc,
         {_str_ok('q.full_name')} AND {_str_ok('q.country_code')} AS ok
  FROM (SELECT line, unnest(places) AS q, generate_subscripts(places, 1) AS i FROM _gs_pg WHERE ok)
  WHERE starts_with(q.id, '"'))
GROUP BY line, pid
"""
    users = f"""
SELECT line, page, i, u,
  u.id IS NOT NULL AND regexp_full_match(u.id, '{_ID_RE}')
  AND {_str_ok('u.username')} AND {_str_ok('u.name')} AND {_str_ok('u.description')}
  AND {_str_ok('u.location')} AND {_bool_ok('u.verified')} AND {_any('u.public_metrics', _PM_USER)}
  AND {_int_ok('u.public_metrics.followers_count')} AND {_int_ok('u.public_metrics.following_count')}
  AND {_int_ok('u.public_metrics.tweet_count')} AND {_time_ok('u.created_at')} AS ok
FROM (SELECT line, page, unnest(users) AS u, generate_subscripts(users, 1) AS i
      FROM _gs_pg WHERE ok AND n_data > 0)
"""
    # per page: id -> last item's username; lower(username) -> the first user with it (Python's dict order)
    handles = """
SELECT line, u.id ->> '$' AS uid, min(i) AS first_i, arg_max(u.username ->> '$', i) AS username
FROM _gs_users GROUP BY line, uid
"""
    umap = """
SELECT line, lower(username) AS k, arg_max(uid, first_i) AS uid, bool_and(strlen(username) = length(username)) AS ascii
FROM _gs_handles WHERE username IS NOT NULL GROUP BY line, k
"""
    q = '"'
    refs_ok = _all("t.referenced_tweets", f"el.type IS NOT NULL AND starts_with(el.type, '{q}') AND "
                   f"(el.type NOT IN ('{q}retweeted{q}', '{q}replied_to{q}', '{q}quoted{q}') OR "
                   f"(starts_with(el.id, '{q}') AND el.id <> '{q}{q}'))")
    mks_ok = _all("t.attachments.media_keys", f"el IS NOT NULL AND starts_with(el, '{q}')")
    ids_ok = " AND ".join("(v IS NULL OR regexp_full_match(v, '[0-9]{1,20}'))".replace("v", c)
                          for c in ("repost_of_id", "reply_to_id", "quote_of_id"))
    tweets = f"""
WITH s AS (
  SELECT line, page, 0 AS sec, unnest(data) AS t, generate_subscripts(data, 1) AS i FROM _gs_pg WHERE ok
  UNION ALL
  SELECT line, page, 1, unnest(itweets), generate_subscripts(itweets, 1) FROM _gs_pg WHERE ok AND n_data > 0
), c AS (
  SELECT *,
    CASE WHEN t.note_tweet IS NOT NULL THEN t.note_tweet.text ELSE t.text END AS text_l,
    CASE WHEN t.note_tweet IS NOT NULL AND t.note_tweet.entities IS NOT NULL THEN t.note_tweet.entities
         ELSE t.entities END AS e
  FROM s
), f AS (
  SELECT *,
    list_transform(list_filter(t.referenced_tweets, lambda r: r.type = '"retweeted"'), lambda r: r.id ->> '$')[-1]
      AS repost_of_id,
    list_transform(list_filter(t.referenced_tweets, lambda r: r.type = '"replied_to"'), lambda r: r.id ->> '$')[-1]
      AS reply_to_id,
    list_transform(list_filter(t.referenced_tweets, lambda r: r.type = '"quoted"'), lambda r: r.id ->> '$')[-1]
      AS quote_of_id
  FROM c
)
SELECT line, page, sec, i,
  t.id ->> '$' AS id,
  {_idv('t.author_id')} AS author_id,
  {_sval('text_l')} AS text,
  {_time('t.created_at')} AS created_at,
  {_sval('t.lang')} AS lang,
  {_sval('t.source')} AS source,
  (t.possibly_sensitive = 'true') AS sensitive,
  {_idv('t.in_reply_to_user_id')} AS reply_to_author_id,
  {_idv('t.conversation_id')} AS conversation_id,
  {_intv('t.public_metrics.retweet_count')} AS repost_count, {_intv('t.public_metrics.reply_count')} AS reply_count,
  {_intv('t.public_metrics.like_count')} AS like_count, {_intv('t.public_metrics.quote_count')} AS quote_count,
  repost_of_id, reply_to_id, quote_of_id,
  coalesce(list_transform(e.hashtags, lambda h: h.tag ->> '$'), []) AS hashtags_raw,
  coalesce(list_transform(list_filter(e.mentions, lambda m: m.username IS NOT NULL), lambda m: m.username ->> '$'), [])
    AS mentions,
  e.mentions AS ms,
  coalesce(list_filter(list_transform(e.urls, lambda q: coalesce(nullif(q.expanded_url ->> '$', ''),
                                                                 nullif(q.url ->> '$', ''))),
                       lambda l: l IS NOT NULL), []) AS urls,
  coalesce(list_transform(t.attachments.media_keys, lambda k: k ->> '$'), []) AS media_keys,
  t.geo.place_id ->> '$' AS place_id,
  coalesce(list_bool_or(list_transform(e.mentions, lambda m: m.id IS NULL AND m.username IS NOT NULL)), false)
    AS needs_lookup,
  ( t.id IS NOT NULL AND regexp_full_match(t.id, '{_ID_RE}')
    AND {_id_ok('t.author_id')} AND {_id_ok('t.in_reply_to_user_id')} AND {_id_ok('t.conversation_id')}
    AND t.text IS NOT NULL AND starts_with(t.text, '"')
    AND {_any('t.note_tweet', ['text', 'entities'])} AND {_str_ok('t.note_tweet.text')}
    AND (t.note_tweet.entities IS NULL OR t.note_tweet.entities.hashtags IS NOT NULL
         OR t.note_tweet.entities.mentions IS NOT NULL OR t.note_tweet.entities.urls IS NOT NULL)
    AND {_str_ok('text_l')}
    AND {_time_ok('t.created_at')} AND {_str_ok('t.lang')} AND {_str_ok('t.source')}
    AND {_bool_ok('t.possibly_sensitive')}
    AND {_ent_ok('t.entities')} AND (t.note_tweet.entities IS NULL OR {_ent_ok('t.note_tweet.entities')})
    AND {refs_ok} AND {ids_ok}
    AND {_any('t.attachments', ['media_keys', 'poll_ids', 'media_source_tweet_id'])} AND {mks_ok}
    AND {_any('t.geo', ['place_id', 'coordinates'])} AND {_str_ok('t.geo.place_id')}
    AND {_any('t.public_metrics', _PM_TWEET)}
    AND {_int_ok('t.public_metrics.retweet_count')} AND {_int_ok('t.public_metrics.reply_count')}
    AND {_int_ok('t.public_metrics.like_count')} AND {_int_ok('t.public_metrics.quote_count')}
  ) AS ok
FROM f
"""
    # a mention without an id is looked up by handle: where the handle or a username of the page is
    # not ASCII, DuckDB's lower() and Python's str.lower() may disagree
    bad = """
SELECT line FROM _gs_pg WHERE ok IS NOT TRUE
UNION SELECT line FROM _gs_tw WHERE ok IS NOT TRUE
UNION SELECT line FROM _gs_users WHERE ok IS NOT TRUE
UNION SELECT line FROM _gs_media WHERE ok IS NOT TRUE
UNION SELECT line FROM _gs_places WHERE ok IS NOT TRUE
UNION SELECT t.line FROM (SELECT line, ms FROM _gs_tw WHERE needs_lookup) t
      WHERE NOT list_bool_and(list_transform(t.ms, lambda q: q.username IS NULL
                                             OR strlen(q.username) = length(q.username)))
         OR EXISTS (SELECT 1 FROM _gs_umap m WHERE m.line = t.line AND NOT m.ascii)
"""
    return [("_gs_pg", pages), ("_gs_obs", observed), ("_gs_media", media), ("_gs_places", places),
            ("_gs_users", users), ("_gs_handles", handles), ("_gs_umap", umap), ("_gs_tw", tweets),
            ("_gs_bad", bad)]


def _statement() -> str:
    """One statement over the parsed pages (``_gs_pg``): every step, then the posts, accounts, page
    index and fallback lines in one result (``_part`` p, a, h, f), split by :func:`convert`."""
    ctes = ",\n".join(f"{name} AS MATERIALIZED ({body})" for name, body in _steps()[1:])
    return f"""
WITH {ctes},
_gs_posts AS ({_posts_sql()}),
_gs_accounts AS ({_accounts_sql()})
SELECT 'p' AS _part, * FROM _gs_posts
UNION ALL BY NAME SELECT 'a' AS _part, * FROM _gs_accounts
UNION ALL BY NAME SELECT DISTINCT 'h' AS _part, page, 'twitter' AS platform, id FROM _gs_tw t
  WHERE NOT EXISTS (SELECT 1 FROM _gs_bad b WHERE b.line = t.line)
UNION ALL BY NAME SELECT 'f' AS _part, line AS source_line FROM _gs_pg
  WHERE ok IS NOT TRUE OR line IN (SELECT line FROM _gs_bad)
"""


def convert(con: duckdb.DuckDBPyConnection, lines: pa.Table, source_file: str) -> tuple[dict[str, pa.Table], list[int]]:
    """Convert a chunk of twarc2 page lines to merged ``posts``, ``accounts`` and ``page_posts`` tables.

    ``lines`` has columns ``line`` (int64, 1-based), ``page`` (int64: the number
    the line will be stored under in ``pages``) and ``text`` (one page per row).
    Returns ``(tables, fallback)``: ``posts`` and ``accounts`` of the model's
    schemas plus the page pointer (:data:`POSTS`, :data:`ACCOUNTS`; ``raw`` is
    NULL, ``raw_page``/``raw_at`` point at the object), merged within the chunk
    by key with the store's rule; ``page_posts`` (every post each page holds);
    and the sorted line numbers left to the Python parser (none of their rows
    are in the tables, and their pages need not be kept).

    The same as :func:`rows` over :func:`parse` of the lines; a caller may parse
    several chunks and make their rows in one step (the pages' lines can be let
    go once parsed).
    """
    return rows(con, [parse(con, lines)], source_file)


def parse(con: duckdb.DuckDBPyConnection, lines: pa.Table) -> pa.Table:
    """Each page of a chunk of lines (as for :func:`convert`) parsed once, into the fields the
    rows are made of: one row per line, holding none of the line's text beyond those fields."""
    # small record batches let DuckDB parse pages on several threads
    src = pa.Table.from_batches(lines.select(["line", "page", "text"]).to_batches(max_chunksize=8))
    con.register("_gs_lines", src)
    try:
        # each page parsed once, into Arrow (cheaper than a table or a materialized CTE of the nested
        # values); every later step reads it
        return _timed("parse", lambda: con.sql(_steps()[0][1]).to_arrow_table())
    finally:
        con.unregister("_gs_lines")


def rows(con: duckdb.DuckDBPyConnection, parsed: list[pa.Table], source_file: str
         ) -> tuple[dict[str, pa.Table], list[int]]:
    """The tables and fallback lines of :func:`convert` for chunks read by :func:`parse` (in the
    order read, lines numbered apart): one statement over them all, merged as one chunk."""
    import pyarrow.compute as pc

    # in small batches, so that several DuckDB threads share the work; on one thread (the ingest's)
    # as they are: the statement's steps each pay per batch (10% of its CPU in batches of 8)
    one = con.execute("SELECT current_setting('threads')").fetchall()[0][0] == 1
    batches = [b for t in parsed for b in (t.to_batches() if one else t.to_batches(max_chunksize=8))]
    if not batches:
        raise ValueError("rows() needs at least one parsed chunk")
    con.register("_gs_pg", pa.Table.from_batches(batches, parsed[0].schema))
    try:
        out = _timed("rows", lambda: con.sql(_statement(), params=[source_file]).to_arrow_table())
    finally:
        con.unregister("_gs_pg")
    del batches
    part = out.column("_part")
    posts = out.filter(pc.equal(part, "p"))
    if posts.num_rows and pc.any(posts.column("_odd")).as_py():
        posts = _fold_odd(posts)
    posts = posts.select(POSTS.names).cast(POSTS)
    accounts = out.filter(pc.equal(part, "a")).select(ACCOUNTS.names).cast(ACCOUNTS)
    held = out.filter(pc.equal(part, "h")).select(["page", "platform", "id"])
    fallback = sorted(int(x) for x in out.filter(pc.equal(part, "f")).column("source_line").to_pylist())
    return {"posts": posts, "accounts": accounts, "page_posts": held}, fallback


def _fold_odd(posts: pa.Table) -> pa.Table:
    """Hashtags with characters beyond ASCII are folded by Python's ``str.casefold`` (DuckDB's
    ``lower()`` maps a few characters differently: 'ß', final sigma, ligatures, ...)."""
    odd = posts.column("_odd").to_pylist()
    raws = posts.column("hashtags_raw").to_pylist()
    tags = posts.column("hashtags").to_pylist()
    new = [[t.casefold() for t in r] if o else h for o, r, h in zip(odd, raws, tags)]
    i = posts.column_names.index("hashtags")
    return posts.set_column(i, posts.field(i), pa.array(new, posts.field(i).type))


_MEDIA_TYPE = ("CASE split_part(k, '_', 1) WHEN '3' THEN 'photo' WHEN '7' THEN 'video' "
               "WHEN '13' THEN 'video' WHEN '16' THEN 'animated_gif' ELSE 'media' END")


def _posts_sql() -> str:
    cols = [n for n, _t, _d in model.POST_FIELDS] + [n for n, _t, _d in model.RAW_REF_FIELDS]
    plain = [c for c in cols if c not in ("platform", "id", "is_reference", "deleted", "source_file",
                                          "source_line", "metrics_observed_at", "raw", "raw_page", "raw_at",
                                          "hashtags")
             and c not in ("repost_count", "reply_count", "like_count", "quote_count")
             and c not in model.LIST_COLUMNS]
    lists = [c for c in cols if c in model.LIST_COLUMNS and c != "hashtags"]
    # merge_post folded over the sightings in the order seen: the first full sighting's values,
    # then the others' in order (a list counts when not empty); the pointer moves as one
    aggs = [f"first({c} ORDER BY prio) FILTER (WHERE {c} IS NOT NULL) AS {c}" for c in plain]
    aggs += [f"coalesce(first({c} ORDER BY prio) FILTER (WHERE len({c}) > 0), []) AS {c}" for c in lists]
    aggs += ["first(raw_page ORDER BY prio) AS raw_page", "first(raw_at ORDER BY prio) AS raw_at"]
    sql = f"""
WITH good AS (
  SELECT * FROM _gs_tw t WHERE NOT EXISTS (SELECT 1 FROM _gs_bad b WHERE b.line = t.line)
), dataids AS (
  SELECT DISTINCT line, id FROM good WHERE sec = 0
), looked AS (
  -- mentions without an id (old payloads): found by handle among the page's users
  SELECT line, sec, i, list(uid ORDER BY k) FILTER (WHERE uid IS NOT NULL) AS ids FROM (
    SELECT g.line, g.sec, g.i, g.k, coalesce(g.q.id ->> '$', um.uid) AS uid FROM (
      SELECT line, sec, i, unnest(ms) AS q, generate_subscripts(ms, 1) AS k FROM good WHERE needs_lookup) g
    LEFT JOIN _gs_umap um ON um.line = g.line AND um.k = lower(g.q.username ->> '$')
    WHERE g.q.id IS NOT NULL OR g.q.username IS NOT NULL)
  GROUP BY line, sec, i
), media AS (
  -- media keys with the page's media objects
  SELECT g.line, g.sec, g.i, list(CASE WHEN mm.key IS NOT NULL
           THEN coalesce(nullif(mm.mtype, ''), {_MEDIA_TYPE}) || ':' || coalesce(nullif(mm.murl, ''), k)
           ELSE {_MEDIA_TYPE} || ':' || k END ORDER BY n) AS media FROM (
    SELECT line, sec, i, unnest(media_keys) AS k, generate_subscripts(media_keys, 1) AS n
    FROM good WHERE len(media_keys) > 0) g
  LEFT JOIN _gs_media mm ON mm.line = g.line AND mm.key = g.k
  GROUP BY g.line, g.sec, g.i
), m AS (
  SELECT g.* EXCLUDE (ms, media_keys, needs_lookup, place_id, ok), g.sec = 1 AS is_reference, o.obs AS mo,
    h.username AS author_handle,
    CASE WHEN g.needs_lookup THEN coalesce(lk.ids, [])
         ELSE coalesce(list_transform(list_filter(g.ms, lambda q: q.id IS NOT NULL), lambda q: q.id ->> '$'), [])
    END AS mention_ids,
    coalesce(md.media, []) AS media,
    CASE WHEN repost_of_id IS NOT NULL THEN 'repost' WHEN reply_to_id IS NOT NULL THEN 'reply'
         WHEN quote_of_id IS NOT NULL THEN 'quote' ELSE 'original' END AS kind,
    pl.full_name AS place, pl.cc AS country,
    g.page AS raw_page,
    CASE WHEN g.sec = 0 THEN '$.data[' ELSE '$.includes.tweets[' END || (g.i - 1) || ']' AS raw_at,
    (g.line, g.sec, g.i) AS seq
  FROM good g
  JOIN _gs_obs o USING (line)
  LEFT JOIN _gs_handles h ON h.line = g.line AND h.uid = g.author_id
  LEFT JOIN looked lk ON lk.line = g.line AND lk.sec = g.sec AND lk.i = g.i
  LEFT JOIN media md ON md.line = g.line AND md.sec = g.sec AND md.i = g.i
  LEFT JOIN _gs_places pl ON pl.line = g.line AND pl.pid = g.place_id
  WHERE g.sec = 0 OR NOT EXISTS (SELECT 1 FROM dataids d WHERE d.line = g.line AND d.id = g.id)
), seen AS (
  SELECT id, count(*) AS n_seen, min(seq) FILTER (WHERE NOT is_reference) AS first_full FROM m GROUP BY id
), once AS (
  SELECT m.* FROM m JOIN seen USING (id) WHERE seen.n_seen = 1
), more AS (
  SELECT m.*, (m.seq <> seen.first_full OR seen.first_full IS NULL, m.seq) AS prio
  FROM m JOIN seen USING (id) WHERE seen.n_seen > 1
), agg AS (
  SELECT 'twitter' AS platform, id,
    {", ".join(aggs)},
    {_fold()} AS cnt,
    bool_and(is_reference) AS is_reference,
    false AS deleted,
    first(line ORDER BY prio) AS source_line
  FROM more GROUP BY id
  UNION ALL BY NAME
  SELECT 'twitter' AS platform, id, {", ".join(plain + lists)}, raw_page, raw_at,
    {{'mo': mo, 'r': repost_count, 'p': reply_count, 'l': like_count, 'q': quote_count, 'ref': is_reference}} AS cnt,
    is_reference, false AS deleted, line AS source_line
  FROM once
)
SELECT platform, id, {', '.join(_post_expr(c) for c in cols[2:])},
  coalesce(list_bool_or(list_transform(hashtags_raw, lambda t: strlen(t) <> length(t))), false) AS _odd
FROM agg"""
    return sql


def _post_expr(c: str) -> str:
    if c == "hashtags":  # DuckDB's lower() where it folds as Python does (convert checks the rest)
        return "list_transform(hashtags_raw, lambda t: lower(t)) AS hashtags"
    if c in ("repost_count", "reply_count", "like_count", "quote_count"):
        return f"cnt.{ {'repost_count': 'r', 'reply_count': 'p', 'like_count': 'l', 'quote_count': 'q'}[c] } AS {c}"
    if c == "metrics_observed_at":
        return "cnt.mo AS metrics_observed_at"
    if c == "source_file":
        return "$1::VARCHAR AS source_file"
    if c == "raw":
        return "NULL::VARCHAR AS raw"
    return c


def _fold() -> str:
    """merge_post's counts rule, folded over the sightings in the order seen: the
    newest observation's counts, earlier ones filling its gaps."""
    newer = "(n.mo IS NOT NULL AND (a.mo IS NULL OR n.mo > a.mo))"
    pick = ", ".join(f"'{k}': CASE WHEN {newer} THEN coalesce(n.{k}, a.{k}) ELSE coalesce(a.{k}, n.{k}) END"
                     for k in ("mo", "r", "p", "l", "q"))
    return ("list_reduce(list({'mo': mo, 'r': repost_count, 'p': reply_count, 'l': like_count, "
            "'q': quote_count, 'ref': is_reference} ORDER BY line, sec, i), lambda a, n: "
            "{" + pick + ", 'ref': a.ref AND n.ref})")


def _accounts_sql() -> str:
    return f"""
WITH good AS (
  SELECT * FROM _gs_users u WHERE NOT EXISTS (SELECT 1 FROM _gs_bad b WHERE b.line = u.line)
), tw AS (
  SELECT line, sec, i, author_id, created_at FROM _gs_tw t
  WHERE NOT EXISTS (SELECT 1 FROM _gs_bad b WHERE b.line = t.line)
), seen AS (
  SELECT line, author_id, first(created_at ORDER BY sec, i) AS first_at
  FROM tw WHERE created_at IS NOT NULL AND author_id IS NOT NULL GROUP BY line, author_id
), newest AS (
  SELECT line, max(created_at) AS newest FROM tw GROUP BY line
), a AS (
  SELECT g.line, g.page, g.i, g.u, g.u.id ->> '$' AS uid,
    coalesce(o.obs, s.first_at, n.newest, TIMESTAMP '1970-01-01') AS observed_at
  FROM good g JOIN _gs_obs o USING (line)
  LEFT JOIN seen s ON s.line = g.line AND s.author_id = (g.u.id ->> '$')
  LEFT JOIN newest n ON n.line = g.line
), firsts AS (
  -- the first sighting of each (account, observed_at) is kept
  SELECT uid, observed_at, min((line, i)) AS first FROM a GROUP BY uid, observed_at
)
SELECT 'twitter' AS platform, a.uid AS id, a.observed_at,
  {_sval('u.username')} AS handle, {_sval('u.name')} AS display_name,
  {_intv('u.public_metrics.followers_count')} AS followers, {_intv('u.public_metrics.following_count')} AS following,
  {_intv('u.public_metrics.tweet_count')} AS posts_count,
  coalesce(u.verified = 'true', false) OR (u.verified_type IS NOT NULL AND u.verified_type <> '"none"') AS verified,
  {_time('u.created_at')} AS created_at,
  {_sval('u.description')} AS description, {_sval('u.location')} AS location,
  NULL::VARCHAR AS raw, $1::VARCHAR AS source_file, a.line AS source_line,
  a.page AS raw_page, '$.includes.users[' || (a.i - 1) || ']' AS raw_at
FROM a JOIN firsts f ON f.uid = a.uid AND f.observed_at = a.observed_at AND f.first = (a.line, a.i)
"""
