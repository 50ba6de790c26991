"""A DuckDB-native fast path for twarc2 response pages (``twitter-v2``).

:func:`convert` turns a chunk of lines (one twarc2 page per line) into the
``posts`` and ``accounts`` tables that :func:`groundswell.formats.twitter_v2.parse`
plus :class:`groundswell.ingest.BatchSink` plus ``records_to_table`` would
make of the same lines, already merged within the chunk, using DuckDB's JSON
functions only: no Python work per tweet.

The Python parser defines the truth. This module mirrors each of its rules
for the common, clean shape of a page and hands every line it is not sure
about back to the caller (``fallback``), whole, to be parsed in Python:

* lines that are not valid JSON (DuckDB's reader), or hold ``NaN`` /
  ``Infinity`` tokens (DuckDB accepts them, orjson does not);
* pages whose ``data`` is not a list of tweet objects: streaming
  records, counts pages, users-lookup pages, list pages, errors-only pages
  (an empty ``data`` list is handled: it emits nothing, as in Python);
* any tweet or user with a field of an unexpected JSON type (an id that is
  not a non-empty string, a count that is not an integer of at most 18
  digits, a container that is not an object/array, ...), a ``created_at``
  not of the form ``YYYY-MM-DDTHH:MM:SS[.fff|.ffffff]Z``, a
  ``__twarc.retrieved_at`` not of the form ``YYYY-MM-DDTHH:MM:SS[.f{1,6}][Z|±HH:MM]``;
* a hashtag holding a character whose DuckDB ``lower()`` differs from
  Python's ``str.casefold()`` (computed once per process);
* a mention without an id that must be looked up by handle where the
  handle or a username of the page is not ASCII (``str.lower`` vs ``lower``);
* a tweet or user whose JSON text, as DuckDB writes it, could differ from
  ``orjson.dumps``: control characters written ``\\u001F`` (orjson writes
  lower case), floats below 1e-5 or from 1e16 on, integers of 20+ digits.

``raw`` is DuckDB's serialization of the extracted object, which is
byte-identical to ``orjson.dumps(orjson.loads(...))`` (same key order,
compact, UTF-8, the same escapes) outside the cases above. Known gap: an
object with a repeated key (orjson keeps the last value, DuckDB both);
files written by twarc (``json.dumps`` of dicts) cannot contain one.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

import duckdb
import pyarrow as pa

from groundswell import model

__all__ = ["convert", "casefold_unsafe_chars"]

_PAGE = ('{"data":"JSON[]","includes":{"users":"JSON[]","tweets":"JSON[]","media":"JSON[]",'
         '"places":"JSON[]"},"__twarc":{"retrieved_at":"JSON"}}')
_PAGE_PATHS = ["$.data", "$.includes", "$.includes.users", "$.includes.tweets", "$.includes.media",
               "$.includes.places", "$.__twarc", "$.data[0].tweet_count", "$.data[0].id",
               "$.data[0].member_count", "$.data[0].owner_id", "$.data[0].username", "$.data[0].text"]
_TWEET_FIELDS = ["id", "author_id", "text", "created_at", "lang", "source", "possibly_sensitive",
                 "in_reply_to_user_id", "conversation_id", "note_tweet", "entities",
                 "referenced_tweets", "attachments", "geo", "public_metrics"]
_USER_FIELDS = ["id", "username", "name", "public_metrics", "verified", "verified_type",
                "created_at", "description", "location"]
_PM_TWEET = '{"retweet_count":"JSON","reply_count":"JSON","like_count":"JSON","quote_count":"JSON"}'
_PM_USER = '{"followers_count":"JSON","following_count":"JSON","tweet_count":"JSON"}'

# DuckDB's serialization differs from orjson's here (checked on raw texts)
_RAW_RISK = r"\\u00[01][A-F]|[:,\[]-?(0\.00000[1-9]|[0-9]{17,}\.|[0-9.]+e[0-9]|[0-9]{20,}|-[0-9]{19,})"
_NAN = r"[:,\[]\s*-?(NaN|Infinity)"

_KEEP = False  # debugging: keep the temp tables
_STEPS = ("pages", "observed", "media", "places", "users", "handles", "umap", "tweets")
STEP_TIMES: dict[str, list[float]] = {}
"""Seconds per step of :func:`convert`, for benchmarks (appended to on every call)."""


def _timed(name: str, fn: Any, *args: Any) -> Any:
    t0 = time.perf_counter()
    out = fn(*args)
    STEP_TIMES.setdefault(name, []).append(time.perf_counter() - t0)
    return out

_lock = threading.Lock()
_unsafe: str | None = None


def _struct(fields: list[str]) -> str:
    return "{" + ",".join(f'"{f}":"JSON"' for f in fields) + "}"


def casefold_unsafe_chars(con: duckdb.DuckDBPyConnection) -> str:
    """The characters whose DuckDB ``lower()`` differs from Python's ``casefold()``.

    Both map one code point at a time, so a tag free of these characters folds
    the same way in SQL as in Python. Computed once per process.
    """
    global _unsafe
    with _lock:
        if _unsafe is None:
            py = {}
            for i in range(0x80, sys.maxunicode + 1):
                if 0xD800 <= i <= 0xDFFF:
                    continue
                c = chr(i)
                f = c.casefold()
                if f != c:
                    py[i] = f
            rows = con.execute(
                "SELECT i, lower(chr(i::INTEGER)) FROM range(128, 1114112) t(i) "
                "WHERE (i < 55296 OR i > 57343) AND lower(chr(i::INTEGER)) <> chr(i::INTEGER)"
            ).fetchall()
            duck = {int(i): s for i, s in rows}
            bad = sorted(i for i in set(py) | set(duck) if py.get(i, chr(i)) != duck.get(i, chr(i)))
            _unsafe = "".join(chr(i) for i in bad)
        return _unsafe


def _re_class(chars: str) -> str:
    """A RE2 character class matching any of ``chars`` (never empty)."""
    if not chars:
        return "[^\\x{0}-\\x{10FFFF}]"
    return "[" + "".join(f"\\x{{{ord(c):X}}}" for c in chars) + "]"


# -- SQL helpers: L is a JSON leaf (DuckDB's text of the value; NULL for null or missing)

def _str_ok(x: str) -> str:
    return f"({x} IS NULL OR starts_with({x}, '\"'))"


def _sval(x: str) -> str:
    return f"({x} ->> '$')"


def _id_ok(x: str) -> str:
    """_sid: a string (empty = None) or missing/null."""
    return _str_ok(x)


def _idv(x: str) -> str:
    return f"nullif({x} ->> '$', '')"


def _int_ok(x: str) -> str:
    return f"({x} IS NULL OR regexp_full_match({x}, '-?[0-9]{{1,18}}'))"


def _intv(x: str) -> str:
    return f"TRY_CAST({x} AS BIGINT)"


def _bool_ok(x: str) -> str:
    return f"({x} IS NULL OR {x} IN ('true', 'false'))"


def _obj_ok(x: str) -> str:
    return f"({x} IS NULL OR starts_with({x}, '{{'))"


def _arr_ok(x: str) -> str:
    return f"({x} IS NULL OR starts_with({x}, '['))"


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
    """Every element of a list satisfies a lambda body over ``e`` (true for NULL/empty)."""
    return f"coalesce(list_bool_and(list_transform({lst}, lambda el: coalesce({pred}, false))), true)"


def _sql(unsafe_class: str) -> list[str]:
    x = {f: f"x.{f}" for f in _TWEET_FIELDS}
    u = {f: f"u.{f}" for f in _USER_FIELDS}

    pages = f"""
