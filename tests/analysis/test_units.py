"""Small hand-made stores and known answers."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from groundswell.analysis.bursts import change_point, kleinberg_states
from groundswell.analysis.cascades import tree_metrics

T0 = datetime(2017, 10, 15, 12)


def P(i, author, minutes, kind="original", tags=("metoo",), **kw):
    d = {"platform": "twitter", "id": str(i), "author_id": f"u{author}", "author_handle": f"h{author}",
         "created_at": T0 + timedelta(minutes=minutes), "kind": kind, "hashtags": list(tags),
         "hashtags_raw": list(tags), "text": f"t{i}", "lang": "en"}
    d.update(kw)
    return d


def small_store(s):
    """A call without the hashtag at 20:21 by u1; reposts and replies to it carry it; a chain of replies."""
    posts = [P(1, 0, 0), P(2, 5, 200), P(3, 6, 300)]
    posts.append(P(100, 1, 8 * 60 + 21, tags=()))  # the call, no hashtag
    i = 200
    for k in range(40):  # reposts of the call carrying the tag
        posts.append(P(i, 10 + k, 8 * 60 + 25 + k, "repost", repost_of_id="100")); i += 1
    prev = "100"
    for k in range(5):  # a reply chain under the call
        posts.append(P(i, 60 + k, 8 * 60 + 30 + k, "reply", reply_to_id=prev, reply_to_author_id="u1"))
        prev = str(i); i += 1
    for k in range(6):  # two coordinated accounts never seen elsewhere... plus text copies
        posts.append(P(i, 90, 8 * 60 + 60 * k, "original", tags=("metoo", "timesup"), text="same words"))
        i += 1
    s.add_posts(posts)


def test_structural_virality_known_trees():
    # star of 5 nodes: mean distance = 2 * (n-1)/n = 1.6; chain of 4: (1+2+3+1+2+1)/6 = 10/6
    tm = tree_metrics(pa.array(["b", "c", "d", "e", "y", "z", "w"]), pa.array(["a", "a", "a", "a", "x", "y", "z"]))
    by = {tm["nodes"][int(r)].as_py(): i for i, r in enumerate(tm["root"])}
    star, chain = by["a"], by["x"]
    assert tm["size"][star] == 5 and tm["depth"][star] == 1 and tm["breadth"][star] == 4
    assert np.isclose(tm["virality"][star], 1.6)
    assert tm["size"][chain] == 4 and tm["depth"][chain] == 3 and tm["breadth"][chain] == 1
    assert np.isclose(tm["virality"][chain], 10 / 6)


def test_bursts():
    x = [3, 2, 4, 3, 2, 3, 40, 80, 90, 60, 50]
    assert change_point(x) == 6
    st = kleinberg_states(x)
    assert st[0] == 0 and st[7] > 0
    assert change_point([0, 0, 0]) is None


def test_analyze_small_store(tmp_path):
    from groundswell.analysis import analyze
    from groundswell.store import open_store

    with open_store(tmp_path / "s.duckdb") as s:
        small_store(s)
        r = analyze(s, ["#MeToo"])
    ig = r["onset"]["ignition"]
    assert ig["post_id"] == "100" and ig["account_id"] == "u1" and ig["carries_hashtag"] is False
    assert ig["confidence"] == "high" and ig["score"] >= 30  # alone, and 40 reposters and 5 repliers
    assert r["onset"]["takeoff"] == "2017-10-15T20:00:00Z"
    assert r["onset"]["first_post"]["post_id"] == "1"
    assert r["spread"]["most_shared"][0]["post_id"] == "100"
    assert r["spread"]["most_shared"][0]["observed"]["reposts"] == 40
    rep = r["cascades"]["reposts"]
    assert rep["shape"] == "star" and rep["largest"][0]["size"] == 41
    assert r["cascades"]["replies"]["largest"][0]["depth"] == 5
    assert r["timeline"]["posts"] == sum(x["posts"] for x in r["timeline"]["rows"])
    assert r["hashtags"]["co_occurring"][0]["hashtag"] == "timesup"
    assert r["people"]["top_amplifiers"][0]["account_id"] == "u1"


def test_repost_parents_from_followers(tmp_path):
    """u2 follows u1 (the author), u3 follows u2: u3's repost came through u2's."""
    from groundswell.analysis import sql
    from groundswell.analysis.cascades import load_follows, repost_parents
    from groundswell.analysis.scope import movement_scope
    from groundswell.store import open_store

    posts = [P(1, 1, 0), P(2, 2, 5, "repost", repost_of_id="1"), P(3, 3, 9, "repost", repost_of_id="1"),
             P(4, 4, 12, "repost", repost_of_id="1"), P(5, 5, 20, "repost", repost_of_id="1")]
    truth = {"2": "1", "3": "2", "4": "3", "5": "2"}
    f = tmp_path / "follows.parquet"
    pq.write_table(pa.table({"follower_id": ["u2", "u3", "u4", "u5", "u5"],
                             "followed_id": ["u1", "u2", "u3", "u2", "u1"]}), f)
    with open_store(tmp_path / "s.duckdb") as s:
        s.add_posts(posts)
        scope = movement_scope(s, "metoo")
        rec = repost_parents(s, scope, load_follows(s, str(f))).to_pylist()
        star = repost_parents(s, scope, None).to_pylist()
        sql.drop(s, "gs_follows")
    acc = sum(truth[r["id"]] == r["parent"] for r in rec) / len(rec)
    acc_star = sum(truth[r["id"]] == r["parent"] for r in star) / len(star)
    assert acc == 1.0 and acc_star == 0.25
    conf = {r["id"]: r["confidence"] for r in rec}
    assert conf["3"] == 1.0 and conf["5"] == 0.5


def test_cli_errors(cli, db, tmp_path):
    from groundswell.store import open_store

    with open_store(db) as s:
        small_store(s)
    r = cli("analyze", "--hashtag", "nosuchtag", "--db", db)
    assert r.code != 0 and "no posts" in r.err
    r = cli("analyze", "--hashtag", "metoo", "--db", tmp_path / "missing.duckdb")
    assert r.code != 0 and "no store" in r.err
    d = cli("analyze", "--hashtag", "metoo", "--db", db, "--json", "--interval", "minute", "--identify").json()
    assert d["onset"]["ignition"]["post_id"] == "100"
    assert all(isinstance(x["post_id"], str) for x in d["spread"]["most_shared"])


def test_a_post_made_once_the_surge_was_under_way_is_no_candidate(tmp_path):
    """The call (20:05, 12 reposts) set the 20:00 hour off; a post at 20:52, after half of that hour's
    movement posts, drew 40 reposts later. It came too late to start anything: the call is the ignition."""
    from groundswell.analysis import analyze
    from groundswell.store import open_store

    posts = [P(1, 0, 0), P(2, 5, 200), P(3, 6, 300)]
    posts.append(P(100, 1, 8 * 60 + 5))  # the call
    i = 200
    for k in range(12):
        posts.append(P(i, 10 + k, 8 * 60 + 6 + k, "repost", repost_of_id="100")); i += 1
    for k in range(20):
        posts.append(P(i, 100 + k, 8 * 60 + 8 + 2 * k)); i += 1
    posts.append(P(500, 2, 8 * 60 + 52))  # late in the takeoff hour
    for k in range(40):
        posts.append(P(i, 200 + k, 9 * 60 + 1 + k, "repost", repost_of_id="500")); i += 1
    with open_store(tmp_path / "s.duckdb") as s:
        s.add_posts(posts)
        r = analyze(s, ["metoo"])
    assert r["onset"]["takeoff"] == "2017-10-15T20:00:00Z"
    ig = r["onset"]["ignition"]
    assert ig["status"] == "determined" and ig["post_id"] == "100" and ig["account_id"] == "u1", ig
    assert "500" not in [c["post_id"] for c in ig["candidates"]]


def _ramp(s, second_hour, call_at=10 * 60 + 5):
    """A slow climb: the call at 22:05 (``call_at`` minutes from noon) and 8 reposts in the next minutes,
    ``second_hour`` reposts at 23:00, then a steep rise of new posts from midnight. Before it, a post every
    two hours."""
    posts = [P(k, 1000 + k, 120 * k) for k in range(5)]
    posts.append(P(100, 1, call_at))  # the call
    i, acct = 200, 10
    for m in [call_at + 1 + k for k in range(8)] + [11 * 60 + 3 + k for k in range(second_hour)]:
        posts.append(P(i, acct, m, "repost", repost_of_id="100")); i += 1; acct += 1
    for hour, n in ((12, 30), (13, 45), (14, 50), (15, 30)):
        for k in range(n):
            posts.append(P(i, acct, hour * 60 + k)); i += 1; acct += 1
    s.add_posts(posts)


def test_the_takeoff_is_the_spark_s_hour_when_the_climb_began_with_it(tmp_path):
    """The change point finds the steepest part of a climb (midnight); every hour from the call's on was
    already far above the baseline, so the movement took off in the call's hour."""
    from groundswell.analysis import analyze
    from groundswell.store import open_store

    from groundswell.report.brief import sentences
    from groundswell.report.html import analyze_views

    with open_store(tmp_path / "s.duckdb") as s:
        _ramp(s, second_hour=9)
        r = analyze(s, ["metoo"])
        brief = " ".join(sentences(analyze_views(s, ["metoo"])[1]))
    assert "took off on 15 October 2017 at 22:00 UTC, with 9 movement posts that hour against a baseline of 0.5 an hour" in brief
    assert "its steepest rise came on 16 October 2017 at 00:00 UTC" in brief
    on = r["onset"]
    assert on["ignition"]["status"] == "determined" and on["ignition"]["post_id"] == "100"
    # alone, but 17 accounts of evidence: too thin for "high"
    assert on["ignition"]["confidence"] == "medium" and on["ignition"]["candidates"][0]["score"] == 17
    assert on["surge"] == "2017-10-16T00:00:00Z"
    assert on["takeoff"] == "2017-10-15T22:00:00Z" and on["takeoff_posts"] == 9
    assert "steepest rise came at 2017-10-16T00:00:00Z" in on["takeoff_note"]


