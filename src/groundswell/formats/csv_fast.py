"""A DuckDB-native fast path for CSV files of posts and for ``follows.csv``.

The Python reader (:mod:`groundswell.formats.csv`, :mod:`groundswell.formats.follows`)
defines the truth; this module does the same work with DuckDB's parallel CSV
reader and set-based SQL, and hands back to Python whatever it is not sure
about, so that the store ends exactly as the Python path would leave it.

A file takes the fast path when it is a plain (uncompressed) file and

* its bytes are in the shape where DuckDB's CSV parser and Python's ``csv``
  module agree (:func:`scan`): valid UTF-8, one record per physical line
  (no quoted line breaks, no blank lines, ``\\n`` or consistent ``\\r\\n`` line
  ends), no NUL byte, no blank space between a delimiter and a quote;
  DuckDB's strict parser must also accept every record with exactly the
  header's number of fields;
* (posts) its header has none of the columns whose rules are rare and
  intricate: twarc json2csv's ``tweet_type`` / ``retweet_or_quote_id`` and old
  ``retweet_id``, author profile columns (twarc-csv's ``author.*``), and no
  header name is repeated.

Otherwise the whole file goes the Python way. A file of posts is checked and
loaded a chunk at a time (:func:`chunks`, :func:`chunk_shape_ok`,
:func:`load_chunk`), so the check of its bytes and of DuckDB's reading is made
per chunk: the first chunk that fails it, and the rest of the file, go the
Python way (the caller's). Inside a fast file, a record
goes to the Python reader (``fallback``) when one of its fields needs a rule
SQL would not apply identically: control characters, non-ASCII text where
hashtags or mentions come from the text or where a value is split, lower-cased
or matched against ``\\d``, a float-looking id, a time not in ISO form, a
count not a plain integer, a hashtags column of bare ``#`` marks (GetOldTweets)
or a JSON list, a post id seen twice in the same chunk.

The rows' original records are not written out: the caller keeps the file's
lines as CSV pages (:mod:`groundswell.store.pages`, :data:`PAGE_LINES` lines
each, numbered by their first line) and each row points at its line
(``raw_page``, ``raw_at``), from which ``orjson.dumps(dict(zip(header, row)))``
is read back exactly as the Python reader writes ``raw``. Where pages are not
kept (a redacting store, Spark), ``raw`` is built in SQL as that call would
write it: keys serialized by orjson, values by DuckDB's ``to_json``, which
writes strings byte-identically to orjson once control characters other than
tab are excluded.
"""

from __future__ import annotations

import csv as _csv
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from groundswell import model
from groundswell.formats import csv as csvfmt
from groundswell.model import Select

_TABLE = "_gs_csv"
_SCAN_BLOCK = 16 << 20
PAGE_LINES = 128  # lines of a CSV page: about the size of a twarc2 page for twarc-csv's wide rows

# Python's str.strip() removes exactly these characters
_WS = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
       "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")  # tests check it against str.isspace
_WS_SQL = "'" + _WS + "'"  # no quote among them


def _strip(x: str) -> str:
    """Python's ``x.strip()`` in SQL (values with printable ASCII ends skip the trim)."""
    return (f"CASE WHEN ascii({x}) BETWEEN 33 AND 126 AND ascii(right({x}, 1)) BETWEEN 33 AND 126 "
            f"THEN {x} ELSE trim({x}, {_WS_SQL}) END")

# columns whose rules stay in Python (the whole file goes the Python way)
_PY_ONLY_COLUMNS = ("tweet_type", "retweet_or_quote_id") + csvfmt._ACCOUNT_COLS

_FLOAT_ID = r"[+-]?([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+(\.[0-9]*)?[eE][+-]?[0-9]+)"
_ISO = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{3}|\.[0-9]{6})?Z?"
_W = "0-9A-Za-z_"  # Python's \w on ASCII text
# csv.URL_RE without (?i), which in RE2 would also fold 'ſ' and the Kelvin sign
_SCHEME = "[Hh][Tt][Tt][Pp][Ss]?://"
_URL = _SCHEME + "[!-~]*[" + csvfmt._URL_END + "]"


@dataclass
class Scan:
    """What the byte scan of a file found."""

    ok: bool
    lines: int = 0  # physical lines, the header included
    reason: str = ""


