"""Mastodon status addresses: how a server's local number for a status becomes the status' URI.

The store keeps a Mastodon status under its URI (its ActivityPub id, the same
on every server). A server names statuses by numbers of its own: a status'
``id`` and its ``in_reply_to_id`` are local to the server that answered. The
Mastodon reader (:mod:`groundswell.formats.mastodon`) writes a parent it can
not name exactly as the *server-scoped address* ``https://SERVER/api/v1/statuses/N``
(:func:`status_address`). This module says which stored status such an
address is, from what the data holds:

* a stored status' own address: the server it came from (``_server`` in its
  raw JSON: collect's envelope, the ``_server`` field, or the server the
  reader found it local to) and its ``id``;
* the home address of any status URI the store knows (a post's id, or a
  parent URI a reply derived): ``https://HOST/users/NAME/statuses/N`` and
  ``https://HOST/ap/users/ID/statuses/N`` are status ``N`` of ``HOST``, which
  is also what ``https://HOST/@NAME/N`` (the status' ``url``) says.

:data:`LINK_SQL` rewrites every reply (``reply_to_id``) and quote
(``quote_of_id``) that still holds an address to the URI it names, when
exactly one URI answers to it. The store runs it after each write that holds
Mastodon posts (:func:`link_statuses`), so a reply and its parent link up
whichever is stored first, in one file or across files and ingests, as
Mastodon deletions do. An address nothing answers to stays as it is (a parent
not collected), and is linked when its status arrives.

It knows nothing but strings and SQL text: both the reader and the store
(below which nothing may import) use it.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["ADDRESS_LIKE", "FILL_SQL", "LINK_SQL", "home_address", "link_statuses", "server_base", "status_address"]

# what an unresolved parent looks like (the SQL prefilter)
ADDRESS_LIKE = "http%://%/api/v1/statuses/%"
_HOME = re.compile(r"^(https?://[^/]+)(?:/ap)?/users/[^/]+/statuses/([^/?#]+)$")
_HOME_URL = re.compile(r"^(https?://[^/]+)/@[^/]+/([0-9]+)$")


def server_base(server: str) -> str:
    """``mastodon.social`` or ``https://mastodon.social`` -> ``https://mastodon.social``."""
    return server.rstrip("/") if "://" in server else f"https://{server.rstrip('/')}"


def status_address(server: str, local_id: str) -> str:
    """The server-scoped address of the status ``local_id`` of ``server``."""
    return f"{server_base(server)}/api/v1/statuses/{local_id}"


def home_address(uri: str) -> str | None:
    """The address of a status on its home server, from its URI (or its ``url``), or None."""
    m = _HOME.match(uri) or _HOME_URL.match(uri)
    return f"{m.group(1)}/api/v1/statuses/{m.group(2)}" if m else None


_HOME_SQL = r"'^(https?://[^/]+)(?:/ap)?/users/[^/]+/statuses/([^/?#]+)$'"
_HOME_URL_SQL = r"'^(https?://[^/]+)/@[^/]+/([0-9]+)$'"
_BASE_SQL = "CASE WHEN {s} LIKE '%://%' THEN rtrim({s}, '/') ELSE 'https://' || rtrim({s}, '/') END"


def _home(col: str) -> str:
    return (f"CASE WHEN regexp_matches({col}, {_HOME_SQL}) THEN regexp_replace({col}, {_HOME_SQL}, "
            f"'\\1/api/v1/statuses/\\2') WHEN regexp_matches({col}, {_HOME_URL_SQL}) THEN "
            f"regexp_replace({col}, {_HOME_URL_SQL}, '\\1/api/v1/statuses/\\2') END")


# What one set of rows (the stored posts, or a batch just written) tells about addresses. Per
# connection, temporary tables keep it, so the store's raw JSON is read once per process and then
# only the new rows (a live follower or a long ingest never reads the whole store again):
#   gs_ma_addr         address -> URI: a status' own address on the server that gave it (``_server``),
#                      its home address (from its URI or url), and the home address of a parent URI a
#                      reply names (a root that was not collected)
#   gs_ma_unserved     statuses without ``_server``: their file and number, for when the file's
#                      server is known
#   gs_ma_hosts        the hosts that a file's statuses without ``_server`` are local to
#   gs_ma_unaddressed  replies without a parent address (no server known): their parent's number
_ROWS = """
SELECT uri, source_file, kind, reply_to_id, quote_of_id, j[1] AS server, j[2] AS n, j[3] AS url, j[4] AS parent_n,
       has_raw FROM (
  SELECT id AS uri, source_file, kind, reply_to_id, quote_of_id, raw IS NOT NULL AS has_raw,
         json_extract_string(raw, ['$._server', '$.id', '$.url', '$.in_reply_to_id']) AS j
  FROM {src} WHERE platform = 'mastodon')"""