CREATE OR REPLACE TEMP TABLE _gs_pg AS
WITH v AS (
  SELECT line, text, try(json_type(text, {_PAGE_PATHS!r})) AS ty FROM _gs_lines
), p AS (
  SELECT line, ty, from_json(text, '{_PAGE}') AS p,
         CASE WHEN contains(text, 'NaN') OR contains(text, 'Infinity')
              THEN regexp_matches(text, '{_NAN}') ELSE false END AS nan
  FROM v WHERE ty IS NOT NULL
)
SELECT line, p, p.__twarc.retrieved_at AS ra,
  ty[1] = 'ARRAY'
  AND coalesce(ty[2], 'NULL') IN ('NULL', 'OBJECT')
  AND coalesce(ty[3], 'NULL') IN ('NULL', 'ARRAY') AND coalesce(ty[4], 'NULL') IN ('NULL', 'ARRAY')
  AND coalesce(ty[5], 'NULL') IN ('NULL', 'ARRAY') AND coalesce(ty[6], 'NULL') IN ('NULL', 'ARRAY')
  AND coalesce(ty[7], 'NULL') IN ('NULL', 'OBJECT')
  AND NOT (ty[8] IS NOT NULL AND ty[9] IS NULL)
  AND ty[10] IS NULL AND ty[11] IS NULL
  AND NOT (ty[12] IS NOT NULL AND ty[13] IS NULL)
  AND NOT nan
  AND (p.__twarc.retrieved_at IS NULL OR NOT starts_with(p.__twarc.retrieved_at, '"')
       OR p.__twarc.retrieved_at = '""'
       OR (regexp_full_match(p.__twarc.retrieved_at, '{_RTIME_RE}')
           AND substr(p.__twarc.retrieved_at, 2, 4) <> '0000'
           AND try_strptime(substr(p.__twarc.retrieved_at, 2, 19), '%Y-%m-%dT%H:%M:%S') IS NOT NULL))
  AS ok
