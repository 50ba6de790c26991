"""The DuckDB fast path for CSV files leaves exactly the store the Python reader leaves.

Each case ingests the same file twice, once with the fast path and once with
``GROUNDSWELL_NO_FAST_PATH=1``, and compares every table row for row (posts,
follows, rejects, sources, ...). Hypothesis writes files full of the shapes
where DuckDB's CSV reader and SQL could part from Python's ``csv`` module and
string rules: quotes next to blank space, full-width marks, Unicode blank
space and word characters, float-corrupted ids, odd times and counts, bare
'#' columns, duplicate ids. Post texts are never printed: only table names
and counts appear in assertion messages.
"""

from __future__ import annotations

import csv
import io
import os
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groundswell.formats import csv_fast
from groundswell.ingest import ingest
from groundswell.store import open_store

from ..conftest import shared

TABLES = ("posts", "accounts", "follows", "rejects", "deletions", "volumes", "sources")


def _ingest(path: Path, db: Path, monkeypatch: pytest.MonkeyPatch, fast: bool, **kw) -> dict:
    if fast:
        monkeypatch.delenv("GROUNDSWELL_NO_FAST_PATH", raising=False)
    else:
        monkeypatch.setenv("GROUNDSWELL_NO_FAST_PATH", "1")
    db.unlink(missing_ok=True)
    with open_store(db) as s:
        summary = ingest(s, [str(path)], progress=False, **kw).as_dict()
    for f in summary["files"]:
        f.pop("seconds")
    return summary


def _read(db: Path) -> dict[str, pa.Table]:
    """Every compared table, ``raw`` read through the pages where a row points into them."""
    with open_store(db, read_only=True) as s:
        return {t: s.table(t) for t in TABLES}


def _differences(a: Path, b: Path) -> dict[str, tuple[int, int]]:
    ta, tb = _read(a), _read(b)
    con = duckdb.connect()
    out = {}
    for t in TABLES:
        con.register("ta", ta[t])
        con.register("tb", tb[t])
        d1 = con.execute("SELECT count(*) FROM (SELECT * FROM ta EXCEPT ALL SELECT * FROM tb)").fetchall()[0][0]
        d2 = con.execute("SELECT count(*) FROM (SELECT * FROM tb EXCEPT ALL SELECT * FROM ta)").fetchall()[0][0]
        if d1 or d2:
            out[t] = (d1, d2)
    con.close()
    return out


def csv_pages_kept_once(db: Path) -> tuple[int, int]:
    """(records held by the store's CSV pages, rows pointing at one): equal when every record a
    CSV page holds is where a row points, and no other."""
    from groundswell.store.pages import parse_page

    con = duckdb.connect(str(db), read_only=True)
    try:
        held = sum(sum(r is not None for r in parse_page(f, d, body)) for f, d, body in
                   con.execute("SELECT format, delimiter, body FROM pages WHERE format = 'csv'").fetchall())
        pointed = con.execute("SELECT count(DISTINCT (raw_page, raw_at)) FROM posts p JOIN pages g "
                              "ON g.page = p.raw_page WHERE g.format = 'csv'").fetchall()[0][0]
    finally:
        con.close()
    return held, pointed


def _same(path: Path, tmp: Path, monkeypatch: pytest.MonkeyPatch, **kw) -> None:
    fast = _ingest(path, tmp / "fast.duckdb", monkeypatch, True, **kw)
    slow = _ingest(path, tmp / "slow.duckdb", monkeypatch, False, **kw)
    assert fast == slow
    assert _differences(tmp / "fast.duckdb", tmp / "slow.duckdb") == {}
    held, pointed = csv_pages_kept_once(tmp / "fast.duckdb")
    assert held == pointed


def _write(path: Path, header: list[str], rows: list[list[str]], newline: str = "\n") -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=newline)
    w.writerow(header)
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def test_whitespace_set_is_pythons() -> None:
    assert csv_fast._WS == "".join(chr(i) for i in range(sys.maxunicode + 1) if chr(i).isspace())


def test_scan_sees_lines_across_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Blank lines and line ends that run across the scan's blocks are seen as in one block."""
    import random

    rnd = random.Random(3)
    path = tmp_path / "s.csv"
    for _ in range(400):
        data = bytes(rnd.choice(b"ab,\n\r") for _ in range(rnd.randint(0, 14)))
        path.write_bytes(data)
        monkeypatch.setattr(csv_fast, "_SCAN_BLOCK", 1 << 20)
        want = csv_fast.scan(str(path))
        for size in (2, 3, 5):
            monkeypatch.setattr(csv_fast, "_SCAN_BLOCK", size)
            assert csv_fast.scan(str(path)) == want, (data, size)


def test_simulated_posts_and_follows_take_the_fast_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from groundswell.simulate import simulate

    out = tmp_path / "sim"
    simulate(posts=3000, seed=5, format="csv", out=out)
    calls = {"posts": 0, "follows": 0}
    real_p, real_f = csv_fast.posts_chunk, csv_fast.follows_parts

    def posts_chunk(*a, **k):
        t, fb = real_p(*a, **k)
        calls["posts"] += t.num_rows
        return t, fb

    def follows_parts(*a, **k):
        t, n, fb = real_f(*a, **k)
        calls["follows"] += n
        return t, n, fb

    monkeypatch.setattr(csv_fast, "posts_chunk", posts_chunk)
    monkeypatch.setattr(csv_fast, "follows_parts", follows_parts)
    for name in ("posts.csv", "follows.csv"):
        _same(out / name, tmp_path, monkeypatch)
    assert calls["posts"] > 2000  # most simulated rows never need Python
    assert calls["follows"] > 0


