"""The ingest's thread helpers (``_in_order``, and ``_ahead`` on it): every item once, in order,
errors in their turn, and no thread left behind when the caller stops early."""

from __future__ import annotations

import importlib
import random
import threading
import time
from collections.abc import Iterator
from contextlib import nullcontext

import pytest

ingest_mod = importlib.import_module("groundswell.ingest")


def _items(n: int, rnd: random.Random, fail_at: int | None = None) -> Iterator[int]:
    for i in range(n):
        if i == fail_at:
            raise ValueError("items")
        time.sleep(rnd.random() * 0.002)
        yield i


def test_items_come_in_order_once_with_errors_in_their_turn() -> None:
    rnd = random.Random(7)
    for _ in range(60):
        n, workers = rnd.randint(0, 40), rnd.randint(1, 3)

        def work(_w: int, x: int) -> int:
            time.sleep(rnd.random() * 0.003)
            if x == 25:
                raise KeyError(x)
            return 2 * x

        got: list[int] = []
        with pytest.raises(KeyError) if n > 25 else nullcontext():
            for x in ingest_mod._in_order(_items(n, rnd), work, workers=workers):
                got.append(x)
        assert got == [2 * x for x in range(min(n, 25))]
        fail = rnd.randint(0, 30)
        got = []
        with pytest.raises(ValueError):
            for x in ingest_mod._in_order(_items(40, rnd, fail), lambda _w, x: x, workers=workers):
                got.append(x)
        assert got == list(range(fail))
        assert list(ingest_mod._ahead(_items(n, rnd), rnd.randint(1, 8))) == list(range(n))


def test_at_most_limit_items_are_taken_ahead_and_threads_end_when_the_caller_stops() -> None:
    taken: list[int] = []

    def items() -> Iterator[int]:
        for i in range(1000):
            taken.append(i)
            yield i

    g = ingest_mod._in_order(items(), lambda _w, x: x, workers=2)
    assert next(g) == 0
    time.sleep(0.05)
    assert len(taken) <= 3  # the one yielded and two in flight
    g.close()
    assert len(taken) <= 4
    assert not [t for t in threading.enumerate() if t.name.startswith("gs-work")]