def test_a_call_late_in_its_hour_took_off_in_the_next(tmp_path):
    """The call at 21:58: its own hour holds 2 movement posts (no more than the baseline), the next 7, the
    one after 9, then the steep rise at midnight: the movement took off at 22:00, the hour after the
    call's, and the note says so."""
    from groundswell.analysis import analyze
    from groundswell.store import open_store

    with open_store(tmp_path / "s.duckdb") as s:
        _ramp(s, second_hour=9, call_at=9 * 60 + 58)
        r = analyze(s, ["metoo"])
    on = r["onset"]
    assert on["ignition"]["status"] == "determined" and on["ignition"]["post_id"] == "100", on["ignition"]
    assert on["takeoff"] == "2017-10-15T22:00:00Z" and on["takeoff_posts"] == 7, on
    assert on["surge"] == "2017-10-16T00:00:00Z"
    assert "from the hour after the ignition's on" in on["takeoff_note"]


def test_a_lull_after_the_spark_keeps_the_takeoff_at_the_surge(tmp_path):
    """An hour after the call at the baseline's level: the climb did not run unbroken from the call."""
    from groundswell.analysis import analyze
    from groundswell.store import open_store

    with open_store(tmp_path / "s.duckdb") as s:
        _ramp(s, second_hour=1)
        r = analyze(s, ["metoo"])
    on = r["onset"]
    assert on["takeoff"] == on["surge"] == "2017-10-16T00:00:00Z"
    assert not on["takeoff_note"]