FROM p
"""
    # observed (retrieved_at) per page; non-strings and "" mean None
    observed = f"""
CREATE OR REPLACE TEMP TABLE _gs_obs AS
SELECT line, CASE WHEN ra IS NULL OR NOT starts_with(ra, '"') OR ra = '""' THEN NULL ELSE
  strptime(substr(ra, 2, 19), '%Y-%m-%dT%H:%M:%S')
  + to_microseconds(CASE WHEN substr(ra, 21, 1) = '.'
        THEN rpad(regexp_extract(ra, '\\.([0-9]+)', 1), 6, '0')::BIGINT ELSE 0 END)
  - to_minutes(CASE WHEN regexp_matches(ra, '[+-][0-9]{{2}}:[0-9]{{2}}"$')
        THEN (CASE WHEN substr(ra, -7, 1) = '-' THEN -1 ELSE 1 END)
             * (substr(ra, -6, 2)::BIGINT * 60 + substr(ra, -3, 2)::BIGINT) ELSE 0 END)
  END AS obs
FROM _gs_pg WHERE ok
"""
    # the page's lookups: media, places, users (last item per key wins)
    media = f"""
CREATE OR REPLACE TEMP TABLE _gs_media AS
SELECT line, key, arg_max(mtype, i) AS mtype, arg_max(murl, i) AS murl, bool_and(ok) AS ok FROM (
  SELECT line, i, m.media_key ->> '$' AS key, m.type ->> '$' AS mtype, m.url ->> '$' AS murl,
         {_str_ok('m.type')} AND {_str_ok('m.url')} AS ok
  FROM (SELECT line, from_json(unnest(p.includes.media), '{_struct(["media_key", "type", "url"])}') AS m,
               generate_subscripts(p.includes.media, 1) AS i FROM _gs_pg WHERE ok)
  WHERE starts_with(m.media_key, '"'))
GROUP BY line, key
"""
    places = f"""
CREATE OR REPLACE TEMP TABLE _gs_places AS
SELECT line, pid, arg_max(full_name, i) AS full_name, arg_max(cc, i) AS cc, bool_and(ok) AS ok FROM (
  SELECT line, i, q.id ->> '$' AS pid, q.full_name ->> '$' AS full_name, q.country_code ->> '$' AS cc,
         {_str_ok('q.full_name')} AND {_str_ok('q.country_code')} AS ok
  FROM (SELECT line, from_json(unnest(p.includes.places), '{_struct(["id", "full_name", "country_code"])}') AS q,
               generate_subscripts(p.includes.places, 1) AS i FROM _gs_pg WHERE ok)
  WHERE starts_with(q.id, '"'))
