"""The API readers on the real recorded responses: counts from the recordings' own index, and the
same rows the Jetstream and Mastodon readers make of the same records."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from groundswell.formats import bluesky, bluesky_api, detect, envelope, mastodon, mastodon_api
from groundswell.formats.base import ListSink

from ..conftest import shared

ATRRR = "bluesky-api-atrrr"
BSKYR = "bluesky-api-bskyr"
RTOOT = "mastodon-api-rtoot"
FETCHED = datetime(2025, 7, 4, 8, 49, 25)


def atrrr(name: str) -> Any:
    return json.loads(shared(f"{ATRRR}/{name}.json").read_text())


def parse(obj: Any, reader: Any = bluesky_api) -> ListSink:
    sink = ListSink()
    reader.parse(obj, sink)
    return sink


def test_every_recorded_bluesky_body_is_detected_and_read_without_rejects() -> None:
    names = [p.name for p in shared(ATRRR).glob("app.*.json")]
    assert len(names) == 14
    for name in names:
        body = json.loads(shared(f"{ATRRR}/{name}").read_text())
        assert detect.sniff_json(body) == "bluesky-api", name
        assert parse(body).rejects == [], name
    for name in json.loads(shared(f"{BSKYR}/index.json").read_text()):
        body = json.loads(shared(f"{BSKYR}/{name}").read_text())["body"]
        assert detect.sniff_json(body) == "bluesky-api", name
        assert parse(body).rejects == [], name


def test_search_page_counts_match_the_recording_index() -> None:
    index = json.loads(shared(f"{ATRRR}/index.json").read_text())
    for name in ("app.bsky.feed.searchPosts_bb16d", "app.bsky.feed.searchPosts_0e3ec"):
        body = atrrr(name)
        sink = parse(envelope.wrap("bluesky", "app.bsky.feed.searchPosts", body, fetched_at=FETCHED))
        full = [p for p in sink.posts if not p["is_reference"]]
        refs = [p for p in sink.posts if p["is_reference"]]
        counts = index[name + ".json"]["counts"]
        assert len(full) == len(body["posts"]) == counts["posts"] == 100
        assert len({p["author_id"] for p in full}) == counts["distinct_authors"]
        assert sum(p["kind"] == "reply" for p in full) == counts["replies"]
        assert sum(p["quote_of_id"] is not None for p in full) == counts["quotes"]
        # a quote's quoted post comes along as a reference, and the quote points at it
        quotes = [p for p in full if p["quote_of_id"]]
        assert {p["id"] for p in refs} <= {p["quote_of_id"] for p in quotes}
        assert all(p["metrics_observed_at"] == FETCHED for p in full)
        assert all(p["author_handle"] for p in full)


def test_search_body_from_bskyr_counts() -> None:
    rec = json.loads(shared(f"{BSKYR}/f_search.0.json").read_text())
    meta = json.loads(shared(f"{BSKYR}/index.json").read_text())["f_search.0.json"]["counts"]
    sink = parse(rec["body"])
    full = [p for p in sink.posts if not p["is_reference"]]
    assert len(full) == meta["posts"] == 25
    assert len({p["author_id"] for p in full}) == meta["distinct_authors"]
    assert sum(p["kind"] == "reply" for p in full) == meta["replies"]
    assert sum(p["quote_of_id"] is not None for p in full) == meta["quotes"]
    assert all(p["metrics_observed_at"] is None for p in full)  # a bare body does not say when


def test_a_post_view_gives_the_rows_its_jetstream_event_gives() -> None:
    """One path: the view's record through the Jetstream reader's rules."""
    body = atrrr("app.bsky.feed.searchPosts_bb16d")
    checked = 0
    for view in body["posts"]:
        did, rkey = view["author"]["did"], view["uri"].rsplit("/", 1)[1]
        event = {"did": did, "time_us": 1_751_619_000_000_000, "kind": "commit",
                 "commit": {"rev": "x", "operation": "create", "collection": "app.bsky.feed.post",
                            "rkey": rkey, "record": view["record"], "cid": view["cid"]}}
        js = ListSink()
        bluesky.parse(event, js)
        api = parse({"posts": [view]})
        a = next(p for p in api.posts if p["id"] == view["uri"])
        j = js.posts[0]
        for col in ("id", "author_id", "created_at", "text", "lang", "kind", "reply_to_id", "reply_to_author_id",
                    "quote_of_id", "conversation_id", "hashtags", "hashtags_raw", "mentions", "mention_ids",
                    "urls", "media"):
            assert a[col] == j[col], (view["uri"], col)
        checked += 1
    assert checked == 100


def test_thread_views_give_every_post_of_the_conversation() -> None:
    index = json.loads(shared(f"{ATRRR}/index.json").read_text())
    for name in ("app.bsky.feed.getPostThread_72827", "app.bsky.feed.getPostThread_aa665"):
        sink = parse(atrrr(name))
        counts = index[name + ".json"]["counts"]
        # the anchor and what is below it, plus its ancestors: every post of the tree, once
        assert len(sink.posts) == counts["thread_posts_below_and_incl_anchor"] + counts["ancestors"] == 4
        assert not any(p["is_reference"] for p in sink.posts)
        assert len({p["author_id"] for p in sink.posts}) == counts["distinct_authors"]
    # the reply chain: each reply points at a post of the same thread, all in one conversation
    sink = parse(atrrr("app.bsky.feed.getPostThread_72827"))
    ids = {p["id"] for p in sink.posts}
    replies = [p for p in sink.posts if p["kind"] == "reply"]
    assert len(replies) == 3 and all(p["reply_to_id"] in ids for p in replies)
    assert len({p["conversation_id"] for p in sink.posts}) == 1


def test_reposted_by_gives_one_repost_per_actor_without_a_time() -> None:
    body = atrrr("app.bsky.feed.getRepostedBy_95deb")
    sink = parse(body)
    counts = json.loads(shared(f"{ATRRR}/index.json").read_text())["app.bsky.feed.getRepostedBy_95deb.json"]["counts"]
    assert len(sink.posts) == counts["repostedBy"] == 25
    assert {p["repost_of_id"] for p in sink.posts} == {body["uri"]}
    assert all(p["kind"] == "repost" and p["created_at"] is None for p in sink.posts)
    assert sorted(p["author_id"] for p in sink.posts) == sorted(a["did"] for a in body["repostedBy"])
    assert all(p["id"] == bluesky_api.repost_id(body["uri"], p["author_id"]) for p in sink.posts)


def test_profiles_are_dated_observations_with_counts() -> None:
    index = json.loads(shared(f"{ATRRR}/index.json").read_text())
    for name in ("app.bsky.actor.getProfile_cf402", "app.bsky.actor.getProfile_f0833",
                 "app.bsky.actor.getProfile_f20b3"):
        sink = parse(envelope.wrap("bluesky", "app.bsky.actor.getProfile", atrrr(name), fetched_at=FETCHED))
        (acct,) = sink.accounts
        counts = index[name + ".json"]["counts"]
        assert (acct["followers"], acct["following"], acct["posts_count"]) == (
            counts["followersCount"], counts["followsCount"], counts["postsCount"])
        assert acct["observed_at"] == FETCHED
    sink = parse(atrrr("app.bsky.actor.getProfiles_01031"))
    assert len(sink.accounts) == 25 and len({a["id"] for a in sink.accounts}) == 3


def test_feed_reposts_carry_the_reposters_time() -> None:
    rec = json.loads(shared(f"{BSKYR}/f_autfeed.0.json").read_text())
    meta = json.loads(shared(f"{BSKYR}/index.json").read_text())["f_autfeed.0.json"]["counts"]
    sink = parse(rec["body"])
    reposts = [p for p in sink.posts if p["kind"] == "repost"]
    assert len(reposts) == meta["reposts"] == 7
    assert all(p["created_at"] is not None for p in reposts)
    reposted = {p["repost_of_id"] for p in reposts}
    assert all(p["is_reference"] for p in sink.posts if p["id"] in reposted)


def test_follow_lists_become_edges() -> None:
    a = {"did": "did:plc:a", "handle": "a.test"}
    b = {"did": "did:plc:b", "handle": "b.test"}
    c = {"did": "did:plc:c", "handle": "c.test"}
    sink = parse({"subject": a, "follows": [b, c], "cursor": "x"})
    assert [(f["follower_id"], f["followed_id"]) for f in sink.follows] == [("did:plc:a", "did:plc:b"),
                                                                            ("did:plc:a", "did:plc:c")]
    sink = parse({"subject": a, "followers": [b]})
    assert [(f["follower_id"], f["followed_id"]) for f in sink.follows] == [("did:plc:b", "did:plc:a")]


def test_one_bad_post_is_a_reject_and_the_rest_of_the_page_is_read() -> None:
    body = atrrr("app.bsky.feed.searchPosts_bb16d")
    body["posts"][3] = {"uri": "at://x", "author": "not an object", "record": {}}
    body["posts"][7]["record"] = "broken"
    sink = parse(body)
    assert len([p for p in sink.posts if not p["is_reference"]]) == 98
    assert len(sink.rejects) == 2 and all(r.startswith("posts[") for r in sink.rejects)


def test_an_unknown_body_is_a_record_error_that_names_keys_not_values() -> None:
    from groundswell.errors import RecordError

    with pytest.raises(RecordError) as e:
        bluesky_api.parse({"surprise": "secret text"}, ListSink())
    assert "surprise" in str(e.value) and "secret" not in str(e.value)


# -- Mastodon ----------------------------------------------------------------------------------------


def rtoot(name: str) -> Any:
    return json.loads(shared(f"{RTOOT}/{name}.json").read_text())


def test_mastodon_envelope_gives_the_mastodon_readers_rows_with_the_server_and_the_fetch_time() -> None:
    rec = rtoot("handle_params_max_id.0")
    env = envelope.wrap("mastodon", "timelines/tag", rec["body"], fetched_at=FETCHED, server="mastodon.social")
    assert detect.sniff_json(env) == "mastodon-api"
    got = parse(env, mastodon_api)
    want = ListSink()
    mastodon.parse([{**s, "_server": "mastodon.social"} for s in rec["body"]], want)
    assert len(got.posts) == len(want.posts) == 40
    for g, w in zip(got.posts, want.posts, strict=True):
        assert g["metrics_observed_at"] == FETCHED  # the fetch time; plain statuses take what is known
        assert {**g, "metrics_observed_at": None} == {**w, "metrics_observed_at": None}
    assert all(a["observed_at"] == FETCHED for a in got.accounts)
    assert [{**a, "observed_at": None} for a in got.accounts] == [{**a, "observed_at": None} for a in want.accounts]
    counts = json.loads(shared(f"{RTOOT}/index.json").read_text())["handle_params_max_id.0.json"]["counts"]
    assert sum(p["kind"] == "reply" for p in got.posts) == counts["replies"]
    assert len({p["author_id"] for p in got.posts}) == counts["distinct_accounts"]


def test_mastodon_context_and_reblogged_by() -> None:
    index = json.loads(shared(f"{RTOOT}/index.json").read_text())
    ctx = rtoot("get_context_default.0")
    sink = parse(envelope.wrap("mastodon", "statuses/context", ctx["body"], fetched_at=FETCHED,
                               server="mastodon.social", subject="https://mastodon.social/x"), mastodon_api)
    c = index["get_context_default.0.json"]["counts"]
    assert len(sink.posts) == c["descendants"] == 59
    assert len({p["author_id"] for p in sink.posts}) == c["distinct_accounts"]
    subject = "https://mastodon.social/users/someone/statuses/109294719267373593"
    rb = rtoot("get_reblogged_by_default.0")
    sink = parse(envelope.wrap("mastodon", "statuses/reblogged_by", rb["body"], fetched_at=FETCHED,
                               server="mastodon.social", subject=subject), mastodon_api)
    assert len(sink.posts) == index["get_reblogged_by_default.0.json"]["counts"]["accounts"] == 40
    assert {p["repost_of_id"] for p in sink.posts} == {subject}
    assert len({p["author_id"] for p in sink.posts}) == 40 and len(sink.accounts) == 40


def test_a_mastodon_reblogged_by_without_its_subject_is_refused() -> None:
    from groundswell.errors import RecordError

    env = envelope.wrap("mastodon", "statuses/reblogged_by", [], fetched_at=FETCHED, server="mastodon.social")
    with pytest.raises(RecordError):
        mastodon_api.parse(env, ListSink())


def test_ingest_reads_recorded_bodies_as_they_are(cli: Any, db: Any) -> None:
    """A recorded AppView response file (one JSON document) goes through ingest with the new reader."""
    r = cli("ingest", str(shared(f"{ATRRR}/app.bsky.feed.searchPosts_bb16d.json")),
            str(shared(f"{ATRRR}/app.bsky.feed.getPostThread_72827.json")), "--db", db, "--json")
    assert r.code == 0, r.err
    d = r.json()
    assert [f["format"] for f in d["files"]] == ["bluesky-api", "bluesky-api"]
    assert d["rejected"] == 0
    from groundswell.store import open_store

    with open_store(db, read_only=True) as store:
        n = store.sql("SELECT count(*) AS n FROM posts WHERE NOT is_reference").to_pylist()[0]["n"]
    assert n == 104  # 100 search hits and the 4 thread posts (none in both)
