"""The simulator: its truth is consistent, its output reproducible and readable."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import datetime
from pathlib import Path

import numpy as np
import orjson
import pyarrow.parquet as pq
import pytest

from groundswell.errors import UsageError
from groundswell.simulate import FORMATS, SimConfig, simulate
from groundswell.simulate import ids
from groundswell.simulate.config import LABELS
from groundswell.simulate.network import build_network
from groundswell.simulate.texts import compose

N = 4000


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("sim")
    res = simulate(posts=N, seed=11, format="twitter-v2", out=out, coordinated=6, deletions=0.05)
    posts = pq.read_table(res.truth_dir / "truth_posts.parquet").to_pylist()
    accounts = pq.read_table(res.truth_dir / "truth_accounts.parquet").to_pylist()
    return res, posts, accounts


def test_writes_exactly_n_posts_and_the_truth_files(sim) -> None:
    res, posts, accounts = sim
    assert res.posts == N == len(posts)
    names = {p.name for p in res.out.iterdir()}
    assert {"posts.jsonl", "compliance.jsonl", ".truth"} <= names and not [n for n in names if n.startswith("truth")]
    assert {p.name for p in res.truth_dir.iterdir()} == {"truth.json", "truth_posts.parquet", "truth_accounts.parquet"}
    assert [p["index"] for p in posts] == list(range(N))
    truth = json.loads((res.truth_dir / "truth.json").read_text())
    assert truth["posts"] == N
    assert len(accounts) == truth["network"]["accounts"]


def test_posts_are_in_time_order_and_every_parent_precedes_its_child(sim) -> None:
    _, posts, _ = sim
    by_id = {p["id"]: p for p in posts}
    assert len(by_id) == len(posts), "ids are unique"
    times = [p["created_at"] for p in posts]
    assert times == sorted(times)
    linked = 0
    for p in posts:
        for ref in (p["parent_id"], p["true_parent_id"]):
            if ref is None:
                continue
            parent = by_id[ref]
            assert parent["created_at"] < p["created_at"]
            assert parent["index"] < p["index"]
            linked += 1
        if p["kind"] == "original" and p["origin"] != "child":
            assert p["true_parent_id"] is None
        if p["kind"] != "original":
            assert p["parent_id"] is not None
    assert linked > N // 3


def test_platform_parent_of_a_repost_is_the_original_and_true_parent_is_what_was_seen(sim) -> None:
    _, posts, _ = sim
    by_id = {p["id"]: p for p in posts}
    via_repost = 0
    for p in posts:
        if p["kind"] != "repost":
            continue
        assert by_id[p["parent_id"]]["kind"] != "repost"
        seen = by_id[p["true_parent_id"]]
        assert seen["author_id"] == p["seen_from"]
        if seen["kind"] == "repost":
            via_repost += 1
            assert seen["parent_id"] == p["parent_id"]
        assert p["hashtags"] == by_id[p["parent_id"]]["hashtags"]
    assert via_repost > 0


def test_every_engaged_account_follows_the_account_it_saw_the_post_from(sim) -> None:
    res, posts, accounts = sim
    cfg = SimConfig.from_dict(res.truth["config"])
    net = build_network(cfg, np.random.default_rng([cfg.seed, 1]))
    acc_by_id = {a["id"]: a["account"] for a in accounts}
    checked = 0
    for p in posts:
        if p["seen_from"] is None:
            continue
        assert net.follows(p["account"], acc_by_id[p["seen_from"]]), p["index"]
        checked += 1
    assert checked > N // 3
    # the follower counts in the truth are the graph's
    assert [a["followers"] for a in accounts] == net.n_followers.tolist()


def test_label_shares_as_configured(sim) -> None:
    res, posts, _ = sim
    mv = [p for p in posts if p["topic"] == "movement" and p["kind"] != "repost"]
    shares = Counter(p["label"] for p in mv)
    conf = res.truth["config"]["label_shares"]
    for label in LABELS:
        assert abs(shares[label] / len(mv) - conf[label]) < 0.05, label
    disc = [p for p in mv if p["label"] == "disclosure"]
    ft = sum(p["first_time"] for p in disc) / len(disc)
    assert abs(ft - res.truth["config"]["first_time_share"]) < 0.1
    assert all(not p["first_time"] for p in mv if p["label"] != "disclosure")
    assert all(p["label"] == "other" for p in posts if p["topic"] == "background")


def test_cascade_sizes_are_heavy_tailed(sim) -> None:
    _, posts, _ = sim
    sizes = sorted(Counter(p["cascade_id"] for p in posts).values(), reverse=True)
    mean = sum(sizes) / len(sizes)
    assert sizes[0] > 20 * mean
    assert np.median(sizes) <= 2
    # a power-law-like tail: many singletons and a few big ones, spanning orders of magnitude
    assert sum(1 for s in sizes if s == 1) > len(sizes) / 3
    assert sum(1 for s in sizes if s >= 10 * mean) >= 3


def test_onset_seed_takeoff_notables_and_communities(sim) -> None:
    res, posts, accounts = sim
    t = res.truth
    seed = t["seed"]
    assert seed["has_hashtag"] is False  # the call to action carried no hashtag
    seed_row = next(p for p in posts if p["id"] == seed["post_id"])
    assert seed_row["origin"] == "seed" and seed_row["author_id"] == seed["account_id"]
    assert "metoo" not in seed_row["hashtags"]
    assert seed["created_at"] == t["onset"]
    assert seed["replies"] > 0 and seed["reposts"] > 0
    assert t["takeoff"]["at"] is not None and t["takeoff"]["at"] >= t["onset"][:13]
    hourly = t["hourly"]["hashtag_posts"]
    onset_h = int((datetime.fromisoformat(t["onset"][:19]) - datetime.fromisoformat(t["hourly"]["start"][:19])).total_seconds() // 3600)
    assert max(hourly[:onset_h]) < max(hourly[onset_h:]) / 5
    inside = [n for n in t["notables"] if n["inside_origin"]]
    outside = [n for n in t["notables"] if not n["inside_origin"]]
    assert inside and outside
    joined = [n for n in t["notables"] if n["joined_at"]]
    assert len(joined) >= 3
    assert all(n["joined_at"] >= t["onset"] for n in joined if not n["is_seed"])
    # the movement crosses into other communities over the days
    mv = [p for p in posts if p["topic"] == "movement" and p["created_at"] >= seed_row["created_at"]]
    first_day = [p for p in mv if (p["created_at"] - seed_row["created_at"]).total_seconds() < 86400]
    later = [p for p in mv if (p["created_at"] - seed_row["created_at"]).total_seconds() > 3 * 86400]
    home = t["config"]["origin"]
    assert sum(p["community"] == home for p in first_day) / len(first_day) > sum(
        p["community"] == home for p in later
    ) / len(later)
    assert len({p["community"] for p in later}) >= 5
    comm = {a["id"]: a["community"] for a in accounts}
    assert all(comm[p["author_id"]] == p["community"] for p in posts)
    assert t["accounts"] == comm


def test_related_hashtag_rises_and_coordination_and_deletions(sim) -> None:
    res, posts, _ = sim
    t = res.truth
    rel = t["hourly"]["related_hashtag_posts"]
    half = len(rel) // 2
    assert sum(rel[half:]) > sum(rel[:half])
    members = set(t["coordinated"]["members"])
    assert len(members) == 6
    coord = [p for p in posts if p["coordinated"]]
    assert coord and {p["author_id"] for p in coord} <= members
    for p in coord:
        assert p["seen_from"] == t["coordinated"]["leader"]
        parent = next(q for q in posts if q["id"] == p["parent_id"])
        assert 0 < (p["created_at"] - parent["created_at"]).total_seconds() <= 40
    deleted = {d["id"] for d in t["deleted"]}
    assert deleted and t["counts"]["deleted"] == len(deleted)
    rows = {p["id"]: p for p in posts if p["id"] in deleted}
    assert set(rows) == deleted
    comp = [orjson.loads(line) for line in (res.out / "compliance.jsonl").read_bytes().splitlines()]
    assert {c["id"] for c in comp} == deleted and all(c["action"] == "delete" for c in comp)


@pytest.mark.parametrize("fmt", FORMATS)
def test_same_arguments_give_byte_identical_files(fmt: str, tmp_path: Path) -> None:
    digests = []
    for run in ("a", "b"):
        res = simulate(posts=600, seed=5, format=fmt, out=tmp_path / run, coordinated=3)
        digests.append({str(p.relative_to(tmp_path / run)): hashlib.sha256(p.read_bytes()).hexdigest()
                        for p in sorted((tmp_path / run).rglob("*")) if p.is_file()})
        assert ".truth/truth.json" in digests[-1]
        assert res.posts == 600
    assert digests[0] == digests[1]
    other = simulate(posts=600, seed=6, format=fmt, out=tmp_path / "c")
    assert hashlib.sha256(other.files[0].read_bytes()).hexdigest() != digests[0][other.files[0].name]


def test_compressed_output_is_reproducible(tmp_path: Path) -> None:
    import gzip

    a = simulate(posts=300, seed=1, format="bluesky", out=tmp_path / "a", compress="gz")
    b = simulate(posts=300, seed=1, format="bluesky", out=tmp_path / "b", compress="gz")
    assert a.files[0].name == "posts.jsonl.gz"
    assert a.files[0].read_bytes() == b.files[0].read_bytes()
    plain = simulate(posts=300, seed=1, format="bluesky", out=tmp_path / "p")
    assert gzip.decompress(a.files[0].read_bytes()) == plain.files[0].read_bytes()


def test_ids_look_like_the_platforms() -> None:
    sf = ids.snowflake(1_508_099_260_000, 5)
    assert ids.snowflake_ms(sf) == 1_508_099_260_000
    t = ids.tid(1_508_099_260_000_000, 7)
    assert len(t) == 13 and t[0] in "234567abcdefghij"
    assert ids.tid(1_508_099_260_000_001, 0) > t  # sortable by time
    assert ids.did(1, 2).startswith("did:plc:") and len(ids.did(1, 2)) == 32
    assert len(ids.cid("at://x")) == 59


def test_compose_gives_exact_hashtag_offsets() -> None:
    import random

    rnd = random.Random(3)
    for lang in ("en", "fr", "es", "de"):
        for first in (False, True):
            text, spans = compose(rnd, lang, "disclosure", ["MeToo", "TimesUp"], tags_first=first)
            assert [text[s:e] for _, s, e in spans] == ["#MeToo", "#TimesUp"]


def test_bad_options_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        simulate(posts=10, format="myspace", out=tmp_path)
    with pytest.raises(UsageError):
        simulate(posts=10, onset="2030-01-01T00:00:00Z", out=tmp_path)
    with pytest.raises(UsageError):
        simulate(posts=10, branching=1.2, out=tmp_path)
    with pytest.raises(UsageError):
        simulate(posts=10, label_shares={"support": 1.0}, out=tmp_path)


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from groundswell.cli import main

    rc = main(["simulate", "--posts", "500", "--seed", "2", "--format", "csv", "--out", str(tmp_path),
               "--hashtag", "#Enough", "--related-hashtag=", "--coordinated", "3"])
    assert rc == 0
    err = capsys.readouterr().err
    assert "simulated 500 csv posts of #Enough" in err
    truth = json.loads((tmp_path / ".truth" / "truth.json").read_text())
    assert truth["hashtag"] == "Enough" and truth["related_hashtag"] is None
    assert (tmp_path / "posts.csv").exists()
    assert main(["simulate", "--posts", "0", "--out", str(tmp_path)]) == 2


def test_a_rerun_into_the_same_directory_leaves_no_stale_files(tmp_path: Path) -> None:
    simulate(posts=800, seed=1, format="twitter-v1", out=tmp_path, deletions=0.1)
    assert (tmp_path / "compliance.jsonl").exists()
    (tmp_path / "truth.json").write_text("{}")  # where runs before .truth/ wrote it
    simulate(posts=800, seed=1, format="twitter-v1", out=tmp_path, deletions=0.0)
    assert not (tmp_path / "compliance.jsonl").exists() and not (tmp_path / "truth.json").exists()


def test_ingest_of_the_output_directory_never_reads_the_truth(tmp_path: Path) -> None:
    from groundswell.ingest import expand_paths

    res = simulate(posts=300, seed=1, format="csv", out=tmp_path)
    files = expand_paths([str(tmp_path)])
    assert sorted(files) == sorted(str(f) for f in res.files) and not [f for f in files if ".truth" in f]
    # a data file whose name merely starts with "truth" is data, not an answer key
    (tmp_path / "truths_of_the_day.csv").write_text((tmp_path / "posts.csv").read_text())
    assert str(tmp_path / "truths_of_the_day.csv") in expand_paths([str(tmp_path)])


def test_calendar_queue_pops_in_heap_order() -> None:
    import heapq
    import random

    from groundswell.simulate.process import _BUCKET_MS, _Queue

    rnd = random.Random(1)
    q, ref = _Queue(), []
    now, seq, popped, want = 0, 0, [], []
    for _ in range(5000):
        if ref and rnd.random() < 0.45:
            popped.append(q.pop())
            want.append(heapq.heappop(ref))
            now = want[-1][0]
            continue
        seq += 1
        t = now + int(rnd.expovariate(1 / (3 * _BUCKET_MS))) * rnd.choice((0, 1, 1, 1))  # ties included
        q.push((t, seq, None))
        heapq.heappush(ref, (t, seq, None))
    while ref:
        popped.append(q.pop())
        want.append(heapq.heappop(ref))
    assert popped == want and len(q) == 0


def test_deletions_are_streamed_into_truth_json(tmp_path: Path) -> None:
    res = simulate(posts=3000, seed=2, format="twitter-v1", out=tmp_path, deletions=0.1)
    on_disk = json.loads((tmp_path / ".truth" / "truth.json").read_text())
    assert on_disk["counts"]["deleted"] == len(on_disk["deleted"]) == len(res.truth["deleted"]) > 0
    assert list(res.truth["deleted"]) == on_disk["deleted"] and res.truth["deleted"] == on_disk["deleted"]
    assert res.truth["deleted"][0] == on_disk["deleted"][0]
    assert set(on_disk["deleted"][0]) == {"id", "deleted_at"}
    assert res.truth["deleted"].count(on_disk["deleted"][0]) == 1  # a Sequence's count(), not its length
    assert not [p for p in (tmp_path / ".truth").iterdir() if p.name.startswith("tmp")]  # the spool is gone
