"""Burst detection on count series (shared by :mod:`trending` and :mod:`onset`).

* :func:`kleinberg_states`: Kleinberg's burst automaton ("Bursty and
  hierarchical structure in streams", KDD 2002) for counts per interval:
  state ``i`` emits a Poisson count with rate ``base * s**i`` (``base`` = the
  mean count), moving up one state costs ``gamma * ln(n)``, moving down is
  free; the Viterbi path gives each interval's burst level.
* :func:`change_point`: the single maximum-likelihood change point of a
  Poisson rate (the two-state automaton with both rates fitted and one
  transition), i.e. where the series leaves its baseline. Used as the
  takeoff: it does not depend on how long the window runs after the peak.
"""

from __future__ import annotations

import math

import numpy as np


def kleinberg_states(counts: list[int] | np.ndarray, s: float = 2.0, gamma: float = 1.0) -> list[int]:
    x = np.asarray(counts, dtype=float)
    n = len(x)
    if n == 0 or x.sum() == 0:
        return [0] * n
    base = x.mean()
    k = max(1, int(math.ceil(math.log(max(x.max(), 1.0) / base, s))) + 1) if x.max() > base else 1
    rates = base * s ** np.arange(k + 1)
    emit = rates[None, :] - x[:, None] * np.log(rates)[None, :]  # n x (k+1)
    up = gamma * math.log(max(n, 2))
    idx = np.arange(k + 1)
    trans = np.maximum(idx[None, :] - idx[:, None], 0) * up  # from i (row) to j (col)
    cost = emit[0] + idx * up
    back = np.zeros((n, k + 1), dtype=np.int64)
    for t in range(1, n):
        tot = cost[:, None] + trans
        back[t] = tot.argmin(axis=0)
        cost = tot.min(axis=0) + emit[t]
    states = np.zeros(n, dtype=np.int64)
    states[-1] = int(cost.argmin())
    for t in range(n - 1, 0, -1):
        states[t - 1] = back[t, states[t]]
    return [int(v) for v in states]


def burst_periods(states: list[int]) -> list[tuple[int, int, int]]:
    """Maximal runs with state >= 1: (first index, last index, max level)."""
    out, i, n = [], 0, len(states)
    while i < n:
        if states[i] > 0:
            j = i
            while j + 1 < n and states[j + 1] > 0:
                j += 1
            out.append((i, j, max(states[i:j + 1])))
            i = j + 1
        else:
            i += 1
    return out


def _xlogx_over(a: np.ndarray, m: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a > 0, a * np.log(np.where(a > 0, a, 1) / m), 0.0)


def change_point(counts: list[int] | np.ndarray) -> int | None:
    """Index of the first interval after the Poisson rate change (None if flat/too short)."""
    x = np.asarray(counts, dtype=float)
    n = len(x)
    if n < 2 or x.sum() == 0:
        return None
    c = np.cumsum(x)
    t = np.arange(1, n)
    a = c[:-1]
    b = c[-1] - a
    ll = _xlogx_over(a, t.astype(float)) + _xlogx_over(b, (n - t).astype(float))
    # a rise, not a fall: the rate after must exceed the rate before
    rising = b / (n - t) > a / t
    if not rising.any():
        return None
    ll = np.where(rising, ll, -np.inf)
    return int(t[int(np.argmax(ll))])
