"""Ingest: bad input, idempotence, resumption, compression, stdin."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import zstandard

from groundswell.ingest import ingest
from groundswell.store import open_store

from .conftest import ROOT, shared

V2 = "twarc-csv/test-data/brexit.jsonl"
NETWORK = "twarc-network/test-data/tweets.jsonl"


def store_digest(path: Path) -> str:
    """A digest of every data table's content, independent of row order (``raw`` as readers
    get it: read through its page where the fast path kept it in one, whatever the page's number)."""
    h = hashlib.sha256()
    with open_store(path, read_only=True) as st:
        for table in ("posts", "accounts", "volumes", "deletions", "rejects"):
            rows = sorted((tuple(r.values()) for r in st.table(table).to_pylist()), key=repr)
            h.update(table.encode())
            h.update(repr(rows).encode())
    return h.hexdigest()


def counts(path: Path) -> dict[str, int]:
    with open_store(path, read_only=True) as st:
        return {t: st.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("posts", "accounts", "rejects", "deletions")}


def test_reingest_adds_nothing(db: Path) -> None:
    src = str(shared(V2))
    with open_store(db) as st:
        first = ingest(st, [src], progress=False)
    d1 = store_digest(db)
    with open_store(db) as st:
        again = ingest(st, [src], progress=False)
    assert first.total("new_posts") > 0
    assert again.files[0].skipped and again.total("new_posts") == 0
    assert store_digest(db) == d1


def test_copy_of_file_merges_into_same_rows(db: Path, tmp_path: Path) -> None:
    """A different file holding the same posts (so not skipped) adds no rows."""
    src = shared(V2)
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(src.read_bytes() + b"\n")
    with open_store(db) as st:
        ingest(st, [str(src)], progress=False)
        n = st.con.execute("SELECT count(*) FROM posts").fetchone()[0]
        res = ingest(st, [str(copy)], progress=False)
        assert not res.files[0].skipped
        assert res.total("new_posts") == 0
        assert st.con.execute("SELECT count(*) FROM posts").fetchone()[0] == n


def test_bad_records_are_skipped_counted_and_located(db: Path, tmp_path: Path) -> None:
    good = shared(NETWORK).read_bytes().splitlines()  # 5 pages
    page = json.loads(good[0])
    wrong_type = dict(page, data=[dict(page["data"][0], id=1.5e17)] + page["data"][1:3])
    no_id = {"data": [{k: v for k, v in page["data"][3].items() if k != "id"}], "includes": {}}
    lines = [
        good[0],
        b"{broken json",
        good[1][: len(good[1]) // 2],          # truncated line
        json.dumps(wrong_type).encode(),
        json.dumps(no_id).encode(),
        b'{"data": [], "x": "\xff\xfe"}',      # not UTF-8
        b"x" * (50 * 1024 * 1024),             # a 50 MB line of garbage
        good[2],
        good[3],
        good[4],
    ]
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"\n".join(lines) + b"\n")
    with open_store(db) as st:
        res = ingest(st, [str(bad)], progress=False)
        rej = st.con.execute("SELECT source_line, reason FROM rejects ORDER BY 1").fetchall()
        ids = {r[0] for r in st.con.execute("SELECT id FROM posts WHERE NOT is_reference").fetchall()}
    assert res.ok
    by_line = {ln: reason for ln, reason in rej}
    assert set(by_line) == {2, 3, 4, 5, 6, 7}, by_line
    assert "UTF-8" in by_line[6]
    assert "JSON" in by_line[2] and "JSON" in by_line[7]
    # every good tweet is there: pages 1, 3, 4, 5 whole, and the good tweets of the bad pages
    want = set()
    for ln in (0, 2, 3, 4):
        want |= {t["id"] for t in json.loads(good[ln])["data"]}
    want |= {t["id"] for t in page["data"][1:3]}
    assert want <= ids
    assert res.files[0].rejected == 6