def scan(path: str, max_line: int | None = None) -> Scan:
    """Count the lines and check the byte-level shape the fast path needs (see module doc); with
    ``max_line``, that no line is longer (a line about that long is left to the Python reader,
    which counts exactly)."""
    lines = crs = 0
    prev = b""
    last = b""
    since = 0  # bytes of the line the last block ended in
    with open(path, "rb") as f:
        while True:
            block = f.read(_SCAN_BLOCK)
            if not block:
                break
            if b"\x00" in block or b"\x01" in block:
                return Scan(False, reason="NUL or SOH bytes")
            if max_line is not None:
                nl = block.find(b"\n")
                if nl < 0:
                    since += len(block)
                else:
                    end = block.rfind(b"\n") + 1
                    if since + nl >= max_line or too_long(block, max_line, nl + 1, end):
                        return Scan(False, reason="a line too long")
                    since = len(block) - end
                if since >= max_line:
                    return Scan(False, reason="a line too long")
            cr = block.count(b"\r")
            edge = prev[-2:] + block[:2]  # what runs across the two blocks (no copy of the block)
            if b"\n\n" in block or b"\n\n" in edge or ((cr or b"\r" in edge)
                                                      and (b"\n\r\n" in block or b"\n\r\n" in edge)):
                return Scan(False, reason="blank lines")
            lines += block.count(b"\n")
            crs += cr
            prev = last = block
    if not last:
        return Scan(True, lines=0)
    if not last.endswith(b"\n"):
        lines += 1
    if crs and crs != lines - (0 if last.endswith(b"\n") else 1):
        return Scan(False, reason="mixed line ends")
    return Scan(True, lines=lines)


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def load(con: duckdb.DuckDBPyConnection, path: str, width: int, delimiter: str, expect_rows: int) -> bool:
    """Read the file's records (after the header) into a temp table, in file order,
    each with its physical line as written (column ``l``).

    False when DuckDB's strict reader refuses the file or does not find one
    record per line: the caller then reads the file in Python.
    """
    try:
        return _load(con, path, width, delimiter, expect_rows, skip=1)
    except duckdb.Error:
        drop(con)
        return False


def load_chunk(con: duckdb.DuckDBPyConnection, path: str, data: bytes, width: int, delimiter: str,
               expect_rows: int) -> bool:
    """:func:`load` of one chunk of a file's lines (``data``, whole lines, no header), written to
    ``path`` (a scratch file of the caller's) for DuckDB to read: the temp table holds the chunk's
    rows only. False as :func:`load`; DuckDB running out of memory is raised, for the caller to
    retry with a larger pool."""
    with open(path, "wb") as f:
        f.write(data)
    try:
        return _load(con, path, width, delimiter, expect_rows, skip=0)
    except duckdb.OutOfMemoryException:
        drop(con)
        raise
    except duckdb.Error:
        drop(con)
        return False


def _load(con: duckdb.DuckDBPyConnection, path: str, width: int, delimiter: str, expect_rows: int,
          skip: int) -> bool:
    cols = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width)) + "}"
    # DuckDB takes \r\n and \n line ends alike; scan() or chunk_shape_ok() made sure they are consistent
    common = f"header = false, skip = {skip}, auto_detect = false, strict_mode = true, encoding = 'utf-8'"
    # a record across lines (a value with a line break): the records are fewer than the lines, and
    # the join pads the last lines with records of NULLs (_r; scan() and chunk_shape_ok() leave no
    # other line end, so a record is never split in two)
    con.execute(f"DROP TABLE IF EXISTS {_TABLE}")
    con.execute(
        f"CREATE TEMP TABLE {_TABLE} AS SELECT * EXCLUDE (_r), _r IS NULL OR l IS NULL AS _broken FROM "
        f"(SELECT *, true AS _r FROM read_csv({_sql_str(path)}, columns = {cols}, delim = {_sql_str(delimiter)}, "
        f"quote = '\"', escape = '\"', null_padding = false, {common})) POSITIONAL JOIN "
        f"read_csv({_sql_str(path)}, columns = {{'l': 'VARCHAR'}}, delim = '\x01', quote = '', escape = '', "
        f"{common})")
    n, broken = con.execute(f"SELECT count(*), coalesce(bool_or(_broken), false) FROM {_TABLE}").fetchall()[0]
    if broken or n != expect_rows:
        drop(con)
        return False
    return True


