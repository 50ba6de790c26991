"""Ingest: read archive files in any known format into the store.

For each input the driver opens it (plain, gzip or zstd, ``-`` for stdin),
picks its format (:mod:`groundswell.formats.detect`, or ``--format``), feeds
each record to the format's parser and writes what the parser emits to the
store in batches, one transaction each. A record that cannot be read is
skipped and recorded in ``rejects`` with its file, line and reason; the rest
of the file goes on. Each batch also records how far the file got, so an
ingest killed at any moment and run again resumes where the last batch ended
and ends with exactly the store an uninterrupted run makes; a file already
ingested whole is skipped, and re-reading one adds nothing twice (posts are
merged by ``(platform, id)``).
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import os
import sys
import time
import zlib
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from typing import IO, Any

import orjson
import pyarrow as pa

from groundswell import model
from groundswell.errors import FormatError, GroundswellError, RecordError, UsageError
from groundswell.formats import detect
from groundswell.formats.base import REPLACES, account_id_sql, is_json_line, record_id_problem
from groundswell.store.duck import Store, merge_post, replace_post
from groundswell.store.records import bool_default, records_to_table  # noqa: F401 - bool_default for live/

MAX_LINE_BYTES = 64 * 1024 * 1024
# one transaction per chunk: bounded by input bytes and lines (memory stays flat)
CHUNK_BYTES = 16 * 1024 * 1024
CHUNK_LINES = 20_000
# the twarc2 fast path: blocks of input parsed one at a time (the parse's memory grows with the
# block), and the input bytes per transaction (the parsed blocks' rows made in one statement and
# written in one commit: fewer statements and commits, each with a fixed cost)
FAST_BLOCK_BYTES = 4 * 1024 * 1024
FAST_GROUP_BYTES = 32 * 1024 * 1024
# DuckDB's settings on the twarc2 fast path. Its statements are many and small (a block, a group),
# and the parse runs beside the rows and the writes in two threads of ours: one DuckDB
# worker thread spends 15% less CPU than two (no split of small inputs among workers). A checkpoint
# rewrites the posts' and accounts' partly filled row groups: every 64 MiB of log instead of 16
# MiB, fewer of them (the commits' CPU 2.2 s instead of 2.6 s, the same peak memory)
FAST_SETTINGS: dict[str, int | str] = {"threads": 1, "checkpoint_threshold": "64MiB"}
CHUNK_RECORDS = 20_000  # whole-document JSON and CSV: records per transaction
FAST_CSV_CHUNK = 122_880  # CSV rows per transaction on the DuckDB fast path: one row group
# DuckDB's settings on the CSV fast path for posts: two threads of ours each make a chunk's rows, so
# DuckDB's own workers would only split small statements (one worker: 3% faster at 2.5M posts)
CSV_SETTINGS: dict[str, int | str] = {"threads": 1}
INGEST_MEMORY_LIMIT = "200MB"  # DuckDB's buffer pool while ingesting
# the pool on the twarc2 fast path, whose thread holds a group of parsed blocks ahead beside it:
# at 150 MB its peak is the 200 MB pool's without them (about 480 MiB for the 403 MB benchmark file)
FAST_POOL = 150_000_000
_EPOCH = datetime(1970, 1, 1)
_GZIP = b"\x1f\x8b"
_ZSTD = b"\x28\xb5\x2f\xfd"
_BZ2 = b"BZh"
_XZ = b"\xfd7zXZ\x00"


class BatchSink:
    """Collects one batch of records, merged by key, with provenance."""

    def __init__(self, source_file: str, fmt: str, check_ids: bool = True) -> None:
        self.source_file = source_file
        self.format = fmt
        # ids are checked per platform (formats.base.id_problem); the CSV readers have rules of their own
        self.check_ids = check_ids
        self.line = 0
        self.line_bytes: int | None = 0
        self.skip_through = 0  # resume: drop records from lines <= this
        self.posts: dict[tuple[str, str], dict[str, Any]] = {}
        self.replacing: set[tuple[str, str]] = set()  # posts whose newest sighting replaces the stored one
        self.accounts: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.volumes: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.deletions: dict[tuple[str, str], dict[str, Any]] = {}
        self.follows: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.rejects: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.n_posts = self.n_accounts = self.n_other = self.n_rejects = 0
        self.records = 0

    def __len__(self) -> int:
        return (len(self.posts) + len(self.accounts) + len(self.volumes) + len(self.deletions)
                + len(self.follows) + len(self.rejects))

    def _skip(self) -> bool:
        return self.line <= self.skip_through

    def _prov(self, rec: dict[str, Any]) -> dict[str, Any]:
        rec["source_file"] = self.source_file
        rec["source_line"] = self.line
        return rec

    def post(self, rec: dict[str, Any]) -> None:
        if self._skip():
            return
        pid, platform = rec.get("id"), rec.get("platform")
        if not pid or not isinstance(pid, str) or not platform:
            self.reject("post without a string id or platform")
            return
        if self.check_ids:
            why = record_id_problem("posts", rec)
            if why:
                self.reject(why)
                return
        self.n_posts += 1
        key = (platform, pid)
        replaces = bool(rec.pop(REPLACES, False))
        self._prov(rec)
        old = self.posts.get(key)
        if replaces:  # a new version of the whole post (a Bluesky edit)
            self.replacing.add(key)
            self.posts[key] = rec if old is None else replace_post(old, rec)
        else:
            self.posts[key] = rec if old is None else merge_post(old, rec)

    def account(self, rec: dict[str, Any]) -> None:
        if self._skip():
            return
        if not rec.get("id") or not rec.get("platform"):
            self.reject("account without id or platform")
            return
        if self.check_ids:
            why = record_id_problem("accounts", rec)
            if why:
                self.reject(why)
                return
        if rec.get("observed_at") is None:
            rec["observed_at"] = _EPOCH
        key = (rec["platform"], rec["id"], rec["observed_at"])
        if key not in self.accounts:
            self.n_accounts += 1
            self.accounts[key] = self._prov(rec)

    def volume(self, rec: dict[str, Any]) -> None:
        if self._skip():
            return
        rec.setdefault("query", "")
        if rec.get("query") is None:
            rec["query"] = ""
        key = (rec.get("platform"), rec["query"], rec.get("start"), rec.get("end"))
        if None in key[:1] or rec.get("start") is None or rec.get("end") is None:
            self.reject("volume bucket without platform, start or end")
            return
        self.n_other += 1
        self.volumes.setdefault(key, self._prov(rec))

    def deletion(self, rec: dict[str, Any]) -> None:
        if self._skip():
            return
        if not rec.get("id") or not rec.get("platform"):
            self.reject("deletion without id or platform")
            return
        if self.check_ids:
            why = record_id_problem("deletions", rec)
            if why:
                self.reject(why)
                return
        self.n_other += 1
        self.deletions.setdefault((rec["platform"], rec["id"]), self._prov(rec))

    def follow(self, rec: dict[str, Any]) -> None:
        if self._skip():
            return
        key = (rec.get("platform"), rec.get("follower_id"), rec.get("followed_id"))
        if not all(key):
            self.reject("follow without platform, follower_id or followed_id")
            return
        self.n_other += 1
        self.follows.setdefault(key, self._prov(rec))  # type: ignore[arg-type]

    def reject(self, reason: str) -> None:
        if self._skip():
            return
        key = (self.source_file, self.line, reason)
        if key not in self.rejects:
            self.n_rejects += 1
            self.rejects[key] = {"source_file": self.source_file, "source_line": self.line,
                                 "format": self.format, "reason": reason, "bytes": self.line_bytes}

    def tables(self) -> dict[str, pa.Table]:
        out = {}
        posts = self.posts
        if self.replacing:
            posts = {k: v for k, v in self.posts.items() if k not in self.replacing}
            replaced = [v for k, v in self.posts.items() if k in self.replacing]
            if replaced:
                out["posts_replace"] = records_to_table("posts", replaced, self._bad_record)
        for name, d in (("posts", posts), ("accounts", self.accounts), ("volumes", self.volumes),
                        ("deletions", self.deletions), ("follows", self.follows)):
            if d:
                out[name] = records_to_table(name, list(d.values()), self._bad_record)
        if self.rejects:
            out["rejects"] = records_to_table("rejects", list(self.rejects.values()))
        return out

    def _bad_record(self, rec: dict[str, Any], reason: str) -> None:
        line = rec.get("source_line") or self.line
        key = (self.source_file, line, reason)
        if reason.startswith("posts."):
            self.n_posts -= 1
        if key not in self.rejects:
            self.n_rejects += 1
            self.rejects[key] = {"source_file": self.source_file, "source_line": line,
                                 "format": self.format, "reason": reason, "bytes": None}

    def clear(self) -> None:
        for d in (self.posts, self.accounts, self.volumes, self.deletions, self.follows, self.rejects):
            d.clear()
        self.replacing.clear()


@dataclass
class FileResult:
    path: str
    format: str | None = None
    lines: int = 0
    posts_read: int = 0
    accounts_read: int = 0
    other_read: int = 0
    rejected: int = 0
    new_posts: int = 0
    seconds: float = 0.0
    skipped: bool = False
    resumed_from: int = 0
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class IngestSummary:
    files: list[FileResult] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason) not read

    @property
    def ok(self) -> bool:
        """No file refused."""
        return all(f.error is None for f in self.files)

    @property
    def clean(self) -> bool:
        """No file refused and no record rejected (the CLI exits 0 only then)."""
        return self.ok and not self.total("rejected")

    def total(self, attr: str) -> int:
        return sum(getattr(f, attr) for f in self.files)

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": [f.as_dict() for f in self.files],
            "posts_read": self.total("posts_read"),
            "new_posts": self.total("new_posts"),
            "accounts_read": self.total("accounts_read"),
            "rejected": self.total("rejected"),
            "errors": [f"{f.path}: {f.error}" for f in self.files if f.error],
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
        }


ProgressCallback = Callable[[str, int, "int | None", int], None]


class Progress:
    """Reports how far a file got to a callback ``(path, bytes read, file size or
    None, posts read)``; library code never draws (:mod:`groundswell.progress` does).

    Bytes are those of the file on disk, so a compressed file has a percentage
    too; stdin has no size (the callback then shows a rate)."""

    def __init__(self, enabled: bool | None = None, callback: ProgressCallback | None = None) -> None:
        self.callback = callback if enabled is not False else None
        self._last = 0.0
        self.raw: IO[bytes] | None = None  # the file being read (set by the run)
        self.size: int | None = None
        self.lines_total: int | None = None  # files DuckDB reads itself: progress by lines

    def by_lines(self, total: int) -> None:
        self.lines_total = max(1, total)

    def start(self, path: str, raw: IO[bytes]) -> None:
        self.raw, self.lines_total = raw, None
        try:
            self.size = os.fstat(raw.fileno()).st_size if path != "-" else None
        except (OSError, ValueError, AttributeError):
            self.size = None

    def update(self, path: str, lines: int, posts: int, started: float, final: bool = False,
               at_byte: int | None = None) -> None:
        """``at_byte``: how far into the file on disk the read is, where the caller knows it (a file
        DuckDB reads a chunk at a time)."""
        if self.callback is None:
            return
        now = time.monotonic()
        if not final and now - self._last < 0.2:
            return
        self._last = now
        done = lines
        if at_byte is not None:
            done = at_byte
        elif self.lines_total is not None and self.size is not None:
            done = int(self.size * min(1.0, lines / self.lines_total))
        elif self.raw is not None and self.size is not None:
            try:
                done = self.raw.tell()
            except (OSError, ValueError):
                done = self.size if final else 0
        if final and self.size is not None:
            done = self.size
        self.callback(path, done, self.size, posts)


# -- opening inputs -----------------------------------------------------------

_COMPRESSED_ERRORS: tuple[type[BaseException], ...] = (EOFError, zlib.error, lzma.LZMAError, OSError)


class _Truncated(io.RawIOBase):
    """A decompressing stream that ends quietly where the compressed data breaks.

    A gzip, zstd, bz2 or xz file that ends early (a copy cut short, a disk
    that filled up) or is damaged part-way raises in the decompressor; this
    stream ends there instead, so what was read is kept, and records where
    (``broken``: a reason with the offsets in the data and in the file).
    """

    def __init__(self, inner: IO[bytes], raw: IO[bytes], kind: str) -> None:
        self._inner, self._raw, self._kind = inner, raw, kind
        self._read = getattr(inner, "read1", inner.read)
        self.offset = 0  # decompressed bytes handed out
        self.broken: str | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self.broken is not None:
            return 0
        try:
            # read1: one read underneath, so bytes decompressed before the break are never
            # dropped with the exception by a buffer that was filling
            data = self._read(len(b))
        except Exception as e:  # noqa: BLE001 - each decompressor has its own errors; zstd's is not exported
            if not isinstance(e, _COMPRESSED_ERRORS) and type(e).__name__ != "ZstdError":
                raise
            try:
                at = self._raw.tell()
            except (OSError, ValueError):
                at = -1
            where = f", file offset {at:,}" if at >= 0 else ""
            self.broken = (f"{self._kind} data ends early or is damaged after {self.offset:,} bytes of data"
                           f"{where}; what came before was kept")
            return 0
        n = len(data)
        b[:n] = data
        self.offset += n
        return n

    def close(self) -> None:
        try:
            self._inner.close()
        except _COMPRESSED_ERRORS:
            pass
        super().close()


class _ZstdReader(io.RawIOBase):
    """zstd frames, one after another, decompressed; raises ``EOFError`` when the
    input ends inside a frame (zstandard's own stream reader ends quietly there)."""

    def __init__(self, raw: IO[bytes]) -> None:
        import zstandard

        self._new = zstandard.ZstdDecompressor().decompressobj
        self._raw = raw
        self._obj: Any = None  # the frame under way
        self._buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._buf:
            data = self._raw.read(1 << 16)
            if not data:
                if self._obj is not None and not self._obj.eof:
                    raise EOFError("zstd frame not finished")
                return 0
            while data:
                if self._obj is None or self._obj.eof:
                    self._obj = self._new()
                self._buf += self._obj.decompress(data)
                data = self._obj.unused_data if self._obj.eof else b""
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def _open(path: str) -> tuple[IO[bytes], IO[bytes], bool]:
    """Open a path or '-' for binary reading, decompressing by magic bytes
    (gzip, zstd, bz2, xz).

    Returns the stream, the underlying file, and whether byte offsets in the
    stream are file offsets (a seekable plain file). A compressed stream that
    breaks ends there (:class:`_Truncated`; its ``broken`` says where).
    """
    if path == "-":
        raw: IO[bytes] = io.BufferedReader(sys.stdin.buffer)  # type: ignore[arg-type,type-var,unused-ignore]
        seekable = False
    else:
        try:
            raw = open(path, "rb")
        except FileNotFoundError:
            raise UsageError(f"no such file: {path}") from None
        except IsADirectoryError:
            raise UsageError(f"{path} is a directory: give the files in it (e.g. {path}/*.jsonl)") from None
        except PermissionError:
            raise UsageError(f"cannot read {path}: permission denied") from None
        seekable = True
    magic = raw.peek(6)[:6] if hasattr(raw, "peek") else b""
    inner: Any = None  # a decompressing reader (each library has its own class)
    kind = ""
    if magic[:2] == _GZIP:
        inner, kind = gzip.GzipFile(fileobj=raw), "gzip"
    elif magic[:4] == _ZSTD:
        inner, kind = _ZstdReader(raw), "zstd"
    elif magic[:3] == _BZ2:
        inner, kind = bz2.BZ2File(raw), "bz2"
    elif magic[:6] == _XZ:
        inner, kind = lzma.LZMAFile(raw), "xz"
    if inner is None:
        return raw, raw, seekable
    return io.BufferedReader(_Truncated(inner, raw, kind), 1 << 16), raw, False


def _broken(f: IO[bytes]) -> str | None:
    """Where a compressed input broke off, or None."""
    inner = getattr(f, "raw", None)
    return inner.broken if isinstance(inner, _Truncated) else None


def read_way(format: str | None, columns: dict[str, str] | None, platform: str | None,
             encoding: str | None = None, delimiter: str | None = None, query: str | None = None) -> str:
    """How a file is read, as part of its identity in ``sources``: the same
    bytes read with another ``--format``, ``--columns``, ``--platform``,
    ``--encoding`` or ``--delimiter`` are another input (read again; posts
    still merge by key). Empty for the default way, so stores made before
    keep their fingerprints."""
    if format is None and not columns and platform is None and encoding is None and delimiter is None \
            and query is None:
        return ""
    cols = ",".join(f"{k}={v}" for k, v in sorted((columns or {}).items()))
    way = f"format={format or 'auto'};columns={cols};platform={platform or ''}"
    if encoding is not None or delimiter is not None:
        way += f";encoding={encoding or ''};delimiter={delimiter or ''}"
    if query is not None:  # a volume series' query (--query)
        way += f";query={query}"
    return way


def fingerprint(path: str, way: str = "") -> str | None:
    """A cheap identity for a regular file read one way (:func:`read_way`):
    size plus its first and last MiB."""
    if path == "-":
        return None
    st = os.stat(path)
    h = hashlib.sha256(str(st.st_size).encode())
    if way:
        h.update(b"\0" + way.encode())
    with open(path, "rb") as f:
        h.update(f.read(1 << 20))
        if st.st_size > 2 << 20:
            f.seek(-(1 << 20), os.SEEK_END)
            h.update(f.read(1 << 20))
    return h.hexdigest()


def _lines(f: IO[bytes], max_bytes: int) -> Iterator[tuple[bytes | None, int]]:
    """Yield (line, byte length); a line over ``max_bytes`` is yielded as None."""
    readline = f.readline
    while True:
        line = readline(max_bytes + 1)
        if not line:
            return
        if len(line) > max_bytes and not line.endswith(b"\n"):
            total = len(line)
            while True:
                chunk = readline(1 << 20)
                total += len(chunk)
                if not chunk or chunk.endswith(b"\n"):
                    break
            yield None, total
            continue
        yield line, len(line)


class _Block:
    """Whole lines read in one piece: the bytes, each line's number, its start and end in them (the
    line end excluded), its length as read (the line end included), and whether it is too long (a
    too-long line is not in ``data``: only its length is known)."""

    def __init__(self, data: bytes, first: int, starts: Any, ends: Any, lens: Any, too_long: Any,
                 read: int) -> None:
        import numpy as np

        self.data, self.first = data, first
        self.starts, self.ends, self.lens, self.too_long = starts, ends, lens, too_long
        self.nums = np.arange(first, first + len(starts), dtype=np.int64)
        self.read = read  # bytes of input these lines took

    def __len__(self) -> int:
        return len(self.starts)

    def line(self, n: int) -> memoryview:
        k = n - self.first
        return memoryview(self.data)[int(self.starts[k]):int(self.ends[k])]

    def utf8(self, keep: Any) -> tuple[pa.Array, list[int]]:
        """The kept lines as one Arrow string column over the block's bytes (checked as UTF-8 in
        C++, not copied unless lines are left out), and the numbers of kept lines that are not
        UTF-8 (left out of the column). A value runs to the next line's start: its line end is
        JSON whitespace."""
        import numpy as np

        offsets = np.empty(len(self.starts) + 1, dtype=np.int64)
        offsets[:-1] = self.starts
        offsets[-1] = len(self.data)
        whole = pa.LargeBinaryArray.from_buffers(pa.large_binary(), len(self.starts),
                                                 [None, pa.py_buffer(offsets), pa.py_buffer(self.data)])
        vals = whole if bool(keep.all()) else whole.filter(pa.array(keep))
        try:
            return vals.cast(pa.large_string()), []
        except pa.ArrowInvalid:
            pass
        nums = self.nums[keep]
        good, bad = [], []
        for k, v in enumerate(vals.to_pylist()):
            try:
                v.decode("utf-8")
                good.append(k)
            except UnicodeDecodeError:
                bad.append(int(nums[k]))
        return vals.take(pa.array(good, pa.int64())).cast(pa.large_string()), bad

    @staticmethod
    def of(chunk: list[tuple[int, bytes | None, int]]) -> _Block:
        """A block made of lines already read (as the Spark ingest reads its ranges)."""
        import numpy as np

        parts, starts, ends, lens, too_long, pos = [], [], [], [], [], 0
        for _n, line, n in chunk:
            text = b"" if line is None else line.rstrip(b"\n")
            parts.append(text + b"\n")
            starts.append(pos)
            ends.append(pos + len(text))
            pos += len(text) + 1
            lens.append(n)
            too_long.append(line is None)
        return _Block(b"".join(parts), chunk[0][0] if chunk else 1, np.array(starts, np.int64),
                      np.array(ends, np.int64), np.array(lens, np.int64), np.array(too_long, bool),
                      sum(lens))


def _blocks(f: IO[bytes], head: list[bytes | None], size: int, max_line: int,
            first: int = 1) -> Iterator[_Block]:
    """The input in blocks of about ``size`` bytes of whole lines (the lines already read first).

    A line longer than ``max_line`` is not kept: it comes as a too-long line of known length.
    ``first`` is the number of the first line (past a resumed run's lines, after a seek).
    """
    import numpy as np

    carry = b"".join(x for x in head if x is not None)
    long_n: int | None = None  # bytes of a too-long line being skipped
    while True:
        data = f.read(size)
        final = not data
        if long_n is not None:
            if final:
                yield _Block(b"\n", first, np.array([0]), np.array([0]), np.array([long_n]), np.array([True]), long_n)
                return
            k = data.find(b"\n")
            if k < 0:
                long_n += len(data)
                continue
            long_n += k + 1
            yield _Block(b"\n", first, np.array([0]), np.array([0]), np.array([long_n]), np.array([True]), long_n)
            first += 1
            long_n = None
            data = data[k + 1:]
        buf = carry + data if carry else data
        if final and not buf:  # the input ended with a line end
            return
        cut = len(buf) if final else buf.rfind(b"\n") + 1
        if cut == 0:  # no line end yet
            if len(buf) > max_line:  # a line too long to keep: count it, keep none of it
                long_n, carry = len(buf), b""
            else:
                carry = buf
            continue
        block, carry = buf[:cut], buf[cut:]
        del buf
        if block:
            arr = np.frombuffer(block, dtype=np.uint8)
            nl = np.flatnonzero(arr == 10)
            starts = np.empty(len(nl) + (0 if block.endswith(b"\n") else 1), dtype=np.int64)
            starts[0] = 0
            starts[1:len(nl)] = nl[:-1] + 1 if len(nl) else starts[1:1]
            ends = np.empty_like(starts)
            ends[:len(nl)] = nl
            if not block.endswith(b"\n"):  # the last line of the input, without a line end
                starts[-1] = nl[-1] + 1 if len(nl) else 0
                ends[-1] = len(block)
            lens = np.where(np.arange(len(starts)) < len(nl), ends - starts + 1, ends - starts)
            too_long = lens > max_line
            yield _Block(block, first, starts, ends, lens, too_long, len(block))
            first += len(starts)
        if final:
            return


def _decode_reason(line: bytes) -> str:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as e:
        return f"not valid UTF-8 (byte {e.start})"
    return "not valid JSON"


@contextmanager
def _settings(con: Any, values: dict[str, int | str]) -> Iterator[None]:
    """DuckDB settings (for every cursor of the store) while the block runs, those before restored
    after."""
    import duckdb

    before = {k: con.execute("SELECT current_setting(?)", [k]).fetchall()[0][0] for k in values}
    for k, v in values.items():
        con.execute(f"SET {k} = ?", [v])
    try:
        yield
    finally:
        try:
            for k, v in before.items():
                con.execute(f"SET {k} = ?", [v])
        except duckdb.Error:  # the connection is closing (an interrupt): nothing to restore
            pass


def _parse_safely(parse: Callable[[Any, Any], None], obj: Any, sink: BatchSink, fmt: str) -> None:
    """Parse one record; what is wrong with the record (:class:`RecordError`) is a reject.

    Any other exception is a bug in the parser, not in the record: it is not
    turned into a reject (that hid parser bugs from every test) but goes up,
    and the CLI reports it as an internal error (exit 70).
    """
    try:
        parse(obj, sink)
    except RecordError as e:
        sink.reject(str(e) or "unreadable record")


def _ahead(items: Iterator[Any], n: int = 1) -> Generator[Any, None, None]:
    """``items`` computed in a thread, up to ``n`` ahead of the caller (DuckDB and zstd let go of
    the GIL, so parsing the next blocks overlaps making and writing the rows of the last). An
    exception in the thread is raised here; when the caller stops early, the thread stops after
    its item."""
    return _in_order(items, lambda _w, x: x, workers=1, limit=max(1, n) + 1)


def _in_order(items: Iterator[Any], work: Callable[[int, Any], Any], workers: int = 2,
              limit: int | None = None) -> Generator[Any, None, None]:
    """``work(w, item)`` for each of ``items``, on ``workers`` threads of ours (``w``, the thread's
    number, picks resources of its own, such as a cursor), yielded in the items' order. The items
    are taken one at a time (a file read in order, or parsed: ``items`` may do work of its own); at
    most ``limit`` (default: ``workers``) are taken and not yet yielded, so memory holds those and
    the caller's last item. An exception in a thread (or in ``items``) is raised here, in its item's
    turn; when the caller stops early, the threads stop after their items."""
    import threading

    cap = limit or workers
    cond = threading.Condition()  # the shared state below; never held while an item is read or worked
    take = threading.Lock()  # items are read one at a time, numbered as read
    done: dict[int, tuple[str, Any]] = {}
    state = {"taken": 0, "read": 0, "yielded": 0, "end": -1, "stop": False}

    def run(w: int) -> None:
        while True:
            with cond:  # a place among the items in flight
                while not state["stop"] and state["end"] < 0 and state["taken"] - state["yielded"] >= cap:
                    cond.wait()
                if state["stop"] or state["end"] >= 0:
                    return
                state["taken"] += 1
            with take:
                if state["stop"]:  # the caller stopped while this thread waited its turn
                    return
                k = state["read"]
                try:
                    item = next(items)
                    state["read"] = k + 1
                except StopIteration:
                    with cond:
                        state["end"] = k
                        cond.notify_all()
                    return
                except BaseException as e:  # noqa: BLE001 - handed to the caller, raised there
                    with cond:
                        done[k], state["end"] = ("error", e), k + 1
                        cond.notify_all()
                    return
            try:
                out: tuple[str, Any] = ("item", work(w, item))
            except BaseException as e:  # noqa: BLE001 - handed to the caller, raised there
                out = ("error", e)
            del item
            with cond:
                done[k] = out
                cond.notify_all()
            del out

    threads = [threading.Thread(target=run, args=(w,), name=f"gs-work-{w}", daemon=True) for w in range(workers)]
    for t in threads:
        t.start()
    try:
        k = 0
        while True:
            with cond:
                while k not in done and not (0 <= state["end"] <= k):
                    cond.wait()
                if k not in done:
                    return
                kind, x = done.pop(k)
                state["yielded"] = k = k + 1
                cond.notify_all()
            if kind == "error":
                raise x
            yield x
            del x
    finally:
        with cond:
            state["stop"] = True
            cond.notify_all()
        for t in threads:
            t.join()


@dataclass
class _Parsed:
    """One block's pages parsed by the fast path, waiting for their rows to be made: the parsed
    fields, the line numbers and lengths kept, the page numbering, and the lines themselves,
    compressed as pages (a future, when pages are kept) or as read (when not)."""

    pg: pa.Table | None
    nums: list[int]
    lens: list[int]
    base: int
    bodies: Any  # concurrent.futures.Future[list[bytes]] | None
    lines: list[memoryview] | None


# a block on the fast path: its parsed pages, the lines to read in Python, its last line, bytes read
_Piece = tuple["_Parsed | pa.Table | None", list[tuple[int, Any, int]], int, int]


class _Run:
    """Ingest of one file."""

    def __init__(self, store: Store, path: str, fmt: str | None, options: dict[str, Any],
                 progress: Progress) -> None:
        self.store, self.path, self.forced = store, path, fmt
        self.options, self.progress = options, progress
        self.chunk_bytes = options.get("chunk_bytes") or CHUNK_BYTES
        self.chunk_lines = options.get("chunk_lines") or CHUNK_LINES
        self.chunk_records = CHUNK_RECORDS if not options.get("chunk_lines") else options["chunk_lines"]
        self.block_bytes = options.get("chunk_bytes") or FAST_BLOCK_BYTES
        self.group_bytes = options.get("group_bytes") or FAST_GROUP_BYTES
        self.pending: list[dict[str, pa.Table]] = []  # fast-path tables awaiting the next flush
        from groundswell import privacy

        self.redact = privacy.redact_posts_table if privacy.redact_store_enabled(store) else None
        self.pool: _BufferPool = options.get("pool") or _BufferPool(store, INGEST_MEMORY_LIMIT)
        self.result = FileResult(path=path)
        self.stream: IO[bytes] | None = None
        # pages (store.pages) keep the lines the fast path reads; a redacting store (whose raw must
        # not give back what was redacted) and the Spark ingest (options["inline_raw"]) keep raw inline
        self.max_line: int = options.get("max_line_bytes", MAX_LINE_BYTES)  # longer lines are rejected
        self.keep_pages = (self.redact is None and not options.get("inline_raw")
                           and getattr(store, "has_pages", lambda: False)())
        self.page_base: int | None = None  # pages of this file are numbered page_base + line
        self.fp: str | None = None
        self._pager: Any = None  # the thread compressing pages beside the parse

    def run(self) -> FileResult:
        started = time.monotonic()
        res = self.result
        way = read_way(self.forced, self.options.get("columns"), self.options.get("platform"),
                       self.options.get("encoding"), self.options.get("delimiter"), self.options.get("query"))
        fp = fingerprint(self.path, way) if self.path != "-" and os.path.isfile(self.path) else None
        prior = self.store.source(fp) if fp and not self.options.get("force") else None
        if prior and prior["complete"]:
            res.skipped, res.format = True, prior["format"]
            return res
        f, raw, seekable = _open(self.path)
        self.stream = f
        self.progress.start(self.path, raw)
        try:
            head: list[tuple[bytes | None, int]] = []
            it = _lines(f, self.max_line)
            for item in it:
                head.append(item)
                if len(head) >= 20:
                    break
            try:
                fmt = self.forced or self._detect(head)
            except FormatError:
                if _broken(f):  # cut short before one whole record: say so, not "unknown format"
                    raise FormatError(f"{self.path}: {_broken(f)}; nothing readable came before the break") from None
                raise
            res.format = fmt
            resume_line = prior["lines_done"] if prior else 0
            res.resumed_from = resume_line
            self.fp = fp
            before = self._count_posts()
            if fmt in detect.CSV_READERS:
                rest: int | None = resume_line
                if seekable and fmt != detect.VOLUME_CSV_FORMAT:
                    rest = self._run_csv_fast(head, resume_line, fmt, prior["bytes_done"] if prior else 0)
                if rest is not None:  # the Python reader reads the file, or the rest of it
                    self._run_csv(f, head, it, rest, fmt)
            else:
                self._run_json(f, fmt, head, it, resume_line,
                               prior["bytes_done"] if (prior and seekable) else None)
            res.new_posts = self._count_posts() - before
        finally:
            if self._pager is not None:
                self._pager.shutdown()
                self._pager = None
            if self.path != "-":
                f.close()
                raw.close()
        res.seconds = time.monotonic() - started
        self.progress.update(self.path, res.lines, res.posts_read, started, final=True)
        return res

    def _page_base(self) -> int:
        """Pages of this input are numbered base + line: a resumed run numbers them as the
        interrupted one did (the base is kept in ``meta`` with the first chunk). Each input gets a
        range of its own, ``PAGE_STRIDE`` numbers above every page and every base recorded, so an
        input ingested while another waits to be resumed does not take the numbers its rest will use."""
        if self.page_base is None:
            got = self.store.meta(_PAGE_BASE + self.fp) if self.fp and self.result.resumed_from else None
            if got is not None:
                self.page_base = int(got)
            elif self.keep_pages:
                top = int(self.store.con.execute(
                    "SELECT greatest((SELECT coalesce(max(page), 0) FROM pages), (SELECT coalesce(max(CAST(value "
                    "AS BIGINT)), 0) FROM meta WHERE key LIKE $1))", [_PAGE_BASE + "%"]).fetchall()[0][0])
                self.page_base = (top // PAGE_STRIDE + 1) * PAGE_STRIDE
            else:
                self.page_base = 0
        return self.page_base

    def _compress(self, lines: list[memoryview]) -> Any:
        """Compress the pages beside the parse (zstd and DuckDB both let go of the GIL)."""
        from concurrent.futures import ThreadPoolExecutor

        from groundswell.store import pages

        if self._pager is None:
            self._pager = ThreadPoolExecutor(1, thread_name_prefix="gs-pages")
        return self._pager.submit(pages.compress, lines)

    def _count_posts(self) -> int:
        return int(self.store.con.execute("SELECT count(*) FROM posts").fetchall()[0][0])

    def _detect(self, head: list[tuple[bytes | None, int]]) -> str:
        tried = detect.available_json_formats()
        first_text = None
        for line, _n in head:
            if line is None or not line.strip():
                continue
            if first_text is None:
                first_text = line
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            name = detect.sniff_json(obj)
            if name:
                return name
            break
        if first_text is not None:
            try:
                header = first_text.decode(self.options.get("encoding") or "utf-8-sig").strip()
            except UnicodeDecodeError:
                header = ""
            import csv as _csv

            cols = next(_csv.reader([header], delimiter=self.options.get("delimiter") or ","), []) if header else []
            if cols and not header.startswith(("{", "[")):
                from groundswell.formats import follows as followsfmt

                if followsfmt.sniff_header(cols):
                    return followsfmt.NAME
                try:
                    if detect.sniff_csv_header(cols):
                        return detect.CSV_FORMAT
                except ImportError:
                    pass
            if first_text.lstrip()[:1] in (b"{", b"["):
                return "__document__"
        if first_text is None:
            if any(line is None for line, _ in head):
                raise FormatError(f"{self.path}: its first lines are longer than the line limit; "
                                  "raise it with --max-line-bytes")
            return "__empty__"
        raise FormatError(
            f"{self.path}: not in a known format (tried {', '.join(tried + ['csv'])}); "
            "use --format to force one"
        )

    # -- JSON lines and whole documents ---------------------------------------
    def _run_json(self, f: IO[bytes], fmt: str, head: list[tuple[bytes | None, int]],
                  it: Iterator[tuple[bytes | None, int]], resume_line: int, resume_bytes: int | None) -> None:
        """JSON lines, in chunks of lines: one chunk, one transaction."""
        res = self.result
        if fmt == "__empty__":
            res.format = None
            self._finish(BatchSink(self.path, "empty"), 0, 0)
            return
        if fmt == "__document__":
            self._run_document(head, it, None)
            return
        try:
            parser = detect.json_format(fmt)
        except KeyError:
            raise UsageError(f"unknown format {fmt!r}; formats: {', '.join(detect.FORMAT_NAMES)}") from None
        first = next((line for line, _ in head if line is not None and line.strip()), None)
        if first is not None and first is head[0][0] and first.lstrip()[:1] in (b"{", b"[") and not is_json_line(first):
            self._run_document(head, it, fmt)  # a pretty-printed document
            return
        sink = BatchSink(self.path, fmt)
        fast = detect.fast_path(fmt)
        started = time.monotonic()
        if fast is not None and all(line is not None for line, _ in head):
            with _settings(self.store.con, FAST_SETTINGS), self.pool.lowered(FAST_POOL):
                self._run_fast(f, fast, parser, sink, fmt, head, resume_line, resume_bytes, started)
            return
        lines: Iterable[tuple[bytes | None, int]] = chain(head, it)
        line_no, nbytes = 0, 0
        if resume_bytes:
            # a plain file: jump to where the last committed chunk ended
            f.seek(resume_bytes)
            lines = _lines(f, self.max_line)
            line_no, nbytes = resume_line, resume_bytes
        else:
            sink.skip_through = resume_line
        chunk: list[tuple[int, bytes | None, int]] = []
        size = 0
        max_bytes, max_lines = self.chunk_bytes, self.chunk_lines
        for line, n in lines:
            line_no += 1
            nbytes += n
            if line_no <= sink.skip_through:
                continue
            chunk.append((line_no, line, n))
            size += n
            if size >= max_bytes or len(chunk) >= max_lines:
                self._chunk(chunk, parser, fast, sink, fmt)
                chunk, size = [], 0  # the lines are parsed: free them before the write
                self._flush(sink, line_no, nbytes, complete=False)
                self.progress.update(self.path, line_no, res.posts_read, started)
        if chunk:
            self._chunk(chunk, parser, fast, sink, fmt)
        res.lines = line_no
        self._finish(sink, line_no, nbytes)

    def _run_fast(self, f: IO[bytes], fast: Any, parser: Any, sink: BatchSink, fmt: str,
                  head: list[tuple[bytes | None, int]], resume_line: int, resume_bytes: int | None,
                  started: float) -> None:
        """JSON lines on a format's DuckDB fast path: read in blocks of whole lines (no Python work
        per line), each block's pages parsed as it comes, in a thread up to a group of blocks ahead
        of the rest (beside the rows statement and the writes), and its lines let go; the rows of a
        group of blocks (:data:`FAST_GROUP_BYTES` of input) are made in one statement and written
        in one transaction, which records how far the input got (the group's last line)."""
        res = self.result
        if resume_bytes:  # a plain file: jump to where the last committed chunk ended
            f.seek(resume_bytes)
            head = []
            line_no, nbytes, skip = resume_line, resume_bytes, 0
        else:
            line_no, nbytes, skip = 0, 0, resume_line
        # without pages a group holds its blocks' lines (for raw): one block, one transaction
        group_bytes = self.group_bytes if self.keep_pages else 0
        group: list[_Parsed] = []
        size = 0
        self._page_base()  # read from the store here: the reading thread has a cursor of its own
        blocks = _blocks(f, [line for line, _ in head], self.block_bytes, self.max_line, line_no + 1)
        with self.store.con.cursor() as cur:
            # a group's blocks parsed ahead while the last group's rows are made and written
            pieces = _ahead(self._parse_blocks(blocks, fast, skip, cur), max(1, group_bytes // self.block_bytes))
            try:
                for parsed in pieces:
                    part, todo, last, read = parsed
                    del parsed
                    if skip and last <= skip:  # resuming a stream: lines already stored
                        line_no, nbytes = last, nbytes + read
                        continue
                    if isinstance(part, pa.Table):  # the parse ran out of memory in the thread: again, here
                        part = self._parse_again(part, fast, todo)
                    self._python_lines(todo, parser, sink, fmt)
                    if part is not None:
                        group.append(part)
                    line_no, nbytes = last, nbytes + read
                    size += read
                    del part, todo
                    if size >= group_bytes:
                        if group:
                            self._fast_rows(group, fast, parser, sink, fmt)
                        group, size = [], 0
                        self._flush(sink, line_no, nbytes, complete=False)
                        self.progress.update(self.path, line_no, res.posts_read, started)
            finally:
                pieces.close()  # the reading thread ends before its cursor closes
        if group:
            self._fast_rows(group, fast, parser, sink, fmt)
        res.lines = line_no
        self._finish(sink, line_no, nbytes)

    def _parse_blocks(self, blocks: Iterator[_Block], fast: Any, skip: int, cur: Any) -> Iterator[_Piece]:
        """Each block parsed (:meth:`_parse_block`) with its last line and bytes read; blocks wholly
        at or before ``skip`` (a resumed stream's lines already stored) come with nothing to do."""
        for block in blocks:
            last = block.first + len(block) - 1
            if skip and last <= skip:
                yield None, [], last, block.read
                continue
            part, todo = self._parse_block(block, fast, skip, cur)
            yield part, todo, last, block.read
            del block, part, todo

    def _parse_again(self, table: pa.Table, fast: Any, todo: list[tuple[int, Any, int]]) -> _Parsed:
        """A block whose parse ran out of memory in the reading thread, parsed with the pool's retry
        (``todo[-1]`` carries the rest of its :class:`_Parsed`)."""
        rest: _Parsed = todo.pop()[1]
        with self.store.con.cursor() as cur:
            rest.pg = self.pool.retry(fast.parse, cur, table)
        return rest

    def _chunk(self, chunk: list[tuple[int, bytes | None, int]], parser: Any, fast: Any,
               sink: BatchSink, fmt: str) -> None:
        """Parse one chunk of lines into ``sink`` (and, on the fast path, ``self.pending``)."""
        if fast is None:
            self._python_lines(chunk, parser, sink, fmt)
            return
        self._fast_block(_Block.of(chunk), fast, parser, sink, fmt, 0)

    def _fast_block(self, block: _Block, fast: Any, parser: Any, sink: BatchSink, fmt: str,
                    skip: int) -> None:
        """One block on the fast path, parsed and made into rows."""
        with self.store.con.cursor() as cur:
            part, todo = self._parse_block(block, fast, skip, cur)
        if isinstance(part, pa.Table):
            part = self._parse_again(part, fast, todo)
        self._python_lines(todo, parser, sink, fmt)
        if part is not None:
            self._fast_rows([part], fast, parser, sink, fmt)

    def _parse_block(self, block: _Block, fast: Any, skip: int, cur: Any
                     ) -> tuple[_Parsed | pa.Table | None, list[tuple[int, Any, int]]]:
        """A block's pages parsed by the fast path on ``cur`` (None when it has none to parse), and
        its too-long and non-UTF-8 lines, to be read in Python. The lines the fast path leaves are
        read when the rows are made (:meth:`_fast_rows`), from the kept pages (or, without pages,
        the lines held). Touches neither the sink nor the store's connection (it runs in a thread):
        when DuckDB runs out of memory, the lines' table comes back instead, to be parsed again
        with the pool's retry, and the rest of the part as the last item to do."""
        import duckdb
        import numpy as np

        nums = block.nums
        keep = np.ones(len(nums), dtype=bool)
        if skip:
            keep &= nums > skip
        keep &= ~block.too_long
        back: set[int] = set()
        part: _Parsed | pa.Table | None = None
        again: list[tuple[int, Any, int]] = []
        if keep.any():
            col, bad = block.utf8(keep)
            back.update(bad)
            for n in bad:
                keep[int(n) - block.first] = False
            if keep.any():
                base = self._page_base()  # set before the thread starts: no query here
                knums = nums[keep]
                table = pa.table({"line": pa.array(knums), "page": pa.array(knums + base), "text": col})
                del col
                views = [block.line(int(n)) for n in knums]
                rest = _Parsed(None, [int(n) for n in knums], [int(x) for x in block.lens[keep]], base,
                               self._compress(views) if self.keep_pages else None,
                               None if self.keep_pages else views)
                try:
                    rest.pg = fast.parse(cur, table)
                    part = rest
                except duckdb.OutOfMemoryException:
                    part, again = table, [(0, rest, 0)]
                del table
        todo = [(int(n), None if block.too_long[k] else block.line(int(n)), int(block.lens[k]))
                for k, n in enumerate(nums) if (n > skip) and (block.too_long[k] or int(n) in back)]
        return part, todo + again

    def _fast_rows(self, group: list[_Parsed], fast: Any, parser: Any, sink: BatchSink, fmt: str) -> None:
        """The rows of blocks parsed by :meth:`_parse_block`, made in one statement, into
        ``self.pending`` (with their pages); the lines the fast path leaves are read in Python."""
        from groundswell.store import pages

        with self.store.con.cursor() as cur:
            tables, fallback = self.pool.retry(fast.rows, cur, [p.pg for p in group], self.path)
        fb = set(fallback)
        nums = [n for p in group for n in p.nums]
        lens = dict(zip(nums, (x for p in group for x in p.lens)))
        base = group[0].base
        if self.keep_pages:
            bodies = [b for p in group for b in (p.bodies.result() if p.bodies is not None else [])]
            tables["pages"] = _pages_table(self.path, nums, base, bodies, fb)
            at = {n: k for k, n in enumerate(nums)} if fb else {}
            todo: list[tuple[int, Any, int]] = [(n, pages.decompress(bodies[at[n]]), lens[n]) for n in fallback]
        else:
            lines = {n: v for p in group for n, v in zip(p.nums, p.lines or [])}
            _fill_inline(tables, {base + n: v for n, v in lines.items() if n not in fb})
            todo = [(n, lines[n], lens[n]) for n in fallback]
        group.clear()
        self.pending.append(tables)
        self.result.posts_read += tables["posts"].num_rows
        self.result.accounts_read += tables["accounts"].num_rows
        self._python_lines(todo, parser, sink, fmt)

    def _python_lines(self, todo: list[tuple[int, Any, int]], parser: Any, sink: BatchSink, fmt: str) -> None:
        loads, parse = orjson.loads, parser.parse
        for line_no, line, n in todo:
            sink.line, sink.line_bytes = line_no, n
            if line is None:
                sink.reject(_too_long_reason(n, self.max_line))
                continue
            line = bytes(line)
            try:
                obj = loads(line)
            except orjson.JSONDecodeError:
                if line.strip():
                    sink.reject(_decode_reason(line))
                continue
            sink.records += 1
            if isinstance(obj, list):
                for o in obj:
                    _parse_safely(parse, o, sink, fmt)
            else:
                _parse_safely(parse, obj, sink, fmt)

    def _run_document(self, head: list[tuple[bytes | None, int]],
                      rest: Iterable[tuple[bytes | None, int]], fmt: str | None) -> None:
        """A whole-document JSON file (pretty-printed response, JSON array)."""
        res = self.result
        parts = [line for line, _ in chain(head, rest) if line is not None]
        data = b"".join(parts)
        sink = BatchSink(self.path, fmt or "json")
        sink.line, sink.line_bytes = 1, len(data)
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError:
            if fmt is None:
                raise FormatError(f"{self.path}: not valid JSON and not in a known format; "
                                  "use --format to force one") from None
            sink.reject(_decode_reason(data))
            self._finish(sink, 1, len(data))
            return
        name = fmt or detect.sniff_json(doc)
        if name is None and isinstance(doc, dict):
            name = None
        if name is None:
            raise FormatError(f"{self.path}: a JSON document in no known format (tried "
                              f"{', '.join(detect.available_json_formats())}); use --format to force one")
        res.format, sink.format = name, name
        parse = detect.json_format(name).parse
        items = doc if isinstance(doc, list) else [doc]
        for i, obj in enumerate(items, 1):
            sink.line = i  # record number within the document
            sink.records += 1
            _parse_safely(parse, obj, sink, name)
            if len(sink) >= self.chunk_records:
                self._flush(sink, i, 0, complete=False)
        res.lines = len(items)
        self._finish(sink, len(items), 0)

    # -- CSV -------------------------------------------------------------------
    def _run_csv(self, f: IO[bytes], head: list[tuple[bytes | None, int]],
                 it: Iterator[tuple[bytes | None, int]], resume_line: int, fmt: str) -> None:
        reader = detect.csv_reader(fmt)
        res = self.result
        sink = BatchSink(self.path, fmt, check_ids=False)
        sink.skip_through = resume_line
        started = time.monotonic()

        too_long: dict[int, int] = {}  # physical line -> its length, for lines too long to read

        class _Chain(io.RawIOBase):
            def __init__(self, items: Iterable[tuple[bytes | None, int]]) -> None:
                self._it = iter(items)
                self._buf = b""
                self._line = 0

            def readable(self) -> bool:
                return True

            def readinto(self, b: Any) -> int:
                while not self._buf:
                    try:
                        line, n = next(self._it)
                    except StopIteration:
                        return 0
                    self._line += 1
                    if line is None:  # in its place a line of its own that says so: the lines count on
                        too_long[self._line] = n
                        line = _TOO_LONG_MARK + b"\n"
                    self._buf = line
                n = min(len(b), len(self._buf))
                b[:n] = self._buf[:n]
                self._buf = self._buf[n:]
                return n

        text = io.TextIOWrapper(io.BufferedReader(_Chain(chain(head, it))),
                                encoding=self.options.get("encoding") or "utf-8-sig",
                                errors="surrogateescape", newline="")
        state = {"last": 0}

        def set_line(n: int) -> None:
            # a new record starts: the previous one is complete
            prev = state["last"]
            state["last"] = n
            sink.line = n
            if len(sink) >= self.chunk_records and prev > 0:
                self._flush(sink, prev, 0, complete=False)
                self.progress.update(self.path, prev, res.posts_read, started)

        checked = _CheckingSink(sink, too_long, self.max_line)
        csv_only = {} if fmt == detect.FOLLOWS_FORMAT else {"delimiter": self.options.get("delimiter"),
                                                            "encoding": self.options.get("encoding")}
        if fmt == detect.VOLUME_CSV_FORMAT:
            csv_only["query"] = self.options.get("query")
        reader.read(text, checked, columns=self.options.get("columns"),
                    platform=self.options.get("platform"), set_line=set_line, **csv_only)
        res.lines = state["last"]
        self._finish(sink, state["last"], 0)

    def _run_csv_fast(self, head: list[tuple[bytes | None, int]], resume_line: int, fmt: str,
                      resume_bytes: int = 0) -> int | None:
        """A plain CSV file through DuckDB (:mod:`groundswell.formats.csv_fast`).

        None when the file was read. Otherwise the line after which the Python reader reads on
        (``resume_line``, having written nothing, when the file is not in the shape the fast path
        reads exactly like the Python reader; a later line when a chunk of a posts file is not,
        :meth:`_csv_posts`). Records the fast path is unsure of are parsed by the Python reader, in
        the same chunk (one transaction), so provenance, rejects, resume and the merge rule are those
        of the Python path.

        A posts file is resumed here only where the fast path stopped (``resume_bytes``, the byte
        offset its chunks record; the Python reader records none): the Python reader records the
        first line of its last record, and a quoted line break would put the next record's start
        further on, which only the Python reader can find.
        """
        import csv as _csv

        from groundswell.formats import csv as csvfmt
        from groundswell.formats import csv_fast
        from groundswell.formats import follows as followsfmt

        if os.environ.get("GROUNDSWELL_NO_FAST_PATH") or not head or head[0][0] is None \
                or self.options.get("encoding"):  # DuckDB reads UTF-8: other encodings go the Python way
            return resume_line
        try:
            first = head[0][0].decode("utf-8-sig")
        except UnicodeDecodeError:
            return resume_line
        first = first.rstrip("\r\n")
        con = self.store.con
        follows = fmt == detect.FOLLOWS_FORMAT
        delimiter = "," if follows else (self.options.get("delimiter") or csvfmt.guess_delimiter(first))
        header = next(_csv.reader([first], delimiter=delimiter), [])
        if not header:
            return resume_line
        if follows:
            a, b = followsfmt._index(header, followsfmt._FOLLOWER), followsfmt._index(header, followsfmt._FOLLOWED)
            if a is None or b is None:
                return resume_line
            pcol = followsfmt._index(header, ("platform",))
            sql = csv_fast.follows_sql(a, b, pcol, self.options.get("platform"))
            # rows whose ids the platform would not give go to the Python reader, which rejects them
            ids_ok = " AND ".join(account_id_sql("platform", c) for c in ("follower_id", "followed_id"))
            sql = f"SELECT * REPLACE (ok AND {ids_ok} AS ok) FROM ({sql})"
        else:
            cols = csvfmt._columns(header, self.options.get("columns"))
            if "id" not in cols or csv_fast.posts_plan(header, cols) is not None:
                return resume_line
            sql = csv_fast.posts_sql(header, cols, self.options.get("platform"), delimiter, pages=self.keep_pages)
        if not follows:  # a chunk at a time, each checked as it is read
            if resume_line > 0 and resume_bytes <= 0:  # the Python reader's place (see above)
                return resume_line
            with _settings(con, CSV_SETTINGS):
                return self._csv_posts(csv_fast, sql, resume_line, resume_bytes, header, fmt, cols, first, delimiter)
        shape = csv_fast.scan(self.path, self.max_line)
        if shape.ok and self._csv_follows(con, csv_fast, sql, shape.lines - 1, resume_line, header, fmt,
                                          (a, b, pcol)):
            return None
        return resume_line

    def _csv_follows(self, con: Any, csv_fast: Any, sql: str, total: int, resume_line: int,
                     header: list[str], fmt: str, idx: tuple[int | None, int | None, int | None]) -> bool:
        """A follows file on the fast path: its rows read by the write itself from the loaded table
        (one anti-join against the stored graph), the whole file in one transaction."""
        from groundswell.formats import follows as followsfmt

        if not csv_fast.load(con, self.path, len(header), ",", total):
            return False
        a, b, pcol = idx
        assert a is not None and b is not None  # checked with the header
        res = self.result
        sink = BatchSink(self.path, fmt, check_ids=False)
        started = time.monotonic()
        self.progress.by_lines(total + 1)
        step = max(1, self.chunk_records if self.options.get("chunk_lines") else total)
        try:
            lo = max(0, resume_line - 1)  # rows are 0-based; row r is on line r + 2
            while lo < total:
                hi = min(total, lo + step) - 1
                select, n, fallback = csv_fast.follows_parts(con, sql, lo, hi, self.path)
                res.other_read += n
                self.pending.append({"follows": select})
                for line, row in csv_fast.rows(con, fallback, ","):
                    sink.line = line
                    if row:
                        followsfmt.read_row(row, a, b, pcol, sink, self.options.get("platform"))
                self._flush(sink, hi + 2, 0, complete=False)
                self.progress.update(self.path, hi + 2, res.posts_read, started)
                lo = hi + 1
            res.lines = total + 1
            self._finish(sink, total + 1, 0)
        finally:
            csv_fast.drop(con)
        return True

    def _csv_posts(self, csv_fast: Any, sql: str, resume_line: int, resume_bytes: int, header: list[str],
                   fmt: str, cols: dict[str, int], first: str, delimiter: str) -> int | None:
        """A file of posts on the fast path, a chunk at a time: two threads (:func:`_in_order`), each
        on a cursor of its own, check a chunk's bytes, load its lines into DuckDB and make its rows,
        while the main thread keeps the chunk before as pages, reads the lines left to Python and
        writes (one transaction a chunk). None when the file was read; else the last line written,
        when a chunk is not in the shape the fast path reads as the Python reader does
        (:func:`csv_fast.chunk_shape_ok`, :func:`csv_fast.load_chunk`): the Python reader reads on
        from there."""
        import shutil
        import tempfile

        import duckdb

        sink = BatchSink(self.path, fmt, check_ids=False)
        started = time.monotonic()
        step = max(1, self.chunk_records if self.options.get("chunk_lines") else FAST_CSV_CHUNK)
        # the posts' lines are kept as CSV pages (store.pages) and the rows point into them
        base = self._page_base() if self.keep_pages else None
        start = max(0, resume_line - 1)  # rows are 0-based; row r is on line r + 2
        # each thread's chunk is written to a scratch file for DuckDB to read: in a directory of the
        # user's only (0700), beside the store (where the posts go, not a shared temporary place),
        # removed at the end
        here = os.path.dirname(os.path.abspath(self.store.path)) if os.path.isfile(str(self.store.path)) else None
        scratch = tempfile.mkdtemp(prefix=".groundswell-csv-", dir=here)
        workers = 2
        cursors = [self.store.con.cursor() for _ in range(workers)]  # made here: the connection is not shared

        def make(w: int, chunk: tuple[int, bytes, int, int]) -> tuple[int, int, Any]:
            lo, data, n, end = chunk
            del chunk
            cur = cursors[w]
            if not csv_fast.chunk_shape_ok(data, n, self.max_line) or not self.pool.retry_on(
                    cur, csv_fast.load_chunk, cur, os.path.join(scratch, f"{w}.csv"), data, len(header), delimiter, n):
                return lo, end, None
            del data
            table, fallback = self.pool.retry_on(cur, csv_fast.posts_chunk, cur, sql, lo, self.path, base)
            lines = csv_fast.lines(cur, n) if base is not None else None
            rows = csv_fast.rows(cur, fallback, delimiter, lo)
            csv_fast.drop(cur)
            return lo, end, (lo + n - 1, table, fallback, rows, lines)

        pieces = _in_order(csv_fast.chunks(self.path, start, step, resume_bytes), make, workers)
        try:
            return self._csv_chunks(csv_fast, pieces, start, resume_line, header, cols, first, delimiter, base, sink,
                                    started)
        except BaseException:
            for cur in cursors:  # a statement still running in a thread ends now, not after a second Ctrl-C
                cur.interrupt()
            raise
        finally:
            try:
                pieces.close()  # the threads end before their cursors are closed
            finally:
                for cur in cursors:
                    for step_ in (csv_fast.drop, lambda c: c.close()):
                        try:
                            step_(cur)
                        except duckdb.Error:  # a thread still in a statement (the process is ending)
                            pass
                shutil.rmtree(scratch, ignore_errors=True)

    def _csv_chunks(self, csv_fast: Any, pieces: Iterator[tuple[int, int, Any]], start: int, resume_line: int,
                    header: list[str], cols: dict[str, int], first: str, delimiter: str, base: int | None,
                    sink: BatchSink, started: float) -> int | None:
        """The main thread's part of :meth:`_csv_posts`: each chunk made, in order, kept and written."""
        from groundswell.formats import csv as csvfmt

        res = self.result
        got = "hashtags" in cols
        total = start  # rows read
        for lo, end, made in pieces:
            if made is None:  # a chunk DuckDB would read otherwise than Python: Python reads on
                return resume_line if lo == start else lo + 1  # the header and rows before lo: lines 1..lo+1
            hi, table, fallback, rows, lines = made
            del made
            res.posts_read += table.num_rows
            part: dict[str, pa.Table] = {"posts": table}
            if base is not None:
                part["pages"] = self._csv_pages(csv_fast, lines, first, lo, base, delimiter, fallback)
            self.pending.append(part)
            del table, lines, part
            for line, row in rows:
                sink.line = line
                if not row:
                    continue
                if len(row) != len(header):
                    sink.reject(f"{len(row)} fields, the header has {len(header)}")
                    continue
                try:
                    csvfmt._row(row, header, cols, self.options.get("platform"), got, sink)
                except RecordError as e:
                    sink.reject(str(e))
            self._flush(sink, hi + 2, end, complete=False)  # where the next chunk starts: resumed from there
            total = hi + 1
            self.progress.update(self.path, hi + 2, res.posts_read, started, at_byte=end)
        done = total + 1 if total else 0  # the last record's line, as the Python reader counts (none: 0)
        res.lines = done
        self._finish(sink, done, 0)
        return None

    def _csv_pages(self, csv_fast: Any, lines: pa.Array, header: str, lo: int, base: int,
                   delimiter: str, fallback: list[int]) -> pa.Table:
        """The CSV pages of the chunk from row lo (its ``lines``; those left to Python blanked), compressed."""
        from groundswell.store import pages

        firsts: list[int] = []

        def bodies() -> Iterator[bytes]:
            for first, body in csv_fast.page_bodies(header, lines, lo, fallback):
                firsts.append(first)
                yield body

        packed = pages.compress(bodies())
        n = len(firsts)
        return pa.table({
            "page": pa.array([base + first for first in firsts], pa.int64()),
            "source_file": pa.array([self.path] * n, pa.string()),
            "source_line": pa.array(firsts, pa.int64()),
            "format": pa.array(["csv"] * n, pa.string()),
            "delimiter": pa.array([delimiter] * n, pa.string()),
            "body": pa.array(packed, pa.binary()),
        }, schema=model.PAGES)

    # -- writing ---------------------------------------------------------------
    def _flush(self, sink: BatchSink, lines_done: int, bytes_done: int, complete: bool) -> None:
        res = self.result
        tables = sink.tables()
        res.posts_read += sink.n_posts
        res.accounts_read += sink.n_accounts
        res.other_read += sink.n_other
        res.rejected += sink.n_rejects
        sink.n_posts = sink.n_accounts = sink.n_other = sink.n_rejects = 0
        source = None
        if self.fp:
            source = {"fingerprint": self.fp, "path": self.path, "format": res.format,
                      "lines_done": lines_done, "bytes_done": bytes_done,
                      "records": res.posts_read + res.accounts_read + res.other_read,
                      "rejected": res.rejected, "complete": complete}
        batches = self.pending + [tables]
        self.pending = []
        if self.redact is not None:
            for b in batches:
                if "posts" in b:
                    b["posts"] = self.redact(b["posts"])
        meta = {_PAGE_BASE + self.fp: str(self.page_base)} if self.fp and self.page_base is not None else None
        self.pool.retry(self.store.write_batch, batches, source, meta)
        sink.clear()
        self.pool.fit()

    def _finish(self, sink: BatchSink, lines_done: int, bytes_done: int) -> None:
        broken = _broken(self.stream) if self.stream is not None else None
        if broken:  # a compressed input cut short: what was read stays, the break is a reject
            sink.line, sink.line_bytes = lines_done + 1, None
            sink.reject(f"{broken} (after line {lines_done:,})")
        self._flush(sink, lines_done, bytes_done, complete=True)


_PAGE_BASE = "pages.base."  # meta: the page numbering of an input (its fingerprint), for resuming
PAGE_STRIDE = 1 << 40  # the page numbers each input may use (a line or a block of lines each)


def _pages_table(path: str, nums: list[int], base: int, bodies: list[bytes], fallback: set[int]) -> pa.Table:
    """The pages of the lines the fast path read (not those left to Python)."""
    keep = [k for k, n in enumerate(nums) if n not in fallback]
    return pa.table({
        "page": pa.array([base + nums[k] for k in keep], pa.int64()),
        "source_file": pa.array([path] * len(keep), pa.string()),
        "source_line": pa.array([nums[k] for k in keep], pa.int64()),
        "format": pa.array(["json"] * len(keep), pa.string()),
        "delimiter": pa.nulls(len(keep), pa.string()),
        "body": pa.array([bodies[k] for k in keep], pa.binary()),
    }, schema=model.PAGES)


def _fill_inline(tables: dict[str, pa.Table], lines: dict[int, memoryview]) -> None:
    """Fast-path tables with ``raw`` written out from the lines they point into (no pages kept)."""
    import orjson

    from groundswell.store import pages

    parsed: dict[int, Any] = {}
    for name in ("posts", "accounts"):
        t = tables.get(name)
        if t is None or "raw_page" not in t.column_names:
            continue
        raws: list[str | None] = []
        for page, at in zip(t.column("raw_page").to_pylist(), t.column("raw_at").to_pylist()):
            if page is None:
                raws.append(None)
                continue
            if page not in parsed:
                parsed[page] = orjson.loads(lines[page])
            raws.append(orjson.dumps(pages.get_at(parsed[page], at)).decode())
        i = t.column_names.index("raw")
        t = t.set_column(i, t.field(i), pa.array(raws, pa.string()))
        tables[name] = t.drop_columns(["raw_page", "raw_at"])
    tables.pop("page_posts", None)


def _too_long_reason(n: int, limit: int, line: int | None = None) -> str:
    """The reject's reason for a line of ``n`` bytes over ``limit`` (``line``: its number, where the
    record began on an earlier line)."""
    where = "" if line is None else f" (line {line:,})"
    return f"line too long{where} ({n:,} bytes; limit {limit:,})"


_TOO_LONG_MARK = b"\x01groundswell: a line too long to read\x01"
"""What the Python CSV reader reads in place of a line too long to hold (see :meth:`_Run._run_csv`):
one line, so that the lines after it keep their numbers, and a record holding it is rejected."""


class _CheckingSink:
    """Rejects CSV records carrying bytes that were not UTF-8 (decoded as surrogates), and those
    holding a line too long to read (:data:`_TOO_LONG_MARK`, in place of line ``n`` of
    ``too_long``: line -> length): rejected with the line's length. A post and its author's account
    are one record (one row): the account of a post rejected here is left out with it."""

    _MARK = _TOO_LONG_MARK.decode("ascii")

    def __init__(self, sink: BatchSink, too_long: dict[int, int], limit: int) -> None:
        self._sink = sink
        self._too_long = too_long
        self._limit = limit
        self._dropped: int | None = None  # the line of the last post rejected here

    def _long(self, line: int) -> str:
        """Why a record from ``line`` on that holds a too-long line is rejected: its first such line."""
        at = min((n for n in self._too_long if n >= line), default=line)
        return _too_long_reason(self._too_long.get(at, 0), self._limit, None if at == line else at)

    @staticmethod
    def _not_utf8(rec: dict[str, Any]) -> bool:
        for v in rec.values():
            if isinstance(v, str) and not v.isascii():
                try:
                    v.encode("utf-8")
                except UnicodeEncodeError:
                    return True
        return False

    def _holds_long(self, rec: dict[str, Any]) -> bool:
        return bool(self._too_long) and any(isinstance(v, str) and self._MARK in v for v in rec.values())

    def _bad(self, rec: dict[str, Any]) -> str | None:
        if self._not_utf8(rec):
            return "not valid UTF-8"
        if self._holds_long(rec):
            return self._long(self._sink.line)
        return None

    def _take(self, rec: dict[str, Any], take: Callable[[dict[str, Any]], None]) -> bool:
        """``take(rec)`` when the record is clean, else its reject; whether it was taken."""
        bad = self._bad(rec)
        if bad:
            self._sink.reject(bad)
            return False
        take(rec)
        return True

    def post(self, rec: dict[str, Any]) -> None:
        if not self._take(rec, self._sink.post):
            self._dropped = self._sink.line

    def account(self, rec: dict[str, Any]) -> None:
        if self._sink.line != self._dropped:  # else its post was rejected, and the row's reject says so
            self._take(rec, self._sink.account)

    def volume(self, rec: dict[str, Any]) -> None:
        self._take(rec, self._sink.volume)

    def deletion(self, rec: dict[str, Any]) -> None:
        self._sink.deletion(rec)

    def follow(self, rec: dict[str, Any]) -> None:
        self._take(rec, self._sink.follow)

    def reject(self, reason: str) -> None:
        if self._sink.line in self._too_long:  # the record is the too-long line itself
            reason = self._long(self._sink.line)
        self._sink.reject(reason)


class _BufferPool:
    """DuckDB's memory limit while ingesting.

    DuckDB would otherwise keep written blocks cached up to 80% of RAM; an
    ingest streams, so a small pool (``memory_limit``) keeps memory flat.
    Key indexes stay resident inside that pool: new stores keep posts,
    accounts and follows unique without one, but a store made by an earlier
    version has them on posts and accounts, so once the indexes hold a third
    of the pool it grows to three times what they hold.
    A step that still runs out of memory is rolled back and run again with
    twice the pool, up to DuckDB's own default (80% of the machine's memory).
    """

    _UNITS = {"KB": 1e3, "MB": 1e6, "GB": 1e9, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "B": 1}

    def __init__(self, store: Store, base: str) -> None:
        self.store = store
        text = base.strip().upper().replace(" ", "")
        unit = next((u for u in sorted(self._UNITS, key=len, reverse=True) if text.endswith(u)), None)
        try:
            self.base = int(float(text[: -len(unit)] if unit else text) * self._UNITS[unit or "B"])
        except ValueError:
            raise UsageError(f"memory limit {base!r}: give a size such as 200MB or 1GB") from None
        self.limit = 0
        # DuckDB's own default: 80% of the machine's memory
        self.ceiling = int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * 0.8)
        self.fit()

    def retry(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)``, again with a doubled pool when DuckDB runs out of memory
        (a write rolls back whole, so it can simply be repeated)."""
        return self.retry_on(self.store.con, fn, *args)

    def retry_on(self, con: Any, fn: Callable[..., Any], *args: Any) -> Any:
        """:meth:`retry` from a thread with a cursor of its own (``con``): the pool, a setting of
        the whole database, is raised through that cursor, not the store's busy connection."""
        import duckdb

        while True:
            try:
                return fn(*args)
            except duckdb.OutOfMemoryException:
                if self.limit >= self.ceiling:
                    raise
                self.limit = min(self.ceiling, self.limit * 2)
                self._set(con)

    @contextmanager
    def lowered(self, size: int) -> Iterator[None]:
        """The pool at ``size`` bytes (or what the store's indexes need, if more) for a stretch of
        work that holds data of its own beside DuckDB's; then back as it was, unless a step ran out
        of memory meanwhile and raised it."""
        before, base = self.limit, self.base
        want = max(size, 3 * self._index_bytes())
        if want >= before:
            yield
            return
        self.limit, self.base = want, min(base, size)  # fit() between the steps keeps to it
        self._set()
        try:
            yield
        finally:
            self.base = base
            if self.limit < before:
                self.limit = before
                self._set()

    def _set(self, con: Any = None) -> None:
        """DuckDB's pool at ``self.limit`` (a setting of the whole database), through ``con`` or the store's."""
        (con or self.store.con).execute(f"SET memory_limit = '{max(1, self.limit >> 20)}MiB'")

    def _index_bytes(self) -> int:
        return int(self.store.con.execute(
            "SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory() WHERE tag = 'ART_INDEX'"
        ).fetchall()[0][0])

    def fit(self) -> None:
        want = max(self.base, 3 * self._index_bytes())
        if want > self.limit * 1.1:
            self.limit = want
            self._set()


def _count(store: Store, table: str) -> int:
    return int(store.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])


DATA_SUFFIXES = (".jsonl", ".json", ".ndjson", ".csv", ".tsv", ".txt")
COMPRESSED_SUFFIXES = (".gz", ".zst", ".bz2", ".xz")


def data_name(name: str) -> bool:
    """Does a file name end in a data suffix (optionally compressed), in any case?"""
    low = name.lower()
    for c in COMPRESSED_SUFFIXES:
        if low.endswith(c):
            low = low[: -len(c)]
            break
    return low.endswith(DATA_SUFFIXES)


_SUFFIX_LIST = ", ".join(DATA_SUFFIXES)


def scan_paths(paths: Iterable[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """The files to read, and every file (or hidden folder) left out with its reason.

    Files given by name are read whatever their name. A directory stands for
    the data files in it, recursively, sorted: names ending in one of
    :data:`DATA_SUFFIXES`, optionally compressed (:data:`COMPRESSED_SUFFIXES`),
    matched without regard to case. Hidden files and folders (``.name``) are
    left out, and so are other names; each is named in the second list.
    """
    out: list[str] = []
    skipped: list[tuple[str, str]] = []
    for p in paths:
        if p != "-" and os.path.isdir(p):
            found = []
            for root, dirs, files in os.walk(p):
                for d in sorted(dirs):
                    if d.startswith("."):
                        skipped.append((os.path.join(root, d) + os.sep, "hidden folder, not read"))
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    full = os.path.join(root, name)
                    if name.startswith("."):
                        skipped.append((full, "hidden file, not read"))
                    elif not data_name(name):
                        skipped.append((full, f"not a data file name (read: {_SUFFIX_LIST}, "
                                              "each optionally .gz, .zst, .bz2 or .xz; give a file "
                                              "by name to read it anyway)"))
                    else:
                        found.append(full)
            out.extend(sorted(found))
        else:
            out.append(p)
    return out, skipped


def expand_paths(paths: Iterable[str]) -> list[str]:
    """The files :func:`scan_paths` would read."""
    return scan_paths(paths)[0]


def ingest(store: Store, paths: Iterable[str], *, format: str | None = None,
           columns: dict[str, str] | None = None, platform: str | None = None,
           progress: bool | None = None, chunk_lines: int | None = None,
           chunk_bytes: int | None = None, group_bytes: int | None = None, max_line_bytes: int = MAX_LINE_BYTES,
           memory_limit: str = INGEST_MEMORY_LIMIT, force: bool = False,
           on_file: Callable[[FileResult], None] | None = None,
           on_skip: Callable[[str, str], None] | None = None,
           on_progress: ProgressCallback | None = None,
           encoding: str | None = None, delimiter: str | None = None, query: str | None = None) -> IngestSummary:
    """Ingest files into ``store``. Errors on one file never stop the others.

    A file already ingested whole, the same way (:func:`read_way`), is
    skipped unless ``force``; files a directory holds but that are not read
    are listed in the summary's ``skipped`` with their reasons (and passed to
    ``on_skip``). ``on_progress(path, bytes read, size or None, posts)`` is
    called as a file is read (``progress=False`` turns it off). ``encoding``
    and ``delimiter`` are for CSV files (:func:`groundswell.formats.csv.reading_options`); ``query``
    is the query a volume series (``format='volume-csv'``) counts, when the file has no query column.
    ``chunk_bytes`` and ``group_bytes`` size the twarc2 fast path's blocks (parsed one at a time)
    and transactions (:data:`FAST_BLOCK_BYTES`, :data:`FAST_GROUP_BYTES`)."""
    if format is not None and format not in detect.FORMAT_NAMES:
        raise UsageError(f"unknown format {format!r}; formats: {', '.join(detect.FORMAT_NAMES)}")
    from groundswell.formats.csv import reading_options

    encoding, delimiter = reading_options(encoding, delimiter)
    summary = IngestSummary()
    meter = Progress(progress, on_progress)
    paths, skipped = scan_paths(paths)
    summary.skipped = skipped
    for path, why in skipped:
        if on_skip:
            on_skip(path, why)
    options: dict[str, Any] = {"columns": columns, "platform": platform, "max_line_bytes": max_line_bytes,
                               "chunk_lines": chunk_lines, "chunk_bytes": chunk_bytes,
                               "group_bytes": group_bytes, "force": force,
                               "encoding": encoding, "delimiter": delimiter, "query": query}
    from groundswell import privacy

    options["pool"] = _BufferPool(store, memory_limit)
    for path in paths:
        run = _Run(store, path, format, options, meter)
        before = _count(store, "deletions")
        try:
            res = run.run()
        except GroundswellError as e:
            res = run.result
            res.error = str(e)
        except OSError as e:  # unreadable, or a compressed file damaged before its first byte
            res = run.result
            res.error = f"{path}: {e.strerror or type(e).__name__}; the file was not read"
        if _count(store, "deletions") > before or (before and res.new_posts):
            # deletions reach every identifying field, embedded copies and derived tables
            privacy.apply_deletions(store)
        summary.files.append(res)
        if on_file:
            on_file(res)
    privacy.ensure_secret(store)  # the pseudonym key, so read-only exports can use it
    # the last checkpoint under the cap: closing the store would otherwise run it uncapped
    options["pool"].retry(store.checkpoint)
    store.con.execute("RESET memory_limit")
    return summary
