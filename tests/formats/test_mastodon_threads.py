"""Mastodon reply trees on real recorded responses (``mastodon-api-rtoot``, SOURCES.md section 7).

A status' ``in_reply_to_id`` is a number local to the server that answered;
the store keeps statuses by URI. The truth is read here from the responses
themselves (each status' ``id`` and ``in_reply_to_id`` on the one server that
answered) and from the recordings' ``index.json``:

* the context of mastodon.social status 109294719267373593: 59 descendants,
  all replies, depth 7, one parent outside them (the status itself);
* the four #IchBinHanna tag pages: 57 replies, of which only those whose
  parent is also on the pages can be linked to a stored post.

Whichever way the responses come in (bare bodies as a user saved them,
collect's envelopes, the parents in a later file or a later ingest, collect
itself), each reply must point at its parent's URI.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from groundswell.formats import envelope, mastodon
from groundswell.formats.base import ListSink
from groundswell.store import open_store

from ..conftest import shared

RTOOT = "mastodon-api-rtoot"
ROOT = "109294719267373593"
SOCIAL = "mastodon.social"
FETCHED = datetime(2025, 7, 17, 18, 5, 7)


def _body(name: str) -> Any:
    return json.loads(shared(f"{RTOOT}/{name}.json").read_text())["body"]


def _index(name: str) -> dict[str, Any]:
    return json.loads(shared(f"{RTOOT}/index.json").read_text())[f"{name}.json"]["counts"]


def _truth(statuses: list[dict[str, Any]]) -> dict[str, str | None]:
    """Each reply's URI -> its parent's URI when the parent is among ``statuses`` (None otherwise);
    all statuses were given by one server, so ids and in_reply_to_ids are its numbers."""
    by_id = {s["id"]: s["uri"] for s in statuses}
    return {s["uri"]: by_id.get(s["in_reply_to_id"]) for s in statuses if s.get("in_reply_to_id")}


def _depth(parents: dict[str, str]) -> int:
    def d(x: str) -> int:
        n = 0
        while x in parents:
            x, n = parents[x], n + 1
        return n
    return max(d(x) for x in parents)


def _links(db: Path) -> dict[str, str | None]:
    with open_store(db, read_only=True) as st:
        return dict(st.con.execute("SELECT id, reply_to_id FROM posts WHERE kind = 'reply'").fetchall())


def _stored(db: Path) -> set[str]:
    with open_store(db, read_only=True) as st:
        return {r[0] for r in st.con.execute("SELECT id FROM posts").fetchall()}


def test_the_context_s_truth() -> None:
    desc = _body("get_context_default.0")["descendants"]
    truth = _truth(desc)
    counts = _index("get_context_default.0")
    assert len(desc) == len(truth) == counts["replies"] == 59
    outside = {s["in_reply_to_id"] for s in desc} - {s["id"] for s in desc}
    assert outside == {ROOT} and counts["descendant_parent_ids_outside_descendants"] == 1
    inside = {k: v for k, v in truth.items() if v is not None}
    assert _depth(inside) + 1 == counts["descendant_max_depth"] == 7  # + the step up to the root


@pytest.mark.parametrize("how", ["bare", "envelope"])
def test_the_context_is_one_tree_of_59_replies_and_depth_7(how: str, tmp_path: Path, cli) -> None:
    body = _body("get_context_default.0")
    f = tmp_path / "context.json"
    if how == "bare":  # the body as a user saved it: no server named anywhere
        f.write_text(json.dumps(body))
    else:  # as collect archives it
        f.write_text(json.dumps(envelope.wrap("mastodon", "statuses/context", body, fetched_at=FETCHED,
                                              server=SOCIAL, subject=f"https://{SOCIAL}/x")) + "\n")
    db = tmp_path / "s.duckdb"
    r = cli("ingest", "--db", db, "--quiet", f)
    assert r.code == 0, r.err
    truth = _truth(body["descendants"])
    links = _links(db)
    assert len(links) == 59
    for reply, parent in truth.items():
        if parent is not None:
            assert links[reply] == parent
    roots = {links[r] for r, p in truth.items() if p is None}
    assert len(roots) == 1  # the 43 direct replies name the one root the same way, by its URI
    (root,) = roots
    assert root == f"https://{SOCIAL}/users/austinkocher/statuses/{ROOT}"
    # the movement's conversation: analyze on a hashtag one reply carries
    r = cli("analyze", "--db", db, "--hashtag", "supportmastodon", "--json", "--identify")
    assert r.code == 0, r.err
    rt = r.json()["cascades"]["replies"]
    assert rt["cascades"] == 1 and rt["replies"]["total"] == 59
    assert rt["depth"]["max"] == 7 and rt["size"]["max"] == 60  # 59 replies and the root they answer


def test_the_tag_pages_give_their_replies_the_parents_they_hold(tmp_path: Path, cli) -> None:
    pages = [_body(f"handle_params_max_id.{i}") for i in range(4)]
    statuses = [s for p in pages for s in p]
    truth = _truth(statuses)
    present = {r: p for r, p in truth.items() if p is not None}
    assert len(truth) == 57 and len(present) == 11
    files = []
    for i, p in enumerate(pages):
        files.append(tmp_path / f"p{i}.json")
        files[-1].write_text(json.dumps(p))
    db = tmp_path / "s.duckdb"
    assert cli("ingest", "--db", db, "--quiet", *files).code == 0
    links, stored = _links(db), _stored(db)
    assert len(links) == 57 and all(v is not None for v in links.values())
    assert {r: p for r, p in links.items() if p in stored} == present
    # the others keep an address on the server that answered, to be linked when the parent comes
    for r, p in links.items():
        if r not in present:
            assert p.startswith(f"https://{SOCIAL}/") and p not in stored


def test_parents_seen_later_in_another_file_and_ingest(tmp_path: Path, cli) -> None:
    """The replies first, in one ingest; their parents in a later one, in the other order."""
    desc = _body("get_context_default.0")["descendants"]
    truth = _truth(desc)
    parents = {p for p in truth.values() if p is not None}
    first = [s for s in desc if s["uri"] not in parents]
    later = [s for s in desc if s["uri"] in parents]
    assert first and later
    db = tmp_path / "s.duckdb"
    for i, part in enumerate((first, later)):
        f = tmp_path / f"part{i}.json"
        f.write_text(json.dumps(part))
        assert cli("ingest", "--db", db, "--quiet", f).code == 0
    links = _links(db)
    assert all(links[r] == p for r, p in truth.items() if p is not None)


def test_collect_threads_link_every_reply(tmp_path: Path) -> None:
    from ..collect.conftest import make_client
    from ..collect.standins import FakeClock, MastodonStandIn, fosstodon, mastodon_social
    from groundswell.collect import collect_mastodon
    from groundswell.collect.mastodon import instance

    clock = FakeClock()
    ms = MastodonStandIn(clock, {SOCIAL: mastodon_social(), "fosstodon.org": fosstodon()})
    subject = f"https://{SOCIAL}/users/austinkocher/statuses/{ROOT}"
    with open_store(tmp_path / "s.duckdb") as store:
        store.add_posts([{"platform": "mastodon", "id": subject, "kind": "original", "hashtags": ["ichbinhanna"],
                          "reply_count": 59, "created_at": datetime(2022, 11, 6),
                          "raw": json.dumps({"id": ROOT, "_server": SOCIAL})}])
        client = make_client(ms, clock, concurrency=2)
        try:
            s = collect_mastodon(store, ["ichbinhanna"], [instance(f"https://{SOCIAL}", {})], client=client,
                                 threads=True)
        finally:
            client.close()
        assert s.ok, s.errors
        stored = {r["id"] for r in store.sql("SELECT id FROM posts").to_pylist()}
        links = dict(store.con.execute("SELECT id, reply_to_id FROM posts WHERE kind = 'reply'").fetchall())
    desc = _body("get_context_default.0")["descendants"]
    truth = _truth(desc)
    for reply, parent in truth.items():
        assert links[reply] == (parent or subject)
    assert all(links[r] in stored for r in truth)


def test_a_response_names_its_server_only_when_its_local_statuses_agree() -> None:
    page = _body("handle_params_max_id.0")
    assert mastodon.answering_server(page) == SOCIAL
    other = dict(page[0], id="1", uri="https://example.org/users/x/statuses/1", url="https://example.org/@x/1")
    assert mastodon.answering_server([*page, other]) is None
    sink = ListSink()
    mastodon.parse(page, sink)
    assert all(json.loads(p["raw"])["_server"] == SOCIAL for p in sink.posts)
    replies = [p for p in sink.posts if p["kind"] == "reply"]
    assert replies and all(p["reply_to_id"] for p in replies)
