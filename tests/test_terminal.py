"""Escape sequences in the data never reach the terminal (info, hashtags, analyze)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import orjson
import pytest

from groundswell.terminal import clean, clean_text

# retitle the window, clear the screen, write the clipboard (OSC 52), reverse the text
EVIL = "evil\x1b]0;pwned\x07\x1b[2J\x1b]52;c;cHduZWQ=\x07\u202e\x9b31m"


def test_clean_drops_controls_and_keeps_scripts() -> None:
    assert clean(EVIL) == "evil]0;pwned[2J]52;c;cHduZWQ=31m"
    assert clean("a\tb\nc\r") == "abc"
    assert clean_text("one\n\ttwo\x1b[31m\r\n") == "one\n\ttwo[31m\n"
    # joiners are letters' business (Persian ZWNJ, emoji ZWJ), not controls
    for kept in ("می\u200cخواهم", "👩\u200d💻", "#MeToo", "#ЯНеБоюсьСказать", "#米兔"):
        assert clean(kept) == kept


@pytest.fixture
def hostile_store(tmp_path: Path, cli) -> Path:  # type: ignore[no-untyped-def]
    from groundswell.live import jetstream

    lines = []
    for i in range(6):
        rec = {"id": f"p{i}", "platform": "bluesky", "author_id": f"did:plc:a{i}", "kind": "original",
               "text": f"generated post {i} #metoo #{EVIL}", "hashtags_raw": ["metoo", EVIL],
               "created_at": datetime(2024, 1, 1, 0, i)}
        lines.append(orjson.dumps(jetstream.encode_post(rec, 1_704_067_200_000_000 + i * 60_000_000, {})))
    src = tmp_path / "hostile.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    db = tmp_path / "hostile.duckdb"
    assert cli("ingest", src, "--db", db, "-q").code == 0
    return db


def test_no_escape_sequence_reaches_the_terminal(hostile_store: Path, cli) -> None:  # type: ignore[no-untyped-def]
    from groundswell.store import open_store

    with open_store(hostile_store, read_only=True) as s:  # the store keeps the value as it came
        tags = {r[0] for r in s.con.execute("SELECT DISTINCT unnest(hashtags) FROM posts").fetchall()}
    assert any("\x1b" in t for t in tags)
    runs = {"info": cli("info", "--db", hostile_store),
            "hashtags": cli("hashtags", "--db", hostile_store),
            "hashtags --csv": cli("hashtags", "--db", hostile_store, "--csv"),
            "analyze": cli("analyze", "--hashtag", "metoo", "--db", hostile_store)}
    for name, r in runs.items():
        assert r.code == 0, (name, r.err)
        assert "evil]0;pwned" in r.out, name  # the hashtag is shown ...
        for bad in ("\x1b", "\x07", "\x9b", "\u202e"):  # ... without its controls
            assert bad not in r.out and bad not in r.err, (name, repr(bad))
    # JSON keeps the value, escaped
    r = cli("info", "--db", hostile_store, "--json")
    assert "\x1b" not in r.out and "\\u001b" in r.out
