"""Input lines kept as they came (the ``pages`` table), and the original objects read through them.

The fast paths (twarc2 pages, CSV) do not write each post's original object
back out as JSON: they keep the lines they read, zstd-compressed, in
``pages``, and every row they make points into them instead of holding
``raw`` (:data:`groundswell.model.RAW_REF_FIELDS`): ``raw_page`` names the
page and ``raw_at`` the place in it. In SQL such a row's ``raw`` is NULL;
whatever needs the original object reads it through :func:`fill_raw` /
:class:`PageReader`, which give exactly what ``raw`` would hold
(``orjson.dumps`` of the object, as the Python readers write it).

A page is either

``json``
    one JSON line (a twarc2 response page); ``raw_at`` is a JSON path into it:
    ``$.data[3]``, ``$.includes.tweets[0]``, ``$.includes.users[5]``;
``csv``
    a CSV header (as the reader decoded it: no byte-order mark) and a block of
    lines after it, one record per line (the CSV fast path keeps 128 lines a
    page); ``raw_at`` ``$[k]`` is the record on the k-th line after the header
    (from 0), as ``{header: value}`` (what the CSV reader keeps as ``raw``).
    Lines no row points to are blank: the lines the fast path leaves to the
    Python reader (whose rows keep ``raw`` inline) before the page is written,
    and, in the same transaction, those whose row lost to a stored sighting of
    the same post or was deleted (:func:`blank_csv`), so that a CSV record is
    kept once, where its row points.

A JSON page holds more than the rows that point into it: the same tweet in
another page's ``includes``, a user in every page the user wrote in.
``page_posts`` lists every post (data and ``includes.tweets``) each JSON page
holds, so that deleting or forgetting a post reaches all its copies
(:func:`scrub_posts`): each is replaced by ``{"id": ..., "deleted": true}``.
Rewritten pages are written back compressed; :func:`groundswell.privacy.compact`
then drops the old bytes from the file.
"""

from __future__ import annotations

import csv as _csv
import io
import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson
import pyarrow as pa

__all__ = ["PageReader", "blank_csv", "compress", "decompress", "fill_raw", "fill_rows", "get_at", "rewrite",
           "scrub_posts"]

LEVEL = 1  # zstd level: ~5x smaller than the JSON, and fast enough to keep up with the parse
_local = threading.local()


def _compressor() -> Any:
    c = getattr(_local, "c", None)
    if c is None:
        import zstandard

        c = _local.c = zstandard.ZstdCompressor(level=LEVEL)
    return c


def _decompressor() -> Any:
    d = getattr(_local, "d", None)
    if d is None:
        import zstandard

        d = _local.d = zstandard.ZstdDecompressor()
    return d


def compress(lines: Iterable[bytes | memoryview]) -> list[bytes]:
    """Each line (a page's bytes) compressed on its own; thread-safe."""
    c = _compressor()
    return [c.compress(x) for x in lines]


def decompress(body: bytes) -> bytes:
    return _decompressor().decompress(body)  # type: ignore[no-any-return]


def csv_body(header: bytes, lines: Sequence[bytes]) -> bytes:
    """A CSV page's bytes: the header, then the lines (each without its line end)."""
    return b"\n".join([header, *lines])


# -- reading -------------------------------------------------------------------

_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[([0-9]+)\]")


def get_at(obj: Any, at: str) -> Any:
    """The value at ``at`` ('$.data[3]', '$[2]') in a parsed page; None where there is none."""
    if not at.startswith("$"):
        raise ValueError(f"not a page path: {at!r}")
    pos = 1
    cur = obj
    while pos < len(at):
        m = _STEP.match(at, pos)
        if m is None:
            raise ValueError(f"not a page path: {at!r}")
        key, idx = m.group(1), m.group(2)
        if key is not None:
            cur = cur.get(key) if isinstance(cur, dict) else None
        else:
            i = int(idx)
            cur = cur[i] if isinstance(cur, list) and i < len(cur) else None
        if cur is None:
            return None
        pos = m.end()
    return cur