def test_a_post_made_once_the_climb_was_under_way_rode_it(tmp_path):
    """The call at 22:05 started a climb (22:00 and 23:00 far above the baseline); a post at midnight, the
    steepest hour's first minute, drew almost as many reposts. It came after the climb's first 18 posts,
    so its reposts count by the share of the climb still to come: the call is named, from its own hour."""
    from groundswell.analysis import analyze
    from groundswell.store import open_store

    with open_store(tmp_path / "s.duckdb") as s:
        _ramp(s, second_hour=9)
        s.add_posts([P(900, 2, 12 * 60 + 1)] + [P(901 + k, 500 + k, 12 * 60 + 31 + k, "repost", repost_of_id="900")
                                                for k in range(14)])
        r = analyze(s, ["metoo"])
    ig = r["onset"]["ignition"]
    assert [c["post_id"] for c in ig["candidates"][:2]] == ["100", "900"]
    raw = 14 * 1.0  # 14 accounts reposted it; the takeoff hour's own share still to come is ~1 at 00:01
    assert ig["candidates"][1]["score"] < raw * 0.8, ig["candidates"][1]
    assert ig["status"] == "determined" and ig["post_id"] == "100", ig
    assert r["onset"]["takeoff"] == "2017-10-15T22:00:00Z" and r["onset"]["surge"] == "2017-10-16T00:00:00Z"