def chunks(path: str, first: int, step: int, at: int = 0) -> Iterator[tuple[int, bytes, int, int]]:
    """The file's lines after the header, from row ``first`` (0-based) on, ``step`` at a time: each
    chunk's first row, its bytes (whole lines, as written), how many lines it holds and the byte
    offset in the file where it ends. ``at``: the byte offset where row ``first`` starts, if known
    (a chunk's end, as an earlier run recorded it)."""
    with open(path, "rb") as f:
        if at > 0:
            f.seek(at)
        else:
            f.readline()  # the header
            deque(islice(f, first), maxlen=0)
        lo, end = first, f.tell()
        while True:
            got = list(islice(f, step))
            if not got:
                return
            n, data = len(got), b"".join(got)
            del got
            end += len(data)
            yield lo, data, n, end
            del data
            lo += n


def chunk_shape_ok(data: bytes, n: int, max_line: int | None = None) -> bool:
    """:func:`scan`'s byte-level checks, of one chunk of ``n`` whole lines (``data``, from
    :func:`chunks`): no NUL or SOH byte, no blank line, and ``\\r`` only in a ``\\r\\n`` ending
    every line (the chunk is read by DuckDB alone, so its line ends need agree only among
    themselves; that each ``\\r`` is in a line end, DuckDB's count of records tells); and no line
    the Python reader refuses as longer than ``max_line`` bytes."""
    if b"\x00" in data or b"\x01" in data or data.startswith(b"\n") or b"\n\n" in data:
        return False
    if max_line is not None and too_long(data, max_line):
        return False
    cr = data.count(b"\r")
    if cr and (data.startswith(b"\r\n") or b"\n\r\n" in data or cr != n - (0 if data.endswith(b"\n") else 1)):
        return False
    return True


def too_long(data: bytes, max_line: int, start: int = 0, stop: int | None = None) -> bool:
    """Whether one of these whole lines (``data[start:stop]``) is longer than ``max_line`` bytes as
    the ingest's line reader counts (it reads ``max_line + 1`` bytes at a time: a line is too long
    when they hold no line end and the line goes on, or end the file)."""
    size = len(data) if stop is None else stop
    if size - start <= max_line:
        return False
    at, find = start, data.find
    while at < size:
        nl = find(b"\n", at, min(size, at + max_line + 1))
        if nl < 0:
            return size - at > max_line
        at = nl + 1
    return False


def drop(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"DROP TABLE IF EXISTS {_TABLE}")


def rows(con: duckdb.DuckDBPyConnection, lines: list[int], delimiter: str, first: int = 0
         ) -> list[tuple[int, list[str]]]:
    """The records at these physical lines, parsed by Python's ``csv`` from the line as written
    (the temp table's rows are the file's from row ``first`` on, 0-based)."""
    if not lines:
        return []
    con.register("_gs_want", pa.table({"r": pa.array([n - 2 - first for n in lines], pa.int64())}))
    try:
        out = con.execute(f"SELECT t.rowid, t.l FROM {_TABLE} t JOIN _gs_want w ON t.rowid = w.r "
                          "ORDER BY t.rowid").fetchall()
    finally:
        con.unregister("_gs_want")
    got = []
    for rowid, line in out:
        row = next(_csv.reader([(line or "").rstrip("\r")], delimiter=delimiter), [])
        got.append((int(rowid) + first + 2, row))
    return got


# -- posts ---------------------------------------------------------------------

def posts_plan(header: list[str], cols: dict[str, int]) -> str | None:
    """None when a file with this header can take the fast path, else why not."""
    if len(set(header)) != len(header):
        return "a repeated header name"
    if any(c in cols for c in _PY_ONLY_COLUMNS):
        return "json2csv or author profile columns"
    if "repost_of_id" in cols and header[cols["repost_of_id"]].strip().lower() == "retweet_id":
        return "an old json2csv retweet_id column"
    return None


