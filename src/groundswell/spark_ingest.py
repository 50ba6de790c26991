"""The Spark ingest: archives read in parallel into a Spark store (:mod:`groundswell.store.spark`).

:func:`ingest_spark` runs the *same* code as the DuckDB ingest, on the
executors: each task takes one input file, or one line range of a big plain
JSON-lines file, and feeds it through :mod:`groundswell.ingest` (format
detection, the format parsers, :class:`~groundswell.ingest.BatchSink` and its
in-batch merge, rejects with file and line) into a private in-memory DuckDB
store, whose tables it hands to Spark as Arrow. The store then merges the
sightings (:func:`groundswell.store.spark.merge_posts`) and writes its tables.

It sits beside :mod:`groundswell.ingest`, above the store: the store is
written to and read from, and never imports ingest.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow as pa

from groundswell import model
from groundswell.errors import StoreError, UsageError
from groundswell.store.engine import Unsupported
from groundswell.store.spark import (
    _SOURCES_SCHEMA,
    SPLIT_BYTES,
    TABLES,
    _delete,
    _exists,
    _fs,
    _local,
    _merge_and_write,
    _naive,
    _write_meta,
    _write_small,
    is_uri,
    read_table,
    spark_schema,
)

__all__ = ["ingest_spark"]


def _unit_struct(name: str) -> Any:
    return pa.struct(list(model.SCHEMAS[name]))


def _envelope_schema() -> pa.Schema:
    fields = [pa.field("_seq", pa.int64()), pa.field("_table", pa.string())]
    fields += [pa.field(name, _unit_struct(name)) for name in TABLES]
    fields.append(pa.field("_result", pa.string()))
    return pa.schema(fields)


def _envelope(seq: int, name: str | None, table: pa.Table | None, result: str | None = None
              ) -> Iterator[pa.RecordBatch]:
    schema = _envelope_schema()
    if table is None:
        cols = [pa.array([seq], pa.int64()), pa.array(["_result"], pa.string())]
        cols += [pa.nulls(1, _unit_struct(n)) for n in TABLES]
        cols.append(pa.array([result], pa.string()))
        yield pa.RecordBatch.from_arrays(cols, schema=schema)
        return
    table = table.cast(model.SCHEMAS[name])  # type: ignore[index]
    for b in table.to_batches(max_chunksize=20_000):
        n = b.num_rows
        if not n:
            continue
        struct = pa.StructArray.from_arrays(b.columns, fields=list(model.SCHEMAS[name]))  # type: ignore[index]
        cols = [pa.array([seq] * n, pa.int64()), pa.array([name] * n, pa.string())]
        cols += [struct if t == name else pa.nulls(n, _unit_struct(t)) for t in TABLES]
        cols.append(pa.nulls(n, pa.string()))
        yield pa.RecordBatch.from_arrays(cols, schema=schema)


def _parse_range(mem: Any, path: str, fmt: str, start: int, end: int, first_line: int,
                 options: dict[str, Any]) -> dict[str, Any]:
    """Parse the lines of a plain JSON-lines file that start in bytes [start, end), as the
    DuckDB ingest parses a file (same chunking, parsers, fast path and merge), into ``mem``."""
    import groundswell.ingest as gi
    from groundswell.formats import detect

    run = gi._Run(mem, path, fmt, options, gi.Progress(False))
    run.fp = None
    parser, fast = detect.json_format(fmt), detect.fast_path(fmt)
    sink = gi.BatchSink(path, fmt)
    limit = options.get("max_line_bytes") or gi.MAX_LINE_BYTES
    line_no, pos = first_line - 1, start
    started = time.monotonic()
    with open(path, "rb") as f:
        if start > 0:  # the line under way at start belongs to the previous range
            f.seek(start - 1)
            for _line, n in gi._lines(f, limit):
                pos = start - 1 + n
                break
        chunk: list[tuple[int, bytes | None, int]] = []
        size = 0
        for line, n in gi._lines(f, limit):
            if pos >= end:
                break
            line_no += 1
            pos += n
            chunk.append((line_no, line, n))
            size += n
            if size >= run.chunk_bytes or len(chunk) >= run.chunk_lines:
                run._chunk(chunk, parser, fast, sink, fmt)
                run._flush(sink, line_no, pos, complete=False)
                chunk, size = [], 0
        if chunk:
            run._chunk(chunk, parser, fast, sink, fmt)
        run._flush(sink, line_no, pos, complete=True)
    res = run.result
    res.format, res.lines, res.seconds = fmt, line_no - first_line + 1, time.monotonic() - started
    return res.as_dict()


def _ingest_units(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Executor side: each row is one unit (a file or a line range); yields the envelope."""
    from groundswell.ingest import ingest
    from groundswell.store.duck import open_store

    for batch in batches:
        for u in batch.to_pylist():
            options = json.loads(u["options"])
            path, tmp = u["path"], None
            try:
                if u["content"] is not None:  # read by Spark from an object store
                    fd, tmp = tempfile.mkstemp(prefix="gs-unit-")
                    with os.fdopen(fd, "wb") as fh:
                        fh.write(u["content"])
                    path = tmp
                mem = open_store(":memory:")
                try:
                    if u["start"] is None:
                        summary = ingest(mem, [path], format=u["format"], columns=options.get("columns"),
                                         platform=options.get("platform"), progress=False,
                                         max_line_bytes=options.get("max_line_bytes") or 64 * 1024 * 1024)
                        result = summary.files[0].as_dict()
                    else:
                        result = _parse_range(mem, path, u["format"], u["start"], u["end"], u["first_line"],
                                              options)
                    result["path"] = u["name"]
                    for name in TABLES:
                        t = mem.table(name)  # raw written out where the fast path kept it in a page
                        if tmp is not None and "source_file" in t.column_names:
                            i = t.column_names.index("source_file")
                            t = t.set_column(i, "source_file", pa.array([u["name"]] * t.num_rows, pa.string()))
                        yield from _envelope(u["seq"], name, t)
                finally:
                    mem.close()
            except Exception as e:  # noqa: BLE001 - one unit's failure is that file's error
                result = {"path": u["name"], "error": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"}
            finally:
                if tmp is not None:
                    os.unlink(tmp)
            result["unit"] = u["seq"]
            yield from _envelope(u["seq"], None, None, json.dumps(result, default=str))


def _count_newlines(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Executor side: newlines in bytes [start, end) of each unit, and whether byte end-1 is one."""
    for batch in batches:
        seqs, counts, last = [], [], []
        for u in batch.to_pylist():
            n, pos, prev = 0, u["start"], b""
            with open(u["path"], "rb") as f:
                f.seek(pos)
                while pos < u["end"]:
                    block = f.read(min(8 << 20, u["end"] - pos))
                    if not block:
                        break
                    n += block.count(b"\n")
                    pos += len(block)
                    prev = block[-1:]
            seqs.append(u["seq"])
            counts.append(n)
            last.append(prev == b"\n")
        yield pa.RecordBatch.from_pydict({"seq": pa.array(seqs, pa.int64()), "n": pa.array(counts, pa.int64()),
                                          "last_nl": pa.array(last, pa.bool_())})


_UNIT_SCHEMA = pa.schema([("seq", pa.int64()), ("name", pa.string()), ("path", pa.string()),
                          ("format", pa.string()), ("start", pa.int64()), ("end", pa.int64()),
                          ("first_line", pa.int64()), ("content", pa.binary()), ("options", pa.string())])


def _splittable(path: str, forced: str | None) -> str | None:
    """The JSON-lines format of a plain (uncompressed) file that may be read in line ranges."""
    import groundswell.ingest as gi
    from groundswell.formats import detect
    from groundswell.formats.base import is_json_line

    try:
        f, raw, seekable = gi._open(path)
    except UsageError:
        return None
    try:
        if not seekable:
            return None
        head = []
        for item in gi._lines(f, gi.MAX_LINE_BYTES):
            head.append(item)
            if len(head) >= 20:
                break
        try:
            fmt = forced or gi._Run(None, path, forced, {}, gi.Progress(False))._detect(head)  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - the executor reports it as the file's error
            return None
        if fmt not in detect.FORMAT_NAMES or fmt in (detect.CSV_FORMAT, detect.FOLLOWS_FORMAT):
            return None
        first = next((ln for ln, _ in head if ln is not None and ln.strip()), None)
        if first is None or not is_json_line(first):
            return None  # empty, or a pretty-printed document
        return fmt
    finally:
        f.close()
        raw.close()


def _list_uri(spark: Any, uri: str) -> list[tuple[str, int, int]]:
    """(path, length, modification time) of the data files under an object-store URI."""
    from groundswell.ingest import data_name

    fs, p = _fs(spark, uri)
    if not fs.exists(p):
        raise UsageError(f"no such file or directory: {uri}")
    out = []
    it = fs.listFiles(p, True)
    while it.hasNext():
        st = it.next()
        name = st.getPath().getName()
        rel = st.getPath().toString()[len(p.toString()):]
        hidden = any(part.startswith((".", "_")) for part in rel.split("/") if part)
        if fs.getFileStatus(p).isFile() or (not hidden and data_name(name)):
            out.append((st.getPath().toString(), int(st.getLen()), int(st.getModificationTime())))
    return sorted(out)


def ingest_spark(spark: Any, paths: Iterable[str], out: str, *, format: str | None = None,
                 columns: dict[str, str] | None = None, platform: str | None = None,
                 max_line_bytes: int | None = None, split_bytes: int = SPLIT_BYTES,
                 on_file: Any = None) -> Any:
    """Ingest files (local paths, directories, or object-store URIs) into the Spark store ``out``.

    Returns an :class:`~groundswell.ingest.IngestSummary` like the DuckDB ingest.
    """
    from pyspark.sql import functions as F

    from groundswell.formats import detect
    from groundswell.ingest import FileResult, IngestSummary, expand_paths, fingerprint

    if format is not None and format not in detect.FORMAT_NAMES:
        raise UsageError(f"unknown format {format!r}; formats: {', '.join(detect.FORMAT_NAMES)}")
    root = out.rstrip("/")
    if not is_uri(root) and os.path.isfile(_local(root)):
        raise StoreError(f"{out} is a file (a DuckDB store?); a Spark store is a directory")
    options = json.dumps({"columns": columns, "platform": platform, "max_line_bytes": max_line_bytes})
    paths = list(paths)
    if "-" in paths:
        raise Unsupported("spark", "reading stdin ('-')", "write it to a file first")
    sources = read_table(spark, root, "sources", _SOURCES_SCHEMA)
    done = {r["fingerprint"] for r in sources.where("complete").select("fingerprint").collect()}

    files: list[tuple[str, str | None, int, str]] = []  # (name, local path or None, size, fingerprint)
    for p in paths:
        if is_uri(p):
            for uri, size, mtime in _list_uri(spark, p):
                fp = hashlib.sha256(f"{uri}|{size}|{mtime}".encode()).hexdigest()
                files.append((uri, None, size, fp))
        else:
            for f in expand_paths([_local(p)]):
                if not os.path.exists(f):
                    raise UsageError(f"no such file: {f}")
                files.append((f, f, os.path.getsize(f), fingerprint(f) or f))
    summary = IngestSummary()
    units: list[dict[str, Any]] = []
    file_of: dict[int, int] = {}
    todo: list[tuple[str, str | None, int, str]] = []
    for name, local, size, fp in files:
        if fp in done:
            res = FileResult(path=name, skipped=True)
            summary.files.append(res)
            if on_file:
                on_file(res)
            continue
        todo.append((name, local, size, fp))
    for i, (name, local, size, _fp) in enumerate(todo):
        fmt = _splittable(local, format) if (local and size > split_bytes) else None
        if fmt is not None:
            for start in range(0, size, split_bytes):
                file_of[len(units)] = i
                units.append({"seq": len(units), "name": name, "path": local, "format": fmt, "start": start,
                              "end": min(size, start + split_bytes), "first_line": None, "content": None,
                              "options": options})
        else:
            file_of[len(units)] = i
            units.append({"seq": len(units), "name": name, "path": local, "format": format, "start": None,
                          "end": None, "first_line": None, "content": None, "options": options})
    staging = f"{root}/_staging"
    if units:
        sc = spark.sparkContext
        split = [u for u in units if u["start"] is not None]
        if split:  # line numbers: count the newlines of each range in parallel
            t = pa.Table.from_pylist(split, schema=_UNIT_SCHEMA)
            df = spark.createDataFrame(t, schema=spark_schema(_UNIT_SCHEMA)).repartition(
                min(len(split), sc.defaultParallelism * 4))
            counts = {r["seq"]: (r["n"], r["last_nl"]) for r in df.mapInArrow(
                _count_newlines, "seq long, n long, last_nl boolean").collect()}
            prev = None
            for u in split:
                if u["start"] == 0:
                    nl = 0
                    u["first_line"] = 1
                else:
                    pn, plast = counts[prev["seq"]]  # type: ignore[index]
                    nl += pn
                    u["first_line"] = 2 + nl - (1 if plast else 0)
                prev = u
        local_units = [u for u in units if u["path"] is not None]
        uri_units = [u for u in units if u["path"] is None]
        frames = []
        if local_units:
            t = pa.Table.from_pylist(local_units, schema=_UNIT_SCHEMA)
            # one unit per task: parallelize with one slice per unit
            rdd = sc.parallelize(t.to_pylist(), len(local_units))
            frames.append(spark.createDataFrame(rdd, schema=spark_schema(_UNIT_SCHEMA)))
        if uri_units:
            info = spark.createDataFrame(pa.Table.from_pylist(uri_units, schema=_UNIT_SCHEMA).drop(["content"]),
                                         schema=spark_schema(_UNIT_SCHEMA.remove(_UNIT_SCHEMA.get_field_index("content"))))
            raw = (spark.read.format("binaryFile").load(sorted({u["name"] for u in uri_units}))
                   .select(F.col("path").alias("name"), "content"))
            frames.append(info.join(raw, "name").select(*[f.name for f in _UNIT_SCHEMA])
                          .repartition(len(uri_units)))
        df = frames[0] if len(frames) == 1 else frames[0].unionByName(frames[1])
        env = df.mapInArrow(_ingest_units, spark_schema(_envelope_schema()))
        _delete(spark, staging)
        env.write.parquet(staging)
        st = spark.read.parquet(staging)
        results = [json.loads(r["_result"]) for r in st.where("_table = '_result'").select("_result").collect()]
    else:
        st, results = None, []

    # per-file results (a file read in ranges sums its ranges)
    per_file: dict[int, FileResult] = {}
    for r in sorted(results, key=lambda r: r["unit"]):
        i = file_of[r["unit"]]
        name, _local_path, size, fp = todo[i]
        fr = per_file.setdefault(i, FileResult(path=name))
        if r.get("error") and not fr.error:
            fr.error = r["error"]
        fr.format = fr.format or r.get("format")
        for k in ("lines", "posts_read", "accounts_read", "other_read", "rejected"):
            setattr(fr, k, getattr(fr, k) + int(r.get(k) or 0))
        fr.seconds += float(r.get("seconds") or 0.0)

    before = read_table(spark, root, "posts").count() if st is not None else 0
    if st is not None:
        _merge_and_write(spark, root, st, sum(f.posts_read for f in per_file.values()))
        new_sources = [{"fingerprint": todo[i][3], "path": fr.path, "format": fr.format, "lines_done": fr.lines,
                        "bytes_done": todo[i][2], "records": fr.posts_read + fr.accounts_read + fr.other_read,
                        "rejected": fr.rejected, "complete": fr.error is None}
                       for i, fr in sorted(per_file.items())]
        old = sources.toArrow() if _exists(spark, f"{root}/sources") else pa.Table.from_pylist([], _SOURCES_SCHEMA)
        keep = [r for r in _naive(old).to_pylist() if r["fingerprint"] not in {s["fingerprint"] for s in new_sources}]
        _write_small(spark, root, "sources", pa.Table.from_pylist(keep + new_sources, schema=_SOURCES_SCHEMA))
        _write_meta(spark, root)
        _delete(spark, staging)
        after = read_table(spark, root, "posts").count()
        new_total = after - before
        # new posts are not attributable per file after a parallel merge: the total goes to the last file
        items = sorted(per_file.items())
        for j, (_i, fr) in enumerate(items):
            fr.new_posts = new_total if j == len(items) - 1 else 0
    elif not _exists(spark, f"{root}/meta"):
        _write_meta(spark, root)
    for _i, fr in sorted(per_file.items()):
        summary.files.append(fr)
        if on_file:
            on_file(fr)
    return summary