@pytest.mark.parametrize("rel", [
    "metoo-getoldtweets-2017/tweets_2017-10-15_all.csv",  # CRLF, GetOldTweets' bare '#' marks
    "metoo-getoldtweets-2017/tweets_sample_100_per_day.csv",
    "metooma-bigmm/train_shared.csv",
    "sfm-twitter-harvester/expected-output-twarc-json2csv/v1.1_search_gelman_2015.csv",
    "twarc-csv/expected-output-twarc-csv-0.7.2/2sets.csv",
])
def test_shared_csv_files(rel: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _same(shared(rel), tmp_path, monkeypatch)


def test_links_and_names_take_the_fast_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows with links, hashtags and mentions in text and columns, semicolon-separated: SQL reads
    them (no row is handed to Python) and leaves the store the Python reader leaves."""
    rows = []
    for i in range(40):
        text = [f"post {i} #Tag{i % 3} @user{i % 5} https://e.org/{i}?a=b#frag.",
                f"RT @user{i % 4}: see https://twitter.com/Someone/status/{5000 + i % 2}",
                f"(https://t.co/Ab{i}) #tag{i % 2}",
                f"no links, @User{i % 3} #Tag{i % 3}"][i % 4]
        urls = "https://e.org/long" if i % 4 == 2 else ""
        tags = ["", f"#tag{i % 3}", "", f"#tag{i % 3}"][i % 4]  # empty, or what the text holds
        rows.append([str(10_000 + i), f"user{i % 7}", "2017-10-15T20:21:00.000Z", text, tags, urls])
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\n")
    w.writerow(["id", "author", "created_at", "text", "hashtags", "urls"])
    w.writerows(rows)
    path = tmp_path / "p.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    calls = {"posts": 0, "fallback": 0}
    real = csv_fast.posts_chunk

    def posts_chunk(*a, **k):
        t, fb = real(*a, **k)
        calls["posts"] += t.num_rows
        calls["fallback"] += len(fb)
        return t, fb

    monkeypatch.setattr(csv_fast, "posts_chunk", posts_chunk)
    _same(path, tmp_path, monkeypatch)
    assert calls == {"posts": 40, "fallback": 0}
    con = duckdb.connect(str(tmp_path / "fast.duckdb"), read_only=True)
    got = dict(con.execute("SELECT id, urls FROM posts").fetchall())
    con.close()
    assert got["10000"] == ["https://e.org/0?a=b#frag"]
    assert got["10001"] == ["https://twitter.com/Someone/status/5001"]
    assert got["10002"] == ["https://e.org/long"]  # the text's t.co link is the column's short form
    assert got["10003"] == []


def test_chunks_and_resume_points_match(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [[str(1000 + i), f"user{i % 7}", "2017-10-15T20:21:00.000Z", f"post {i} #Tag{i % 3} @user{i % 5}"]
            for i in range(57)]
    rows[10][0] = "1.2e17"  # rejected by Python, in the middle of a chunk
    rows[20] = rows[19]  # a duplicate id: merged by Python
    path = tmp_path / "p.csv"
    _write(path, ["id", "author", "created_at", "text"], rows)
    _same(path, tmp_path, monkeypatch, chunk_lines=8)


def test_unsure_files_are_read_in_python_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    header = ["id", "author", "created_at", "text"]
    path = tmp_path / "p.csv"
    base = "id,author,created_at,text\n1,a,2017-10-15T20:21:00Z,x\n"
    for body in (base + "\n2,b,2017-10-15T20:21:00Z,y\n",  # a blank line
                 base + '2,b,2017-10-15T20:21:00Z,"multi\nline"\n',  # a quoted line break
                 base + "2,b,2017-10-15T20:21:00Z,y,extra\n",  # a record too wide
                 base + "2,b\n",  # too narrow
                 base + '2,b, "x",y\n',  # blank space before a quote
                 base + '2,b,"x" ,y\n',
                 base + "2,b,2017-10-15T20:21:00Z,a\x00b\n",
                 base.replace("\n", "\r\n") + "2,b,2017-10-15T20:21:00Z,y\n"):  # mixed line ends
        path.write_text(body, encoding="utf-8")
        _same(path, tmp_path, monkeypatch)
    path.write_bytes(base.encode() + b"2,b,2017-10-15T20:21:00Z,\xff\n")  # not UTF-8
    _same(path, tmp_path, monkeypatch)
    for body in ("id,author,created_at,text\n", "id,author,created_at,text", "id,author,created_at,text\r\n"):
        path.write_text(body, encoding="utf-8")  # a header alone
        _same(path, tmp_path, monkeypatch)
    assert header  # the header above is the one written


# -- property: any file of these shapes --------------------------------------

_CHARS = st.sampled_from(list("aZ09_ #＃@＠,\"'.:-/é日١²\u3000\u00a0\t\x0b&<>[]RT") + ["😀", "\u2028"])
# pieces of links as they appear in real texts: glued to words and to each other, scheme-less,
# short links, status links (some to the post's own id, 12), fragments, truncation marks
_LINKS = st.sampled_from(["https://t.co/AbC1", "http://a.b/c#d", "HTTPS://x.com/u/status/12", "https://",
                          "pic.twitter.com/Xy9", "twitter.com/u_1/status/34", "www.e.org/p.", "bsky.app/profile/a",
                          "https://e.org/(x)", "…", "#http", "https://a.b/c?u=https://d.e", "x.com/", "httpſ://k"])
_text = st.lists(st.one_of(st.text(_CHARS, max_size=6), _LINKS), max_size=5).map("".join)
_urls = st.one_of(_text, st.sampled_from(["", "https://t.co/AbC1", "https://a.b/c https://a.b/c",
                                           "https://twitter.com/u/status/12/photo/1", "http://x.y"]))
_id = st.one_of(st.from_regex(r"[0-9]{1,19}", fullmatch=True),
                st.sampled_from(["9.2e17", "1.0", " 42 ", "", "x1", "12"]))
_time = st.sampled_from(["2017-10-15T20:21:00.000Z", "2017-10-15 20:21:00", "2017-10-15T20:21:00Z",
                         "2017-10-15T20:21:00.123456", "2017-02-30T00:00:00Z", "1508098860", "1508098860123",
                         "Sun Oct 15 20:21:00 +0000 2017", "2017-10-15T20:21:00+02:00", "0000-01-01T00:00:00Z",
                         "nonsense", "", " 2017-10-15T20:21:00Z "])
_count = st.sampled_from(["", "0", "12", "-3", "12.0", "1e3", "x", "٣", "+4", "1_000", "99999999999999999999"])
_tags = st.one_of(_text, st.sampled_from(["", "#", "# #", "#MeToo", "MeToo,TimesUp", '["a","b"]', "ÉTÉ",
                                          "ǅemal", "ß", "# #x", "@", "#http", "a a", "['a', 'b']"]))
_country = st.sampled_from(["", "US", "uk", "UK", "India", "Ü1", "ÄÖ", "  "])

COLUMNS = ["id", "author", "author_id", "created_at", "text", "lang", "country", "place", "hashtags", "mentions",
           "urls", "quote_url", "reply_to_id", "repost_of_id", "quote_of_id", "conversation_id", "retweets",
           "favorites",
           "source", "possibly_sensitive", "platform", "retrieved_at", "permalink"]
_VALUE = {"id": _id, "author_id": _id, "reply_to_id": _id, "repost_of_id": _id, "quote_of_id": _id,
          "created_at": _time, "retrieved_at": _time, "retweets": _count, "favorites": _count,
          "hashtags": _tags, "mentions": _tags, "country": _country, "urls": _urls, "quote_url": _urls,
          "permalink": st.sampled_from(["", "https://twitter.com/Someone/status/12", "https://x.com/a_b/status/1٣",
                                        "http://example.org/x"]),
          "source": st.sampled_from(["", "<a href=\"x\">Client</a>", "<b>", "Web"]),
          "possibly_sensitive": st.sampled_from(["", "true", "False", "1.0", "yes", "maybe"]),
          "platform": st.sampled_from(["", "twitter", "bluesky"])}


@st.composite
def _files(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    header = draw(st.lists(st.sampled_from(COLUMNS[1:]), unique=True, min_size=1, max_size=10))
    header = ["id"] + header + (["text"] if "text" not in header else [])
    header = draw(st.permutations(header))
    ids = draw(st.lists(_id, min_size=1, max_size=6))
    rows = []
    for _ in range(draw(st.integers(1, 12))):
        row = []
        for h in header:
            if h == "id":
                row.append(draw(st.sampled_from(ids)))
            else:
                row.append(draw(_VALUE.get(h, _text)))
        rows.append(row)
    return header, rows


@settings(max_examples=int(os.environ.get("GROUNDSWELL_FUZZ_EXAMPLES", "60")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(_files(), st.sampled_from([",", "\t", ";", "|"]), st.sampled_from(["\n", "\r\n"]))
def test_fast_path_equals_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 f: tuple[list[str], list[list[str]]], delimiter: str, newline: str) -> None:
    header, rows = f
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator=newline)
    w.writerow(header)
    w.writerows(rows)
    path = tmp_path / "h.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    _same(path, tmp_path, monkeypatch)


def test_follows_with_duplicates_and_gaps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [[str(i % 9), str(i % 4), "twitter" if i % 3 else ""] for i in range(40)]
    rows[5][0] = "  "  # no follower: rejected by Python
    rows[7][1] = " 3 "
    path = tmp_path / "follows.csv"
    _write(path, ["follower_id", "followed_id", "platform"], rows)
    _same(path, tmp_path, monkeypatch)
    _same(path, tmp_path, monkeypatch, chunk_lines=6)


def test_out_of_memory_is_retried_with_a_bigger_pool(tmp_path: Path) -> None:
    import importlib

    ingest_mod = importlib.import_module("groundswell.ingest")
    with open_store(tmp_path / "m.duckdb") as s:
        pool = ingest_mod._BufferPool(s, "50MB")
        calls = []

        def step() -> str:
            calls.append(pool.limit)
            if len(calls) < 3:
                raise duckdb.OutOfMemoryException("out of memory")
            return "done"

        assert pool.retry(step) == "done"
        assert calls[1] == 2 * calls[0] and calls[2] == 4 * calls[0]



def _bad_line_at(path: Path, row: int, kind: str) -> None:
    """The file's record at ``row`` (0-based, after the header) made into one DuckDB does not read
    as Python's ``csv`` does, or at all."""
    lines = path.read_bytes().split(b"\n")
    i = row + 1
    if kind == "line break":  # a quoted value across two lines
        lines[i] = lines[i].replace(b"post", b'"multi\nline post', 1) + b'"'
    elif kind == "too wide":
        lines[i] += b",extra"
    elif kind == "not utf-8":
        lines[i] += b"\xff"
    elif kind == "blank line":
        lines[i] = b"\n" + lines[i]
    elif kind == "NUL byte":
        lines[i] = lines[i].replace(b"post", b"po\x00st", 1)
    elif kind == "CRLF":  # one line's end unlike the others'
        lines[i] += b"\r"
    path.write_bytes(b"\n".join(lines))


@pytest.mark.parametrize("kind", ["line break", "too wide", "not utf-8", "blank line", "NUL byte", "CRLF"])
@pytest.mark.parametrize("row", [0, 130, 299])
def test_a_chunk_duckdb_reads_otherwise_hands_the_rest_to_python(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, row: int) -> None:
    """The fast path loads the file a chunk at a time: where DuckDB would read a chunk otherwise
    than Python's ``csv`` (or refuses it), the chunks before it stay as the fast path wrote them and
    the Python reader reads the file from that chunk on. The store and the summary are the Python
    reader's; the chunks before the bad one were made by SQL."""
    rows = [[str(1000 + i), f"user{i % 7}", "2017-10-15T20:21:00.000Z", f"post {i} #Tag{i % 3}"] for i in range(300)]
    rows[40][0] = "1.2e17"  # rejected by Python, in a chunk the fast path makes
    path = tmp_path / "p.csv"
    _write(path, ["id", "author", "created_at", "text"], rows)
    _bad_line_at(path, row, kind)
    made: list[int] = []
    real = csv_fast.posts_chunk

    def posts_chunk(*a, **k):
        t, fb = real(*a, **k)
        made.append(a[2])
        return t, fb

    monkeypatch.setattr(csv_fast, "posts_chunk", posts_chunk)
    _same(path, tmp_path, monkeypatch, chunk_lines=50)
    # the slow run goes last: the fast run's chunks are those its threads made before the bad one
    bad = row // 50 * 50
    assert sorted(made)[:bad // 50] == list(range(0, bad, 50))
    assert bad not in made
    fast = _ingest(path, tmp_path / "fast.duckdb", monkeypatch, True, chunk_lines=50)
    assert fast["files"][0]["format"] == "csv"
    with open_store(tmp_path / "fast.duckdb", read_only=True) as s:
        paged = s.sql("SELECT count(*) AS n FROM posts WHERE raw_page IS NOT NULL").column("n")[0].as_py()
    assert paged == bad - (1 if bad > 40 else 0)  # rows the fast path wrote point into its pages


@pytest.mark.parametrize("delimiter", [",", "\t"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_empty_fields_beyond_the_header_are_pythons_to_reject(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, delimiter: str, newline: str) -> None:
    """DuckDB's strict reader drops empty fields beyond the header's width (``...,x,``) where Python's
    ``csv`` counts them and the row is rejected: such rows go to Python. A row whose own last value
    is empty stays with SQL."""
    d = delimiter
    head = d.join(["id", "author", "created_at", "text"])
    body = [f"{1000 + i}{d}user{i}{d}2017-10-15T20:21:00.000Z{d}post {i}" for i in range(12)]
    body[1] += d  # one empty field too many
    body[2] += d + d
    body[3] += d + '""'
    body[4] = f"1004{d}user4{d}2017-10-15T20:21:00.000Z{d}"  # its text empty: a good row
    body[5] = f'"1005"{d}user5{d}2017-10-15T20:21:00.000Z{d}'  # the same, its id quoted
    body[6] = f'1006{d}"user{d}6"{d}2017-10-15T20:21:00.000Z{d}post 6'  # a delimiter inside a value
    body[7] = f'1007{d}"user{d}7"{d}2017-10-15T20:21:00.000Z{d}'
    path = tmp_path / "p.csv"
    path.write_bytes((newline.join([head] + body) + newline).encode())
    made = {"rows": 0}
    real = csv_fast.posts_chunk

    def posts_chunk(*a, **k):
        t, fb = real(*a, **k)
        made["rows"] += t.num_rows
        return t, fb

    monkeypatch.setattr(csv_fast, "posts_chunk", posts_chunk)
    _same(path, tmp_path, monkeypatch, delimiter=delimiter)
    assert made["rows"] >= 7  # rows 0, 4, 6 and 8-11 made by SQL
    with open_store(tmp_path / "fast.duckdb", read_only=True) as st:
        ids = set(st.table("posts").column("id").to_pylist())
    assert not ids & {"1001", "1002", "1003"} and {"1000", "1004", "1005", "1006", "1007"} <= ids


def test_a_resume_where_the_python_reader_stopped_stays_with_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An ingest cut off while the Python reader read the rest of a file (after a chunk the fast path
    handed over) resumes in Python: the line it recorded is the first of its last record, and the
    record after it may start lines later (a quoted line break), so a resume on the fast path could
    begin inside a record and store a post nobody wrote. Every cut point resumes to the store of an
    uncut run."""
    from groundswell.store import duck

    from ..test_ingest import store_digest

    lines = [b"id,author,created_at,text"]
    lines += [f"{1000 + i},user{i % 7},2017-10-15T20:21:00.000Z,post {i}".encode() for i in range(50)]
    lines[1 + 20] += b"\xff"  # not UTF-8: the chunk of rows 20-29 and the rest go to Python
    lines[1 + 29] = b'1029,user1,2017-10-15T20:21:00.000Z,"multi\n2000,userX,2017-10-15T20:21:00.000Z,tail"'
    path = tmp_path / "p.csv"
    path.write_bytes(b"\n".join(lines) + b"\n")
    clean = tmp_path / "clean.duckdb"
    _ingest(path, clean, monkeypatch, False, chunk_lines=10)
    monkeypatch.delenv("GROUNDSWELL_NO_FAST_PATH", raising=False)
    real = duck.Store.write_batch
    writes = {"n": 0}

    def count(self, *a, **k):
        writes["n"] += 1
        return real(self, *a, **k)

    monkeypatch.setattr(duck.Store, "write_batch", count)
    _ingest(path, tmp_path / "counted.duckdb", monkeypatch, True, chunk_lines=10)
    assert writes["n"] >= 4  # two chunks by the fast path, then the Python reader's
    for cut_at in range(1, writes["n"] + 1):
        calls = {"n": 0}

        def write(self, *a, _cut=cut_at, **k):
            calls["n"] += 1
            if calls["n"] == _cut:
                raise KeyboardInterrupt
            return real(self, *a, **k)

        db = tmp_path / f"cut{cut_at}.duckdb"
        monkeypatch.setattr(duck.Store, "write_batch", write)
        with open_store(db) as s, pytest.raises(KeyboardInterrupt):
            ingest(s, [str(path)], progress=False, chunk_lines=10)
        monkeypatch.setattr(duck.Store, "write_batch", real)
        with open_store(db) as s:
            ingest(s, [str(path)], progress=False, chunk_lines=10)
            assert s.con.execute("SELECT count(*) FROM posts WHERE id = '2000'").fetchall()[0][0] == 0
        assert store_digest(db) == store_digest(clean), cut_at


def test_the_chunks_are_the_files_lines(tmp_path: Path) -> None:
    """The chunks of a file after its header, from any row: whole lines as written, CRLF kept, the
    last line with or without its line end."""
    for body in (b"h\na\nbb\r\nccc\n\nd", b"h\r\na\r\nb\r\n", b"h\n", b"h"):
        path = tmp_path / "c.csv"
        path.write_bytes(body)
        lines = body.split(b"\n")[1:]
        want = [x + b"\n" for x in lines[:-1]] + ([lines[-1]] if lines and lines[-1] else [])
        for start in range(len(want) + 1):
            for step in (1, 2, 3, 10):
                got = list(csv_fast.chunks(str(path), start, step))
                assert b"".join(d for _, d, _, _ in got) == b"".join(want[start:])
                assert [lo for lo, _, _, _ in got] == list(range(start, len(want), step))
                assert [n for _, _, n, _ in got] == [min(step, len(want) - lo) for lo, _, _, _ in got]
                # where each chunk ends in the file
                assert [end for _, _, _, end in got] == [len(body.split(b"\n")[0]) + 1 + len(b"".join(want[:lo + n]))
                                                         for lo, _, n, _ in got]
                # a resume at a recorded end reads the same chunks from there
                for k, (lo, _, n, end) in enumerate(got[:-1]):
                    assert list(csv_fast.chunks(str(path), lo + n, step, end)) == got[k + 1:]


def test_a_chunks_shape_is_checked_as_scan_checks_a_file(tmp_path: Path) -> None:
    """A chunk passes the byte-level checks exactly when a file of it (after a header ending as its
    lines do) passes the scan."""
    import random

    rnd = random.Random(5)
    path = tmp_path / "s.csv"
    for _ in range(3000):
        data = bytes(rnd.choice(b"ab,\n\r\x00\x01") for _ in range(rnd.randint(1, 12)))
        head = b"h\r\n" if b"\r" in data else b"h\n"
        path.write_bytes(head + data)
        got = list(csv_fast.chunks(str(path), 0, 10 ** 6))
        if not got:
            continue
        (_, chunk, n, _), = got
        assert csv_fast.chunk_shape_ok(chunk, n) == csv_fast.scan(str(path)).ok, data


def _thousand_posts(tmp: Path, monkeypatch: pytest.MonkeyPatch, reject_at: int | None = None) -> tuple[Path, Path]:
    """A CSV file of 1,000 posts (the one at ``reject_at`` with an id Python rejects) and the store
    of its uninterrupted fast-path ingest in chunks of 200 lines."""
    rows = [[str(1000 + i), f"user{i % 7}", "2017-10-15T20:21:00.000Z", f"post {i} #Tag{i % 3}"] for i in range(1000)]
    if reject_at is not None:
        rows[reject_at][0] = "1.2e17"
    path = tmp / "p.csv"
    _write(path, ["id", "author", "created_at", "text"], rows)
    monkeypatch.delenv("GROUNDSWELL_NO_FAST_PATH", raising=False)
    clean = tmp / "clean.duckdb"
    with open_store(clean) as s:
        ingest(s, [str(path)], progress=False, chunk_lines=200)
    return path, clean


def test_posts_are_made_ahead_in_threads_that_retry_out_of_memory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The posts' statements run in threads of their own, each on its own cursor; when DuckDB runs
    out of memory there, the pool is raised through that cursor and the chunk made again: the store
    ends as the Python reader leaves it."""
    import threading

    rows = [[str(1000 + i), f"user{i % 7}", "2017-10-15T20:21:00.000Z", f"post {i} #Tag{i % 3}"] for i in range(90)]
    rows[33][0] = "1.2e17"  # rejected by Python
    path = tmp_path / "p.csv"
    _write(path, ["id", "author", "created_at", "text"], rows)
    real = csv_fast.posts_chunk
    calls: list[bool] = []

    def posts_chunk(*a, **k):
        calls.append(threading.current_thread() is threading.main_thread())
        if len(calls) == 2:
            raise duckdb.OutOfMemoryException("out of memory")
        return real(*a, **k)

    monkeypatch.setattr(csv_fast, "posts_chunk", posts_chunk)
    _same(path, tmp_path, monkeypatch, chunk_lines=20)
    assert len(calls) == 6 and not any(calls)  # 5 chunks, one made twice, none on the main thread


def test_an_error_in_the_posts_thread_ends_the_ingest_and_a_rerun_resumes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure while the thread makes a chunk's posts reaches the caller; the chunks written
    before it stay, and the next run resumes to the store of an uninterrupted run."""
    from ..test_ingest import store_digest

    path, clean = _thousand_posts(tmp_path, monkeypatch)
    real = csv_fast.posts_chunk
    calls = {"n": 0}

    def posts_chunk(*a, **k):
        calls["n"] += 1
        if a[2] == 600:  # the fourth chunk's first row (the two threads may make it before the third)
            raise RuntimeError("disk gone")
        return real(*a, **k)

    monkeypatch.setattr(csv_fast, "posts_chunk", posts_chunk)
    cut = tmp_path / "cut.duckdb"
    with open_store(cut) as s, pytest.raises(RuntimeError, match="disk gone"):
        ingest(s, [str(path)], progress=False, chunk_lines=200)
    monkeypatch.setattr(csv_fast, "posts_chunk", real)
    with open_store(cut) as s:
        res = ingest(s, [str(path)], progress=False, chunk_lines=200)
    assert res.files[0].resumed_from == 601  # the three chunks made before the failure were written
    assert store_digest(cut) == store_digest(clean)
    assert not list(tmp_path.glob(".groundswell-csv-*"))  # the threads' scratch files, beside the store, are gone


# -- the lines kept as CSV pages -----------------------------------------------

def _raws(db: Path) -> dict[str, str | None]:
    """Each post's ``raw`` as readers get it (read through its page where it points into one)."""
    with open_store(db, read_only=True) as s:
        t = s.table("posts")
    return dict(zip(t.column("id").to_pylist(), t.column("raw").to_pylist()))


def _paged(db: Path) -> tuple[int, int]:
    """(posts pointing into a CSV page with ``raw`` NULL, posts keeping ``raw`` inline)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT count(*) FILTER (WHERE raw IS NULL AND raw_page IS NOT NULL), "
                           "count(*) FILTER (WHERE raw IS NOT NULL AND raw_page IS NULL) FROM posts").fetchall()[0]
    finally:
        con.close()


def test_raw_through_csv_pages_is_the_python_readers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file with a byte-order mark and CRLF line ends, quotes, embedded delimiters, Unicode,
    empty fields and a quoted delimiter in the header (texts written for this test): each row
    points into a CSV page, and the ``raw`` read through it is byte for byte the one the Python
    reader writes. The rows the fast path leaves to Python (a control character, a quote after a
    blank) keep their ``raw`` inline, and their lines are blank in the pages."""
    header = ["id", "author", "created_at", "text", "lang", "hashtags", "note, with comma", "ünï"]
    texts = ['she said "enough" #MeToo', "a, b; c | d\tthe end", "été 日本語 😀 #MeToo", "",
             '"quoted whole"', "trailing space ", " leading space", "#MeToo,#TimesUp", "'single' \"double\"",
             "x" * 300, "a\x0bvertical tab", "ends with a quote\""]
    rows = []
    for i in range(700):
        rows.append([str(5_000 + i), f"user{i % 9}", "2017-10-15T20:21:00.000Z" if i % 5 else "",
                     texts[i % len(texts)], ["en", "", "fr"][i % 3], ["", "#metoo", "metoo timesup"][i % 3],
                     ["", "x,y", '"q"', "ünï"][i % 4], "" if i % 2 else "ü"])
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([header] + rows)
    path = tmp_path / "awkward.csv"
    path.write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8"))
    _same(path, tmp_path, monkeypatch, chunk_lines=300)  # three chunks: pages that end within one
    fast, slow = _raws(tmp_path / "fast.duckdb"), _raws(tmp_path / "slow.duckdb")
    assert set(fast) == set(slow) and len(fast) == 700
    assert [i for i in fast if fast[i] != slow[i]] == []  # ids only: texts are never printed
    from groundswell.store.pages import PageReader, fill_raw, fill_rows

    with open_store(tmp_path / "fast.duckdb", read_only=True) as s:  # more pages than a reader's cache holds
        t = s.sql("SELECT id, raw, raw_page, raw_at FROM posts ORDER BY raw_page DESC, id")
        assert t.column("raw_page").unique().null_count == 1 and len(t.column("raw_page").unique()) > 4
        small = fill_raw(s.con, t, PageReader(s.con, cache=2))
        rows = fill_rows(s.con, t.to_pylist(), PageReader(s.con, cache=3))
    assert [i for i, r in zip(small.column("id").to_pylist(), small.column("raw").to_pylist()) if r != slow[i]] == []
    assert [r["id"] for r in rows if r["raw"] != slow[r["id"]] or "raw_page" in r] == []
    pointed, inline = _paged(tmp_path / "fast.duckdb")
    # the rest (a quote after a blank, text and column hashtags that differ, the control character) went to Python
    assert pointed + inline == 700 and pointed > 400 and inline >= 700 // len(texts)


def test_a_record_is_kept_once_where_its_row_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two files holding some of the same posts: the second file's rows for them lose the merge to
    the stored ones, and their lines are blanked in its pages (as the Python reader drops their
    ``raw``); a re-ingest of the same file with ``force`` keeps no page of its own."""
    def rows(lo: int, hi: int, word: str) -> list[list[str]]:
        def letters(i: int) -> str:  # not the id itself: a text that holds its post's id goes to Python
            return "".join(chr(97 + int(d)) for d in str(i))

        return [[str(i), f"user{i % 7}", "2017-10-15T20:21:00.000Z", f"{word} {letters(i)} #MeToo"]
                for i in range(lo, hi)]

    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    _write(a, ["id", "author", "created_at", "text"], rows(1000, 1300, "FIRSTFILE"))
    _write(b, ["id", "author", "created_at", "text"], rows(1150, 1450, "SECONDFILE"))
    for fast in (True, False):
        db = tmp_path / ("fast.duckdb" if fast else "slow.duckdb")
        _ingest(a, db, monkeypatch, fast)
        with open_store(db) as s:
            ingest(s, [str(b)], progress=False)
    assert _differences(tmp_path / "fast.duckdb", tmp_path / "slow.duckdb") == {}
    assert csv_pages_kept_once(tmp_path / "fast.duckdb") == (450, 450)
    monkeypatch.delenv("GROUNDSWELL_NO_FAST_PATH", raising=False)
    with open_store(tmp_path / "fast.duckdb") as s:
        before = s.con.execute("SELECT count(*) FROM pages").fetchall()[0][0]
        ingest(s, [str(b)], progress=False, force=True)
        after = s.con.execute("SELECT count(*) FROM pages").fetchall()[0][0]
    assert before == after
    assert csv_pages_kept_once(tmp_path / "fast.duckdb") == (450, 450)
    con = duckdb.connect(str(tmp_path / "fast.duckdb"), read_only=True)
    bodies = [r[0] for r in con.execute("SELECT body FROM pages").fetchall()]
    con.close()
    import zstandard

    text = b"".join(zstandard.ZstdDecompressor().decompress(x) for x in bodies)
    assert text.count(b"SECONDFILE") == 150 and text.count(b"FIRSTFILE") == 300


def _interrupted_at_third_write(monkeypatch: pytest.MonkeyPatch, db: Path, path: Path) -> None:
    """Ingest ``path`` into ``db`` in chunks of 200 lines, interrupted (as by Ctrl-C) at the third write."""
    from groundswell.store import duck

    real = duck.Store.write_batch
    calls = {"n": 0}

    def write(self, *args, **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(self, *args, **kw)

    monkeypatch.setattr(duck.Store, "write_batch", write)
    with open_store(db) as s, pytest.raises(KeyboardInterrupt):
        ingest(s, [str(path)], progress=False, chunk_lines=200)
    monkeypatch.setattr(duck.Store, "write_batch", real)


def test_an_interrupted_csv_ingest_resumes_to_the_same_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Interrupted before its third transaction, the fast path has stored two chunks with their
    pages; run again, it numbers the rest of the pages as an uninterrupted run would."""

    from ..test_ingest import store_digest

    path, clean = _thousand_posts(tmp_path, monkeypatch, reject_at=450)
    cut = tmp_path / "cut.duckdb"
    _interrupted_at_third_write(monkeypatch, cut, path)
    with open_store(cut) as s:
        res = ingest(s, [str(path)], progress=False, chunk_lines=200)
    assert res.files[0].resumed_from == 401 and res.files[0].rejected == 1
    assert store_digest(cut) == store_digest(clean)
    con = duckdb.connect()
    con.execute(f"ATTACH '{clean}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{cut}' AS b (READ_ONLY)")
    for q in ("SELECT page, source_line, body FROM {}.pages", "SELECT id, raw_page, raw_at FROM {}.posts"):
        assert con.execute(f"SELECT count(*) FROM ({q.format('a')} EXCEPT ALL {q.format('b')})").fetchall()[0][0] == 0
        assert con.execute(f"SELECT count(*) FROM ({q.format('b')} EXCEPT ALL {q.format('a')})").fetchall()[0][0] == 0
    con.close()


def test_another_file_between_an_interruption_and_its_resume_gets_pages_of_its_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """File A is interrupted, file B is ingested, then A resumes: A numbers the rest of its pages as it
    began, so B's pages must not take those numbers (each post's raw is its own record)."""
    import json


    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    _write(a, ["id", "author", "created_at", "text"],
           [[str(1000 + i), f"user{i % 7}", "2017-10-15T20:21:00.000Z", f"a {i} #Tag"] for i in range(1000)])
    _write(b, ["id", "author", "created_at", "text"],
           [[str(5000 + i), f"user{i % 5}", "2017-10-16T20:21:00.000Z", f"b {i} #Tag"] for i in range(600)])
    monkeypatch.delenv("GROUNDSWELL_NO_FAST_PATH", raising=False)
    db = tmp_path / "s.duckdb"
    _interrupted_at_third_write(monkeypatch, db, a)
    with open_store(db) as s:
        ingest(s, [str(b)], progress=False, chunk_lines=200)
        res = ingest(s, [str(a)], progress=False, chunk_lines=200)
        assert res.files[0].resumed_from == 401
        assert s.con.execute("SELECT count(*) FROM (SELECT page FROM pages GROUP BY page HAVING count(*) > 1)"
                             ).fetchall()[0][0] == 0
        posts = s.table("posts").to_pylist()
    assert len(posts) == 1600
    assert all(p["raw"] is not None and json.loads(p["raw"])["id"] == p["id"] for p in posts)


@pytest.mark.parametrize("where", ["first", "middle", "last, no line end", "inside a quoted value"])
def test_a_line_too_long_is_rejected_on_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    """A line longer than ``max_line_bytes`` is not held: the record it is part of is rejected, with
    the line's number and length, and the lines after it keep their numbers (the Python reader used to
    drop it without a word, and every later post came with the line before its own). The fast path
    leaves the chunk holding it to the Python reader, so both say the same."""
    rows = [[str(1000 + i), f"user{i % 7}", "2017-10-15T20:21:00.000Z", f"post {i} #Tag"] for i in range(300)]
    row = {"first": 0, "middle": 130, "last, no line end": 299, "inside a quoted value": 170}[where]
    rows[row][3] = "x" * 700
    if where == "inside a quoted value":  # the long line is the second of a record's three
        rows[row][3] = "a\n" + "x" * 700 + "\nb"
    path = tmp_path / "p.csv"
    _write(path, ["id", "author", "created_at", "text"], rows)
    if where.startswith("last"):
        path.write_bytes(path.read_bytes().rstrip(b"\n"))
    _same(path, tmp_path, monkeypatch, chunk_lines=50, max_line_bytes=500)
    with open_store(tmp_path / "slow.duckdb", read_only=True) as s:
        rejects = s.con.execute("SELECT source_line, reason FROM rejects").fetchall()
        lines = dict(s.con.execute("SELECT id, source_line FROM posts").fetchall())
    long_at = row + 2 + (1 if where == "inside a quoted value" else 0)
    assert len(rejects) == 1 and rejects[0][0] == row + 2
    assert "line too long" in rejects[0][1] and "limit 500" in rejects[0][1]
    if where == "inside a quoted value":
        assert f"(line {long_at})" in rejects[0][1]
    assert len(lines) == 299 and str(1000 + row) not in lines
    # every post on the line it was written on (a record after the quoted one starts 2 lines later)
    assert all(ln == int(i) - 1000 + 2 + (2 if where == "inside a quoted value" and int(i) - 1000 > row else 0)
               for i, ln in lines.items())


def test_follows_with_a_line_too_long(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [[str(i % 9), str(i % 4), "twitter"] for i in range(40)]
    rows[12][0] = "9" * 600
    path = tmp_path / "follows.csv"
    _write(path, ["follower_id", "followed_id", "platform"], rows)
    _same(path, tmp_path, monkeypatch, max_line_bytes=500)
    with open_store(tmp_path / "fast.duckdb", read_only=True) as s:
        rejects = s.con.execute("SELECT source_line, reason FROM rejects").fetchall()
    assert len(rejects) == 1 and rejects[0][0] == 14 and "line too long" in rejects[0][1]


def test_the_account_of_a_rejected_row_is_left_out_with_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A post and its author's account are one row: a row rejected for a line too long stores neither.
    The long line is inside the row's quoted text, so the account's own fields are whole (its account
    used to be stored)."""
    rows = [[str(1000 + i), f"user{i % 7}", str(50 + i % 7), "2017-10-15T20:21:00.000Z", f"post {i} #Tag",
             f"User {i % 7}", str(10 * (i % 7))] for i in range(200)]
    rows[90][1], rows[90][2] = "loner", "999"  # the only post of account 999
    rows[90][4] = "a\n" + "x" * 700 + "\nb"
    path = tmp_path / "p.csv"
    _write(path, ["id", "author", "author_id", "created_at", "text", "user_name", "user_followers_count"], rows)
    _same(path, tmp_path, monkeypatch, chunk_lines=50, max_line_bytes=500)
    with open_store(tmp_path / "slow.duckdb", read_only=True) as s:
        rejects = s.con.execute("SELECT source_line, reason FROM rejects").fetchall()
        accounts = {r[0] for r in s.con.execute("SELECT id FROM accounts").fetchall()}
        posts = s.con.execute("SELECT count(*) FROM posts").fetchall()[0][0]
    assert len(rejects) == 1 and rejects[0][0] == 92 and "line too long" in rejects[0][1]
    assert posts == 199 and accounts == {str(50 + k) for k in range(7)}


def test_a_follow_not_utf8_is_rejected_on_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A follow whose bytes are not UTF-8 is rejected on its line (it used to be left out without a
    reject: read, not stored, not counted); the others are stored."""
    rows = [f"https://x.social/users/a{i},https://y.social/users/b{i % 5},mastodon".encode() for i in range(30)]
    rows[17] = b"https://x.social/users/a17,https://y.social/users/b\xff2,mastodon"
    path = tmp_path / "follows.csv"
    path.write_bytes(b"follower_id,followed_id,platform\n" + b"\n".join(rows) + b"\n")
    _same(path, tmp_path, monkeypatch)
    with open_store(tmp_path / "fast.duckdb", read_only=True) as s:
        rejects = s.con.execute("SELECT source_line, reason FROM rejects").fetchall()
        stored = s.con.execute("SELECT count(*) FROM follows").fetchall()[0][0]
    assert rejects == [(19, "not valid UTF-8")] and stored == 29


def test_too_long_is_the_line_readers() -> None:
    """:func:`csv_fast.too_long` says what the ingest's line reader says of the same lines."""
    import random

    from groundswell.ingest import _lines

    rnd = random.Random(7)
    for _ in range(3000):
        limit = rnd.randint(1, 8)
        data = bytes(rnd.choice(b"ab\n") for _ in range(rnd.randint(0, 30)))
        want = any(line is None for line, _n in _lines(io.BytesIO(data), limit))
        assert csv_fast.too_long(data, limit) is want, (data, limit)
        if want:
            assert not csv_fast.chunk_shape_ok(data, data.count(b"\n"), limit)


def test_scan_refuses_every_line_too_long_across_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """:func:`csv_fast.scan` with a line limit never passes a file the ingest's line reader finds a line
    too long in, however the file falls into blocks (it may refuse a line of about the limit: the
    Python reader then reads the file, exactly)."""
    import random

    from groundswell.ingest import _lines

    rnd = random.Random(11)
    path = tmp_path / "s.csv"
    for _ in range(600):
        limit = rnd.randint(1, 8)
        data = bytes(rnd.choice(b"ab\n") for _ in range(rnd.randint(0, 30)))
        path.write_bytes(data)
        long = any(line is None for line, _n in _lines(io.BytesIO(data), limit))
        for size in (1, 2, 3, 5, 1 << 20):
            monkeypatch.setattr(csv_fast, "_SCAN_BLOCK", size)
            got = csv_fast.scan(str(path), limit)
            if long:
                assert not got.ok, (data, limit, size)
            elif got.ok is False and got.reason == "a line too long":
                # refused only for a line of the limit's length exactly (as the reader counts)
                assert any(len(x) >= limit for x in data.split(b"\n")), (data, limit, size)


def test_volume_series_with_a_line_too_long(tmp_path: Path) -> None:
    """A volume series (read in Python only) rejects the too-long line on its own line and keeps the rest."""
    path = tmp_path / "vol.csv"
    rows = ["start,end,count"] + [f"2017-10-{10 + i}T00:00:00Z,2017-10-{11 + i}T00:00:00Z,"
                                  f"{'9' * 700 if i == 4 else i * 10}" for i in range(10)]
    path.write_text("\n".join(rows) + "\n")
    with open_store(tmp_path / "v.duckdb") as s:
        res = ingest(s, [str(path)], progress=False, max_line_bytes=500, query="#metoo", format="volume-csv")
        rejects = s.con.execute("SELECT source_line, reason FROM rejects").fetchall()
        counts = sorted(r[0] for r in s.con.execute("SELECT count FROM volumes").fetchall())
    assert res.files[0].rejected == 1 and rejects[0][0] == 6 and "line too long" in rejects[0][1]
    assert counts == [i * 10 for i in range(10) if i != 4]