def _ci(literal: str) -> str:
    """An RE2 pattern matching ``literal`` with ASCII letters in either case (RE2's (?i) would
    also fold 'ſ' and the Kelvin sign, which Python's re.ASCII | re.IGNORECASE does not)."""
    return "".join(f"[{ch.upper()}{ch}]" if ch.isalpha() else "\\" + ch if ch == "." else ch for ch in literal)


def _ascii(x: str) -> str:
    return f"(strlen({x}) = length({x}))"


def _risky_pattern(delimiter: str) -> str:
    """Blank space next to a quote: where DuckDB and Python's ``csv`` may split a line differently."""
    pad = "[ ]" if delimiter == "\t" else "[ \\t]"
    return f'{pad}"|"{pad}'


def _risky(delimiter: str) -> str:
    """Lines where DuckDB and Python's ``csv`` may split differently (:func:`_risky_pattern`)."""
    return f"regexp_matches(l, '{_risky_pattern(delimiter)}')"


def _wide(delimiter: str, width: int) -> str:
    """SQL true for a line (``l``, its fields ``c0``...) that holds empty fields beyond the header's
    ``width``: DuckDB's strict reader drops them (``a,b,`` for two columns) where Python's ``csv``
    counts them (the row is rejected). Such a line ends in the delimiter, or in an empty quoted value
    after one; its delimiters outside quotes (the line's, less those inside the values) are then
    more than ``width - 1``."""
    d = _sql_str(delimiter)

    def count(x: str) -> str:
        return f"(strlen({x}) - strlen(replace({x}, {d}, '')))"

    inside = " + ".join(f"coalesce({count(f'c{i}')}, 0)" for i in range(width))
    return (f"CASE WHEN ends_with(l, {d}) OR ends_with(l, {d} || '\"\"') "
            f"THEN {count('l')} - ({inside}) <> {width - 1} ELSE false END")


