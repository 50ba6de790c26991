"""Issue 16: what real archives bring to ingest: truncated compressed files, a
wrong --format, directories with odd names, interruptions. Through the CLI."""

from __future__ import annotations

import bz2
import gzip
import lzma
import zlib
from pathlib import Path
from typing import Any, Callable

import pytest
import zstandard

from groundswell.store import open_store

from .conftest import shared

V1 = "sfm-twitter-harvester/v1.1_search_gelman_2015.jsonl"  # 1,229 tweets, one per line
V2 = "twarc-hashtags/test-data/tweets1.jsonl"


def _posts(db: Path) -> set[tuple[str, str]]:
    with open_store(db, read_only=True) as st:
        return set(st.con.execute("SELECT platform, id FROM posts").fetchall())


def _rejects(db: Path) -> list[tuple[str, int, str]]:
    with open_store(db, read_only=True) as st:
        return st.con.execute("SELECT source_file, source_line, reason FROM rejects ORDER BY 1, 2").fetchall()


def _prefix(data: bytes, decompress: Callable[[bytes], bytes]) -> bytes:
    """What a streaming decompressor gives for a cut-off input (the truth, from the standard library)."""
    return decompress(data)


def _gz_prefix(cut: bytes) -> bytes:
    d = zlib.decompressobj(wbits=31)
    return d.decompress(cut)


def _bz2_prefix(cut: bytes) -> bytes:
    return bz2.BZ2Decompressor().decompress(cut)


def _xz_prefix(cut: bytes) -> bytes:
    return lzma.LZMADecompressor().decompress(cut)


def _zst_prefix(cut: bytes) -> bytes:
    return zstandard.ZstdDecompressor().decompressobj().decompress(cut)


COMPRESSORS: dict[str, tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]]] = {
    "gz": (gzip.compress, _gz_prefix),
    "bz2": (lambda b: bz2.compress(b, 1), _bz2_prefix),  # 100 kB blocks: a cut keeps whole blocks
    "xz": (lzma.compress, _xz_prefix),
    "zst": (lambda b: zstandard.ZstdCompressor().compress(b), _zst_prefix),
}