_R = "_gs_ma_rows"

_FILL_TEMP = {
    "gs_ma_addr": f"""
SELECT {_BASE_SQL.format(s="server")} || '/api/v1/statuses/' || n AS address, uri FROM {_R}
WHERE coalesce(server, '') <> '' AND coalesce(n, '') <> ''
UNION ALL SELECT * FROM (
  SELECT {_home("url")} AS address, uri FROM {_R} WHERE url IS NOT NULL
  UNION ALL SELECT {_home("uri")}, uri FROM {_R}
  UNION ALL SELECT {_home("reply_to_id")}, reply_to_id FROM {_R}
    WHERE reply_to_id IS NOT NULL AND reply_to_id NOT LIKE '{ADDRESS_LIKE}'
  UNION ALL SELECT {_home("quote_of_id")}, quote_of_id FROM {_R}
    WHERE quote_of_id IS NOT NULL AND quote_of_id NOT LIKE '{ADDRESS_LIKE}') WHERE address IS NOT NULL""",
    "gs_ma_unserved": f"SELECT source_file, n, uri FROM {_R} "
                      "WHERE has_raw AND server IS NULL AND coalesce(n, '') <> ''",
    "gs_ma_hosts": f"""
SELECT DISTINCT source_file, lower(regexp_extract(uri, '^https?://([^/]+)/', 1)) AS host FROM {_R}
WHERE has_raw AND server IS NULL AND coalesce(n, '') <> ''
  AND (regexp_extract(uri, '/statuses/([^/?#]+)$', 1) = n OR regexp_extract(url, '/@[^/]+/([0-9]+)$', 1) = n)""",
    "gs_ma_unaddressed": f"""
SELECT source_file, uri, parent_n FROM {_R}
WHERE has_raw AND server IS NULL AND kind = 'reply' AND reply_to_id IS NULL AND coalesce(parent_n, '') <> ''""",
}

# the server that gave each file whose statuses do not say it: the one host its local statuses share
_FILE_SERVER = ("SELECT source_file, min(host) AS host FROM gs_ma_hosts "
                "GROUP BY source_file HAVING count(DISTINCT host) = 1")

# a reply the reader could not address gets its parent's address once its file names its server
FILL_SQL = f"""
UPDATE posts SET reply_to_id = {_BASE_SQL.format(s="f.host")} || '/api/v1/statuses/' || u.parent_n
FROM gs_ma_unaddressed u JOIN ({_FILE_SERVER}) f ON f.source_file = u.source_file
WHERE posts.platform = 'mastodon' AND posts.id = u.uri AND posts.reply_to_id IS NULL AND posts.kind = 'reply'
"""

# the addresses still waiting -> the one URI that answers each, if the store still holds that URI
# (as a post, or as the parent a reply names: a root that was not collected)
_ANSWER = f"""
WITH pend AS (
  SELECT reply_to_id AS address FROM posts WHERE platform = 'mastodon' AND reply_to_id LIKE '{ADDRESS_LIKE}'
  UNION SELECT quote_of_id FROM posts WHERE platform = 'mastodon' AND quote_of_id LIKE '{ADDRESS_LIKE}'
),
known AS (
  SELECT a.address, a.uri FROM gs_ma_addr a JOIN pend ON pend.address = a.address
  UNION ALL SELECT s.address, s.uri FROM (
    SELECT {_BASE_SQL.format(s="f.host")} || '/api/v1/statuses/' || u.n AS address, u.uri
    FROM gs_ma_unserved u JOIN ({_FILE_SERVER}) f ON f.source_file = u.source_file) s
  JOIN pend ON pend.address = s.address
),
one AS (SELECT address, min(uri) AS uri FROM known GROUP BY address HAVING count(DISTINCT uri) = 1)
SELECT one.address, one.uri FROM one
WHERE one.uri IN (SELECT id FROM posts WHERE platform = 'mastodon')
   OR one.uri IN (SELECT reply_to_id FROM posts WHERE platform = 'mastodon')
   OR one.uri IN (SELECT quote_of_id FROM posts WHERE platform = 'mastodon')"""

