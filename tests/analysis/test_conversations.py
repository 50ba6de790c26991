"""The movement's conversation on small hand-made stores: which replies it holds, where they hang,
the window, missing parents, cycles, the hop caps, and the counts ``spread`` and the CLI give."""

from __future__ import annotations

from typing import Any

import pytest

from .test_units import P


def thread_store(s: Any) -> None:
    """A call without the hashtag (1) and its thread; a tagged post (20) with an untagged chain under it."""
    s.add_posts([
        P(1, 1, 0, tags=()),                                                    # the call, no tag
        P(2, 2, 5, "reply", reply_to_id="1"),                                   # tagged reply to the call
        P(3, 3, 6, "reply", tags=(), reply_to_id="1"),                          # untagged sibling
        P(4, 4, 7, "reply", tags=(), reply_to_id="2"),                          # untagged, below 2
        P(5, 5, 8, "reply", tags=(), reply_to_id="4"),                          # untagged, below 4
        P(6, 6, 9, "reply", tags=(), reply_to_id="3"),                          # untagged, under the sibling
        P(20, 7, 10),                                                           # tagged original
        P(21, 8, 11, "reply", tags=(), reply_to_id="20"),                       # untagged chain under 20
        P(22, 9, 12, "reply", tags=(), reply_to_id="21"),
        P(23, 10, 13, "reply", tags=(), reply_to_id="22"),
        P(30, 11, 14, "reply", reply_to_id="999"),                              # tagged, parent not collected
        P(40, 12, 15, tags=()),                                                 # a thread without the movement
        P(41, 13, 16, "reply", tags=(), reply_to_id="40"),
        P(50, 14, 17, "repost", tags=(), repost_of_id="20", reply_to_id="20"),  # a repost answers nothing
        P(60, 15, 600 * 24, "reply", tags=(), reply_to_id="20"),               # 10 days later
    ])


def _conv(s: Any, **kw: Any) -> tuple[Any, dict[str, dict[str, Any]]]:
    from groundswell.analysis import sql
    from groundswell.analysis.conversations import conversation
    from groundswell.analysis.scope import movement_scope

    scope = movement_scope(s, "metoo", **kw)
    conv = conversation(s, scope)
    rows = {r["id"]: r for r in sql.rows(s, "SELECT * FROM gs_conversation")}
    return conv, rows


def test_untagged_replies_above_below_and_beside(tmp_path):
    from groundswell.store import open_store

    with open_store(tmp_path / "s.duckdb") as s:
        thread_store(s)
        conv, rows = _conv(s)
    via = {k: r["via"] for k, r in rows.items()}
    assert via == {"2": "movement", "30": "movement", "3": "thread", "6": "thread", "4": "below", "5": "below",
                   "21": "below", "22": "below", "23": "below", "60": "below"}
    assert {k: r["reply_to_id"] for k, r in rows.items()}["30"] == "999"
    assert conv.tagged == 2 and conv.untagged == 8
    d = conv.describe()
    assert d["replies"] == {"total": 10, "tagged": 2, "untagged": 8}
    assert d["untagged"] == {"below_a_movement_post": 6, "elsewhere_in_its_threads": 2, "above_a_movement_post": 0}
    # ancestors: the call (a root in the store) and 999 (not collected)
    assert d["ancestors"] == {"posts": 2, "roots": 1, "not_in_store": 1, "below_a_movement_post": 0}
    assert d["walk"]["truncated"] == {"up": 0, "down": 0}


def test_window_keeps_later_replies_out_but_ancestors_in(tmp_path):
    from groundswell.store import open_store

    with open_store(tmp_path / "s.duckdb") as s:
        thread_store(s)
        conv, rows = _conv(s, start="2017-10-15T12:05:00Z", end="2017-10-16T00:00:00Z")
    assert "60" not in rows                  # ten days later: outside the window
    assert rows["3"]["via"] == "thread"      # the call (12:00) is before the window, its thread still counts
    assert conv.describe()["ancestors"]["roots"] == 1


def test_ancestors_that_are_replies_and_movement_posts_met_on_the_way_up(tmp_path):
    from groundswell.store import open_store

    with open_store(tmp_path / "s.duckdb") as s:
        s.add_posts([
            P(1, 1, 0),                                                 # tagged root
            P(2, 2, 1, "reply", tags=(), reply_to_id="1"),
            P(3, 3, 2, "reply", tags=(), reply_to_id="2"),
            P(4, 4, 3, "reply", reply_to_id="3"),                       # tagged, under two untagged replies
            P(5, 5, 4, "reply", tags=(), reply_to_id="3"),              # beside the tagged one
            P(10, 6, 5, tags=()),                                       # untagged root
            P(11, 7, 6, "reply", tags=(), reply_to_id="10"),
            P(12, 8, 7, "reply", reply_to_id="11"),                     # tagged, its parent a reply
        ])
        conv, rows = _conv(s)
    via = {k: r["via"] for k, r in rows.items()}
    # 2 and 3 sit both below 1 and above 4: they count once, as ancestors (below a movement post);
    # 5, beside 4 under 3, is below 1
    assert via == {"4": "movement", "12": "movement", "2": "above", "3": "above", "11": "above", "5": "below"}
    assert conv.describe()["ancestors"] == {"posts": 4, "roots": 1, "not_in_store": 0, "below_a_movement_post": 2}


