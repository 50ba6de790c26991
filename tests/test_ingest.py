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


def test_fast_path_out_of_memory_is_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The twarc2 fast path running out of DuckDB's ingest pool is run again with a
    bigger pool (it used to stop the ingest), and the store is the same."""
    import duckdb

    from groundswell.formats import twitter_v2_fast

    plain = tmp_path / "plain.duckdb"
    with open_store(plain) as st:
        ingest(st, [str(shared(V2))], progress=False)
    real = twitter_v2_fast.convert
    calls = []

    def flaky(*args, **kw):
        calls.append(1)
        if len(calls) == 1:
            raise duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate data of size 16.0 MiB")
        return real(*args, **kw)

    monkeypatch.setattr(twitter_v2_fast, "convert", flaky)
    retried = tmp_path / "retried.duckdb"
    with open_store(retried) as st:
        res = ingest(st, [str(shared(V2))], progress=False)
    assert res.ok and len(calls) >= 2
    assert store_digest(retried) == store_digest(plain)


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
