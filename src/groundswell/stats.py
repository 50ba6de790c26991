"""Small statistics shared by the analyses, the content models' evaluation and the accuracy harness."""

from __future__ import annotations

import math

__all__ = ["Z95", "wilson"]

Z95 = 1.959964  # the standard normal's 97.5% quantile: a two-sided 95% interval


def wilson(k: int, n: int, z: float = Z95) -> list[float] | None:
    """The Wilson score interval of a share k/n (95% by default), rounded to 4 places; None when n is 0."""
    if n <= 0:
        return None
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return [round(max(0.0, c - h), 4), round(min(1.0, c + h), 4)]
