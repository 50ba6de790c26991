"""Accuracy on simulated movements with ground truth (groundswell.simulate)."""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import datetime, timedelta

import pyarrow.parquet as pq
import pytest

from .conftest import simulated

SHAPES = [
    dict(posts=6000, seed=1, coordinated=6),
    dict(posts=5000, seed=2, format="bluesky", coordinated=5, days=6.0),
    dict(posts=8000, seed=3, format="mastodon", coordinated=8, call_has_hashtag=True),
    dict(posts=6000, seed=4, format="twitter-v1", coordinated=6, onset="2017-10-14T09:10:00Z", origin="sports"),
    dict(posts=12000, seed=5, format="csv", coordinated=7, origin="politics", waves=3),
    dict(posts=4000, seed=6, coordinated=5, days=5.0, onset="2017-10-13T06:45:00Z", origin="tech",
         branching=0.6),
]


def _t(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00")).replace(tzinfo=None)


def _truth_outside(sim, truth) -> dict[str, float]:
    posts = pq.read_table(sim / ".truth" / "truth_posts.parquet", columns=["created_at", "hashtags", "community"]).to_pylist()
    origin = truth["config"]["origin"]
    tag = truth["hashtag"].casefold()
    n, out = defaultdict(int), defaultdict(int)
    for p in posts:
        if tag in [h.casefold() for h in p["hashtags"] or []]:
            h = p["created_at"].replace(minute=0, second=0, microsecond=0)
            n[h] += 1
            out[h] += p["community"] != origin
    return {k.strftime("%Y-%m-%dT%H:%M:%SZ"): out[k] / n[k] for k in n}


def _parent_accuracy(s, sim, tag) -> tuple[float, float, int]:
    """Share of the movement's reposts whose inferred parent is the post actually seen
    (truth ``true_parent_id``): from the follower graph, and the star baseline."""
    from groundswell.analysis import sql
    from groundswell.analysis.cascades import repost_parents, store_follows
    from groundswell.analysis.scope import movement_scope

    truth = {r["id"]: r["true_parent_id"] for r in pq.read_table(
        sim / ".truth" / "truth_posts.parquet", columns=["id", "kind", "true_parent_id"]).to_pylist() if r["kind"] == "repost"}
    scope = movement_scope(s, tag)
    follows = store_follows(s, scope)
    assert follows is not None, "the simulator's follows.csv was not ingested"
    rec = repost_parents(s, scope, follows).to_pylist()
    star = repost_parents(s, scope, None).to_pylist()
    sql.drop(s, "gs_movement")
    n = len(rec)
    acc = sum(truth[r["id"]] == r["parent"] for r in rec) / n
    acc_star = sum(truth[r["id"]] == r["parent"] for r in star) / n
    return acc, acc_star, n


def check(tmp_path, cfg) -> dict[str, bool]:
    from groundswell.analysis import analyze
    from groundswell.store import open_store

    db, truth, sim = simulated(tmp_path, **cfg)
    with open_store(db, read_only=True) as s:
        r = analyze(s, [truth["hashtag"]])
        p_acc, p_star, n_reposts = _parent_accuracy(s, sim, truth["hashtag"])
    ok: dict[str, bool] = {}
    ign = r["onset"]["ignition"]
    ok["ignition"] = ign is not None and ign["post_id"] == truth["seed"]["post_id"] \
        and ign["account_id"] == truth["seed"]["account_id"]
    ok["takeoff"] = abs(_t(r["onset"]["takeoff"]) - _t(truth["takeoff"]["at"])) <= timedelta(hours=1)
    found = {n["account_id"]: n["joined_at"] for n in r["people"]["notable"]}
    acc = {a["id"]: a for a in pq.read_table(sim / ".truth" / "truth_accounts.parquet").to_pylist()}
    if truth["format"] in ("bluesky", "csv", "mastodon"):  # no verified flag (Mastodon verifies nobody)
        ok["notables"] = found == {}
    else:  # exact to the precision the format keeps (twitter v1: seconds)
        ok["notables"] = all(
            n["account_id"] in found
            and abs(_t(found[n["account_id"]]) - _t(n["joined_at"])) < timedelta(seconds=1)
            and _t(found[n["account_id"]]) <= _t(n["joined_at"])
            for n in truth["notables"] if n["joined_at"] is not None) and all(acc[a]["verified"] for a in found) \
            and len(found) >= 1
    members = set(truth["coordinated"]["members"]) | {truth["coordinated"]["leader"]}
    groups = r["coordination"]["groups"]
    if groups:
        g = groups[0]
        ours = {m["account_id"] for m in g["members"]}
        if g["amplified"]:
            ours.add(g["amplified"]["account_id"])
        ok["coordination"] = len(ours - members) <= 1 and len(ours & members) >= len(members) - 1
    else:
        ok["coordination"] = False
    truth_curve = _truth_outside(sim, truth)
    diffs = [abs(row["share"] - truth_curve[row["time"]])
             for row in r["people"]["communities"]["outside_seed"]
             if row["share"] is not None and row["known"] >= 30 and row["time"] in truth_curve]
    ok["outside_curve"] = bool(diffs) and max(diffs) <= 0.05
    ok["_outside_max_diff"] = max(diffs) if diffs else None  # type: ignore[assignment]
    # trending: never before the onset where the hashtag's use before it stayed low (no hour with
    # 2 x the minimum activity); in any case at the latest one interval after takeoff
    from groundswell.analysis.trending import THRESHOLD

    onset_hour = _t(truth["onset"]).replace(minute=0, second=0, microsecond=0)
    h0 = _t(truth["hourly"]["start"])
    before = truth["hourly"]["hashtag_posts"][:int((onset_hour - h0) / timedelta(hours=1))]
    tr = r["trending"]
    ok["trending"] = tr["first_top10"] is not None and tr["first_top1"] is not None \
        and _t(tr["first_top1"]) <= _t(truth["takeoff"]["at"]) + timedelta(hours=1)
    if max(before, default=0) < 2 * THRESHOLD:
        ok["trending"] = ok["trending"] and _t(tr["first_top10"]) >= onset_hour
    ok["_trending_low_before"] = max(before, default=0) < 2 * THRESHOLD  # type: ignore[assignment]
    ok["parents"] = n_reposts > 50 and p_acc > p_star + 0.1
    ok["_parents"] = (round(p_acc, 3), round(p_star, 3), n_reposts)  # type: ignore[assignment]
    return ok


def test_one_simulated_movement(tmp_path):
    ok = check(tmp_path, dict(posts=4000, seed=7, coordinated=6))
    assert all(ok[k] for k in ("ignition", "takeoff", "notables", "coordination", "outside_curve", "trending",
                               "parents")), ok


@pytest.mark.slow
def test_simulated_movements(tmp_path):
    results = [check(tmp_path / str(i), cfg) for i, cfg in enumerate(SHAPES)]
    n = len(results)
    assert sum(r["ignition"] for r in results) >= 0.95 * n, results
    assert all(r["takeoff"] for r in results), results
    for key in ("notables", "coordination", "outside_curve", "trending", "parents"):
        assert all(r[key] for r in results), (key, results)
    print("repost parents (followers, star, reposts):", [r["_parents"] for r in results])
    print("outside-community curve, max difference:", [r["_outside_max_diff"] for r in results])


# ---- the harness of drawn movements (groundswell.accuracy)

CALL = {"post_id": "11", "account_id": "7", "handle": "caller", "expected": "post"}


def test_ignition_scoring_rules() -> None:
    from groundswell.accuracy import score_ignition

    right = {"post_id": "11", "account_id": "7", "handle": "caller"}
    assert score_ignition(right, CALL) == (True, "post")
    assert score_ignition({"post_id": "12", "account_id": "7"}, CALL) == (False, "other post")
    assert score_ignition({"post_id": "11", "account_id": "8"}, CALL) == (False, "other account")
    assert score_ignition(None, CALL) == (False, "undetermined")
    assert score_ignition({**right, "confidence": "undetermined"}, CALL) == (False, "undetermined")
    # the call's id is nowhere in the files: its account is the answer, a post of it is fine
    acct = {**CALL, "expected": "account"}
    assert score_ignition({"post_id": None, "account_id": None, "handle": "@Caller"}, acct) == (True, "account")
    assert score_ignition(right, acct) == (True, "post")
    assert score_ignition({"post_id": "12", "account_id": "7"}, acct) == (False, "other post")
    # nothing points at the call: "undetermined" is right, a wrong name is not
    und = {**CALL, "expected": "undetermined"}
    assert score_ignition({"post_id": None, "confidence": "undetermined"}, und) == (True, "undetermined")
    assert score_ignition({"post_id": "12", "account_id": "9"}, und) == (False, "other post")
    assert score_ignition(right, und) == (True, "post")


def test_takeoff_scoring_and_wilson() -> None:
    from groundswell.accuracy import score_takeoff, wilson

    assert score_takeoff("2017-10-15T21:00:00Z", "2017-10-15T20:00:00.000Z") == (True, 1.0)
    assert score_takeoff("2017-10-15T21:00:01Z", "2017-10-15T20:00:00.000Z")[0] is False
    assert score_takeoff("2017-10-15T19:20:00+00:00", "2017-10-15T20:00:00Z") == (True, -0.667)
    assert score_takeoff(None, "2017-10-15T20:00:00Z") == (False, None)
    lo, hi = wilson(95, 100)
    assert 0.88 < lo < 0.95 < hi < 0.985 and wilson(0, 0) is None


def test_harness_runs_and_scores_a_drawn_movement(tmp_path) -> None:
    from groundswell.accuracy import run_movement, score_takeoff, summarize
    from groundswell.simulate.shapes import DEV_SEEDS

    m = run_movement(DEV_SEEDS[3], tmp_path, intervals=("hour", "day"), resolutions=(1.0, 2.0), posts=2500,
                     keep=True)
    assert m.error is None, m.error
    assert m.posts == 2500 and m.expected in ("post", "account", "undetermined") and m.truth_takeoff
    base = tmp_path / f"shape-{DEV_SEEDS[3]}"
    from groundswell.analysis import analyze
    from groundswell.simulate import read_truth
    from groundswell.store import open_store

    truth = read_truth(base / "sim")
    with open_store(base / "store.duckdb", read_only=True) as s:
        r = analyze(s, [truth["hashtag"]], interval="hour")
    ok, off = score_takeoff(r["onset"]["takeoff"], truth["takeoff"]["at"])
    assert m.results["hour"]["takeoff"] == ok and m.results["hour"]["takeoff_off_h"] == off
    ig = r["onset"]["ignition"]
    assert m.results["hour"]["second_look"] == bool(ig.get("second_look"))
    assert m.results["hour"]["post_by"] == ig.get("post_by")
    assert [row["resolution"] for row in m.leiden] == [1.0, 2.0]
    for row in m.leiden:
        assert row["placed"] > 100 and 0 <= row["nmi"] <= 1 and row["communities"] >= 1
    s = summarize([m], ("hour", "day"))
    assert s["intervals"]["hour"]["n"] == 1 and len(s["leiden"]) == 2
    h = s["intervals"]["hour"]
    assert h["second_look"] == int(m.results["hour"]["second_look"])
    assert h["second_look_right"] == int(m.results["hour"]["second_look"] and m.results["hour"]["ignition"])


@pytest.mark.slow
def test_held_out_shapes(tmp_path) -> None:
    """The first held-out range (5000-5099), at every interval: spent as an acceptance set (its result was
    seen and the detector changed after it; issue 14 is measured on the second range, 6000-6299, 300 shapes
    scored once: ignition 296, takeoff 300; docs/analysis.md), kept as a guard of what is reached on shapes
    nobody tuned for. Measured with the current detector: ignition right (what the files allow naming: the
    call's post, its account, or "undetermined") 94 of 100, 5 wrong names, none "high"; takeoff 100 of 100.
    The guard: at least 94% and 99%, the same answers at every interval (the takeoff and ignition are read
    in hours), no more wrong names than 5, none "high"."""
    from groundswell.accuracy import INTERVALS, evaluate, summarize
    from groundswell.simulate.shapes import HELD_OUT_SEEDS

    # the shapes are independent: a process per core (two here) halves the test's time
    movements = evaluate(HELD_OUT_SEEDS, INTERVALS, workdir=tmp_path, jobs=min(2, os.cpu_count() or 1))
    s = summarize(movements, INTERVALS)
    assert not s["errors"], [(m.seed, m.error) for m in movements if m.error]
    for iv in INTERVALS:
        r = s["intervals"][iv]
        print(iv, "ignition", r["ignition_right"], "/", r["n"], "takeoff", r["takeoff_within_1h"], "/", r["n"])
    first = s["intervals"][INTERVALS[0]]
    for iv in INTERVALS:
        r = s["intervals"][iv]
        assert r["ignition_share"] >= 0.94, (iv, r["ignition_right"], r["said_by_expected"], r["ignition_failures"])
        assert r["takeoff_share"] >= 0.99, (iv, r["takeoff_failures"], r["takeoff_max_abs_off_h"])
        assert r["ignition_failures"] == first["ignition_failures"] and \
            r["takeoff_failures"] == first["takeoff_failures"], iv
        wrong = sum(n for c in r["said_by_expected"].values() for k, n in c.items() if k.startswith("other"))
        assert wrong <= 5, (iv, r["said_by_expected"])
        # measured: the 5 wrong names are all "medium" since "high" needs 30 accounts of evidence
        assert not [m.seed for m in movements if m.results[iv]["said"].startswith("other")
                    and m.results[iv]["confidence"] == "high"], iv