@pytest.mark.parametrize("ext", sorted(COMPRESSORS))
def test_truncated_compressed_input_keeps_what_was_read_and_goes_on(cli, tmp_path: Path, ext: str) -> None:
    compress, prefix = COMPRESSORS[ext]
    data = shared(V1).read_bytes()
    packed = compress(data)
    cut = packed[: len(packed) // 2]
    src = tmp_path / f"cut.jsonl.{ext}"
    src.write_bytes(cut)
    readable = prefix(cut)
    whole_lines = readable[: readable.rfind(b"\n") + 1]
    assert 0 < whole_lines.count(b"\n") < 1229
    # the truth: the same whole lines, as a plain file, in a store of their own
    plain = tmp_path / "plain.jsonl"
    plain.write_bytes(whole_lines)
    truth_db = tmp_path / "truth.duckdb"
    assert cli("ingest", plain, "--db", truth_db, "-q").code == 0

    after = tmp_path / "after.jsonl"  # a file after the broken one is still read
    after.write_bytes(shared(V2).read_bytes())
    db = tmp_path / "s.duckdb"
    r = cli("ingest", src, after, "--db", db, "-q")
    assert "Traceback" not in r.err
    assert r.code == 1  # something was rejected: the summary says so
    assert "rejected" in r.err and f"{ {'gz': 'gzip', 'zst': 'zstd'}.get(ext, ext)} data ends early" in r.err
    got = _posts(db)
    assert _posts(truth_db) <= got  # every whole line before the break is kept
    assert len(got - _posts(truth_db)) >= 395  # and the next file went in (395 posts in tweets1)
    breaks = [x for x in _rejects(db) if "ends early" in x[2]]
    assert len(breaks) == 1 and breaks[0][0] == str(src) and "file offset" in breaks[0][2]
    # a re-run adds nothing and keeps the one reject
    again = cli("ingest", src, after, "--db", db, "-q")
    assert "already ingested" in again.err and _posts(db) == got and len(_rejects(db)) == len(_rejects(db))


def test_compressed_bz2_and_xz_read_whole(cli, tmp_path: Path) -> None:
    data = shared(V1).read_bytes()
    sizes = set()
    for ext, (compress, _p) in COMPRESSORS.items():
        f = tmp_path / f"all.jsonl.{ext}"
        f.write_bytes(compress(data))
        db = tmp_path / f"{ext}.duckdb"
        r = cli("ingest", f, "--db", db, "-q")
        assert r.code == 0, r.err
        sizes.add(len(_posts(db)))
    assert len(sizes) == 1


def test_damaged_compressed_header_is_a_refused_file_and_others_go_on(cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00" + b"\xff" * 64)
    good = tmp_path / "good.jsonl"
    good.write_bytes(shared(V2).read_bytes())
    db = tmp_path / "s.duckdb"
    r = cli("ingest", bad, good, "--db", db, "-q")
    assert r.code == 1 and "Traceback" not in r.err
    assert str(bad) in r.err and len(_posts(db)) >= 395


def test_wrong_format_then_the_right_way_reads_it_again(cli, tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    r = cli("ingest", shared(V1), "--db", db, "--format", "mastodon", "-q")
    assert r.code == 1 and "every record was rejected" in r.err and "--format" in r.err
    assert _posts(db) == set()
    r = cli("ingest", shared(V1), "--db", db, "-q")  # auto-detected: another way, read again
    assert r.code == 0 and "already ingested" not in r.err
    n = len(_posts(db))
    assert n > 1229
    r = cli("ingest", shared(V1), "--db", db, "-q")  # the same way again: skipped
    assert r.code == 0 and "already ingested" in r.err and "--force" in r.err
    r = cli("ingest", shared(V1), "--db", db, "-q", "--force")  # forced: read, nothing twice
    assert r.code == 0 and "already ingested" not in r.err and len(_posts(db)) == n
    r = cli("ingest", shared(V1), "--db", db, "-q", "--format", "twitter-v1")  # forced format: another way
    assert r.code == 0 and "already ingested" not in r.err and len(_posts(db)) == n


def test_directory_names_every_file_it_skips(cli, tmp_path: Path) -> None:
    d = tmp_path / "archive"
    (d / "sub").mkdir(parents=True)
    (d / ".cache").mkdir()
    (d / ".cache" / "x.jsonl").write_bytes(b"{}\n")
    v2 = shared(V2).read_bytes()
    (d / "PAGES.JSONL").write_bytes(v2)  # upper-case extension: read
    (d / "sub" / "more.Jsonl.GZ").write_bytes(gzip.compress(v2))
    (d / "sub" / "more.jsonl.bz2").write_bytes(bz2.compress(v2))
    (d / "sub" / "more.jsonl.xz").write_bytes(lzma.compress(v2))
    (d / "notes.md").write_text("notes")
    (d / ".DS_Store").write_bytes(b"\0")
    db = tmp_path / "s.duckdb"
    r = cli("ingest", d, "--db", db)
    assert r.code == 0, r.err
    for name, reason in [(".cache", "hidden folder"), (".DS_Store", "hidden file"),
                         ("notes.md", "not a data file name")]:
        line = next(ln for ln in r.err.splitlines() if name in ln)
        assert "skipped" in line and reason in line
    read = [ln for ln in r.err.splitlines() if ": twitter-v2," in ln or "already ingested" in ln]
    assert len(read) == 4  # PAGES.JSONL and the three compressed copies
    assert "3 skipped" in r.err
    r = cli("ingest", d, "--db", db, "--json", "-q")
    skipped = {Path(x["path"].rstrip("/")).name for x in r.json()["skipped"]}
    assert skipped == {".cache", ".DS_Store", "notes.md"}


def test_directory_rejects_are_listed(cli, tmp_path: Path) -> None:
    d = tmp_path / "archive"
    d.mkdir()
    lines = shared(V1).read_bytes().splitlines(keepends=True)[:20]
    lines[3] = b'{"id_str": "1", "broken\n'
    (d / "a.jsonl").write_bytes(b"".join(lines))
    r = cli("ingest", d, "--db", tmp_path / "s.duckdb")
    assert r.code == 1
    out = r.err.splitlines()
    i = next(i for i, ln in enumerate(out) if ln.startswith("rejected 1 records"))
    assert out[i + 1].strip().startswith(f"{d / 'a.jsonl'}:4: not valid JSON")


@pytest.mark.parametrize("how", ["KeyboardInterrupt", "duckdb.InterruptException"])
def test_interrupt_during_a_commit(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    import duckdb

    from groundswell.store import duck

    real = duck.Store._write_posts
    calls = {"n": 0}

    def interrupted(self: Any, posts: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt if how == "KeyboardInterrupt" else duckdb.InterruptException("INTERRUPT")
        real(self, posts)

    monkeypatch.setattr(duck.Store, "_write_posts", interrupted)
    db = tmp_path / "s.duckdb"
    r = cli("ingest", shared(V1), "--db", db, "-q", "--chunk-lines", "100")
    assert r.code == 130 and "Traceback" not in r.err
    assert [ln for ln in r.err.splitlines() if ln.strip()] == [
        "interrupted: what was committed before stays; run the command again to go on"]
    monkeypatch.setattr(duck.Store, "_write_posts", real)
    r = cli("ingest", shared(V1), "--db", db, "-q", "--chunk-lines", "100")
    assert r.code == 0 and "resumed" not in r.err  # -q: no per-file line
    clean = tmp_path / "clean.duckdb"
    assert cli("ingest", shared(V1), "--db", clean, "-q").code == 0
    assert _posts(db) == _posts(clean)