def posts_sql(header: list[str], cols: dict[str, int], platform: str | None, delimiter: str,
              pages: bool = False) -> str:
    """SELECT of the posts (model order) and an ``ok`` flag for the rows of the temp table, a chunk
    of the file (:func:`load_chunk`) whose first row is row $1 of the file (0-based); $2 is the
    source file. With ``pages``, ``raw`` is NULL and each row points at its line in the chunk's pages
    (:func:`page_bodies`; $3 is the file's page base), after the model's columns. The rows are not
    sorted (a sort cost 10% of the statement): each row's line and pointer come from its own row
    number, and nothing after depends on their order."""
    def c(name: str) -> str | None:
        return f"c{cols[name]}" if name in cols else None

    def g(name: str) -> str:
        """csv._row's get(): the stripped value, NULL when empty."""
        col = c(name)
        return f"nullif({_strip(col)}, '')" if col else "NULL::VARCHAR"

    checks: list[str] = []
    checks.append("NOT ctl")
    checks.append("NOT wide")
    # ids: present, ASCII, not float-corrupted
    checks.append(f"v_id IS NOT NULL AND {_ascii('v_id')} AND NOT regexp_full_match(v_id, '{_FLOAT_ID}')")
    for name in ("author_id", "reply_to_id", "repost_of_id", "quote_of_id", "reply_to_author_id"):
        if name in cols:
            v = f"v_{name}"
            checks.append(f"({v} IS NULL OR ({_ascii(v)} AND NOT regexp_full_match({v}, '{_FLOAT_ID}')))")
    for name in ("created_at", "retrieved_at"):
        if name in cols:
            v = f"v_{name}"
            checks.append(f"({v} IS NULL OR (regexp_full_match({v}, '{_ISO}') AND substr({v}, 1, 4) <> '0000' "
                          f"AND t_{name} IS NOT NULL))")
    for name in ("repost_count", "reply_count", "like_count", "quote_count"):
        if name in cols:
            checks.append(f"(v_{name} IS NULL OR regexp_full_match(v_{name}, '-?[0-9]{{1,18}}'))")
    # names from the text, where SQL's ASCII \w reads them as Python's Unicode \w does: no full-width
    # mark, and no non-ASCII character just before a mark or just after the ASCII name that follows it
    # (that also leaves to Python a name cut short by '…'); the columns' names are ASCII
    checks.append(f"(rest IS NULL OR {_ascii('rest')} OR NOT regexp_matches(rest, "
                  f"'[＃＠]|[^\\x00-\\x7f][#@]|[#@][{_W}]*[^\\x00-\\x7f]'))")
    for name in ("hashtags", "mentions", "urls", "quote_url"):
        if name in cols:
            v = f"v_{name}"
            checks.append(f"({v} IS NULL OR ({_ascii(v)} AND NOT starts_with({v}, '[')))")
    for name, mark in (("hashtags", "#"), ("mentions", "@")):
        if name in cols:  # GetOldTweets' bare marks: its spaced '# MeToo' / '@ name' are Python's
            checks.append(f"(v_{name} IS NULL OR NOT regexp_matches(v_{name}, '(^|[\\t ,]){mark}+([\\t ,]|$)'))")
    for in_text, in_col in (("t_tags", "c_tags"), ("t_ment", "c_ment")):  # what SQL unites: one side, or equal
        checks.append(f"(len({in_text}) = 0 OR len({in_col}) = 0 OR "
                      f"list_sort(list_transform({in_text}, lambda x: lower(x))) = "
                      f"list_sort(list_transform({in_col}, lambda x: lower(x))))")
    # links: no scheme-less or glued ones, each once, not the post's own
    checks.append(f"(text IS NULL OR NOT (regexp_matches(text, '[A-Za-z0-9]{_SCHEME}|{_ci('pic.twitter.com')}') "
                  f"OR regexp_matches(rest, '{_ci('twitter.com/')}|{_ci('x.com/')}|{_ci('bsky.app/profile/')}"
                  f"|{_ci('www.')}')))")
    checks.append(f"list_bool_and(list_transform(hashtags_raw, lambda t: {_ascii('t')})) IS NOT FALSE")  # casefold
    checks.append("len(list_distinct(urls)) = len(urls)")
    checks.append("strpos(concat(text, ' ', v_urls, ' ', v_quote_url), v_id) = 0")
    checks.append("(v_permalink IS NULL OR NOT list_contains(urls, v_permalink))")
    if "permalink" in cols:
        checks.append(f"(v_permalink IS NULL OR {_ascii('v_permalink')})")
    if "author_id" not in cols:
        checks.append(f"(v_author IS NULL OR {_ascii('v_author')})")  # lower() of the handle
    if "country" in cols:
        checks.append(f"(v_country IS NULL OR {_ascii('v_country')})")

    t_text = f"c{cols['text']}" if "text" in cols else "NULL::VARCHAR"
    base = [f"{g('id')} AS v_id", f"CASE WHEN {t_text} IS NULL OR {_strip(t_text)} = '' "
            f"THEN NULL ELSE {t_text} END AS text", f"{t_text} AS text0"]
    for name in ("author", "author_id", "permalink", "created_at", "retrieved_at", "reply_to_id", "repost_of_id",
                 "quote_of_id", "reply_to_author_id", "lang", "conversation_id", "platform", "hashtags",
                 "mentions", "urls", "quote_url", "country", "place", "source", "sensitive", "repost_count",
                 "reply_count",
                 "like_count", "quote_count"):
        base.append(f"{g(name)} AS v_{name}")

    def ts(v: str) -> str:
        return (f"try_strptime(replace(substr({v}, 1, 19), 'T', ' '), '%Y-%m-%d %H:%M:%S') + "
                f"to_microseconds(CASE WHEN substr({v}, 20, 1) = '.' "
                f"THEN rpad(regexp_extract({v}, '\\.([0-9]+)', 1), 6, '0')::BIGINT ELSE 0 END)")

    times = [f"{ts('v_created_at')} AS t_created_at", f"{ts('v_retrieved_at')} AS t_retrieved_at"]

    author = ("CASE WHEN v_permalink IS NOT NULL AND regexp_matches(v_permalink, "
              "'^https?://(?:www\\.|mobile\\.)?(?:twitter|x)\\.com/([A-Za-z0-9_]+)/status(?:es)?/[0-9]')"
              " THEN regexp_extract(v_permalink, '^https?://(?:www\\.|mobile\\.)?(?:twitter|x)\\.com/"
              "([A-Za-z0-9_]+)/', 1) ELSE ltrim(v_author, '@') END")
    author_id = "v_author_id" if "author_id" in cols else \
        "CASE WHEN author_handle IS NOT NULL AND author_handle <> '' THEN lower(author_handle) END"

    def split(v: str, sep: str, strip: str | None) -> str:
        parts = f"list_filter(regexp_split_to_array({v}, '{sep}'), lambda p: p <> '')"
        if strip:
            parts = f"list_filter(list_transform({parts}, lambda p: ltrim(p, '{strip}')), lambda p: p <> '')"
        return f"CASE WHEN {v} IS NULL THEN []::VARCHAR[] ELSE {parts} END"

    def words(mark: str, pattern: str) -> str:
        return (f"CASE WHEN rest IS NULL OR NOT contains(rest, '{mark}') THEN []::VARCHAR[] "
                f"ELSE regexp_extract_all(rest, '{pattern}', 1) END")

    t_tags = words("#", f"(?:^|[^{_W}&])#([{_W}]*[A-Za-z_][{_W}]*)")
    t_ment = words("@", f"(?:^|[^{_W}@])@([{_W}]{{1,50}})")
    sep = "[\\t ,]+"
    c_tags = (f"list_filter({split('v_hashtags', sep, '#')}, lambda t: lower(t) NOT IN ('http', 'https'))"
              if "hashtags" in cols else "[]::VARCHAR[]")  # '#http://…'
    c_ment = split("v_mentions", sep, "@") if "mentions" in cols else "[]::VARCHAR[]"
    column_urls = ((split("v_urls", "[\\t ]+", None) if "urls" in cols else "[]::VARCHAR[]")
                   + " || CASE WHEN v_quote_url IS NULL THEN []::VARCHAR[] ELSE [v_quote_url] END")
    text_urls = (f"CASE WHEN text IS NULL OR NOT contains(text, '://') THEN []::VARCHAR[] "
                 f"ELSE regexp_extract_all(text, '{_URL}') END")

    if pages:
        raw = "NULL::VARCHAR"
    else:
        raw_parts = []
        for i, h in enumerate(header):
            key = orjson.dumps(h).decode()
            raw_parts.append(_sql_str(("{" if i == 0 else ",") + key + ":")
                             + f" || to_json(coalesce(c{i}, ''))::VARCHAR")
        raw = " || ".join(raw_parts) + " || '}'" if raw_parts else "'{}'"

    two_letters = "regexp_full_match(v_country, '[A-Za-z]{2}')"
    country = (f"CASE WHEN v_country IS NULL OR NOT {two_letters} THEN NULL "
               "WHEN upper(v_country) = 'UK' THEN 'GB' ELSE upper(v_country) END")
    place = f"CASE WHEN v_country IS NOT NULL AND NOT {two_letters} THEN coalesce(v_place, v_country) ELSE v_place END"
    source = ("CASE WHEN starts_with(v_source, '<') AND regexp_matches(v_source, '>([^<]*)<') "
              "THEN regexp_extract(v_source, '>([^<]*)<', 1) ELSE v_source END")
    sensitive = ("CASE WHEN lower(v_sensitive) IN ('true', '1', '1.0', 'yes', 't', 'y') THEN true "
                 "WHEN lower(v_sensitive) IN ('false', '0', '0.0', 'no', 'f', 'n') THEN false END")
    kind = ("CASE WHEN v_repost_of_id IS NOT NULL OR starts_with(text0, 'RT @') THEN 'repost' "
            "WHEN v_reply_to_id IS NOT NULL THEN 'reply' WHEN v_quote_of_id IS NOT NULL THEN 'quote' "
            "ELSE 'original' END")
    plat = f"coalesce(v_platform, {_sql_str(platform) if platform else 'NULL'}, 'twitter')"

    out = {
        "platform": plat, "id": "v_id", "author_id": author_id, "author_handle": "author_handle",
        "created_at": "t_created_at", "text": "text", "lang": "v_lang", "kind": kind,
        "repost_of_id": "v_repost_of_id", "reply_to_id": "v_reply_to_id",
        "reply_to_author_id": "v_reply_to_author_id", "quote_of_id": "v_quote_of_id",
        "conversation_id": "v_conversation_id", "hashtags": "list_transform(hashtags_raw, lambda t: lower(t))",
        "hashtags_raw": "hashtags_raw", "mentions": "mentions", "mention_ids": "[]::VARCHAR[]",
        "urls": "urls", "media": "[]::VARCHAR[]", "place": "place", "country": "country", "source": "source",
        "sensitive": "sensitive", "repost_count": "TRY_CAST(v_repost_count AS BIGINT)",
        "reply_count": "TRY_CAST(v_reply_count AS BIGINT)",
        "like_count": "TRY_CAST(v_like_count AS BIGINT)", "quote_count": "TRY_CAST(v_quote_count AS BIGINT)",
        "metrics_observed_at": "t_retrieved_at", "is_reference": "false", "deleted": "false",
        "raw": "raw", "source_file": "$2::VARCHAR", "source_line": "line",
    }
    missing = [n for n, _t, _d in model.POST_FIELDS if n not in out]
    if missing:  # the model grew: this path must learn the new columns
        raise AssertionError(f"csv_fast does not fill {missing}")
    select = ", ".join(f"{out[n]} AS \"{n}\"" for n, _t, _d in model.POST_FIELDS)
    if pages:  # the chunk's pages: PAGE_LINES lines each from its first row ($1), numbered base + first line
        select += (f", $3::BIGINT + $1 + 2 + (r // {PAGE_LINES}) * {PAGE_LINES} AS raw_page, "
                   f"'$[' || (r % {PAGE_LINES}) || ']' AS raw_at")
    return f"""
WITH a AS (
  SELECT rowid AS r, rowid + $1 + 2 AS line, {', '.join(base)}, {raw} AS raw,
         regexp_matches(l, '[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]|{_risky_pattern(delimiter)}') AS ctl,
         {_wide(delimiter, len(header))} AS wide
  FROM {_TABLE}
), b AS (
  SELECT *, {', '.join(times)}, {author} AS author_handle,
         CASE WHEN contains(text, '://') THEN regexp_replace(text, '{_URL}', ' ', 'g') ELSE text END AS rest,
         {column_urls} AS c_urls FROM a
), c AS (
  SELECT *, {t_tags} AS t_tags, {c_tags} AS c_tags, {t_ment} AS t_ment, {c_ment} AS c_ment,
         c_urls || list_filter({text_urls}, lambda u: len(c_urls) = 0
                               OR NOT regexp_matches(u, '^{_SCHEME}[Tt]\\.[Cc][Oo]/')) AS urls
  FROM b
), d AS (
  SELECT *, CASE WHEN len(t_tags) = 0 THEN c_tags WHEN len(c_tags) = 0 THEN t_tags ELSE c_tags END AS hashtags_raw,
         CASE WHEN len(t_ment) = 0 THEN c_ment WHEN len(c_ment) = 0 THEN t_ment ELSE c_ment END AS mentions,
         {country} AS country, {place} AS place, {source} AS source, {sensitive} AS sensitive,
         ({' AND '.join(checks)}) AS ok0
  FROM c
), e AS (
  SELECT *, coalesce(ok0, false) AS ok FROM d
)
SELECT ok, line, {select} FROM e
"""


