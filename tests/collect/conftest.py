"""Helpers for the collect tests: a client on a stand-in, store snapshots to compare."""

from __future__ import annotations

from typing import Any

import httpx

from groundswell.collect.http import Client

from .standins import FakeClock

TABLES = ("posts", "accounts", "follows", "rejects", "deletions")


def make_client(standin: Any, clock: FakeClock, **kw: Any) -> Client:
    return Client(transport=httpx.MockTransport(standin), clock=clock, **kw)


def snapshot(store: Any, drop: tuple[str, ...] = ()) -> dict[str, list[dict[str, Any]]]:
    """Every model table, all columns but ``drop``, in a stable order."""
    out = {}
    for t in TABLES:
        cols = [r[0] for r in store.con.execute(f"DESCRIBE {t}").fetchall() if r[0] not in drop]
        sel = ", ".join(f'"{c}"' for c in cols)
        out[t] = store.sql(f"SELECT {sel} FROM {t} ORDER BY ALL").to_pylist()
    return out