def test_line_limit_is_enforced(db: Path, tmp_path: Path) -> None:
    f = tmp_path / "long.jsonl"
    lines = shared(NETWORK).read_bytes().splitlines()
    f.write_bytes(lines[0] + b"\n" + b'{"data": [' + b" " * 2_000_000 + b"]}\n" + lines[1] + b"\n")
    with open_store(db) as st:
        res = ingest(st, [str(f)], progress=False, max_line_bytes=1_500_000)
        reasons = [r[0] for r in st.con.execute("SELECT reason FROM rejects").fetchall()]
    assert res.files[0].rejected == 1 and "too long" in reasons[0]


def test_unknown_format_fails_but_other_files_go_in(db: Path, tmp_path: Path, cli) -> None:
    junk = tmp_path / "junk.txt"
    junk.write_text("hello world\nthis is not an archive\n")
    r = cli("ingest", junk, shared(V2), "--db", db, "-q")
    assert r.code != 0
    assert "not in a known format" in r.err and "twitter-v2" in r.err and "--format" in r.err
    assert counts(db)["posts"] > 0


def test_compressed_and_stdin_inputs_match_plain(tmp_path: Path) -> None:
    src = shared(V2).read_bytes()
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(src))
    (tmp_path / "a.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(src))
    digests = []
    for name in ("a.jsonl.gz", "a.jsonl.zst"):
        db = tmp_path / f"{name}.duckdb"
        with open_store(db) as st:
            ingest(st, [str(tmp_path / name)], progress=False)
        digests.append(counts(db))
    db = tmp_path / "stdin.duckdb"
    p = subprocess.run([sys.executable, "-m", "groundswell.cli", "ingest", "-", "--db", str(db), "-q"],
                       input=src, capture_output=True, cwd=ROOT)
    assert p.returncode == 0, p.stderr.decode()[-500:]
    digests.append(counts(db))
    plain = tmp_path / "plain.duckdb"
    with open_store(plain) as st:
        ingest(st, [str(shared(V2))], progress=False)
    assert all(d == counts(plain) for d in digests)


def test_forced_format_and_unknown_format_name(db: Path, cli) -> None:
    r = cli("ingest", shared(V2), "--db", db, "--format", "twitter-v2", "-q")
    assert r.code == 0 and counts(db)["posts"] > 0
    r = cli("ingest", shared(V2), "--db", db, "--format", "nope")
    assert r.code == 2 and r.err.startswith("error: groundswell ingest: argument --format") and "Traceback" not in r.err


def test_missing_file_is_an_error(db: Path, cli) -> None:
    r = cli("ingest", "does-not-exist.jsonl", "--db", db)
    assert r.code != 0 and "no such file" in r.err


def _big_input(tmp_path: Path, copies: int) -> Path:
    """Many distinct pages: the network sample with ids shifted per copy."""
    out = tmp_path / "big.jsonl"
    lines = shared(NETWORK).read_text().splitlines()
    with open(out, "w") as f:
        for k in range(copies):
            for line in lines:
                page = json.loads(line)
                for t in page.get("data", []):
                    t["id"] = str(int(t["id"]) + k * 10**15)
                f.write(json.dumps(page) + "\n")
    return out


@pytest.mark.slow
def test_kill_9_and_resume_gives_the_same_store(tmp_path: Path) -> None:
    big = _big_input(tmp_path, 40)
    clean = tmp_path / "clean.duckdb"
    cmd = [sys.executable, "-m", "groundswell.cli", "ingest", str(big), "-q", "--chunk-lines", "4"]
    subprocess.run(cmd + ["--db", str(clean)], check=True, cwd=ROOT, capture_output=True)
    want = store_digest(clean)
    rng = random.Random(7)
    killed = tmp_path / "killed.duckdb"
    kills = 0
    for _ in range(6):
        p = subprocess.Popen(cmd + ["--db", str(killed)], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 2.0))
        if p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
            kills += 1
        p.wait()
    subprocess.run(cmd + ["--db", str(killed)], check=True, cwd=ROOT, capture_output=True)
    assert kills >= 1
    assert store_digest(killed) == want


