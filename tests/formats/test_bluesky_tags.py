"""Bluesky's extra hashtags (``record.tags``) count, beside the tag facets.

The real #rstats search (``bluesky-api-atrrr``, q=#rstats) returns 100 posts;
4 of them carry #rstats only in ``record.tags``, the hashtags the app lets an
author add outside the text.
"""

from __future__ import annotations

import json
from typing import Any

from groundswell.formats import bluesky, bluesky_api
from groundswell.formats.base import ListSink, fold_tag

from ..conftest import shared

SEARCH = "bluesky-api-atrrr/app.bsky.feed.searchPosts_bb16d.json"


def _posts() -> list[dict[str, Any]]:
    return json.loads(shared(SEARCH).read_text())["posts"]


def _truth(record: dict[str, Any]) -> list[str]:
    """The post's hashtags read from the record itself: tag facets, then record.tags, folded, once each."""
    tags = [f["tag"] for facet in record.get("facets") or [] for f in facet.get("features") or []
            if f.get("$type") == "app.bsky.richtext.facet#tag"]
    out: list[str] = []
    for t in tags:
        out.append(fold_tag(t.lstrip("#")))
    for t in record.get("tags") or []:
        if fold_tag(t.lstrip("#")) not in out:
            out.append(fold_tag(t.lstrip("#")))
    return out


def test_the_search_holds_posts_tagged_only_in_record_tags() -> None:
    posts = _posts()
    only_tags = [p for p in posts if "rstats" not in _truth({**p["record"], "tags": []})]
    assert len(posts) == 100 and len(only_tags) == 4
    assert all("rstats" in [fold_tag(t) for t in p["record"]["tags"]] for p in only_tags)


def test_hashtags_and_analyze_count_all_100(tmp_path, cli) -> None:
    db = tmp_path / "s.duckdb"
    assert cli("ingest", "--db", db, "--quiet", shared(SEARCH)).code == 0
    rows = {r["hashtag"]: r for r in cli("hashtags", "--db", db, "--json").json()}
    assert rows["rstats"]["posts"] == 100
    r = cli("analyze", "--db", db, "--hashtag", "rstats", "--json")
    assert r.code == 0, r.err
    assert r.json()["timeline"]["posts"] == 100


def test_both_readers_give_the_record_s_hashtags() -> None:
    for p in _posts():
        want = _truth(p["record"])
        api = ListSink()
        bluesky_api.parse({"posts": [p]}, api)
        assert [x["hashtags"] for x in api.posts if x["id"] == p["uri"]] == [want]
        # the same record as a Jetstream commit
        did, rkey = p["uri"][5:].split("/")[0], p["uri"].rsplit("/", 1)[1]
        event = {"did": did, "time_us": 1751547600000000, "kind": "commit",
                 "commit": {"rev": "x", "operation": "create", "collection": bluesky.POST, "rkey": rkey,
                            "record": p["record"], "cid": p["cid"]}}
        js = ListSink()
        bluesky.parse(event, js)
        assert [x["hashtags"] for x in js.posts] == [want]


def test_record_tags_are_folded_deduplicated_and_checked() -> None:
    record = {"$type": bluesky.POST, "text": "#MeToo today", "createdAt": "2025-01-01T00:00:00Z",
              "facets": [{"index": {"byteStart": 0, "byteEnd": 6},
                          "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "MeToo"}]}],
              "tags": ["metoo", "#Survivors", "SURVIVORS", 7, ""]}
    event = {"did": "did:plc:abc", "time_us": 1735689600000000, "kind": "commit",
             "commit": {"rev": "x", "operation": "create", "collection": bluesky.POST, "rkey": "3k",
                        "record": record, "cid": "c"}}
    sink = ListSink()
    bluesky.parse(event, sink)
    (post,) = sink.posts
    assert post["hashtags"] == ["metoo", "survivors"]
    assert post["hashtags_raw"] == ["MeToo", "Survivors"]
    assert len(sink.rejects) == 2  # the number and the empty string
