"""Issue 16: the newer observation wins for formats that carry no observation time,
and a Bluesky edit replaces the post as a whole. Through the CLI, on real records."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from groundswell.store import open_store

from .conftest import shared

V1 = "sfm-twitter-harvester/v1.1_search_gelman_2015.jsonl"
MASTODON = "mastodon-py/statuses.jsonl"
JETSTREAM = "bluesky-jetstream/corpus__expected_v1.jsonl"


def _row(db: Path, pid: str, cols: str) -> tuple[Any, ...]:
    with open_store(db, read_only=True) as st:
        return st.con.execute(f"SELECT {cols} FROM posts WHERE id = ?", [pid]).fetchall()[0]


def _v1_pair() -> tuple[dict[str, Any], dict[str, Any]]:
    for line in shared(V1).read_text().splitlines():
        t = json.loads(line)
        if isinstance(t.get("retweeted_status"), dict):
            return t, t["retweeted_status"]
    raise AssertionError("no retweet in the shared v1.1 file")


@pytest.mark.parametrize("original_first", [True, False])
@pytest.mark.parametrize("chunk", ["1", "100"])
def test_v1_retweet_embedding_newer_counts_wins(cli, tmp_path: Path, original_first: bool, chunk: str) -> None:
    rt, orig = _v1_pair()
    rt = copy.deepcopy(rt)
    first = dict(copy.deepcopy(orig), retweet_count=0, favorite_count=0)
    rt["retweeted_status"]["retweet_count"] = 57
    rt["retweeted_status"]["favorite_count"] = 12
    lines = [first, rt] if original_first else [rt, first]
    f = tmp_path / "v1.jsonl"
    f.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    db = tmp_path / "s.duckdb"
    assert cli("ingest", f, "--db", db, "-q", "--chunk-lines", chunk).code == 0
    # the retweet was made after the original: its embedded copy is the newer observation
    assert _row(db, orig["id_str"], "repost_count, like_count, is_reference") == (57, 12, False)


def test_mastodon_reblog_embedding_newer_counts_wins_and_accounts_have_a_time(cli, tmp_path: Path) -> None:
    statuses = [json.loads(x) for x in shared(MASTODON).read_text().splitlines()]
    reblog = copy.deepcopy(next(s for s in statuses if isinstance(s.get("reblog"), dict)))
    inner = copy.deepcopy(reblog["reblog"])
    inner["reblogs_count"], inner["favourites_count"] = 0, 0
    reblog["reblog"]["reblogs_count"], reblog["reblog"]["favourites_count"] = 57, 3
    f = tmp_path / "m.jsonl"
    f.write_text(json.dumps(inner) + "\n" + json.dumps(reblog) + "\n")
    db = tmp_path / "s.duckdb"
    assert cli("ingest", f, "--db", db, "-q").code == 0
    assert _row(db, inner["uri"], "repost_count, like_count") == (57, 3)
    with open_store(db, read_only=True) as st:
        first = st.con.execute("SELECT min(observed_at) FROM accounts WHERE platform = 'mastodon'").fetchall()[0][0]
    assert first is not None and first.year > 1970  # was the epoch


def _bsky_events() -> tuple[dict[str, Any], dict[str, Any]]:
    for line in shared(JETSTREAM).read_text().splitlines():
        e = json.loads(line)
        c = e.get("commit") or {}
        if c.get("collection") == "app.bsky.feed.post" and c.get("operation") == "create" and \
                (c.get("record") or {}).get("facets"):
            edit = copy.deepcopy(e)
            edit["commit"]["operation"] = "update"
            edit["time_us"] += 60_000_000
            rec = edit["commit"]["record"]
            rec["text"] = "edited #Edited"
            rec["facets"] = [{"index": {"byteStart": 7, "byteEnd": 14},
                              "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "Edited"}]}]
            return e, edit
    raise AssertionError("no post with facets in the Jetstream corpus")


@pytest.mark.parametrize("split", ["one file", "two files", "chunk per line"])
def test_bluesky_update_replaces_the_post_as_a_whole(cli, tmp_path: Path, split: str) -> None:
    create, edit = _bsky_events()
    uri = f"at://{create['did']}/app.bsky.feed.post/{create['commit']['rkey']}"
    db = tmp_path / "s.duckdb"
    if split == "two files":
        a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
        a.write_text(json.dumps(create) + "\n")
        b.write_text(json.dumps(edit) + "\n")
        assert cli("ingest", a, "--db", db, "-q").code == 0
        assert _row(db, uri, "hashtags")[0] != ["edited"]
        assert cli("ingest", b, "--db", db, "-q").code == 0
    else:
        f = tmp_path / "e.jsonl"
        f.write_text(json.dumps(create) + "\n" + json.dumps(edit) + "\n")
        extra = ["--chunk-lines", "1"] if split == "chunk per line" else []
        assert cli("ingest", f, "--db", db, "-q", *extra).code == 0
    text, tags, raw = _row(db, uri, "text, hashtags, raw")
    assert (text, tags) == ("edited #Edited", ["edited"])
    assert json.loads(raw)["commit"]["operation"] == "update"
    with open_store(db, read_only=True) as st:
        assert st.con.execute("SELECT count(*) FROM posts WHERE id = ?", [uri]).fetchall()[0][0] == 1


def test_bluesky_update_does_not_undo_a_deletion(cli, tmp_path: Path) -> None:
    create, edit = _bsky_events()
    delete = {"did": create["did"], "time_us": create["time_us"] + 1, "kind": "commit",
              "commit": {"rev": "x", "operation": "delete", "collection": "app.bsky.feed.post",
                         "rkey": create["commit"]["rkey"]}}
    f = tmp_path / "e.jsonl"
    f.write_text("\n".join(json.dumps(x) for x in (create, delete, edit)) + "\n")
    db = tmp_path / "s.duckdb"
    assert cli("ingest", f, "--db", db, "-q", "--chunk-lines", "1").code == 0
    uri = f"at://{create['did']}/app.bsky.feed.post/{create['commit']['rkey']}"
    assert _row(db, uri, "deleted, text, raw") == (True, None, None)