def test_follower_edge_list(db: Path, tmp_path: Path) -> None:
    f = tmp_path / "follows.csv"
    f.write_text("follower_id,followed_id,platform\ndid:plc:a,did:plc:b,bluesky\n2,3,\n,4,\n"
                 "did:plc:a,did:plc:b,bluesky\n")
    with open_store(db) as st:
        res = ingest(st, [str(f)], progress=False, platform="twitter")
        rows = st.con.execute("SELECT platform, follower_id, followed_id, source_line FROM follows ORDER BY 4").fetchall()
    assert res.files[0].format == "follows"
    assert rows == [("bluesky", "did:plc:a", "did:plc:b", 2), ("twitter", "2", "3", 3)]
    assert res.files[0].rejected == 1


def test_mastodon_delete_events_reach_the_status(db: Path, tmp_path: Path) -> None:
    """A streaming delete names a status by its server-local number; the stored status (kept by URI) goes."""
    statuses = [json.loads(line) for line in shared("mastodon-py/statuses.jsonl").read_text().splitlines()]
    s = next(x for x in statuses if x.get("_server") and not x.get("reblog"))
    other = next(x for x in statuses if x is not s and x.get("_server") and not x.get("reblog"))
    posts = tmp_path / "statuses.jsonl"
    posts.write_text(json.dumps(s) + "\n" + json.dumps(other) + "\n")
    delete = tmp_path / "deletes.jsonl"
    delete.write_text(json.dumps({"event": "delete", "payload": s["id"], "_server": s["_server"]}) + "\n")
    for order in ([posts, delete], [delete, posts]):  # the delete before or after the status
        target = tmp_path / f"{order[0].stem}.duckdb"
        with open_store(target) as st:
            for f in order:
                ingest(st, [str(f)], progress=False, format="mastodon")
            rows = dict(st.con.execute("SELECT id, deleted FROM posts WHERE platform = 'mastodon'").fetchall())
            kept_text = st.con.execute("SELECT count(*) FROM posts WHERE deleted AND text IS NOT NULL").fetchall()
        assert rows[s["uri"]] is True and rows[other["uri"]] is False
        assert kept_text == [(0,)]


@pytest.mark.parametrize("step", ["parse", "rows"])
def test_fast_path_out_of_memory_is_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str) -> None:
    """The twarc2 fast path running out of DuckDB's ingest pool, in the parse (in the reading
    thread) or in making the rows, is run again with a bigger pool (it used to stop the
    ingest), and the store is the same."""
    import duckdb

    from groundswell.formats import twitter_v2_fast

    plain = tmp_path / "plain.duckdb"
    with open_store(plain) as st:
        ingest(st, [str(shared(V2))], progress=False)
    real = getattr(twitter_v2_fast, step)
    calls = []

    def flaky(*args, **kw):
        calls.append(1)
        if len(calls) == 1:
            raise duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate data of size 16.0 MiB")
        return real(*args, **kw)

    monkeypatch.setattr(twitter_v2_fast, step, flaky)
    retried = tmp_path / "retried.duckdb"
    with open_store(retried) as st:
        res = ingest(st, [str(shared(V2))], progress=False)
    assert res.ok and len(calls) >= 2
    assert store_digest(retried) == store_digest(plain)