GROUP BY line, pid
"""
    users = f"""
CREATE OR REPLACE TEMP TABLE _gs_users AS
SELECT line, i, raw, u, upm,
  starts_with(raw, '{{') AND starts_with(u.id, '"') AND u.id <> '""' AND NOT starts_with(u.id, '"@')
  AND {_str_ok(u['username'])} AND {_str_ok(u['name'])} AND {_str_ok(u['description'])}
  AND {_str_ok(u['location'])} AND {_bool_ok(u['verified'])} AND {_obj_ok(u['public_metrics'])}
  AND {_int_ok('upm.followers_count')} AND {_int_ok('upm.following_count')}
  AND {_int_ok('upm.tweet_count')} AND {_time_ok(u['created_at'])}
  AND NOT regexp_matches(raw, '{_RAW_RISK}') AS ok
FROM (SELECT line, i, raw, u, from_json(u.public_metrics, '{_PM_USER}') AS upm FROM (
  SELECT line, i, raw, from_json(raw, '{_struct(_USER_FIELDS)}') AS u FROM (
    SELECT line, unnest(p.includes.users) AS raw, generate_subscripts(p.includes.users, 1) AS i
    FROM _gs_pg WHERE ok)))
"""
    # per page: id -> last item's username; '@'+lower(username) -> id (Python's dict order)
    handles = """
CREATE OR REPLACE TEMP TABLE _gs_handles AS
SELECT line, u.id ->> '$' AS uid, min(i) AS first_i, arg_max(u.username ->> '$', i) AS username
FROM _gs_users GROUP BY line, uid
"""
    umap = """
CREATE OR REPLACE TEMP TABLE _gs_umap AS
SELECT line, map_from_entries(list((k, uid))) AS umap,
       bool_and(strlen(k) = length(k)) AS ascii FROM (
  SELECT line, lower(username) AS k, arg_max(uid, first_i) AS uid
  FROM _gs_handles WHERE username IS NOT NULL GROUP BY line, k)
GROUP BY line
"""
    q = '"'
    refs_ok = _all("refs", f"starts_with(el.type, '{q}') AND (el.type NOT IN ('{q}retweeted{q}', '{q}replied_to{q}', "
                           f"'{q}quoted{q}') OR (starts_with(el.id, '{q}') AND el.id <> '{q}{q}'))")
    ms_ok = _all("ms", _str_ok("el.username") + " AND " + _str_ok("el.id") + f" AND coalesce(el.id <> '{q}{q}', true)")
    hs_ok = _all("hs", f"starts_with(el.tag, '{q}')")
    mks_ok = _all("mks", f"starts_with(el, '{q}')")
    tweets = f"""
