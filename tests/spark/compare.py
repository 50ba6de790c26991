"""Comparing two analyze() results: floats to a tolerance, everything else exactly."""

from __future__ import annotations

import math
from typing import Any

REL = 1e-6
ABS = 1e-9


HIDDEN = ("text", "raw", "description")  # never shown: post texts and profiles


def differences(a: Any, b: Any, path: str = "$", rel: float = REL, abs_: float = ABS,
                unordered: frozenset[str] = frozenset()) -> list[str]:
    """Paths where ``a`` and ``b`` differ (empty when equal). Lists at paths in ``unordered``
    (``$.x.y`` with list indexes written ``[]``) are compared as multisets. Values of
    ``text``, ``raw`` and ``description`` are never shown, only that they differ."""
    out: list[str] = []
    if path.rsplit(".", 1)[-1] in HIDDEN:
        if a != b:
            out.append(f"{path}: differs ({'NULL' if a is None else 'set'} vs {'NULL' if b is None else 'set'})")
        return out
    if isinstance(a, bool) or isinstance(b, bool):
        if a is not b:
            out.append(f"{path}: {a!r} != {b!r}")
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, float) or isinstance(b, float):
            if not (math.isclose(a, b, rel_tol=rel, abs_tol=abs_) or (math.isnan(a) and math.isnan(b))):
                out.append(f"{path}: {a!r} != {b!r}")
        elif a != b:
            out.append(f"{path}: {a!r} != {b!r}")
    elif isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                out.append(f"{path}.{k}: only in {'second' if k in b else 'first'}")
            else:
                out.extend(differences(a[k], b[k], f"{path}.{k}", rel, abs_, unordered))
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: {len(a)} items != {len(b)} items")
        elif _generic(path) in unordered:
            rest = list(b)
            for i, x in enumerate(a):
                hit = next((j for j, y in enumerate(rest)
                            if not differences(x, y, f"{path}[]", rel, abs_, unordered)), None)
                if hit is None:
                    out.append(f"{path}[{i}]: no equal item in the second list")
                else:
                    rest.pop(hit)
        else:
            for i, (x, y) in enumerate(zip(a, b)):
                out.extend(differences(x, y, f"{path}[{i}]", rel, abs_, unordered))
    elif type(a) is not type(b) or a != b:
        out.append(f"{path}: {_short(a)} != {_short(b)}")
    return out


def _generic(path: str) -> str:
    import re

    return re.sub(r"\[\d+\]", "[]", path)


def _short(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 80 else r[:77] + "..."
