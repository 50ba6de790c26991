"""Reply trees against real conversations: the RumourEval 2017 / PHEME threads in
``../shared/data/rumoureval-pheme`` (SOURCES.md section 6).

The truth comes from outside groundswell: the thread folders say which tweets make each thread
(``source-tweet/`` and ``replies/``), ``expected.json`` gives each thread's size and depth, and
``structure.json`` gives each tweet's parent as the PHEME collectors recorded it. Hashtags are read
here from the raw tweets' ``entities`` (not from the store). No text is printed.

A hashtag does not reach every thread: of 111 threads, 90 have a hashtag on some tweet, and only 40
of charliehebdo's 74, 12 of germanwings-crash's 25 and 4 of prince-toronto's 12 carry the event's
most used source hashtag (the most replies carry none). So two tests:

* through the CLI, the movement is the hashtag most of the event's source tweets carry
  (#charliehebdo, #germanwings, #prince; ties by name): every thread with that hashtag on any of its
  tweets, root or reply, must come out whole, with its untagged replies, and no other thread;
* for every thread of all three events, the movement is one reply per thread chosen from the folders
  (the newest, or the source when a thread has no replies) under a hashtag that no tweet carries: the
  conversation walk must climb from it to the root and come back down to every tweet of the thread,
  with the parents ``structure.json`` records.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from ..conftest import shared

EVENTS = ("charliehebdo", "germanwings-crash", "prince-toronto")
NO_SUCH_TAG = "gs-seeds"  # a hashtag cannot hold '-': no tweet carries it


def _tweets(event: str) -> dict[str, dict[str, Any]]:
    """id -> (parent, hashtags) read from the raw v1.1 tweets."""
    out = {}
    for line in shared(f"rumoureval-pheme/{event}.v1.jsonl").read_text(encoding="utf-8").splitlines():
        t = json.loads(line)
        out[t["id_str"]] = {"parent": t.get("in_reply_to_status_id_str"),
                            "tags": {h["text"].casefold() for h in t.get("entities", {}).get("hashtags", [])}}
    return out


def _structure_parents(node: dict[str, Any] | list[Any], parent: str | None, out: dict[str, str | None]) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            out[k] = parent
            _structure_parents(v, k, out)


def _threads(event: str) -> dict[str, dict[str, Any]]:
    """root -> members (from the folders), expected size and depth, structure.json parents."""
    expected = json.loads(shared("rumoureval-pheme/expected.json").read_text())["events"][event]["thread"]
    out = {}
    for root, exp in expected.items():
        folder = shared(f"rumoureval-pheme/{event}/{root}")
        source = [p.stem for p in (folder / "source-tweet").glob("*.json")]
        replies = sorted((p.stem for p in (folder / "replies").glob("*.json")), key=int) \
            if (folder / "replies").exists() else []
        assert source == [root]
        parents: dict[str, str | None] = {}
        _structure_parents(json.loads((folder / "structure.json").read_text()), None, parents)
        out[root] = {"members": {root, *replies}, "replies": replies, "size": exp["tweets"],
                     "depth": exp["max_depth"], "structure": parents}
        assert len(out[root]["members"]) == exp["tweets"]
    return out


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from groundswell.ingest import ingest
    from groundswell.store import open_store

    out = {}
    for event in EVENTS:
        db = tmp_path_factory.mktemp("pheme") / f"{event}.duckdb"
        with open_store(db) as s:
            summary = ingest(s, [str(shared(f"rumoureval-pheme/{event}.v1.jsonl"))], progress=False)
        assert summary.ok
        out[event] = db
    return out


def _event_tag(tweets: dict[str, dict[str, Any]], threads: dict[str, dict[str, Any]]) -> str:
    counts = Counter(t for root in threads for t in tweets[root]["tags"])
    return min(counts, key=lambda t: (-counts[t], t))


@pytest.mark.parametrize("event", EVENTS)
def test_hashtag_movement_gets_its_threads_whole(event: str, stores: dict[str, Path], cli: Any) -> None:
    tweets, threads = _tweets(event), _threads(event)
    tag = _event_tag(tweets, threads)
    assert tag == {"charliehebdo": "charliehebdo", "germanwings-crash": "germanwings",
                   "prince-toronto": "prince"}[event]
    touched = {r: th for r, th in threads.items() if any(tag in tweets[m]["tags"] for m in th["members"])}
    trees = {r: th for r, th in touched.items() if th["size"] > 1}
    replies = [m for th in touched.values() for m in th["replies"]]
    tagged = sum(tag in tweets[m]["tags"] for m in replies)
    assert len(trees) < len(threads) and len(replies) > 2 * tagged  # most replies carry no hashtag

    r = cli("analyze", "--hashtag", tag, "--db", stores[event], "--json", "--identify")
    assert r.code == 0, r.err
    d = r.json()
    rt = d["cascades"]["replies"]
    assert rt["cascades"] == len(trees)
    assert rt["replies"] == {"total": len(replies), "tagged": tagged, "untagged": len(replies) - tagged}
    assert sum(rt["untagged"].values()) == len(replies) - tagged
    assert rt["walk"]["truncated"] == {"up": 0, "down": 0}
    assert rt["depth"]["max"] == max(th["depth"] for th in trees.values())
    assert rt["size"]["count"] == len(trees) and rt["size"]["max"] == max(th["size"] for th in trees.values())
    want = sorted(trees.items(), key=lambda x: (-x[1]["size"], x[0]))[:10]
    assert [(t["post_id"], t["size"], t["depth"]) for t in rt["largest"]] == \
        [(root, th["size"], th["depth"]) for root, th in want]
    for t in rt["largest"]:
        th = threads[t["post_id"]]
        assert t["replies_tagged"] == sum(tag in tweets[m]["tags"] for m in th["replies"])
        assert t["replies_untagged"] == len(th["replies"]) - t["replies_tagged"]
        assert t["root_carries_hashtag"] == (tag in tweets[t["post_id"]]["tags"])
    sp = d["spread"]["observed"]
    assert (sp["replies"], sp["replies_tagged"], sp["replies_untagged"]) == \
        (len(replies), tagged, len(replies) - tagged)
    direct = sum(1 for m in replies if tag in tweets[tweets[m]["parent"]]["tags"])
    assert sp["replies_to_movement_posts"] == direct
    assert "replies" in d["spread"]["counted"]

    text = cli("analyze", "--hashtag", tag, "--db", stores[event])
    assert text.code == 0, text.err
    assert f"{len(trees):,} reply trees" in text.out
    assert f"{tagged:,} replies with the hashtag, {len(replies) - tagged:,} without" in text.out
    assert "None" not in text.out


@pytest.mark.parametrize("event", EVENTS)
def test_every_thread_from_one_reply(event: str, stores: dict[str, Path]) -> None:
    import numpy as np

    from groundswell.analysis import sql
    from groundswell.analysis.cascades import REPLY_EDGES_SQL, reply_trees, tree_metrics
    from groundswell.analysis.conversations import conversation
    from groundswell.analysis.scope import _COLUMNS, Scope
    from groundswell.store import open_store

    threads = _threads(event)
    seeds = [th["replies"][-1] if th["replies"] else root for root, th in threads.items()]
    with open_store(stores[event], read_only=True) as s:
        sql.materialize(s, "gs_seeds", f"SELECT {_COLUMNS} FROM posts p WHERE p.id IN {{ids}}",
                        ids=sql.Raw(sql.in_list(seeds)))
        scope = Scope([NO_SUCH_TAG], None, None, "hour", sql.Raw("gs_seeds"))
        assert sql.scalar(s, "SELECT count(*) FROM gs_seeds") == len(threads)
        conv = conversation(s, scope)
        edges = sql.run(s, REPLY_EDGES_SQL, conv=conv.table).to_pylist()
        summary = reply_trees(s, scope)
        for name in ("gs_seeds", "gs_conversation"):
            sql.drop(s, name)
    parent = {e["child"]: e["parent"] for e in edges}
    assert len(parent) == len(edges)  # each reply once
    # every tweet of every thread, and nothing else
    assert set(parent) == {m for th in threads.values() for m in th["replies"]}
    tm = tree_metrics(pa_array(list(parent)), pa_array(list(parent.values())))
    got = {tm["nodes"][int(r)].as_py(): (int(n), int(d)) for r, n, d in zip(tm["root"], tm["size"], tm["depth"])}
    want = {root: (th["size"], th["depth"]) for root, th in threads.items() if th["size"] > 1}
    assert got == want
    # each reply hangs under the tweet structure.json names as its parent (all collected here)
    assert parent == {m: th["structure"][m] for th in threads.values() for m in th["replies"]}
    # every reply is untagged here: the seeds are the movement's only posts
    assert conv.tagged == sum(1 for s_ in seeds if s_ in parent)
    assert summary["cascades"] == len(want)
    assert summary["depth"]["max"] == max(d for _, d in want.values())
    assert np.isclose(summary["size"]["mean"], np.mean([n for n, _ in want.values()]), atol=1e-4)


def pa_array(values: list[str]) -> Any:
    import pyarrow as pa

    return pa.array(values, pa.string())
