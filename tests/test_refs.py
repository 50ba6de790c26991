"""groundswell.refs: links to posts and scraped text conventions (crafted strings, no real texts)."""

from __future__ import annotations

from groundswell.refs import parse_post_url, post_refs_in, text_convention


def test_twitter_status_links():
    r = parse_post_url("https://twitter.com/Some_One/status/919659438700670976")
    assert (r.platform, r.handle, r.post_id) == ("twitter", "Some_One", "919659438700670976")
    assert parse_post_url("https://x.com/abc/status/123456789?s=20").post_id == "123456789"
    assert parse_post_url("https://mobile.twitter.com/abc/statuses/1234567").post_id == "1234567"
    assert parse_post_url("https://twitter.com/i/web/status/1234567").handle is None
    # GetOldTweets' spacing inside links
    r = parse_post_url("https:// twitter.com/ Some_One/ status/ 919659438700670976")
    assert r.handle == "Some_One" and r.post_id == "919659438700670976"
    assert parse_post_url("https://twitter.com/search?q=%23metoo") is None
    assert parse_post_url("https://twitter.com/hashtag/metoo") is None


def test_bluesky_and_mastodon_links():
    r = parse_post_url("https://bsky.app/profile/did:plc:abc123/post/3kabcdefg")
    assert r.platform == "bluesky" and r.post_id == "at://did:plc:abc123/app.bsky.feed.post/3kabcdefg"
    r = parse_post_url("https://bsky.app/profile/someone.bsky.social/post/3kabcdefg")
    assert r.post_id is None and r.handle == "someone.bsky.social" and r.rkey == "3kabcdefg"
    r = parse_post_url("https://mastodon.social/@alice/109294719267373593")
    assert r.platform == "mastodon" and r.post_id == "https://mastodon.social/users/alice/statuses/109294719267373593"
    assert parse_post_url("https://mastodon.social/users/alice/statuses/109294719267373593").post_id == \
        "https://mastodon.social/users/alice/statuses/109294719267373593"
    r = parse_post_url("https://mastodon.social/@bob@example.org/109294719267373593")
    assert r.post_id is None and r.handle == "bob@example.org"
    assert parse_post_url("https://www.instagram.com/@someone/12345678") is None
    assert parse_post_url("https://example.org/about") is None


def test_several_links_in_a_text_in_order_without_repeats():
    t = ("see https://twitter.com/a/status/111111 and pic.twitter.com/xyz and "
         "https://twitter.com/b/status/222222 https://twitter.com/a/status/111111")
    assert [r.post_id for r in post_refs_in(t)] == ["111111", "222222"]


def test_text_conventions():
    t = text_convention("RT @someone: words")
    assert (t.kind, t.handle) == ("repost", "someone")
    t = text_convention("RT @ someone : words")
    assert (t.kind, t.handle) == ("repost", "someone")
    t = text_convention("@ other yes, me too")
    assert (t.kind, t.handle) == ("reply", "other")
    t = text_convention(".@other yes")
    assert (t.kind, t.handle) == ("reply", "other")
    assert text_convention("words @other") is None
    assert text_convention("") is None and text_convention(None) is None


def test_twitter_id_time_reads_snowflakes_only() -> None:
    from datetime import datetime

    from groundswell.refs import twitter_id_time

    # the call to action of 2017-10-15 (its id is in ../shared/data/metoo-getoldtweets-2017): 20:21:11 UTC
    assert twitter_id_time("919659438700670976") == datetime(2017, 10, 15, 20, 21, 11, 289000)
    assert twitter_id_time("20") is None  # a sequential id from 2006: no time in it
    for other in (None, "", "at://did:plc:x/app.bsky.feed.post/3k", "https://m.example/users/a/statuses/1",
                  "9" * 21, "1e18", "９１９６５９４３８７００６７０９７６"):
        assert twitter_id_time(other) is None, other


def _objects(x, keep):
    """Every JSON object anywhere in ``x`` that ``keep`` accepts."""
    if isinstance(x, dict):
        if keep(x):
            yield x
        for v in x.values():
            yield from _objects(v, keep)
    elif isinstance(x, list):
        for v in x:
            yield from _objects(v, keep)


def test_mastodon_id_time_on_real_statuses() -> None:
    """Every status in the real mastodon.social responses (rtoot's recordings): the id in its URI tells
    its time within a second of its created_at (the local id of a remote post does not: it is left alone)."""
    import json
    from datetime import UTC, datetime

    from groundswell.refs import id_time, mastodon_id_time

    from .conftest import shared

    seen = 0
    for f in sorted(shared("mastodon-api-rtoot").glob("*.json")):
        for s in _objects(json.loads(f.read_text()), lambda x: {"created_at", "uri", "content"} <= x.keys()):
            if "/statuses/" not in s["uri"]:
                continue
            made = datetime.fromisoformat(s["created_at"].replace("Z", "+00:00")).replace(tzinfo=None)
            got = id_time(s["uri"])
            assert got is not None and abs((got - made).total_seconds()) < 1.0, s["uri"]
            seen += 1
    assert seen >= 100
    # the URL form, and what is no Mastodon 2.0 id
    made = datetime(2022, 11, 6, 12, 0, 0, 500000)
    sid = (int(made.replace(tzinfo=UTC).timestamp() * 1000) << 16) | 7
    assert mastodon_id_time(f"https://m.example/@a/{sid}") == made
    for other in (None, "", "https://m.example/users/a/statuses/1", "https://m.example/users/a/statuses/12345",
                  "919659438700670976", "at://did:plc:x/app.bsky.feed.post/3k",
                  "https://m.example/users/a/statuses/9" + "9" * 18, "https://m.example/notes/98944587857137922"):
        assert mastodon_id_time(other) is None, other


def test_bluesky_id_time_on_real_posts() -> None:
    """The real recorded Bluesky posts: the TID in each post's URI tells its time as the posting client's
    clock did (nearly all within a minute of createdAt)."""
    import json
    from datetime import UTC, datetime

    from groundswell.refs import bluesky_id_time, id_time

    from .conftest import shared

    def is_post(x: dict) -> bool:
        return (str(x.get("uri", "")).startswith("at://") and "/app.bsky.feed.post/" in x["uri"]
                and isinstance(x.get("record"), dict) and "createdAt" in x["record"])

    offs: dict[str, float] = {}
    for d in sorted(shared(".").glob("bluesky-api-*")):
        for f in sorted(d.rglob("*.json")):
            try:
                doc = json.loads(f.read_text())
            except ValueError:
                continue
            for p in _objects(doc, is_post):
                made = datetime.fromisoformat(p["record"]["createdAt"].replace("Z", "+00:00"))
                made = (made.astimezone(UTC) if made.tzinfo else made).replace(tzinfo=None)
                got = id_time(p["uri"])
                assert got is not None, p["uri"]
                offs[p["uri"]] = abs((got - made).total_seconds())
    assert len(offs) >= 100
    assert sum(o <= 60 for o in offs.values()) >= 0.95 * len(offs)
    for other in (None, "", "at://did:plc:x/app.bsky.feed.like/3k2a4b5c6d7e2", "at://did:plc:x/app.bsky.feed.post/short",
                  "at://did:plc:x/app.bsky.feed.post/zzzzzzzzzzzzz", "https://bsky.app/profile/a/post/3k2a4b5c6d7e2"):
        assert bluesky_id_time(other) is None, other