def test_fast_path_settings_restored(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The twarc2 fast path runs with FAST_SETTINGS (one DuckDB worker thread, ...) and gives the
    store's connection back with the settings it had."""
    from groundswell.formats import twitter_v2_fast
    from groundswell.ingest import FAST_SETTINGS

    names = sorted(FAST_SETTINGS)
    ask = "SELECT " + ", ".join(f"current_setting('{k}')" for k in names)
    seen = []
    real = twitter_v2_fast.rows

    def rows(con, *args, **kw):
        seen.append(con.execute(ask).fetchall()[0])
        return real(con, *args, **kw)

    monkeypatch.setattr(twitter_v2_fast, "rows", rows)
    with open_store(db) as st:
        st.con.execute("SET threads = 3")
        st.con.execute("SET checkpoint_threshold = '5MiB'")
        before = st.con.execute(ask).fetchall()[0]
        res = ingest(st, [str(shared(V2))], progress=False)
        after = st.con.execute(ask).fetchall()[0]
        st.con.execute(f"SET threads = {FAST_SETTINGS['threads']}")
        st.con.execute(f"SET checkpoint_threshold = '{FAST_SETTINGS['checkpoint_threshold']}'")
        fast = st.con.execute(ask).fetchall()[0]
    assert res.ok and seen and set(seen) == {fast}
    assert after == before and before != fast


def test_fast_path_pool_is_lowered_and_given_back(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The twarc2 fast path holds a group of parsed blocks ahead beside DuckDB: its pool is
    FAST_POOL while it runs (the fits between its commits keep to it) and the ingest's own after."""
    from groundswell.formats import twitter_v2_fast
    from groundswell.ingest import FAST_POOL, INGEST_MEMORY_LIMIT, _BufferPool

    ask = "SELECT current_setting('memory_limit')"
    seen = []
    real = twitter_v2_fast.rows

    def rows(con, *args, **kw):
        seen.append(con.execute(ask).fetchall()[0][0])
        return real(con, *args, **kw)

    monkeypatch.setattr(twitter_v2_fast, "rows", rows)
    with open_store(db) as st:
        before = st.con.execute(ask).fetchall()[0][0]
        res = ingest(st, [str(shared(V2))], progress=False)
        after = st.con.execute(ask).fetchall()[0][0]
        pool = _BufferPool(st, INGEST_MEMORY_LIMIT)
        usual = st.con.execute(ask).fetchall()[0][0]
        with pool.lowered(FAST_POOL):
            low = st.con.execute(ask).fetchall()[0][0]
            pool.fit()
            assert st.con.execute(ask).fetchall()[0][0] == low
        assert (pool.limit, pool.base) == (200_000_000, 200_000_000)
        assert st.con.execute(ask).fetchall()[0][0] == usual != low
        with pool.lowered(FAST_POOL):  # a step that ran out of memory meanwhile: its pool stays
            pool.limit = 400_000_000
        assert (pool.limit, pool.base) == (400_000_000, 200_000_000)
    assert res.ok and seen and set(seen) == {low}
    assert after == before


def test_blocks_cover_every_line_once_and_end() -> None:
    """The fast path's reader: blocks of whole lines numbered from ``first``, ending at the
    input's end whether or not it ends with a line end or on a read boundary."""
    import io

    from groundswell.ingest import _blocks

    for body in (b"ab\ncd\nef\n", b"ab\ncd\nef", b"abc\n" * 8, b"\n\nx\n"):
        for size in (1, 2, 3, 4, 5, 64):
            got = []
            for b in _blocks(io.BytesIO(body), [], size, 1 << 20, first=7):
                got += [(int(b.nums[k]), bytes(b.line(int(b.nums[k])))) for k in range(len(b))]
            want = [(7 + k, ln) for k, ln in enumerate(body.split(b"\n"))]
            if body.endswith(b"\n"):
                want.pop()
            assert got == want, (body, size)


def _commits(monkeypatch: pytest.MonkeyPatch, fail_at: int | None = None) -> dict[str, int]:
    """Counts the fast path's parsed blocks and the store's transactions; the transaction
    number ``fail_at`` is interrupted (as by Ctrl-C) before it commits."""
    import groundswell.ingest as gi
    from groundswell.store import duck

    n = {"blocks": 0, "commits": 0}
    real_parse, real_write = gi._Run._parse_block, duck.Store.write_batch

    def parse(self, *a, **kw):
        n["blocks"] += 1
        return real_parse(self, *a, **kw)

    def write(self, *a, **kw):
        if fail_at is not None and n["commits"] + 1 == fail_at:
            raise KeyboardInterrupt
        n["commits"] += 1
        return real_write(self, *a, **kw)

    monkeypatch.setattr(gi._Run, "_parse_block", parse)
    monkeypatch.setattr(duck.Store, "write_batch", write)
    return n


def _interrupted_at_second_commit(monkeypatch: pytest.MonkeyPatch, db: Path, path: Path,
                                  sizes: dict[str, int]) -> None:
    """Ingest ``path`` into ``db`` in blocks and groups of ``sizes``, interrupted (as by Ctrl-C) before its
    second transaction commits."""
    _commits(monkeypatch, fail_at=2)
    with open_store(db) as st, pytest.raises(KeyboardInterrupt):
        ingest(st, [str(path)], progress=False, **sizes)
    monkeypatch.undo()


@pytest.mark.parametrize("compressed", [False, True])
def test_fast_path_commits_a_group_of_blocks_and_resumes_at_its_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    compressed: bool) -> None:
    """The twarc2 fast path writes several blocks in one transaction; an ingest interrupted at
    the second one has stored the first group whole, has recorded the group's last line as
    its progress, and run again (a plain file by seeking, a gzip stream by skipping the lines
    stored) ends with the store of an uninterrupted run."""
    big = _big_input(tmp_path, 6)
    total = len(big.read_bytes().splitlines())
    size = big.stat().st_size
    if compressed:
        gz = tmp_path / "big.jsonl.gz"
        gz.write_bytes(gzip.compress(big.read_bytes(), compresslevel=1))
        big = gz
    sizes = {"chunk_bytes": size // 20, "group_bytes": size // 5}
    clean = tmp_path / "clean.duckdb"
    n = _commits(monkeypatch)
    with open_store(clean) as st:
        ingest(st, [str(big)], progress=False, **sizes)
    assert n["blocks"] >= 3 * (n["commits"] - 1)  # the last commit (the file's end) may hold no block
    want = store_digest(clean)
    monkeypatch.undo()

    cut = tmp_path / "cut.duckdb"
    _interrupted_at_second_commit(monkeypatch, cut, big, sizes)
    with open_store(cut) as st:
        (done,) = st.con.execute("SELECT lines_done FROM sources").fetchall()[0]
        lines = st.con.execute("SELECT max(source_line) FROM posts WHERE NOT is_reference").fetchall()[0][0]
    assert 1 < done < total and lines == done  # the first group, whole, and nothing after it
    with open_store(cut) as st:
        res = ingest(st, [str(big)], progress=False, **sizes)
    assert res.files[0].resumed_from == done
    assert store_digest(cut) == want


def test_fast_path_lines_left_to_python_inside_a_group(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lines the fast path leaves to the Python parser (here: a NaN token, a line cut short, bytes
    that are not UTF-8, which Python refuses, and a good page with a mention to look up by a
    handle beyond ASCII) in the middle of a group of blocks are read back
    from the kept pages and stored as the Python reader alone stores them, rejects with their
    lines included."""
    lines = _big_input(tmp_path, 6).read_bytes().splitlines(keepends=True)
    k = 22  # past the 20 lines read first to find the format
    page = json.loads(lines[k])
    page["data"][0]["public_metrics"] = {"retweet_count": "NaN-marker"}
    lines[k] = json.dumps(page).encode().replace(b'"NaN-marker"', b"NaN") + b"\n"
    lines[k + 1] = lines[k + 1][: len(lines[k + 1]) // 2] + b"\n"  # cut short: not JSON
    lines[k + 2] = lines[k + 2].replace(b'"data"', b'"data\xff"', 1)  # not UTF-8
    page = json.loads(lines[k + 3])  # good, but the fast path leaves it: a handle beyond ASCII to look up
    page["data"][0]["entities"] = {"mentions": [{"username": "Zo\u00eb"}]}
    lines[k + 3] = json.dumps(page).encode() + b"\n"
    src = tmp_path / "mixed.jsonl"
    src.write_bytes(b"".join(lines))
    fast, slow = tmp_path / "fast.duckdb", tmp_path / "slow.duckdb"
    size = src.stat().st_size
    n = _commits(monkeypatch)
    with open_store(fast) as st:
        got = ingest(st, [str(src)], progress=False, chunk_bytes=size // 30, group_bytes=size // 2)
    assert n["blocks"] >= 6 and n["commits"] <= 3
    monkeypatch.undo()
    monkeypatch.setenv("GROUNDSWELL_NO_FAST_PATH", "1")
    with open_store(slow) as st:
        ingest(st, [str(src)], progress=False)
    assert got.files[0].rejected == 3
    with open_store(fast) as st:
        assert st.con.execute("SELECT count(*) FROM posts WHERE source_line = ?", [k + 4]).fetchall()[0][0] > 0
    assert store_digest(fast) == store_digest(slow)


def test_includes_of_another_type_are_rejected_and_the_tweets_kept(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A page whose ``includes.users`` (or tweets, media, places, or ``includes`` itself) is not of
    its type is rejected on its line, naming what was left out; the page's own tweets are stored.
    They used to be dropped without a word. The fast path leaves such lines to Python: both stores
    are the same."""
    lines = _big_input(tmp_path, 8).read_bytes().splitlines(keepends=True)
    k = 22  # past the 20 lines read first to find the format
    broken = {k: ("users", {"id": "1"}), k + 3: ("tweets", "none"), k + 7: ("media", 3), k + 11: (None, [])}
    for at, (key, value) in broken.items():
        page = json.loads(lines[at])
        assert page["data"] and page["includes"]["users"]
        if key is None:
            page["includes"] = value
        else:
            page["includes"][key] = value
        lines[at] = json.dumps(page).encode() + b"\n"
    src = tmp_path / "includes.jsonl"
    src.write_bytes(b"".join(lines))
    fast, slow = tmp_path / "fast.duckdb", tmp_path / "slow.duckdb"
    with open_store(fast) as st:
        got = ingest(st, [str(src)], progress=False, chunk_bytes=src.stat().st_size // 30)
    monkeypatch.setenv("GROUNDSWELL_NO_FAST_PATH", "1")
    with open_store(slow) as st:
        ingest(st, [str(src)], progress=False)
    assert got.files[0].rejected == 4
    with open_store(fast) as st:
        rejects = st.con.execute("SELECT source_line, reason FROM rejects ORDER BY source_line").fetchall()
        for at in broken:
            stored = st.con.execute("SELECT count(*) FROM posts WHERE source_line = ? AND NOT is_reference",
                                    [at + 1]).fetchall()[0][0]
            assert stored == len(json.loads(lines[at])["data"])
    assert rejects == [(k + 1, "includes.users: a JSON object, not a list"),
                       (k + 4, "includes.tweets: a JSON string, not a list"),
                       (k + 8, "includes.media: a JSON number, not a list"),
                       (k + 12, "includes: a JSON list, not an object")]
    assert store_digest(fast) == store_digest(slow)


def test_pages_without_twarc_with_odd_users_and_authors_are_read(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages saved without twarc (no ``__twarc``: accounts are observed at their first tweet) whose
    users are not objects, have no id or a list for one, or whose tweets name a list as author,
    are read: the bad items rejected on their lines, the rest stored, on both paths. Such a page
    used to stop the whole ingest with an internal error (TypeError, KeyError)."""
    at = "2021-01-0{}T00:00:00.000Z"
    pages = [
        {"data": [{"id": "1", "text": "x", "author_id": "10", "created_at": at.format(1)}],
         "includes": {"users": [5, "x", None, {"id": "10", "username": "a"}]}},
        {"data": [{"id": "2", "text": "x", "author_id": "11", "created_at": at.format(2)}],
         "includes": {"users": [{"username": "b"}, {"id": ["11"], "username": "b"}, {"id": "11", "username": "b"}]}},
        {"data": [{"id": "3", "text": "x", "author_id": ["12"], "created_at": at.format(3)},
                  {"id": "4", "text": "x", "author_id": "12", "created_at": at.format(4)}],
         "includes": {"users": [{"id": "12", "username": "c"}]}},
        {"data": [{"id": "20", "username": "u"}, 5, {"name": "no id"}]},  # a users lookup
    ]
    src = tmp_path / "saved.jsonl"
    src.write_text("".join(json.dumps(p) + "\n" for p in pages))
    for name, env in (("fast", None), ("slow", "1")):
        if env:
            monkeypatch.setenv("GROUNDSWELL_NO_FAST_PATH", env)
        with open_store(tmp_path / f"{name}.duckdb") as st:
            ingest(st, [str(src)], progress=False)
            rejects = st.con.execute("SELECT source_line, reason FROM rejects ORDER BY ALL").fetchall()
            posts = st.con.execute("SELECT id FROM posts ORDER BY id").fetchall()
            accounts = st.con.execute("SELECT id, handle, observed_at FROM accounts ORDER BY id").fetchall()
        assert rejects == [(1, "includes.users[0]: a user is not an object"),
                           (1, "includes.users[1]: a user is not an object"),
                           (1, "includes.users[2]: a user is not an object"),
                           (2, "includes.users[0]: missing id"),
                           (2, "includes.users[1]: id is a list, not a string or integer"),
                           (3, "data[0]: id is a list, not a string or integer"),
                           (4, "data[1]: a user is not an object"),
                           (4, "data[2]: missing id")], name
        assert posts == [("1",), ("2",), ("4",)], name
        # observed at the author's first tweet on the page
        assert [(i, h, str(o)) for i, h, o in accounts] == [
            ("10", "a", "2021-01-01 00:00:00"), ("11", "b", "2021-01-02 00:00:00"),
            ("12", "c", "2021-01-04 00:00:00"), ("20", "u", "1970-01-01 00:00:00")], name
    assert store_digest(tmp_path / "fast.duckdb") == store_digest(tmp_path / "slow.duckdb")


def test_fast_path_error_in_the_reading_thread_is_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure of the parse, which runs in a thread ahead of the writes, is raised by ingest
    (a bug is not hidden), and what was committed before it stays."""
    from groundswell.formats import twitter_v2_fast

    big = _big_input(tmp_path, 6)
    size = big.stat().st_size
    real = twitter_v2_fast.parse
    calls = []

    def broken(*args, **kw):
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("parser bug")
        return real(*args, **kw)

    monkeypatch.setattr(twitter_v2_fast, "parse", broken)
    db = tmp_path / "s.duckdb"
    with open_store(db) as st, pytest.raises(RuntimeError, match="parser bug"):
        ingest(st, [str(big)], progress=False, chunk_bytes=size // 30, group_bytes=size // 5)
    with open_store(db) as st:
        assert st.con.execute("SELECT count(*) FROM posts").fetchall()[0][0] > 0


def test_another_file_between_an_interruption_and_its_resume_gets_pages_of_its_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A twarc2 file is interrupted, another file is ingested, then the first resumes and numbers the rest
    of its pages as it began: the other file's pages must not have taken those numbers."""
    a = _big_input(tmp_path, 6)
    b = tmp_path / "other.jsonl"
    with open(b, "w") as f:
        for line in a.read_text().splitlines()[:40]:
            page = json.loads(line)
            for t in page.get("data", []):
                t["id"] = str(int(t["id"]) + 10**17)
            f.write(json.dumps(page) + "\n")
    size = a.stat().st_size
    sizes = {"chunk_bytes": size // 20, "group_bytes": size // 5}
    db = tmp_path / "s.duckdb"
    _interrupted_at_second_commit(monkeypatch, db, a, sizes)
    with open_store(db) as st:
        ingest(st, [str(b)], progress=False, **sizes)
        res = ingest(st, [str(a)], progress=False, **sizes)
        assert res.files[0].resumed_from
        assert st.con.execute("SELECT count(*) FROM (SELECT page FROM pages GROUP BY page HAVING count(*) > 1)"
                              ).fetchall()[0][0] == 0
        posts = st.table("posts").select(["id", "raw"]).to_pylist()
    kept = [p for p in posts if p["raw"] is not None]
    assert len(kept) > 1000
    assert all(json.loads(p["raw"])["id"] == p["id"] for p in kept)