def posts_chunk(con: duckdb.DuckDBPyConnection, sql: str, lo: int,
                source_file: str, page_base: int | None = None) -> tuple[pa.Table, list[int]]:
    """Posts of the chunk loaded (:func:`load_chunk`), whose first row is row ``lo`` of the file
    (0-based), and the lines left to Python; with a ``page_base``, of a :func:`posts_sql` with pages
    (the rows carry the pointer columns)."""
    t = _arrow(con, sql, [lo, source_file] + ([page_base] if page_base is not None else []))
    ok = _once(t)
    if ok.null_count == 0 and pc.all(ok).as_py():  # the usual chunk: no copy
        good, fallback = t.drop_columns(["ok", "line"]), []
    else:
        good = t.filter(ok).drop_columns(["ok", "line"])
        fallback = t.filter(pc.invert(ok)).column("line").to_pylist()
    del t, ok
    schema = model.POSTS if page_base is None else model.with_raw_ref(model.POSTS)
    if good.schema != schema:
        good = good.cast(schema)
    return good, [int(n) for n in fallback]


def _once(t: pa.Table) -> pa.Array:
    """The rows' ``ok``, false where the chunk has the post (platform and id) more than once: the
    Python reader's merge rule decides between them."""
    ok = t.column("ok")
    key = pc.binary_join_element_wise(t.column("platform"), t.column("id"), "\x1f")  # null where id is
    counts = pc.value_counts(key.combine_chunks() if isinstance(key, pa.ChunkedArray) else key)
    twice = counts.field("values").filter(pc.and_(pc.greater(counts.field("counts"), 1),
                                                  pc.is_valid(counts.field("values"))))
    if len(twice) == 0:
        return ok
    return pc.and_(ok, pc.invert(pc.is_in(key, value_set=twice)))