def _raise_field_limit() -> None:
    """No limit on a field's size (as the CSV reader reads them)."""
    limit = sys.maxsize
    while True:
        try:
            _csv.field_size_limit(limit)
            return
        except OverflowError:
            limit //= 2


def _csv_records(body: bytes, delimiter: str) -> list[dict[str, str] | None]:
    _raise_field_limit()
    lines = body.split(b"\n")
    text = [ln.decode("utf-8").rstrip("\r") for ln in lines]
    header = next(_csv.reader([text[0]], delimiter=delimiter), [])
    out: list[dict[str, str] | None] = []
    for t in text[1:]:
        if not t:
            out.append(None)  # blanked: no row points here
            continue
        row = next(_csv.reader([t], delimiter=delimiter), [])
        out.append(dict(zip(header, row)))
    return out


def parse_page(fmt: str, delimiter: str | None, body: bytes) -> Any:
    """A page's content: the JSON value of a json page, the records of a csv page."""
    data = decompress(body)
    if fmt == "csv":
        return _csv_records(data, delimiter or ",")
    return orjson.loads(data)


class PageReader:
    """Original objects out of pages, each page read (decompressed and parsed) once while cached."""

    def __init__(self, con: Any, cache: int = 256) -> None:
        self.con = con
        self._cache: OrderedDict[int, Any] = OrderedDict()
        self._size = cache

    def load(self, pages: Iterable[int]) -> None:
        """Read these pages in one query (those not cached yet)."""
        want = sorted({int(p) for p in pages if p is not None and int(p) not in self._cache})
        for k in range(0, len(want), 1000):
            part = want[k:k + 1000]
            cur = self.con.cursor()
            try:
                rows = cur.execute("SELECT page, format, delimiter, body FROM pages WHERE page IN "
                                   "(SELECT unnest(?::BIGINT[]))", [part]).fetchall()
            finally:
                cur.close()
            for page, fmt, delim, body in rows:
                self._put(int(page), parse_page(fmt, delim, body))

    def _put(self, page: int, value: Any) -> None:
        self._cache[page] = value
        self._cache.move_to_end(page)
        while len(self._cache) > max(self._size, 1):
            self._cache.popitem(last=False)

    def obj(self, page: int, at: str) -> Any:
        if page not in self._cache:
            self.load([page])
        got = self._cache.get(page)
        if got is None:
            return None
        self._cache.move_to_end(page)
        return get_at(got, at)

    def raw(self, page: int | None, at: str | None) -> str | None:
        """``raw`` of a row that points at (page, at): the object as compact JSON, or None."""
        if page is None or at is None:
            return None
        o = self.obj(int(page), at)
        if o is None or (isinstance(o, dict) and o.get("deleted") is True and len(o) == 2):
            return None  # blanked, or a deletion's tombstone
        return orjson.dumps(o).decode()


def _windows(wanted: Sequence[int | None], size: int) -> Iterable[tuple[int, int, set[int]]]:
    """Runs of rows (start, end) whose pages (``wanted``: each row's, None where it needs none)
    number at most ``size``, with those pages: read together, they stay in a reader's cache
    until their rows are filled (a table needing more pages than the cache holds would
    otherwise read most of them twice, one query each)."""
    start, pages = 0, set[int]()
    for i, p in enumerate(wanted):
        if p is None or p in pages:
            continue
        if len(pages) >= size:
            yield start, i, pages
            start, pages = i, set()
        pages.add(int(p))
    yield start, len(wanted), pages


def fill_rows(con: Any, rows: list[dict[str, Any]], reader: PageReader | None = None) -> list[dict[str, Any]]:
    """Rows (dicts) with ``raw`` filled from their pages; the pointer keys are removed."""
    if not rows or "raw_page" not in rows[0]:
        return rows
    rd = reader or PageReader(con)
    wanted = [r.get("raw_page") if r.get("raw") is None else None for r in rows]
    for start, end, pages in _windows(wanted, rd._size):
        rd.load(pages)
        for r in rows[start:end]:
            page, at = r.pop("raw_page", None), r.pop("raw_at", None)
            if r.get("raw") is None and page is not None:
                r["raw"] = rd.raw(page, at)
    return rows


