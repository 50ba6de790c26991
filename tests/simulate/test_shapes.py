"""Randomized movement shapes, the collection and the truth of the ignition and takeoff."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from groundswell.simulate import SimConfig, read_truth, simulate
from groundswell.simulate.config import FORMATS
from groundswell.simulate.shapes import (
    DEV_SEEDS,
    HELD_OUT_2_SEEDS,
    HELD_OUT_SEEDS,
    PROTECTED_AFTER,
    PROTECTED_BEFORE,
    draw_shape,
    seed_range,
)
from groundswell.simulate.truth import TAKEOFF_MIN_POSTS, TAKEOFF_P, poisson_threshold


def _t(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00")).replace(tzinfo=None)


def _posts(out: Path) -> list[dict]:
    return pq.read_table(out / ".truth" / "truth_posts.parquet").to_pylist()


def test_seed_ranges_are_fixed_and_apart() -> None:
    assert (DEV_SEEDS.start, DEV_SEEDS.stop, HELD_OUT_SEEDS.start, HELD_OUT_SEEDS.stop) == (1000, 1100, 5000, 5100)
    assert (HELD_OUT_2_SEEDS.start, HELD_OUT_2_SEEDS.stop) == (6000, 6300)
    # apart from each other and from every range developed on (1000-1599, 2000-2599)
    assert not set(DEV_SEEDS) & set(HELD_OUT_SEEDS)
    assert not set(HELD_OUT_2_SEEDS) & (set(range(1000, 1600)) | set(range(2000, 2600)) | set(HELD_OUT_SEEDS))
    assert seed_range("dev") == DEV_SEEDS and seed_range("held-out") == HELD_OUT_SEEDS
    assert seed_range("held-out-2") == HELD_OUT_2_SEEDS
    assert list(seed_range("7-9")) == [7, 8, 9]
    with pytest.raises(ValueError):
        seed_range("many")


def test_shapes_are_drawn_deterministically_over_wide_ranges() -> None:
    shapes = [draw_shape(s) for s in DEV_SEEDS]
    assert [c.as_dict() for c in shapes] == [draw_shape(s).as_dict() for s in DEV_SEEDS]
    for c in shapes:
        c.validate()
        onset = _t(c.onset)
        for a, b in c.gaps:  # nothing touches the protected window around the onset
            assert _t(b) <= onset - PROTECTED_BEFORE or _t(a) >= onset + PROTECTED_AFTER
        for a, b, share in c.sampled:
            assert _t(b) <= onset - PROTECTED_BEFORE or _t(a) >= onset + PROTECTED_AFTER
            assert 0 < share <= 0.5
        assert 3000 <= c.posts <= 12000 and 5 <= c.days <= 12
        visible = (0.62 * c.call_reposts + 0.14 * c.call_replies + 0.06 * c.call_quotes) / 0.82
        assert visible >= 3.0
    assert set(c.format for c in shapes) == set(FORMATS)
    hours = {_t(c.onset).hour for c in shapes}
    assert len(hours) >= 18  # the call comes at any hour of the day
    assert Counter(c.call_has_hashtag for c in shapes).most_common()[-1][1] >= 30
    # each multiplier spans most of its range, independently of the others
    for name, lo, hi in (("call_reposts", 1, 40), ("call_replies", 1, 80), ("call_quotes", 1, 20)):
        values = [getattr(c, name) for c in shapes]
        assert min(values) < lo * 2 and max(values) > hi / 2, name
    assert sum(1 for c in shapes if c.call_replies > c.call_reposts) >= 30
    assert sum(1 for c in shapes if c.call_reposts > c.call_replies) >= 20
    assert sum(1 for c in shapes if c.gaps) >= 15 and sum(1 for c in shapes if c.sampled) >= 25
    assert sum(1 for c in shapes if c.decoys) >= 60 and sum(1 for c in shapes if c.collection == "search") >= 25
    assert draw_shape(DEV_SEEDS[0]).as_dict() != draw_shape(HELD_OUT_SEEDS[0]).as_dict()


def test_the_collection_leaves_the_movement_unchanged(tmp_path: Path) -> None:
    base = dict(posts=2500, seed=21, decoys=2, call_mention_share=0.1, call_link_share=0.05)
    simulate(out=tmp_path / "a", **base)
    simulate(out=tmp_path / "b", collection="search", gaps=[("2017-10-13T00:00:00Z", "2017-10-13T12:00:00Z")],
             sampled=[("2017-10-18T00:00:00Z", "2017-12-01T00:00:00Z", 0.05)], **base)
    a, b = _posts(tmp_path / "a"), _posts(tmp_path / "b")
    strip = [{k: v for k, v in p.items() if k != "collected"} for p in a]
    assert strip == [{k: v for k, v in p.items() if k != "collected"} for p in b]
    ta, tb = read_truth(tmp_path / "a"), read_truth(tmp_path / "b")
    assert ta["takeoff"]["at"] == tb["takeoff"]["at"] and ta["hourly"]["hashtag_posts"] == tb["hourly"]["hashtag_posts"]
    assert all(p["collected"] for p in a)
    kept = [p for p in b if p["collected"]]
    in_gap = [p for p in b if "2017-10-13T00" <= p["created_at"].isoformat() < "2017-10-13T12"]
    assert in_gap and not [p for p in in_gap if p["collected"]]
    tail = [p for p in b if p["created_at"] >= datetime(2017, 10, 18) and "metoo" in p["hashtags"]]
    share = sum(p["collected"] for p in tail) / len(tail)
    assert 0.02 < share < 0.1
    assert all("metoo" in p["hashtags"] for p in kept)
    c = tb["collection"]
    assert c["mode"] == "search" and c["posts_collected"] == len(kept)
    assert c["gaps"] == [{"start": "2017-10-13T00:00:00.000Z", "end": "2017-10-13T12:00:00.000Z"}]
    assert sum(c["posts_dropped"].values()) == len(b) - len(kept)
    assert sum(tb["hourly"]["hashtag_posts_collected"]) == sum(1 for p in kept if "metoo" in p["hashtags"])


def test_call_multipliers_set_the_mix_of_responses(tmp_path: Path) -> None:
    cfg = dict(posts=4000, seed=8, accounts=600)
    rep = simulate(out=tmp_path / "r", call_reposts=40.0, call_replies=1.0, call_quotes=1.0, **cfg).truth["seed"]
    rpl = simulate(out=tmp_path / "y", call_reposts=1.0, call_replies=80.0, call_quotes=1.0, **cfg).truth["seed"]
    quo = simulate(out=tmp_path / "q", call_reposts=1.0, call_replies=1.0, call_quotes=20.0, **cfg).truth["seed"]
    assert rep["reposts"] > 3 * rep["replies"] and rep["reposts"] > 2 * rpl["reposts"]
    assert rpl["replies"] > rpl["reposts"] and rpl["replies"] > 3 * rep["replies"]
    assert quo["quotes"] > 2 * max(rep["quotes"], rpl["quotes"], 1)


def test_seed_rank_and_decoys(tmp_path: Path) -> None:
    res = simulate(posts=3000, seed=4, out=tmp_path, seed_rank=2, notables=8, decoys=3, decoy_mention_share=0.1)
    t = res.truth
    acc = {a["id"]: a for a in pq.read_table(tmp_path / ".truth" / "truth_accounts.parquet").to_pylist()}
    origin = [n for n in t["notables"] if n["inside_origin"]]
    by_followers = sorted(origin, key=lambda n: -n["followers"])
    assert t["seed"]["account_id"] == by_followers[2]["account_id"]  # the third most followed of the origin
    decoys = {d["account_id"] for d in t["decoys"]}
    assert len(decoys) == 3 and t["seed"]["account_id"] not in decoys
    assert not decoys & {n["account_id"] for n in t["notables"]}
    posts = _posts(tmp_path)
    onset = _t(t["onset"])
    own = [p for p in posts if p["kind"] != "repost"]
    before = [p for p in own if p["created_at"] < onset]
    after = [p for p in own if p["created_at"] >= onset]
    share = [sum(bool(set(p["mentioned_ids"]) & decoys) for p in ps) / len(ps) for ps in (before, after)]
    assert all(0.06 < s < 0.14 for s in share), share  # steady: the same share before and after the onset
    assert sum(d["mentions"] for d in t["decoys"]) == sum(bool(set(p["mentioned_ids"]) & decoys) for p in own)
    assert all(acc[d]["followers"] >= 10 for d in decoys)


def test_reply_hashtag_share_and_mentions_of_the_call(tmp_path: Path) -> None:
    res = simulate(posts=4000, seed=6, out=tmp_path, reply_hashtag_share=0.2, call_mention_share=0.2, call_link_share=0.1)
    posts = _posts(tmp_path)
    replies = [p for p in posts if p["kind"] == "reply" and p["topic"] == "movement"]
    share = sum("metoo" in p["hashtags"] for p in replies) / len(replies)
    assert 0.12 < share < 0.28
    call = res.truth["ignition"]
    after = [p for p in posts if p["topic"] == "movement" and p["kind"] != "repost" and p["origin"] in ("exogenous", "child")]
    m = sum(call["account_id"] in p["mentioned_ids"] for p in after) / len(after)
    link = sum(p["linked_id"] == call["post_id"] for p in after) / len(after)
    assert 0.14 < m < 0.26 and 0.06 < link < 0.14
    ev = call["evidence_collected"]
    assert ev["mentions"] == sum(call["account_id"] in p["mentioned_ids"] for p in posts)
    assert ev["links"] == sum(p["linked_id"] == call["post_id"] for p in posts)
    assert ev["replies"] == sum(p["kind"] == "reply" and p["parent_id"] == call["post_id"] for p in posts)
    assert call["expected"] == "post" and call["id_in_files"] and call["collected"]
    assert call["url"] == f"https://twitter.com/{call['handle']}/status/{call['post_id']}"


def test_a_call_nothing_in_the_files_points_at_is_undetermined(tmp_path: Path) -> None:
    t = simulate(posts=2000, seed=2, out=tmp_path, format="csv-scraped", call_has_hashtag=False,
                 reply_hashtag_share=0.0, call_quotes=0.01, call_reposts=0.01, call_replies=0.01).truth
    ign = t["ignition"]
    assert not ign["collected"] and ign["expected"] == "undetermined", ign["evidence_collected"]
    # the same call, answered by tagged replies: its id is in the files (the replies point at it)
    t = simulate(posts=2000, seed=2, out=tmp_path, format="csv-scraped", call_has_hashtag=False,
                 reply_hashtag_share=1.0, call_replies=200.0).truth
    assert t["ignition"]["evidence_collected"]["replies"] >= 10 and t["ignition"]["expected"] == "post"


def test_takeoff_is_the_first_hour_above_chance() -> None:
    assert [poisson_threshold(m) for m in (0.0, 0.5, 2.75, 20.0)] == [1, 5, 10, 36]
    from math import exp, factorial

    for mean in (0.3, 2.0, 9.0):
        k = poisson_threshold(mean)
        tail = 1 - sum(exp(-mean) * mean ** i / factorial(i) for i in range(k))
        below = 1 - sum(exp(-mean) * mean ** i / factorial(i) for i in range(k - 1))
        assert tail < TAKEOFF_P <= below


@pytest.mark.parametrize("seed", [DEV_SEEDS[3], DEV_SEEDS[18], DEV_SEEDS[74]])
def test_a_drawn_shape_runs_and_its_truth_holds(seed: int, tmp_path: Path) -> None:
    cfg = draw_shape(seed)
    res = simulate(cfg, out=tmp_path)
    t = res.truth
    h, onset = t["hourly"], _t(t["onset"])
    i = int((onset - _t(h["start"])) // timedelta(hours=1))
    take = int((_t(t["takeoff"]["at"]) - _t(h["start"])) // timedelta(hours=1))
    thr = t["takeoff"]["threshold"]
    assert thr == max(TAKEOFF_MIN_POSTS, poisson_threshold(t["takeoff"]["baseline_per_hour"]))
    assert take >= i and h["hashtag_posts"][take] >= thr and all(c < thr for c in h["hashtag_posts"][i:take])
    assert t["config"] == json.loads(json.dumps(cfg.as_dict()))
    assert SimConfig.from_dict(t["config"]).as_dict() == cfg.as_dict()


def test_cli_shape(cli, tmp_path: Path) -> None:
    r = cli("simulate", "--shape", str(DEV_SEEDS[5]), "--posts", "1500", "--out", tmp_path, "-q")
    assert r.code == 0, r.err
    t = read_truth(tmp_path)
    want = draw_shape(DEV_SEEDS[5]).as_dict()
    want["posts"] = 1500
    assert t["config"] == json.loads(json.dumps(want))
    r = cli("simulate", "--out", tmp_path)
    assert r.code == 2 and "--posts" in r.err
    r = cli("simulate", "--posts", "500", "--out", tmp_path / "g", "--gap", "2017-10-13T00:00Z/2017-10-13T06:00Z",
            "--sampled", "2017-10-18T00:00Z/2017-11-01T00:00Z/0.2", "--collection", "search", "--decoys", "2",
            "--call-replies", "40", "--format", "csv-scraped", "-q")
    assert r.code == 0, r.err
    t = read_truth(tmp_path / "g")
    assert t["config"]["call_replies"] == 40.0 and t["collection"]["mode"] == "search" and len(t["decoys"]) == 2
    assert t["config"]["gaps"] == [["2017-10-13T00:00Z", "2017-10-13T06:00Z"]]
    r = cli("simulate", "--posts", "500", "--out", tmp_path / "x", "--gap", "2017-10-13")
    assert r.code == 2 and "--gap" in r.err  # a usage error: one line, exit 2


def test_scraped_replies_do_not_put_the_calls_id_in_the_files(tmp_path) -> None:
    """A scrape writes a reply as '@ name ...' and a repost as 'RT @name: ...': neither holds the call's id.
    Development shape 1327 (csv-scraped, a search for the tag) collects replies to the untagged call but
    neither the call nor a quote of or link to it: only the account can be named. The same movement written
    with reference columns allows the post."""
    from dataclasses import replace

    from groundswell.simulate.shapes import draw_shape

    cfg = draw_shape(1327)
    assert cfg.format == "csv-scraped"
    got = {}
    for fmt in ("csv-scraped", "csv"):
        out = tmp_path / fmt
        simulate(replace(cfg, format=fmt), out)
        got[fmt] = read_truth(out)["ignition"]
    scraped, plain = got["csv-scraped"], got["csv"]
    ev = scraped["evidence_collected"]
    assert not scraped["collected"] and ev["quotes"] + ev["links"] == 0 and ev["replies"] + ev["mentions"] >= 10
    assert ev["replies"] > 0
    assert not scraped["id_in_files"] and scraped["expected"] == "account"
    assert not plain["collected"] and plain["id_in_files"] and plain["expected"] == "post"