def lines(con: duckdb.DuckDBPyConnection, n: int) -> pa.Array:
    """The physical lines of the chunk loaded (``n`` of them), as written (without their line
    ends), in file order."""
    got = _arrow(con, f"SELECT l FROM {_TABLE} ORDER BY rowid", []).column(0).combine_chunks()
    if got.null_count or len(got) != n:
        raise AssertionError("csv_fast: a record without its line")
    return got


def page_bodies(header: str, lines: pa.Array, lo: int, blank: list[int]) -> Iterator[tuple[int, bytes]]:
    """The CSV pages of a chunk starting at row ``lo`` (``lines``, from :func:`lines`), one at a
    time: each page's first line and its bytes (the header, then :data:`PAGE_LINES` lines), the
    lines in ``blank`` (line numbers: those left to Python) blanked, as :func:`posts_sql` points
    into them."""
    import numpy as np

    n = len(lines)
    if blank:
        mask = np.zeros(n, dtype=bool)
        mask[np.asarray(blank, dtype=np.int64) - 2 - lo] = True
        lines = pc.if_else(pa.array(mask), pa.scalar("", lines.type), lines)
    offsets = pa.array(list(range(0, n, PAGE_LINES)) + [n], pa.int32())
    joined = pc.binary_join(pa.ListArray.from_arrays(offsets, lines), "\n").cast(pa.binary())
    del lines
    head = header.encode("utf-8") + b"\n"
    for k in range(len(joined)):
        yield lo + 2 + k * PAGE_LINES, head + joined[k].as_py()