def fill_raw(con: Any, table: pa.Table, reader: PageReader | None = None) -> pa.Table:
    """An Arrow table with ``raw`` filled from its pages; the pointer columns are dropped."""
    names = table.column_names
    if "raw_page" not in names:
        return table
    drop = [c for c in ("raw_page", "raw_at") if c in names]
    if "raw" not in names:
        return table.drop_columns(drop)
    pages = table.column("raw_page").to_pylist()
    if all(p is None for p in pages):
        return table.drop_columns(drop)
    rd = reader or PageReader(con)
    raws = table.column("raw").to_pylist()
    ats = table.column("raw_at").to_pylist()
    new: list[str | None] = []
    for start, end, want in _windows([p if r is None else None for p, r in zip(pages, raws)], rd._size):
        rd.load(want)
        new += [r if r is not None or p is None else rd.raw(p, a)
                for r, p, a in zip(raws[start:end], pages[start:end], ats[start:end])]
    i = names.index("raw")
    table = table.set_column(i, table.field(i), pa.array(new, pa.string()))
    return table.drop_columns(drop)


# -- rewriting (privacy) ---------------------------------------------------------

def _serialize(fmt: str, delimiter: str | None, value: Any, old: bytes) -> bytes:
    if fmt != "csv":
        return orjson.dumps(value)
    d = delimiter or ","
    header = old.split(b"\n", 1)[0]
    names = next(_csv.reader([header.decode("utf-8").rstrip("\r")], delimiter=d), [])
    lines = [header]
    for rec in value:
        if rec is None:
            lines.append(b"")
            continue
        buf = io.StringIO()
        w = _csv.writer(buf, delimiter=d, lineterminator="")
        w.writerow([str(rec.get(n, "")).replace("\n", " ").replace("\r", " ") for n in names])
        line = buf.getvalue().encode("utf-8")
        lines.append(line if line else b'""')
    return b"\n".join(lines)


def rewrite(con: Any, pages: Iterable[int], fn: Callable[[str, Any], tuple[Any, bool]]) -> int:
    """Apply ``fn(format, content) -> (new content, changed)`` to these pages; the changed ones
    are written back compressed. Returns how many changed."""
    return _rewrite(con, pages, lambda _page, fmt, value: fn(fmt, value))


def _rewrite(con: Any, pages: Iterable[int], fn: Callable[[int, str, Any], tuple[Any, bool]]) -> int:
    """:func:`rewrite` with ``fn(page, format, content)``."""
    want = sorted({int(p) for p in pages})
    changed = 0
    for k in range(0, len(want), 200):
        part = want[k:k + 200]
        rows = con.execute("SELECT page, format, delimiter, body FROM pages WHERE page IN "
                           "(SELECT unnest(?::BIGINT[]))", [part]).fetchall()
        upd: list[tuple[int, bytes]] = []
        for page, fmt, delim, body in rows:
            data = decompress(body)
            value = _csv_records(data, delim or ",") if fmt == "csv" else orjson.loads(data)
            new, did = fn(int(page), fmt, value)
            if did:
                upd.append((int(page), compress([_serialize(fmt, delim, new, data)])[0]))
        if upd:
            con.register("_gs_pages_upd", pa.table({"page": pa.array([p for p, _ in upd], pa.int64()),
                                                    "body": pa.array([b for _, b in upd], pa.binary())}))
            try:
                con.execute("UPDATE pages SET body = u.body FROM _gs_pages_upd u WHERE pages.page = u.page")
            finally:
                con.unregister("_gs_pages_upd")
            changed += len(upd)
    return changed


