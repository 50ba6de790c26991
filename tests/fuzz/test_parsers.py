"""Fuzzing every format parser: no crash, no good record lost, rejects at the right lines.

A bounded run (small ``max_examples``); ``benchmarks/fuzz.py`` runs the same
properties much longer (with atheris where it installs).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from groundswell.errors import RecordError
from groundswell.formats import csv as csvfmt
from groundswell.formats import detect
from groundswell.formats.base import ListSink
from groundswell.ingest import ingest
from groundswell.store import open_store

from . import strategies as S

# what the ingest driver turns into a reject (ingest._parse_safely); anything else is a parser bug
TOLERATED = (RecordError,)
# bounded: no shrinking here (a failure prints its whole input); benchmarks/fuzz.py runs longer
FUZZ = settings(max_examples=25, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def parse_one(fmt: str, obj: Any) -> ListSink:
    sink = ListSink()
    detect.json_format(fmt).parse(obj, sink)
    return sink


@pytest.mark.parametrize("fmt", S.FORMATS)
@FUZZ
@given(data=st.data())
def test_valid_records_are_read_whole(fmt: str, data: st.DataObject) -> None:
    obj, ids = data.draw(S.valid(fmt, data.draw(st.integers(1, 2**60))))
    sink = parse_one(fmt, orjson.loads(orjson.dumps(obj)))
    assert sink.rejects == []
    assert set(ids) <= {p["id"] for p in sink.posts}
    assert detect.sniff_json(obj) == fmt


@pytest.mark.parametrize("fmt", S.FORMATS)
@settings(max_examples=120, deadline=None)
@given(data=st.data())
def test_parsers_never_crash(fmt: str, data: st.DataObject) -> None:
    obj, _ = data.draw(S.valid(fmt, data.draw(st.integers(1, 2**60))))
    bad = data.draw(st.one_of(S.mutated(obj), S.json_values))
    try:
        parse_one(fmt, bad)
    except TOLERATED:
        pass


def _ingest_file(content: bytes, fmt: str | None, suffix: str = ".jsonl") -> tuple[set[str], list[tuple[int, str]], Any]:
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / f"input{suffix}"
        f.write_bytes(content)
        with open_store(Path(d) / "s.duckdb") as s:
            summary = ingest(s, [str(f)], format=fmt, progress=False)
            ids = {r[0] for r in s.con.execute("SELECT id FROM posts").fetchall()}
            rejects = s.con.execute("SELECT source_line, reason FROM rejects ORDER BY 1").fetchall()
    return ids, rejects, summary


@pytest.mark.parametrize("fmt", S.FORMATS)
@pytest.mark.parametrize("forced", [True, False], ids=["forced", "detected"])
@FUZZ
@given(data=st.data())
def test_ingest_keeps_every_good_record(fmt: str, forced: bool, data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 6))
    plan = [True] + data.draw(st.lists(st.booleans(), min_size=n, max_size=n))  # line 1 stays valid
    lines: list[bytes] = []
    want: set[str] = set()
    bad_lines: set[int] = set()
    for i, good in enumerate(plan):
        obj, ids = data.draw(S.valid(fmt, 10**15 + i * 1000))
        line = orjson.dumps(obj)
        if good:
            want.update(ids)
            lines.append(line)
        else:
            lines.append(data.draw(S.corrupt_line(line, obj)))
            bad_lines.add(i + 1)
    content = b"\n".join(lines) + b"\n"
    got, rejects, summary = _ingest_file(content, fmt if forced else None)
    assert summary.ok, summary.as_dict()["errors"]
    assert want <= got                                    # no good record lost
    assert {ln for ln, _ in rejects} <= bad_lines         # rejects only where the damage is
    for ln in bad_lines:                                   # an unreadable line is always reported
        raw = lines[ln - 1]
        try:
            orjson.loads(raw)
        except orjson.JSONDecodeError:
            if raw.strip():
                assert ln in {r for r, _ in rejects}, (ln, rejects)


@FUZZ
@given(data=st.data())
def test_csv_keeps_every_good_row_and_rejects_bad_ones_at_their_line(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 8))
    kinds = data.draw(st.lists(st.sampled_from(["good", "good", "bad"]), min_size=n, max_size=n))
    rows = [data.draw(S.csv_row(10**15 + i) if k == "good" else S.csv_bad_row(10**15 + i))
            for i, k in enumerate(kinds)]
    content, starts = S.csv_bytes(rows)
    got, rejects, summary = _ingest_file(content, data.draw(st.sampled_from([None, "csv"])), ".csv")
    assert summary.ok
    want = {str(10**15 + i) for i, k in enumerate(kinds) if k == "good"}
    bad = {starts[i] for i, k in enumerate(kinds) if k == "bad"}
    assert want <= got
    assert {ln for ln, _ in rejects} == bad
    assert not (got & {str(10**15 + i) for i, k in enumerate(kinds) if k == "bad"})


@settings(max_examples=60, deadline=None)
@given(text=st.text(S._chars, max_size=300))
def test_csv_reader_never_crashes(text: str) -> None:
    import io

    sink = ListSink()
    try:
        csvfmt.read(io.StringIO("id,text\n" + text, newline=""), sink, set_line=lambda n: None)
    except RecordError:
        pass