CREATE OR REPLACE TEMP TABLE _gs_tw AS
WITH s AS (
  SELECT line, 0 AS sec, unnest(p.data) AS raw, generate_subscripts(p.data, 1) AS i FROM _gs_pg WHERE ok
  UNION ALL
  SELECT line, 1, unnest(p.includes.tweets), generate_subscripts(p.includes.tweets, 1) FROM _gs_pg WHERE ok
), a AS (
  SELECT *, from_json(raw, '{_struct(_TWEET_FIELDS)}') AS x FROM s
), b AS (
  SELECT *, from_json({x['note_tweet']}, '{_struct(["text", "entities"])}') AS nt,
         ({x['note_tweet']} IS NOT NULL AND {x['note_tweet']} <> '{{}}') AS note_on,
         from_json({x['attachments']}, '{_struct(["media_keys"])}') AS att,
         from_json({x['geo']}, '{_struct(["place_id"])}') AS geo,
         from_json({x['public_metrics']}, '{_PM_TWEET}') AS pm,
         from_json({x['referenced_tweets']}, '[{_struct(["type", "id"])}]') AS refs,
         json_type({x['referenced_tweets']}, '$[*]') AS refk
  FROM a
), c AS (
  SELECT *,
    CASE WHEN note_on THEN nt.text ELSE {x['text']} END AS text_l,
    CASE WHEN note_on AND nt.entities IS NOT NULL AND nt.entities <> '{{}}' THEN nt.entities
         ELSE {x['entities']} END AS ent_l
  FROM b
), d AS (
  SELECT *, from_json(ent_l, '{_struct(["hashtags", "mentions", "urls"])}') AS e FROM c
), f AS (
  SELECT *,
    from_json(e.hashtags, '[{_struct(["tag"])}]') AS hs, json_type(e.hashtags, '$[*]') AS hk,
    from_json(e.mentions, '[{_struct(["username", "id"])}]') AS ms, json_type(e.mentions, '$[*]') AS mk,
    from_json(e.urls, '[{_struct(["expanded_url", "url"])}]') AS us, json_type(e.urls, '$[*]') AS uk,
    from_json(att.media_keys, '["JSON"]') AS mks
  FROM d
)
SELECT line, sec, i, raw,
  x.id ->> '$' AS id,
  {_idv(x['author_id'])} AS author_id,
  {_sval('text_l')} AS text,
  {_time(x['created_at'])} AS created_at,
  {_sval(x['lang'])} AS lang,
  {_sval(x['source'])} AS source,
  ({x['possibly_sensitive']} = 'true') AS sensitive,
  {_idv(x['in_reply_to_user_id'])} AS reply_to_author_id,
  {_idv(x['conversation_id'])} AS conversation_id,
  {_intv('pm.retweet_count')} AS repost_count, {_intv('pm.reply_count')} AS reply_count,
  {_intv('pm.like_count')} AS like_count, {_intv('pm.quote_count')} AS quote_count,
  list_transform(list_filter(refs, lambda r: r.type = '"retweeted"'), lambda r: r.id ->> '$')[-1] AS repost_of_id,
  list_transform(list_filter(refs, lambda r: r.type = '"replied_to"'), lambda r: r.id ->> '$')[-1] AS reply_to_id,
  list_transform(list_filter(refs, lambda r: r.type = '"quoted"'), lambda r: r.id ->> '$')[-1] AS quote_of_id,
  coalesce(list_transform(hs, lambda h: h.tag ->> '$'), []) AS hashtags_raw,
  coalesce(list_transform(list_filter(ms, lambda m: m.username IS NOT NULL), lambda m: m.username ->> '$'), [])
    AS mentions,
  ms,
  coalesce(list_filter(list_transform(us, lambda q: coalesce(nullif(q.expanded_url ->> '$', ''),
                                                             nullif(q.url ->> '$', ''))),
                       lambda l: l IS NOT NULL), []) AS urls,
  coalesce(list_transform(mks, lambda k: k ->> '$'), []) AS media_keys,
  CASE WHEN {x['geo']} IS NOT NULL AND {x['geo']} <> '{{}}' THEN geo.place_id ->> '$' END AS place_id,
  list_bool_or(list_transform(ms, lambda m: m.id IS NULL AND m.username IS NOT NULL)) AS needs_lookup,
  ( starts_with(raw, '{{') AND starts_with({x['id']}, '"') AND {x['id']} <> '""'
    AND {_id_ok(x['author_id'])} AND NOT coalesce(starts_with({x['author_id']}, '"@'), false)
    AND {_obj_ok(x['note_tweet'])} AND {_str_ok('nt.text')} AND {_obj_ok('nt.entities')}
    AND {_str_ok(x['text'])} AND {_str_ok('text_l')}
    AND {_time_ok(x['created_at'])} AND {_str_ok(x['lang'])} AND {_str_ok(x['source'])}
    AND {_bool_ok(x['possibly_sensitive'])}
    AND {_id_ok(x['in_reply_to_user_id'])} AND {_id_ok(x['conversation_id'])}
    AND {_obj_ok(x['entities'])}
    AND {_arr_ok(x['referenced_tweets'])}
    AND {_all('refk', "el = 'OBJECT'")}
    AND {refs_ok}
    AND {_obj_ok(x['attachments'])} AND {_arr_ok('att.media_keys')}
    AND {mks_ok}
    AND {_obj_ok(x['geo'])} AND {_str_ok('geo.place_id')}
    AND {_obj_ok(x['public_metrics'])}
    AND {_int_ok('pm.retweet_count')} AND {_int_ok('pm.reply_count')}
    AND {_int_ok('pm.like_count')} AND {_int_ok('pm.quote_count')}
    AND {_arr_ok('e.hashtags')} AND {_arr_ok('e.mentions')} AND {_arr_ok('e.urls')}
    AND {_all('hk', "el = 'OBJECT'")} AND {_all('mk', "el = 'OBJECT'")} AND {_all('uk', "el = 'OBJECT'")}
    AND {hs_ok}
    AND {ms_ok}
    AND {_all('us', _str_ok('el.expanded_url') + " AND " + _str_ok('el.url'))}
    AND NOT regexp_matches(raw, '{_RAW_RISK}')
  ) AS ok
