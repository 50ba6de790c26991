"""Movement analytics: one module per question, each named for what it returns.

    from groundswell.analysis import analyze
    result = analyze(store, ["metoo"], interval="hour")

Modules: :mod:`.timeline`, :mod:`.trending`, :mod:`.onset`, :mod:`.spread`,
:mod:`.cascades`, :mod:`.people`, :mod:`.hashtags`, :mod:`.reach`,
:mod:`.coordination`, :mod:`.content`, :mod:`.network`, orchestrated by
:mod:`.movement`. Table-level work is SQL run through :mod:`.sql` (the
engine-neutral layer); graph algorithms use igraph on edge lists.
"""

from __future__ import annotations

from typing import Any

__all__ = ["analyze", "build_network"]


def analyze(store: Any, hashtags: Any, start: Any = None, end: Any = None, interval: str = "hour",
            **kw: Any) -> dict[str, Any]:
    from groundswell.analysis.movement import analyze as _analyze

    return _analyze(store, hashtags, start, end, interval, **kw)


def build_network(store: Any, **kw: Any) -> Any:
    from groundswell.analysis.network import build_network as _build

    return _build(store, **kw)
