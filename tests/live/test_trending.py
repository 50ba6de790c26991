"""Incremental trending: distinct accounts, surges, bounded memory, entry alerts."""

from __future__ import annotations

import random

import pytest

from groundswell.live.trending import Trending


def test_one_account_repeating_a_tag_does_not_trend() -> None:
    tr = Trending(k=3, min_accounts=2)
    for i in range(1000):
        tr.add(1000.0 + i * 0.1, "spammer", ["spam"])
    for i in range(5):
        tr.add(1050.0 + i, f"user{i}", ["real"])
    board = tr.top()
    assert [r["hashtag"] for r in board] == ["real"]
    assert board[0]["posts"] == 5


def test_the_same_pair_counts_again_after_the_window() -> None:
    tr = Trending(k=3, window=60, min_accounts=0, half_life=1e9, baseline_half_life=2e9)
    tr.add(0.0, "a", ["x"])
    tr.add(30.0, "a", ["x"])   # inside the window: not again
    tr.add(61.0, "a", ["x"])   # after it: again
    assert tr.top()[0]["accounts"] == pytest.approx(2.0, rel=1e-6)


def test_a_surge_enters_the_top_k_and_alerts_once() -> None:
    rng = random.Random(1)
    tr = Trending(k=3, half_life=60, baseline_half_life=3600, min_accounts=3)
    t = 0.0
    # an hour of steady background: five busy tags
    for _ in range(20000):
        t += 0.18
        tr.add(t, f"u{rng.randrange(3000)}", [f"bg{rng.randrange(5)}"])
    tr.update(t)
    assert "surge" not in [r["hashtag"] for r in tr.top()]
    entered = []
    for i in range(600):
        t += 0.1
        tr.add(t, f"s{i}", ["surge"])  # 600 new accounts within a minute
        tr.add(t, f"u{rng.randrange(3000)}", [f"bg{rng.randrange(5)}"])
        if i % 50 == 0:
            entered += [a.hashtag for a in tr.update(t)]
    assert entered.count("surge") == 1
    assert tr.top()[0]["hashtag"] == "surge"


def test_memory_is_bounded_however_many_tags() -> None:
    tr = Trending(k=5, capacity=100, max_pairs=5000, min_accounts=1)
    rng = random.Random(2)
    for i in range(50000):
        tags = [f"rare{i}"]
        if i % 3 == 0:
            tags.append("common")
        tr.add(i * 0.01, f"u{rng.randrange(100000)}", tags)
        assert tr.tracked <= 201
        assert tr.pairs <= 5000
    assert tr.top(1)[0]["hashtag"] == "common"


def test_decay_across_landmark_rescales() -> None:
    tr = Trending(k=2, half_life=10, baseline_half_life=100, min_accounts=0)
    for i in range(100):
        tr.add(i * 1000.0, f"u{i}", ["x"])  # far beyond 40 half-lives: rescales many times
    fast = tr.top()[0]["accounts"]
    assert 0.99 < fast < 1.01  # only the last use is still alive