FROM f
"""
    return [pages, observed, media, places, users, handles, umap, tweets]


_BAD_SQL = """
WITH bad AS (
  SELECT line FROM _gs_pg WHERE ok IS NOT TRUE
  UNION SELECT line FROM _gs_tw WHERE ok IS NOT TRUE
  UNION SELECT line FROM _gs_users WHERE ok IS NOT TRUE
  UNION SELECT line FROM _gs_media WHERE ok IS NOT TRUE
  UNION SELECT line FROM _gs_places WHERE ok IS NOT TRUE
  UNION SELECT t.line FROM _gs_tw t LEFT JOIN _gs_umap m USING (line)
        WHERE t.needs_lookup AND NOT (coalesce(m.ascii, true) AND list_bool_and(list_transform(
          t.ms, lambda q: q.username IS NULL OR strlen(q.username) = length(q.username))))
)
SELECT line FROM bad
"""


def convert(con: duckdb.DuckDBPyConnection, lines: pa.Table, source_file: str) -> tuple[dict[str, pa.Table], list[int]]:
    """Convert a chunk of twarc2 page lines to merged ``posts`` and ``accounts`` tables.

    ``lines`` has columns ``line`` (int64, 1-based) and ``text`` (one page per
    row). Returns ``(tables, fallback)``: tables of exactly :data:`model.POSTS`
    and :data:`model.ACCOUNTS`, merged within the chunk by key with the
    store's rule, and the sorted line numbers left to the Python parser.
    """
    unsafe = _re_class(casefold_unsafe_chars(con))
    # small record batches let DuckDB parse pages on several threads
    src = pa.Table.from_batches(lines.select(["line", "text"]).to_batches(max_chunksize=16))
    con.register("_gs_lines", src)
    try:
        for name, stmt in zip(_STEPS, _sql(unsafe)):
            _timed(name, con.execute, stmt)
        con.execute("CREATE OR REPLACE TEMP TABLE _gs_bad AS " + _BAD_SQL)
        fallback_rows = con.execute(
            "SELECT line FROM _gs_lines WHERE line NOT IN (SELECT line FROM _gs_pg WHERE ok) "
            "UNION SELECT line FROM _gs_bad ORDER BY line").fetchall()
        fallback = [int(r[0]) for r in fallback_rows]
        # tags DuckDB's lower() would fold differently: Python folds each distinct one
        odd = con.execute(
            f"SELECT DISTINCT t FROM (SELECT unnest(hashtags_raw) AS t FROM _gs_tw) WHERE regexp_matches(t, '{unsafe}')"
        ).fetchall()
        folds = pa.table({"k": [r[0] for r in odd], "v": [r[0].casefold() for r in odd]},
                         schema=pa.schema([("k", pa.string()), ("v", pa.string())]))
        con.register("_gs_folds", folds)
        posts = _timed("posts", _posts, con, source_file, unsafe)
        accounts = _timed("accounts", _accounts, con, source_file)
    finally:
        con.unregister("_gs_lines")
        try:
            con.unregister("_gs_folds")
        except Exception:  # noqa: BLE001 - not registered when an earlier step failed
            pass
        for t in () if _KEEP else ("_gs_pg", "_gs_obs", "_gs_media", "_gs_places", "_gs_users", "_gs_handles",
                  "_gs_umap", "_gs_tw", "_gs_bad"):
            con.execute(f"DROP TABLE IF EXISTS {t}")
    return {"posts": posts, "accounts": accounts}, fallback


_MEDIA_TYPE = ("CASE split_part(k, '_', 1) WHEN '3' THEN 'photo' WHEN '7' THEN 'video' "
               "WHEN '13' THEN 'video' WHEN '16' THEN 'animated_gif' ELSE 'media' END")


def _posts(con: duckdb.DuckDBPyConnection, source_file: str, unsafe: str) -> pa.Table:
    cols = [n for n, _t, _d in model.POST_FIELDS]
    plain = [c for c in cols if c not in ("platform", "id", "is_reference", "deleted", "source_file",
                                          "source_line", "metrics_observed_at")
             and c not in ("repost_count", "reply_count", "like_count", "quote_count")
             and c not in model.LIST_COLUMNS]
    lists = [c for c in cols if c in model.LIST_COLUMNS]
    aggs = [f"first({c} ORDER BY prio) FILTER (WHERE {c} IS NOT NULL) AS {c}" for c in plain]
    aggs += [f"coalesce(first({c} ORDER BY prio) FILTER (WHERE len({c}) > 0), []) AS {c}" for c in lists]
    sql = f"""
