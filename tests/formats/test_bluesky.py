"""Tests of the Bluesky Jetstream parser on the Jetstream maintainers' corpus."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from groundswell.formats import bluesky
from groundswell.formats.base import ListSink, RecordError

DATA = Path("../shared/data/bluesky-jetstream")
CORPUS = DATA / "corpus__expected_v1.jsonl"
GOLDEN = DATA / "subscribe__golden_v1.jsonl"


def _events(path: Path) -> list[Any]:
    with path.open("rb") as fh:
        return [orjson.loads(line) for line in fh if line.strip()]


def _parse(events: list[Any]) -> ListSink:
    sink = ListSink()
    for ev in events:
        bluesky.parse(ev, sink)
    return sink


@pytest.fixture(scope="module")
def corpus() -> tuple[list[Any], ListSink]:
    events = _events(CORPUS)
    return events, _parse(events)


def test_sniff() -> None:
    events = _events(CORPUS)
    assert all(bluesky.sniff(ev) for ev in events)
    assert not bluesky.sniff({"data": [], "includes": {}})
    assert not bluesky.sniff([1, 2])
    assert not bluesky.sniff({"did": "did:plc:x", "kind": "commit"})  # no time_us


def test_corpus_counts(corpus: tuple[list[Any], ListSink]) -> None:
    events, sink = corpus
    assert len(events) == 152
    kinds = Counter(p["kind"] for p in sink.posts)
    assert kinds["repost"] == 15
    assert len(sink.posts) - kinds["repost"] == 17
    assert kinds["reply"] == 8
    assert len(sink.deletions) == 1
    assert sink.rejects == []
    # the identity and the account event
    assert len(sink.accounts) == 2
    # likes, follows, blocks and status records are not posts
    assert all("/app.bsky.feed.post/" in p["id"] or "/app.bsky.feed.repost/" in p["id"] for p in sink.posts)


def test_corpus_ids_and_times(corpus: tuple[list[Any], ListSink]) -> None:
    _, sink = corpus
    ids = [p["id"] for p in sink.posts]
    assert len(set(ids)) == len(ids)
    for p in sink.posts:
        assert isinstance(p["id"], str) and p["id"].startswith(f"at://{p['author_id']}/")
        assert p["platform"] == "bluesky"
        assert isinstance(p["created_at"], datetime) and p["created_at"].tzinfo is None
        assert p["created_at"].year == 2026
        assert orjson.loads(p["raw"])["did"] == p["author_id"]
    for p in sink.posts:
        if p["kind"] == "repost":
            assert "/app.bsky.feed.repost/" in p["id"]
            assert p["repost_of_id"].startswith("at://did:")
            assert "/app.bsky.feed.post/" in p["repost_of_id"]
        else:
            assert "/app.bsky.feed.post/" in p["id"]


def test_corpus_replies_follow_the_record(corpus: tuple[list[Any], ListSink]) -> None:
    _, sink = corpus
    replies = [p for p in sink.posts if p["kind"] == "reply"]
    assert replies
    for p in replies:
        reply = orjson.loads(p["raw"])["commit"]["record"]["reply"]
        assert p["reply_to_id"] == reply["parent"]["uri"]
        assert p["conversation_id"] == reply["root"]["uri"]
        assert p["reply_to_author_id"] == reply["parent"]["uri"].split("/")[2]
    originals = [p for p in sink.posts if p["kind"] == "original"]
    assert all(p["conversation_id"] == p["id"] and p["reply_to_id"] is None for p in originals)
    # a self-thread: two replies whose parents are in the corpus
    ids = {p["id"] for p in sink.posts}
    assert sum(p["reply_to_id"] in ids for p in replies) == 2


def test_corpus_facets(corpus: tuple[list[Any], ListSink]) -> None:
    _, sink = corpus
    tagged = [p for p in sink.posts if p.get("hashtags")]
    assert len(tagged) == 2
    assert sum(len(p.get("hashtags", [])) for p in sink.posts) == 4
    for p in tagged:
        assert p["hashtags"] == [t.casefold() for t in p["hashtags_raw"]]
        assert all(not t.startswith("#") for t in p["hashtags"])
    assert {"indierebellion", "talesatwonderworld"} <= {t for p in tagged for t in p["hashtags"]}
    # link facets and external embeds
    assert sum(bool(p.get("urls")) for p in sink.posts) == 5
    assert "https://denikn.cz/2113523" in {u for p in sink.posts for u in p.get("urls", [])}
    media = [m for p in sink.posts for m in p.get("media", [])]
    assert len(media) == 2 and all(m.startswith("image:bafkrei") for m in media)
    langs = Counter(p["lang"] for p in sink.posts if p["kind"] != "repost")
    assert langs["en"] == 7 and langs["en-US"] == 1 and langs[None] == 1


def test_corpus_delete(corpus: tuple[list[Any], ListSink]) -> None:
    _, sink = corpus
    (d,) = sink.deletions
    assert d["id"] == "at://did:plc:4smmjsqf6l5jkzczvw6vsrqc/app.bsky.feed.post/3mpt73z3ejc2p"
    assert d["author_id"] == "did:plc:4smmjsqf6l5jkzczvw6vsrqc"
    assert d["reason"] == "jetstream-delete"
    assert d["deleted_at"] == datetime(2026, 7, 4, 14, 38, 8, 377628)


def test_golden() -> None:
    sink = _parse(_events(GOLDEN))
    assert [p["kind"] for p in sink.posts] == ["reply", "repost"]
    # a delete in another collection is not a post deletion
    assert sink.deletions == []
    # profile update, identity, account
    assert len(sink.accounts) == 3
    profile = [a for a in sink.accounts if a.get("display_name") is not None]
    assert len(profile) == 1 and profile[0]["id"] == "did:plc:o6t5vwyr7ae73foww7bgye4r"
    assert profile[0]["observed_at"] == datetime(2026, 5, 25, 14, 23, 30, 689411)
    assert sink.rejects == []


def test_time_us() -> None:
    events = _events(GOLDEN)
    assert bluesky.time_us(events[0]) == events[0]["time_us"]
    assert bluesky.time_us({"time_us": "12"}) is None
    assert bluesky.time_us([]) is None


# synthetic events (our own neutral texts) for features the corpus lacks
DID = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"
OTHER = "did:plc:bbbbbbbbbbbbbbbbbbbbbbbb"


def _post_event(record: dict[str, Any], rkey: str = "3kaaaaaaaaa2a", op: str = "create") -> dict[str, Any]:
    record = {"$type": "app.bsky.feed.post", "createdAt": "2024-01-02T03:04:05.678Z", **record}
    return {
        "did": DID,
        "time_us": 1704164645678000,
        "kind": "commit",
        "commit": {"rev": "r", "operation": op, "collection": "app.bsky.feed.post",
                   "rkey": rkey, "record": record, "cid": "c"},
    }


def _facet(start: int, end: int, feature: dict[str, Any]) -> dict[str, Any]:
    return {"index": {"byteStart": start, "byteEnd": end}, "features": [feature]}


def test_mentions_quotes_and_plain_hashes() -> None:
    text = "héllo @bob.example.com see #Walk and #notatag"
    b = text.encode()
    at, tag = b.index(b"@bob"), b.index(b"#Walk")
    quoted = f"at://{OTHER}/app.bsky.feed.post/3kbbbbbbbbb2b"
    ev = _post_event({
        "text": text,
        "facets": [
            _facet(at, at + len(b"@bob.example.com"), {"$type": "app.bsky.richtext.facet#mention", "did": OTHER}),
            _facet(tag, tag + 5, {"$type": "app.bsky.richtext.facet#tag", "tag": "Walk"}),
        ],
        "embed": {"$type": "app.bsky.embed.recordWithMedia",
                  "record": {"$type": "app.bsky.embed.record", "record": {"uri": quoted, "cid": "x"}},
                  "media": {"$type": "app.bsky.embed.images", "images": [
                      {"alt": "", "image": {"$type": "blob", "ref": {"$link": "bafkreiq"}}}]}},
        "labels": {"$type": "com.atproto.label.defs#selfLabels", "values": [{"val": "graphic-media"}]},
    })
    sink = ListSink()
    bluesky.parse(ev, sink)
    (p,) = sink.posts
    assert p["kind"] == "quote" and p["quote_of_id"] == quoted
    assert p["mention_ids"] == [OTHER] and p["mentions"] == ["bob.example.com"]
    # '#notatag' has no facet: not a hashtag
    assert p["hashtags"] == ["walk"] and p["hashtags_raw"] == ["Walk"]
    assert p["media"] == ["image:bafkreiq"]
    assert p["sensitive"] is True
    assert p["created_at"] == datetime(2024, 1, 2, 3, 4, 5, 678000)
    assert sink.rejects == []


def test_update_is_parsed_again() -> None:
    sink = ListSink()
    bluesky.parse(_post_event({"text": "a"}, op="update"), sink)
    assert sink.posts[0]["kind"] == "original" and sink.posts[0]["sensitive"] is False


def test_record_embed_of_a_list_is_a_link_not_a_quote() -> None:
    lst = f"at://{OTHER}/app.bsky.graph.list/3kccccccccc2c"
    ev = _post_event({"text": "a list", "embed": {"$type": "app.bsky.embed.record", "record": {"uri": lst}}})
    sink = ListSink()
    bluesky.parse(ev, sink)
    assert sink.posts[0]["kind"] == "original" and sink.posts[0]["urls"] == [lst]


def test_bad_parts_are_rejected_alone() -> None:
    ev = _post_event({
        "text": "x",
        "createdAt": "not a time",
        "facets": [{"features": [{"$type": "app.bsky.richtext.facet#tag"}]}, "junk"],
        "reply": {"root": {}},
    })
    sink = ListSink()
    bluesky.parse(ev, sink)
    (p,) = sink.posts
    assert p["created_at"] == datetime(2024, 1, 2, 3, 4, 5, 678000)  # the event time
    assert p["kind"] == "original" and p["reply_to_id"] is None
    assert len(sink.rejects) == 4


def test_unreadable_events_raise() -> None:
    with pytest.raises(RecordError):
        bluesky.parse({"kind": "commit", "time_us": 1}, ListSink())
    no_record = _post_event({})
    del no_record["commit"]["record"]
    with pytest.raises(RecordError):
        bluesky.parse(no_record, ListSink())
    bad_repost = _post_event({})
    bad_repost["commit"]["collection"] = "app.bsky.feed.repost"
    with pytest.raises(RecordError):
        bluesky.parse(bad_repost, ListSink())
    with pytest.raises(RecordError):
        bluesky.parse("text", ListSink())


def test_repost_delete_is_a_deletion() -> None:
    ev = {"did": DID, "time_us": 1704164645678000, "kind": "commit",
          "commit": {"rev": "r", "operation": "delete", "collection": "app.bsky.feed.repost", "rkey": "3kd"}}
    sink = ListSink()
    bluesky.parse(ev, sink)
    assert sink.deletions[0]["id"] == f"at://{DID}/app.bsky.feed.repost/3kd"
    assert sink.posts == []
