"""Tests of the Mastodon parser on statuses recorded by Mastodon.py's test suite."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from groundswell.formats import mastodon
from groundswell.formats.base import ListSink, RecordError, fold_tag

DATA = Path("../shared/data/mastodon-py")


def _lines(name: str) -> list[Any]:
    with (DATA / name).open("rb") as fh:
        return [orjson.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="module")
def statuses() -> list[dict[str, Any]]:
    return _lines("statuses.jsonl")


@pytest.fixture(scope="module")
def parsed(statuses: list[dict[str, Any]]) -> ListSink:
    sink = ListSink()
    for s in statuses:
        mastodon.parse(s, sink)
    return sink


def test_sniff(statuses: list[dict[str, Any]]) -> None:
    assert all(mastodon.sniff(s) for s in statuses)
    assert mastodon.sniff(statuses[:3])
    assert mastodon.sniff({"event": "delete", "payload": "1"})
    assert mastodon.sniff({"ancestors": [], "descendants": []})
    assert not mastodon.sniff({"did": "did:plc:x", "time_us": 1, "kind": "commit"})
    assert not mastodon.sniff({"data": [{"id": "1", "text": "x"}]})
    assert not mastodon.sniff([])


def test_all_statuses(statuses: list[dict[str, Any]], parsed: ListSink) -> None:
    top = [p for p in parsed.posts if not p["is_reference"]]
    assert len(top) == 28
    assert [p["id"] for p in top] == [s["uri"] for s in statuses]
    assert parsed.rejects == []
    kinds = Counter(p["kind"] for p in top)
    # the one quote also replies: a reply, by the rule every platform shares (formats.base.post_kind)
    assert kinds == {"original": 20, "reply": 5, "repost": 3}
    refs = [p for p in parsed.posts if p["is_reference"]]
    assert len(refs) == 4  # 3 reblogged statuses and 1 quoted status
    for p in parsed.posts:
        assert p["platform"] == "mastodon"
        assert isinstance(p["created_at"], datetime) and p["created_at"].tzinfo is None
        assert p["author_id"].startswith(("http://", "https://"))
        assert "@" in p["author_handle"]
    assert len(parsed.accounts) == len(parsed.posts)


def test_hashtags_match_tags(statuses: list[dict[str, Any]], parsed: ListSink) -> None:
    top = [p for p in parsed.posts if not p["is_reference"]]
    tagged = 0
    for s, p in zip(statuses, top):
        source = s["reblog"] or s
        expected = [fold_tag(t["name"]) for t in source["tags"]]
        assert sorted(p["hashtags"]) == sorted(expected), p["id"]
        assert [fold_tag(t) for t in p["hashtags_raw"]] == p["hashtags"]
        tagged += bool(expected)
    assert tagged == 2
    # the spelling as written in the text, not the API's lower-cased name
    assert ["ThisIsAHashtag"] in [p["hashtags_raw"] for p in top]


def test_reblogs_linked(statuses: list[dict[str, Any]], parsed: ListSink) -> None:
    reposts = [p for p in parsed.posts if p["kind"] == "repost"]
    assert len(reposts) == 3
    ids = {p["id"] for p in parsed.posts if not p["is_reference"] and p["kind"] != "repost"}
    refs = {p["id"] for p in parsed.posts if p["is_reference"]}
    for p in reposts:
        assert p["id"].endswith("/activity")
        assert p["repost_of_id"] in refs
        # the reblogged status was also fetched on its own
        assert p["repost_of_id"] in ids
        assert p.get("text") is None


def test_replies_linked(parsed: ListSink) -> None:
    posts = {p["id"]: p for p in parsed.posts}
    replies = [p for p in parsed.posts if p.get("reply_to_id") is not None and not p["is_reference"]]
    assert len(replies) == 5  # 4 replies + the quote, which also replies
    # a reply on the local test instance links to its parent's uri
    local = [p for p in replies if p["id"].startswith("http://localhost:3000/")]
    assert len(local) == 1 and local[0]["reply_to_id"] in posts
    assert posts[local[0]["reply_to_id"]]["author_id"] == local[0]["reply_to_author_id"]
    # self-replies of a local account get the exact parent uri
    exact = [p for p in replies if p["reply_to_id"].startswith("https://mastodon.social/users/halcy/statuses/")]
    assert len(exact) == 2
    # otherwise: the server-scoped address of the parent
    scoped = [p for p in replies if "/api/v1/statuses/" in p["reply_to_id"]]
    assert len(scoped) == 2
    assert all(p["reply_to_id"].startswith("https://mastodon.social/api/v1/statuses/") for p in scoped)


def test_quote_media_card(parsed: ListSink) -> None:
    top = [p for p in parsed.posts if not p["is_reference"]]
    (quote,) = [p for p in top if p.get("quote_of_id")]
    assert quote["quote_of_id"] in {p["id"] for p in parsed.posts if p["is_reference"]}
    media = [m for p in top for m in p.get("media", [])]
    assert sorted(m.split(":", 1)[0] for m in media) == ["audio", "gifv", "image"]
    assert "https://halcy.itch.io/cat-game" in {u for p in top for u in p.get("urls", [])}
    counted = [p for p in top if p.get("repost_count") is not None]
    # the API gives no observation time: the status' own creation time stands for it
    assert len(counted) == 25 and all(p.get("metrics_observed_at") == p["created_at"] for p in counted)


def test_accounts(parsed: ListSink) -> None:
    accts = {a["id"]: a for a in parsed.accounts}
    halcy = accts["https://mastodon.social/@halcy"]
    assert halcy["handle"] == "halcy@mastodon.social"
    assert isinstance(halcy["followers"], int) and isinstance(halcy["posts_count"], int)
    assert isinstance(halcy["created_at"], datetime)
    assert orjson.loads(halcy["raw"])["_server"] == "mastodon.social"
    assert all(a["description"] is None or "<p>" not in a["description"] for a in parsed.accounts)


def _bodies() -> list[Any]:
    out = []
    for rec in _lines("api_responses.jsonl"):
        body = rec.get("json")
        if body is not None and mastodon.sniff(body):
            out.append(body)
    return out


def test_api_responses(statuses: list[dict[str, Any]]) -> None:
    bodies = _bodies()
    sink = ListSink()
    for body in bodies:
        mastodon.parse(body, sink)
    assert sink.rejects == []
    # trends, edit histories, relationships and accounts are not claimed
    assert len(bodies) == 32
    assert {p["id"] for p in sink.posts} == {s["uri"] for s in statuses} | {
        p["id"] for p in _parse_all(statuses).posts if p["is_reference"]
    }


def _parse_all(items: list[Any]) -> ListSink:
    sink = ListSink()
    mastodon.parse(items, sink)
    return sink


def test_streaming_events() -> None:
    (stream,) = [r["text"] for r in _lines("api_responses.jsonl") if r.get("text")]
    events = []
    for block in stream.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            events.append({"event": fields["event"], "payload": fields["data"], "_server": "localhost:3000"})
    assert len(events) == 1
    sink = ListSink()
    for ev in events:
        mastodon.parse(ev, sink)
    assert [p["id"] for p in sink.posts] == [orjson.loads(events[0]["payload"])["uri"]]
    sink = ListSink()
    mastodon.parse({"event": "delete", "payload": "1234", "_server": "example.social"}, sink)
    assert sink.deletions == [{"platform": "mastodon", "id": "https://example.social/api/v1/statuses/1234",
                               "reason": "mastodon-delete"}]


def test_html_to_text() -> None:
    links: list[str] = []
    html = ('<p>one &amp; two<br>three</p><p>four <a href="https://example.org/abc" class="">'
            '<span class="invisible">https://</span><span class="ellipsis">example.org/a</span>'
            '<span class="invisible">bc</span></a> <a href="https://x.example/tags/walk" '
            'class="mention hashtag">#<span>Walk</span></a></p>')
    assert mastodon.html_to_text(html, links) == "one & two\nthree\n\nfour https://example.org/abc #Walk"
    assert links == ["https://example.org/abc"]
    assert mastodon.html_to_text("plain &lt;b&gt;") == "plain <b>"
    assert mastodon.html_to_text("plain") == "plain"


def test_bad_elements_rejected_alone(statuses: list[dict[str, Any]]) -> None:
    sink = ListSink()
    broken = dict(statuses[1])
    del broken["uri"], broken["url"]
    mastodon.parse([statuses[0], broken, "junk", statuses[2]], sink)
    assert [p["id"] for p in sink.posts] == [statuses[0]["uri"], statuses[2]["uri"]]
    assert len(sink.rejects) == 2 and all(r.startswith("element ") for r in sink.rejects)
    with pytest.raises(RecordError):
        mastodon.parse(broken, ListSink())
    with pytest.raises(RecordError):
        mastodon.parse({"event": "update", "payload": "{not json"}, ListSink())


def test_shallow_quote(statuses: list[dict[str, Any]]) -> None:
    s = dict(statuses[1])
    s["quote"] = {"state": "accepted", "quoted_status_id": "42"}
    sink = ListSink()
    mastodon.parse(s, sink)
    (p,) = sink.posts
    assert p["kind"] == "quote" and p["quote_of_id"] == "https://mastodon.social/api/v1/statuses/42"
    s["quote"] = {"state": "pending", "quoted_status": None}
    sink = ListSink()
    mastodon.parse(s, sink)
    assert sink.posts[0]["kind"] == "original"