def _scraped(s, second_post):
    """A scraped archive: the call by h1 at 20:05 carries the tag; 12 accounts answer it with a leading
    '@h1' (no reply ids: the convention names the account, not the post) and 30 others join; with
    ``second_post``, h1 posts again with the tag at 20:10."""
    posts = [P(k, 1000 + k, 120 * k) for k in range(4)]
    posts.append(P(100, 1, 8 * 60 + 5))
    if second_post:
        posts.append(P(101, 1, 8 * 60 + 10))
    i = 200
    for k in range(12):
        posts.append(P(i, 10 + k, 8 * 60 + 7 + k, text=f"@h1 answer {k}")); i += 1
    for k in range(30):
        posts.append(P(i, 100 + k, 8 * 60 + 20 + k)); i += 1
    s.add_posts(posts)


def test_an_account_named_by_scraped_answers_gets_its_only_post_near_the_takeoff(tmp_path):
    """The answers name h1, not a post; h1 made exactly one movement post from 3 h before the takeoff to
    the latest a candidate may be made: that post is the ignition, and the answer says how it was found.
    With two such posts there is nothing to tell them apart: the account is named, no post."""
    from groundswell.analysis import analyze
    from groundswell.analysis.movement import render_text
    from groundswell.store import open_store

    with open_store(tmp_path / "one.duckdb") as s:
        _scraped(s, second_post=False)
        r = analyze(s, ["metoo"])
    ig = r["onset"]["ignition"]
    assert ig["status"] == "determined" and ig["account_id"] == "u1", ig
    assert ig["post_id"] == "100" and ig["post_by"] == "only_post"
    assert ig["evidence"]["replies_inferred"] == 12 and ig["candidates"][0]["post_by"] == "only_post"
    assert "its only movement post near the takeoff" in render_text(r)
    with open_store(tmp_path / "two.duckdb") as s:
        _scraped(s, second_post=True)
        r = analyze(s, ["metoo"])
    ig = r["onset"]["ignition"]
    assert ig["status"] == "determined" and ig["account_id"] == "u1", ig
    assert ig["post_id"] is None and ig["post_by"] is None


