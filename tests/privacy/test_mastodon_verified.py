"""A proved profile link (Mastodon's rel=me, ``verified_at``) makes nobody a public figure.

On the real #IchBinHanna hashtag pages (``mastodon-api-rtoot``) 13 of the 74
accounts have a profile field with ``verified_at`` and 195 to 4,237 followers:
private people who own a web page. None of them may appear by handle in any
shareable output (``analyze --json``, the default export, the report, the brief).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from groundswell.formats import envelope, mastodon, mastodon_api
from groundswell.formats.base import ListSink
from groundswell.store import open_store

from ..conftest import shared

RTOOT = "mastodon-api-rtoot"
PAGES = [f"handle_params_max_id.{i}.json" for i in range(4)]


def _bodies() -> list[list[dict]]:
    return [json.loads(shared(f"{RTOOT}/{p}").read_text())["body"] for p in PAGES]


def _rel_me_people() -> dict[str, dict]:
    """Accounts of the pages with a proved profile link and fewer than 10,000 followers,
    read from the JSON itself (acct as the store writes it -> the account object)."""
    out = {}
    for body in _bodies():
        for s in body:
            a = s["account"]
            if any(f.get("verified_at") for f in a.get("fields") or []) and a["followers_count"] < 10_000:
                acct = a["acct"] if "@" in a["acct"] else f"{a['acct']}@{a['url'].split('/')[2]}"
                out[acct] = a
    return out


@pytest.fixture
def hanna(tmp_path: Path, cli) -> Path:
    files = []
    for i, body in enumerate(_bodies()):
        f = tmp_path / f"hanna{i}.json"
        f.write_text(json.dumps(body))
        files.append(f)
    db = tmp_path / "hanna.duckdb"
    r = cli("ingest", "--db", db, "--quiet", *files)
    assert r.code == 0, r.err
    return db


def test_the_pages_hold_rel_me_accounts() -> None:
    people = _rel_me_people()
    assert len(people) == 13
    assert min(a["followers_count"] for a in people.values()) == 195
    assert max(a["followers_count"] for a in people.values()) == 4_237


def test_no_mastodon_account_is_verified_by_a_proved_link() -> None:
    for body in _bodies():
        sink = ListSink()
        mastodon.parse(body, sink)
        assert sink.accounts and not any(a["verified"] for a in sink.accounts)
        env = envelope.wrap("mastodon", "timelines/tag", body, server="mastodon.social",
                            fetched_at=datetime(2025, 7, 17, 20, 0))
        sink = ListSink()
        mastodon_api.parse(env, sink)
        assert not any(a["verified"] for a in sink.accounts)


def test_rel_me_people_stay_pseudonyms_in_every_output(hanna: Path, tmp_path: Path, cli) -> None:
    people = _rel_me_people()
    names = {acct.split("@")[0].lower() for acct in people}
    accts = {acct.lower() for acct in people}  # user@server, as the store writes handles
    outputs: dict[str, str] = {}
    r = cli("analyze", "--db", hanna, "--hashtag", "ichbinhanna", "--json")
    assert r.code == 0, r.err
    outputs["analyze --json"] = r.out
    for fmt in ("csv", "jsonl"):
        out = tmp_path / f"posts.{fmt}"
        r = cli("export", "--db", hanna, "--format", fmt, "--output", out)
        assert r.code == 0, r.err
        outputs[f"export {fmt}"] = out.read_text()
    out = tmp_path / "accounts.jsonl"
    assert cli("export", "--db", hanna, "--table", "accounts", "--format", "jsonl", "--output", out).code == 0
    outputs["export accounts"] = out.read_text()
    html, brief = tmp_path / "r.html", tmp_path / "b.md"
    r = cli("report", "--db", hanna, "--hashtag", "ichbinhanna", "--output", html, "--brief", brief, "-q")
    assert r.code == 0, r.err
    outputs["report"], outputs["brief"] = html.read_text(), brief.read_text()
    for what, text in outputs.items():
        low = text.lower()
        # a handle as written, in a mention, or in a profile or status address (a hashtag
        # spelling a name is not one: #nfdi4culture is a tag and an account here)
        leaked = sorted({n for n in names if re.search(rf"(?<![\w.])@{re.escape(n)}(?![\w.-])", low)
                         or f"/users/{n}/" in low} | {a for a in accts if a in low})
        assert not leaked, f"{what} names {len(leaked)} private people by handle"
    # the accounts are in the store, not verified, and appear as pseudonyms in the accounts export
    with open_store(hanna, read_only=True) as st:
        n = st.con.execute("SELECT count(DISTINCT id), count(DISTINCT id) FILTER (WHERE verified) "
                           "FROM accounts").fetchone()
    assert n == (74, 0)
    assert outputs["export accounts"].count('"user-') >= 74


def test_a_store_made_before_the_rule_names_nobody_for_a_mastodon_flag(hanna: Path, tmp_path: Path, cli) -> None:
    """Stores ingested when rel=me counted as verification keep the flag: it counts for nothing."""
    with open_store(hanna) as st:
        st.con.execute("UPDATE accounts SET verified = true WHERE followers < 10000")
    out = tmp_path / "accounts.csv"
    assert cli("export", "--db", hanna, "--table", "accounts", "--format", "csv", "--output", out).code == 0
    text = out.read_text().lower()
    leaked = [a for a in _rel_me_people() if a.lower() in text]
    assert not leaked, f"{len(leaked)} accounts shown by handle for a Mastodon 'verified' flag"