LINK_SQL: tuple[str, ...] = tuple(
    f"""UPDATE posts SET {col} = a.uri FROM ({_ANSWER}) a
WHERE posts.platform = 'mastodon' AND posts.{col} LIKE '{ADDRESS_LIKE}' AND posts.{col} = a.address"""
    for col in ("reply_to_id", "quote_of_id"))

_PENDING_SQL = (f"SELECT 1 FROM posts WHERE platform = 'mastodon' AND (reply_to_id LIKE '{ADDRESS_LIKE}' "
                f"OR quote_of_id LIKE '{ADDRESS_LIKE}') LIMIT 1")
_BATCH = "_gs_ma_batch"


def _has_temp(con: Any) -> bool:
    return bool(con.execute("SELECT 1 FROM duckdb_tables() WHERE temporary AND table_name = 'gs_ma_addr'")
                .fetchall())


def _rows(con: Any, src: str) -> None:
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_R} AS " + _ROWS.format(src=src))


def link_statuses(con: Any, posts: Any) -> None:
    """Link the stored Mastodon replies and quotes to their parents' URIs on a DuckDB connection,
    after ``posts`` (an Arrow table of the model's posts: the batch just written) were stored.

    The first call of a connection that finds something to link reads the addresses of every
    stored status (one pass over their raw JSON); later calls read only the batch's, and look
    for parents only when the batch brings a reply waiting for one or an address one waits for."""
    import pyarrow.compute as pc

    mastodon = pc.equal(posts.column("platform"), "mastodon")
    if not pc.any(mastodon).as_py():
        return
    built = _has_temp(con)
    if not built and not con.execute(_PENDING_SQL).fetchall():
        unaddressed = pc.and_(pc.and_(mastodon, pc.equal(posts.column("kind"), "reply")),
                              pc.is_null(posts.column("reply_to_id")))
        if not pc.any(unaddressed).as_py():
            return  # nothing waits for a parent: no need to read anything
    con.register(_BATCH, posts)
    try:
        _rows(con, _BATCH)
    finally:
        con.unregister(_BATCH)
    try:
        if built:
            first = False
            con.execute(f"CREATE OR REPLACE TEMP TABLE _gs_ma_new AS {_FILL_TEMP['gs_ma_addr']}")
            con.execute("INSERT INTO gs_ma_addr SELECT * FROM _gs_ma_new")
            hosts_before = con.execute("SELECT count(*) FROM gs_ma_hosts").fetchall()[0][0]
            for name in ("gs_ma_unserved", "gs_ma_unaddressed"):
                con.execute(f"INSERT INTO {name} " + _FILL_TEMP[name])
            con.execute(f"INSERT INTO gs_ma_hosts SELECT * FROM ({_FILL_TEMP['gs_ma_hosts']}) "
                        "EXCEPT SELECT * FROM gs_ma_hosts")
            new_hosts = con.execute("SELECT count(*) FROM gs_ma_hosts").fetchall()[0][0] > hosts_before
            batch_waits = bool(con.execute(f"SELECT 1 FROM {_R} WHERE reply_to_id LIKE '{ADDRESS_LIKE}' OR "
                                           f"quote_of_id LIKE '{ADDRESS_LIKE}' LIMIT 1").fetchall())
        elif con.execute(_PENDING_SQL).fetchall() or con.execute(
                _FILL_TEMP["gs_ma_unaddressed"] + " LIMIT 1").fetchall():
            first = new_hosts = batch_waits = True
            _rows(con, "posts")  # the whole store, once
            for name, sql in _FILL_TEMP.items():
                con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS " + sql)
        else:
            return
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_R}")
    if con.execute("SELECT 1 FROM gs_ma_unaddressed LIMIT 1").fetchall():
        filled = bool(con.execute(FILL_SQL).fetchall()[0][0])
        batch_waits = batch_waits or filled
        con.execute("DELETE FROM gs_ma_unaddressed WHERE uri IN (SELECT id FROM posts WHERE platform = "
                    "'mastodon' AND reply_to_id IS NOT NULL)")
    if not con.execute(_PENDING_SQL).fetchall():
        return
    if not (first or new_hosts or batch_waits) and not con.execute(
            "SELECT 1 FROM _gs_ma_new WHERE address IN (SELECT reply_to_id FROM posts WHERE platform = 'mastodon' "
            f"AND reply_to_id LIKE '{ADDRESS_LIKE}' UNION SELECT quote_of_id FROM posts WHERE platform = "
            f"'mastodon' AND quote_of_id LIKE '{ADDRESS_LIKE}') LIMIT 1").fetchall():
        return  # nothing new answers a waiting address
    for sql in LINK_SQL:
        con.execute(sql)