WITH good AS (
  SELECT * FROM _gs_tw t WHERE NOT EXISTS (SELECT 1 FROM _gs_bad b WHERE b.line = t.line)
), dataids AS (
  SELECT DISTINCT line, id FROM good WHERE sec = 0
), s AS (
  SELECT g.*, sec = 1 AS is_reference, o.obs AS mo,
    h.username AS author_handle,
    CASE WHEN g.needs_lookup THEN list_transform(list_filter(g.ms, lambda q: q.id IS NOT NULL
            OR q.username IS NOT NULL), lambda q: coalesce(q.id ->> '$', um.umap[lower(q.username ->> '$')]))
         ELSE list_transform(list_filter(g.ms, lambda q: q.id IS NOT NULL), lambda q: q.id ->> '$') END
      AS mention_ids0,
    (g.line, g.sec, g.i) AS seq
  FROM good g
  JOIN _gs_obs o USING (line)
  LEFT JOIN _gs_handles h ON h.line = g.line AND h.uid = g.author_id
  LEFT JOIN _gs_umap um ON um.line = g.line
  WHERE g.sec = 0 OR NOT EXISTS (SELECT 1 FROM dataids d WHERE d.line = g.line AND d.id = g.id)
), m AS (
  SELECT s.*,
    CASE WHEN repost_of_id IS NOT NULL THEN 'repost' WHEN reply_to_id IS NOT NULL THEN 'reply'
         WHEN quote_of_id IS NOT NULL THEN 'quote' ELSE 'original' END AS kind,
    list_transform(hashtags_raw, lambda t: CASE WHEN regexp_matches(t, '{unsafe}')
                   THEN fm.folds[t] ELSE lower(t) END) AS hashtags,
    coalesce(list_filter(mention_ids0, lambda v: v IS NOT NULL), []) AS mention_ids,
    CASE WHEN len(s.media_keys) = 0 THEN [] ELSE list_transform(s.media_keys, lambda k:
      CASE WHEN mm.mmap[k] IS NOT NULL
           THEN coalesce(nullif(mm.mmap[k].t, ''), {_MEDIA_TYPE}) || ':' || coalesce(nullif(mm.mmap[k].u, ''), k)
           ELSE {_MEDIA_TYPE} || ':' || k END) END AS media,
    pl.full_name AS place, pl.cc AS country,
    (s.is_reference, s.line, s.sec, s.i) AS prio
  FROM s LEFT JOIN _gs_places pl ON pl.line = s.line AND pl.pid = s.place_id
  CROSS JOIN (SELECT map_from_entries(list((k, v))) AS folds FROM _gs_folds) fm
  LEFT JOIN (SELECT line, map_from_entries(list((key, {{'t': mtype, 'u': murl}}))) AS mmap
             FROM _gs_media GROUP BY line) mm ON mm.line = s.line
), one AS (
  SELECT * FROM (SELECT *, count(*) OVER (PARTITION BY id) AS n_seen FROM m)
)
SELECT 'twitter' AS platform, id,
  {", ".join(aggs)},
  {_fold()} AS cnt,
  bool_and(is_reference) AS is_reference,
  false AS deleted,
  first(line ORDER BY prio) AS source_line
