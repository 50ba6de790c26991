"""groundswell forget / privacy, in-process."""

from __future__ import annotations

from pathlib import Path

from groundswell.ingest import ingest
from groundswell.store import open_store

from .synth import SECRET_A, movement
from .test_forget import grep


def _store(tmp_path: Path) -> Path:
    db = tmp_path / "s.duckdb"
    with open_store(db) as s:
        ingest(s, [str(movement(tmp_path))], progress=False)
    return db


def test_privacy_settings(cli, tmp_path: Path) -> None:
    db = _store(tmp_path)
    r = cli("privacy", "--db", db, "--json")
    assert r.code == 0 and r.json()["has_secret"] and r.json()["public_figures"]["min_followers"] == 10_000
    r = cli("privacy", "--db", db, "--min-followers", "none", "--no-verified", "--allow", "@famous_star",
            "--redact-store", "--expires", "2001-01-01", "--json")
    d = r.json()
    assert d["public_figures"] == {"verified": False, "min_followers": None, "allowlist": ["@famous_star"]}
    assert d["redact_store"] is True and d["expires"] == "2001-01-01"
    assert "expired on 2001-01-01" in d["retention_warning"]
    r = cli("privacy", "--db", db)
    assert r.code == 0 and "public figures" in r.out and "expired" in r.err
    r = cli("privacy", "--db", db, "--expires", "soon")
    assert r.code == 2 and "YYYY-MM-DD" in r.err
    r = cli("privacy", "--db", db, "--expires", "never", "--disallow", "@famous_star", "--json")
    assert r.json()["expires"] is None and r.json()["public_figures"]["allowlist"] == []


def test_forget_cli(cli, tmp_path: Path) -> None:
    db = _store(tmp_path)
    ids = tmp_path / "ids.txt"
    ids.write_text("9001\n", encoding="utf-8")
    r = cli("forget", "--db", db, "--ids", ids, "--json")
    assert r.code == 0 and r.json()["posts"] == 1 and r.json()["compacted"]
    assert grep(db, SECRET_A) == []
    r = cli("forget", "--db", db, "--account", "@bob_private")
    assert r.code == 0 and "file rewritten" in r.err
    r = cli("forget", "--db", db, "--pending", "--no-vacuum", "--json")
    assert r.code == 0 and r.json()["posts"] == 0
    r = cli("forget", "--db", db)
    assert r.code == 2 and "--ids" in r.err
    r = cli("forget", "--db", tmp_path / "missing.duckdb", "--account", "1")
    assert r.code != 0 and "no store" in r.err