def test_cycles_end(tmp_path):
    from groundswell.analysis.cascades import reply_trees
    from groundswell.analysis.scope import movement_scope
    from groundswell.store import open_store

    with open_store(tmp_path / "s.duckdb") as s:
        s.add_posts([P(1, 1, 0, "reply", reply_to_id="2"), P(2, 2, 1, "reply", tags=(), reply_to_id="1"),
                     P(3, 3, 2, "reply", tags=(), reply_to_id="2")])
        conv, rows = _conv(s)
        r = reply_trees(s, movement_scope(s, "metoo"))
    assert set(rows) == {"1", "2", "3"} and rows["2"]["via"] == "above" and rows["3"]["via"] == "below"
    assert r["replies"]["total"] == 3


def test_hop_caps_are_reported(tmp_path, monkeypatch):
    from groundswell.analysis import conversations
    from groundswell.store import open_store

    posts = [P(1, 1, 0)] + [P(i, i, i, "reply", tags=(), reply_to_id=str(i - 1)) for i in range(2, 8)]
    posts += [P(100, 1, 0, tags=())] + [P(100 + i, i, i, "reply", tags=(), reply_to_id=str(99 + i))
                                        for i in range(1, 6)]
    posts.append(P(200, 9, 9, "reply", reply_to_id="105"))  # tagged, five untagged replies above it
    monkeypatch.setattr(conversations, "MAX_HOPS", 3)
    with open_store(tmp_path / "s.duckdb") as s:
        s.add_posts(posts)
        conv, rows = _conv(s)
    w = conv.describe()["walk"]
    assert w["hops_up"] == 3 and w["truncated"]["up"] == 1       # 105, 104, 103 walked; 102 left
    assert w["hops_down"] == 3 and w["truncated"]["down"] == 1   # 2, 3, 4 below 1; 5 left
    assert {"2", "3", "4"} <= set(rows) and "5" not in rows


def test_spread_and_trees_count_the_conversation(tmp_path, cli):
    from groundswell.analysis import analyze, sql
    from groundswell.store import open_store

    db = tmp_path / "s.duckdb"
    with open_store(db) as s:
        thread_store(s)
        s.con.execute("UPDATE posts SET reply_count = 2 WHERE id = '20'")
        sql.ISSUED.clear()
        r = analyze(s, ["metoo"])
    assert sum("m.reply_to_id AS id" in q for q in sql.ISSUED) == 1  # one walk for spread and cascades
    sp = r["spread"]
    assert sp["observed"]["replies"] == 10
    assert (sp["observed"]["replies_tagged"], sp["observed"]["replies_untagged"]) == (2, 8)
    # replies whose parent is a movement post: 4 (to 2), 21 and 60 (to 20)
    assert sp["observed"]["replies_to_movement_posts"] == 3
    assert sp["reported"]["replies"] == 2 and sp["coverage"]["replies"] == 1.5
    assert set(sp["counted"]) >= {"reposts", "replies", "quotes", "reported", "coverage"}
    top = {m["post_id"]: m["observed"]["replies"] for m in sp["most_shared"]}
    assert top["1"] == 2 and top["20"] == 2  # the call: its tagged and its untagged reply
    rt = r["cascades"]["replies"]
    assert rt["cascades"] == 3  # the call's thread, 20's chain, and 999's (known by id)
    big = {t["post_id"]: t for t in rt["largest"]}
    one = big["1"]
    assert (one["size"], one["depth"], one["replies_tagged"], one["replies_untagged"]) == (6, 3, 1, 4)
    assert big["1"]["root_carries_hashtag"] is False and big["20"]["root_carries_hashtag"] is True
    assert (big["999"]["size"], big["999"]["account_id"]) == (2, None)
    text = cli("analyze", "--hashtag", "metoo", "--db", db)
    assert text.code == 0 and "3 reply trees (max depth 3); 2 replies with the hashtag, 8 without" in text.out


@pytest.mark.parametrize("start", [None, "2017-10-15T12:05:00Z"])
def test_every_query_transpiles(tmp_path, start):
    import sqlglot

    from groundswell.analysis import sql
    from groundswell.store import open_store

    sql.ISSUED.clear()
    with open_store(tmp_path / "s.duckdb") as s:
        thread_store(s)
        _conv(s, start=start)
    assert any("gs_conv_down_1" in q for q in sql.ISSUED) or any("gs_conv_candidates" in q for q in sql.ISSUED)
    for q in sql.ISSUED:
        assert sqlglot.transpile(q, read="duckdb", write="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)[0]