FROM one WHERE n_seen > 1 GROUP BY id
UNION ALL BY NAME
SELECT 'twitter' AS platform, id, {", ".join(plain + lists)},
  {{'mo': mo, 'r': repost_count, 'p': reply_count, 'l': like_count, 'q': quote_count, 'ref': is_reference}} AS cnt,
  is_reference, false AS deleted, line AS source_line
FROM one WHERE n_seen = 1
"""
    out = con.sql(f"""
WITH agg AS ({sql})
SELECT platform, id, {', '.join(_post_expr(c) for c in cols[2:])}
FROM agg""", params=[source_file]).to_arrow_table()
    return out.cast(model.POSTS)


def _post_expr(c: str) -> str:
    if c in ("repost_count", "reply_count", "like_count", "quote_count"):
        return f"cnt.{ {'repost_count': 'r', 'reply_count': 'p', 'like_count': 'l', 'quote_count': 'q'}[c] } AS {c}"
    if c == "metrics_observed_at":
        return "cnt.mo AS metrics_observed_at"
    if c == "source_file":
        return "$1::VARCHAR AS source_file"
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


def _accounts(con: duckdb.DuckDBPyConnection, source_file: str) -> pa.Table:
    sql = f"""
WITH good AS (
  SELECT * FROM _gs_users u WHERE NOT EXISTS (SELECT 1 FROM _gs_bad b WHERE b.line = u.line)
    AND EXISTS (SELECT 1 FROM _gs_pg p WHERE p.line = u.line AND p.ok AND len(p.p.data) > 0)
), tw AS (
  SELECT line, sec, i, author_id, created_at FROM _gs_tw t
  WHERE NOT EXISTS (SELECT 1 FROM _gs_bad b WHERE b.line = t.line)
), seen AS (
  SELECT line, author_id, first(created_at ORDER BY sec, i) AS first_at
  FROM tw WHERE created_at IS NOT NULL AND author_id IS NOT NULL GROUP BY line, author_id
), newest AS (
  SELECT line, max(created_at) AS newest FROM tw GROUP BY line
), a AS (
  SELECT g.line, g.i, g.raw, g.u, g.upm,
    coalesce(o.obs, s.first_at, n.newest, TIMESTAMP '1970-01-01') AS observed_at
  FROM good g JOIN _gs_obs o USING (line)
  LEFT JOIN seen s ON s.line = g.line AND s.author_id = (g.u.id ->> '$')
  LEFT JOIN newest n ON n.line = g.line
)
SELECT 'twitter' AS platform, u.id ->> '$' AS id, observed_at,
  {_sval('u.username')} AS handle, {_sval('u.name')} AS display_name,
  {_intv('upm.followers_count')} AS followers, {_intv('upm.following_count')} AS following,
  {_intv('upm.tweet_count')} AS posts_count,
  coalesce(u.verified = 'true', false) OR (u.verified_type IS NOT NULL AND u.verified_type <> '"none"') AS verified,
  {_time('u.created_at')} AS created_at,
  {_sval('u.description')} AS description, {_sval('u.location')} AS location,
  raw, $1::VARCHAR AS source_file, line AS source_line
FROM a
QUALIFY row_number() OVER (PARTITION BY id, observed_at ORDER BY line, i) = 1
"""
    return con.sql(sql, params=[source_file]).to_arrow_table().cast(model.ACCOUNTS)