def _csv_places(pointers: Iterable[tuple[Any, Any]]) -> dict[int, set[int]]:
    """(raw_page, raw_at) pointers into CSV pages as page -> the places k of their '$[k]'."""
    out: dict[int, set[int]] = {}
    for page, at in pointers:
        m = re.fullmatch(r"\$\[([0-9]+)\]", at or "")
        if m and page is not None:
            out.setdefault(int(page), set()).add(int(m.group(1)))
    return out


def _blank(value: list[Any], places: set[int]) -> tuple[list[Any], bool]:
    hit = [i for i in places if i < len(value) and value[i] is not None]
    if not hit:
        return value, False
    value = list(value)
    for i in hit:
        value[i] = None
    return value, True


def blank_csv(con: Any, pointers: Iterable[tuple[Any, Any]]) -> int:
    """Blank the CSV records at these (raw_page, raw_at) pointers; returns the pages rewritten."""
    places = _csv_places(pointers)

    def fn(page: int, fmt: str, value: Any) -> tuple[Any, bool]:
        return _blank(value, places.get(page, set())) if fmt == "csv" else (value, False)

    return _rewrite(con, places, fn)


def _tombstone_json(value: Any, ids: set[str] | frozenset[str]) -> tuple[Any, bool]:
    """Every tweet of a twarc2 page (data, includes.tweets) whose id is in ``ids`` becomes a tombstone."""
    changed = False

    def fix(items: Any) -> Any:
        nonlocal changed
        if not isinstance(items, list):
            return items
        out = []
        for t in items:
            if isinstance(t, dict) and isinstance(t.get("id"), (str, int)) and not isinstance(t.get("id"), bool) \
                    and str(t["id"]) in ids and not (t.get("deleted") is True and len(t) == 2):
                out.append({"id": str(t["id"]), "deleted": True})
                changed = True
            else:
                out.append(t)
        return out

    if isinstance(value, dict):
        value = dict(value)
        if "data" in value:
            value["data"] = fix(value["data"])
        inc = value.get("includes")
        if isinstance(inc, dict) and "tweets" in inc:
            value["includes"] = {**inc, "tweets": fix(inc["tweets"])}
    return value, changed


def scrub_posts(con: Any, keys: Sequence[tuple[str, str]]) -> int:
    """Remove every copy of these posts ((platform, id)) from the pages: in JSON pages (found
    through ``page_posts``) each becomes ``{"id": ..., "deleted": true}``; a CSV record a row
    points to is blanked. The index rows of the scrubbed copies are removed. Returns the
    pages rewritten."""
    if not keys:
        return 0
    con.register("_gs_scrub", pa.table({"platform": pa.array([k[0] for k in keys], pa.string()),
                                        "id": pa.array([k[1] for k in keys], pa.string())}))
    try:
        found = con.execute("SELECT DISTINCT pp.page, pp.id FROM page_posts pp JOIN _gs_scrub s "
                            "USING (platform, id)").fetchall()
        csv_at = con.execute(
            "SELECT p.raw_page, p.raw_at FROM posts p JOIN _gs_scrub s USING (platform, id) "
            "JOIN pages g ON g.page = p.raw_page WHERE g.format = 'csv'").fetchall()
    finally:
        con.unregister("_gs_scrub")
    by_page: dict[int, set[str]] = {}
    for page, pid in found:
        by_page.setdefault(int(page), set()).add(pid)
    csv_pages = _csv_places(csv_at)

    def fn(page: int, fmt: str, value: Any) -> tuple[Any, bool]:
        if fmt == "csv":
            return _blank(value, csv_pages.get(page, set()))
        return _tombstone_json(value, by_page.get(page, set()))

    n = _rewrite(con, set(by_page) | set(csv_pages), fn)
    if found:
        con.register("_gs_scrubbed", pa.table({"page": pa.array([int(p) for p, _ in found], pa.int64()),
                                               "id": pa.array([i for _, i in found], pa.string())}))
        try:
            con.execute("DELETE FROM page_posts USING _gs_scrubbed s WHERE page_posts.page = s.page "
                        "AND page_posts.id = s.id")
        finally:
            con.unregister("_gs_scrubbed")
    return n
