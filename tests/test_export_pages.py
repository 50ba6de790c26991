"""twarc-csv exports read a page's context again from the input file: only what the store allows.

``tests/test_peers.py`` checks that, with every opt-out, the export equals
twarc-csv 0.7.2 cell for cell. Here: what happens when the input file is gone
or changed (the rows are written from the store alone, with a note; media
still say their kind), and that reading the file again never brings back what
the store forgot.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from .conftest import shared

BREXIT = "twarc-csv/test-data/brexit.jsonl"
ALL_OPT_OUTS = ("--identify", "--no-redact", "--show-disclosure-text", "--private")


def _rows(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return {r["id"]: r for r in csv.DictReader(f)}


def _ingest_copy(tmp_path: Path, cli) -> tuple[Path, Path]:
    src = tmp_path / "brexit.jsonl"
    shutil.copy(shared(BREXIT), src)
    db = tmp_path / "s.duckdb"
    assert cli("ingest", "--db", db, "--quiet", src).code == 0
    return src, db


def test_rows_without_their_page_are_written_from_the_store_and_said(tmp_path: Path, cli) -> None:
    src, db = _ingest_copy(tmp_path, cli)
    full = tmp_path / "full.csv"
    assert cli("export", "--db", db, "--format", "csv", "--output", full, *ALL_OPT_OUTS).code == 0
    src.unlink()
    out = tmp_path / "gone.csv"
    r = cli("export", "--db", db, "--format", "csv", "--output", out, *ALL_OPT_OUTS)
    assert r.code == 0, r.err
    notes = [ln for ln in r.err.splitlines() if ln.startswith("note:")]
    assert len(notes) == 1 and "100 rows" in notes[0] and "input file not found" in notes[0]
    with_page, without = _rows(full), _rows(out)
    assert set(with_page) == set(without)
    assert any(r["__twarc.version"] for r in with_page.values())
    assert not any(r["__twarc.version"] for r in without.values())
    for pid, r in without.items():
        if r["attachments.media"]:  # the store's media: each attachment's kind, never an empty object
            objs = json.loads(r["attachments.media"])
            assert objs and all(o.get("type") and o.get("media_key") for o in objs), pid
        for col in ("id", "author_id", "created_at", "text", "entities.hashtags"):
            assert r[col] == with_page[pid][col], (pid, col)


def test_a_changed_input_file_is_not_trusted(tmp_path: Path, cli) -> None:
    src, db = _ingest_copy(tmp_path, cli)
    pages = [json.loads(x) for x in src.read_text().splitlines() if x.strip()]
    pages[0]["data"][0]["public_metrics"]["like_count"] += 1  # another version of one tweet
    src.write_text("".join(json.dumps(p) + "\n" for p in pages))
    r = cli("export", "--db", db, "--format", "csv", "--output", tmp_path / "o.csv", *ALL_OPT_OUTS)
    assert r.code == 0 and "input file changed" in r.err


def test_the_file_never_brings_back_a_forgotten_post(tmp_path: Path, cli) -> None:
    src, db = _ingest_copy(tmp_path, cli)
    pages = [json.loads(x) for x in src.read_text().splitlines() if x.strip()]
    included = {t["id"]: t for p in pages for t in p.get("includes", {}).get("tweets", [])}
    retweets = [t for p in pages for t in p["data"]
                if any(r["type"] == "retweeted" and r["id"] in included for r in t.get("referenced_tweets", []))]
    assert retweets
    rt = retweets[0]
    original = next(r["id"] for r in rt["referenced_tweets"] if r["type"] == "retweeted")
    ids = tmp_path / "forget.txt"
    ids.write_text(original + "\n")
    assert cli("forget", "--db", db, "--ids", ids).code == 0
    out = tmp_path / "o.csv"
    assert cli("export", "--db", db, "--format", "csv", "--output", out, *ALL_OPT_OUTS).code == 0
    text = out.read_text(encoding="utf-8")
    words = included[original]["text"].replace("\n", "\\n")
    assert words not in text  # the original's words, which the page still holds, are not written
    row = _rows(out)[rt["id"]]
    assert row["text"] != words