# -- follows -------------------------------------------------------------------

def follows_sql(a: int, b: int, p: int | None, platform: str | None, delimiter: str = ",") -> str:
    """SELECT of every follow in rows $2..$3 (``ok``: both ids present, no
    blank space next to a quote), with its line; $1 is the source file."""
    plat = f"coalesce({f'c{p}' if p is not None else 'NULL'}, {_sql_str(platform) if platform else 'NULL'}, 'twitter')"
    return f"""
SELECT platform, follower_id, followed_id, $1::VARCHAR AS source_file, line AS source_line,
       follower_id <> '' AND followed_id <> '' AND NOT risky AS ok
FROM (
  SELECT rowid + 2 AS line, {plat} AS platform,
         coalesce({_strip(f'c{a}')}, '') AS follower_id, coalesce({_strip(f'c{b}')}, '') AS followed_id,
         {_risky(delimiter)} AS risky
  FROM {_TABLE} WHERE rowid BETWEEN $2 AND $3)
"""


def follows_parts(con: duckdb.DuckDBPyConnection, sql: str, lo: int, hi: int,
                  source_file: str) -> tuple[Select, int, list[int]]:
    """For rows lo..hi: the good follows as a :class:`Select` for ``Store.write_batch``
    (which keeps the first sighting of each), how many there are (duplicates
    included), and the lines left to Python."""
    params = [source_file, lo, hi]
    n, bad = con.execute(f"SELECT count(*) FILTER (WHERE ok), list(source_line ORDER BY source_line) "
                         f"FILTER (WHERE NOT ok) FROM ({sql})", params).fetchall()[0]
    n = int(n or 0)
    # every row ok (the usual file): the write need not work out ``ok`` again
    keep = "" if n == hi - lo + 1 else " WHERE ok"
    good = Select(f"SELECT * EXCLUDE (ok) FROM ({sql}){keep}", params)
    return good, n, [int(x) for x in bad or []]


def _arrow(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> pa.Table:
    return con.sql(sql, params=params).to_arrow_table()