def _thin_window(s, answers, window_mentions=0):
    """A scraped search: the call by h1 at 20:05 with ``answers`` '@h1' answers, a post by h2 at 20:06 with
    3; ``window_mentions`` posts mention h1 in the takeoff hour; from 00:00 to 07:00 every fourth
    movement post mentions h1 (a call's author keeps being named long after the takeoff window)."""
    posts = [P(k, 1000 + k, 120 * k) for k in range(4)]
    posts += [P(100, 1, 8 * 60 + 5), P(101, 2, 8 * 60 + 6)]
    i = 200
    for k in range(answers):
        posts.append(P(i, 10 + k, 8 * 60 + 7 + k, text=f"@h1 answer {k}")); i += 1
    for k in range(3):
        posts.append(P(i, 30 + k, 8 * 60 + 11 + k, text=f"@h2 answer {k}")); i += 1
    for k in range(window_mentions):
        posts.append(P(i, 40 + k, 8 * 60 + 14 + k, text=f"with @h1 {k}", mentions=["h1"])); i += 1
    for k in range(30):
        posts.append(P(i, 100 + k, 8 * 60 + 20 + k)); i += 1
    acct = 2000
    for hour in range(9, 19):
        for k in range(20):
            m = hour >= 12 and k % 4 == 0
            posts.append(P(i, acct, hour * 60 + 2 * k, text=f"post {i} with @h1" if m else f"post {i}",
                           mentions=["h1"] if m else [])); i += 1; acct += 1
    s.add_posts(posts)


def test_a_thin_takeoff_window_gets_a_second_look_at_the_mentions_of_its_leader(tmp_path):
    """Around the takeoff, h1 leads h2 by 4 '@' answers to 3: too little to tell. Its author named in
    a quarter of the movement's posts for the seven hours after the window names it on a second look,
    never with more than medium confidence, and every output says how it was named."""
    from groundswell.analysis import analyze
    from groundswell.analysis.movement import render_text
    from groundswell.report.brief import sentences
    from groundswell.report.html import analyze_views, render_views
    from groundswell.store import open_store

    with open_store(tmp_path / "s.duckdb") as s:
        _thin_window(s, answers=4)
        r = analyze(s, ["metoo"])
        views = analyze_views(s, ["metoo"])[1]
        brief = " ".join(sentences(views))
        html = render_views(views)
    assert "Named on a second look: in the takeoff window alone: too little evidence" in html
    ig = r["onset"]["ignition"]
    assert r["onset"]["takeoff"] == "2017-10-15T20:00:00Z"
    assert ig["status"] == "determined" and ig["account_id"] == "u1" and ig["post_id"] == "100", ig
    assert ig["confidence"] == "medium" and ig["evidence"]["mentions"] == 35
    assert "too little evidence" in ig["second_look"] and "end of the main stretch" in ig["second_look"]
    assert "second look" in render_text(r)
    assert "counting the mentions of its author to the end of the collection named it" in brief


def test_no_second_look_for_a_leader_named_by_mentions_alone(tmp_path):
    """The same archive with h1 leading the takeoff window by mentions alone (8, against h2's 3 answers):
    an account mentioned all along (a platform, a brand) cannot be told from a caller by mentions, so
    the answer stays undetermined. And a second look that puts another candidate first changes nothing:
    with h1 answered once (h2 three times), h2 leads the window and the mentions would put h1 first."""
    from groundswell.analysis import analyze
    from groundswell.store import open_store

    with open_store(tmp_path / "a.duckdb") as s:
        _thin_window(s, answers=0, window_mentions=8)
        r = analyze(s, ["metoo"])
    ig = r["onset"]["ignition"]
    assert ig["status"] == "undetermined" and ig["candidates"][0]["account_id"] == "u1", ig
    assert "second_look" not in ig
    with open_store(tmp_path / "b.duckdb") as s:
        _thin_window(s, answers=1)
        r = analyze(s, ["metoo"])
    ig = r["onset"]["ignition"]
    assert ig["status"] == "undetermined" and ig["candidates"][0]["account_id"] == "u2", ig
    assert "second_look" not in ig
