"""Follower graphs as CSV (``follows``): one ``follower_id,followed_id`` pair per row.

A header naming a follower column (``follower_id``, ``follower``, ``source``)
and a followed column (``followed_id``, ``following_id``, ``followed``,
``target``) is a follower edge list, with an optional ``platform`` column
(else ``--platform``, else twitter). Follower lists collected from a platform
API, or the network the simulator writes (``follows.csv``), go to the
``follows`` table, which the cascade reconstruction and the community
analysis use when it is there.

Ids are checked per platform as in every reader (:func:`groundswell.formats.base.id_problem`):
a Twitter id that went through a float (``9.19365304114929e+17``,
``919365304114929665.0``) rejects its row.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from typing import Any, TextIO

from groundswell.formats.base import Sink, id_problem

NAME = "follows"
_FOLLOWER = ("follower_id", "follower", "source")
_FOLLOWED = ("followed_id", "following_id", "followed", "target")


def _index(header: list[str], names: tuple[str, ...]) -> int | None:
    low = [h.strip().lower() for h in header]
    for n in names:
        if n in low:
            return low.index(n)
    return None


def sniff_header(header: list[str]) -> bool:
    return _index(header, _FOLLOWER) is not None and _index(header, _FOLLOWED) is not None


def read(text: TextIO, sink: Sink, *, columns: dict[str, str] | None = None, platform: str | None = None,
         set_line: Callable[[int], None]) -> None:
    reader = csv.reader(text)
    header = next(reader, None)
    if not header:
        return
    a, b = _index(header, _FOLLOWER), _index(header, _FOLLOWED)
    p = _index(header, ("platform",))
    if a is None or b is None:
        return
    for row in reader:
        set_line(reader.line_num)
        if row:
            read_row(row, a, b, p, sink, platform)


def read_row(row: list[str], a: int, b: int, p: int | None, sink: Sink, platform: str | None) -> None:
    """One record: follower at column ``a``, followed at ``b``, platform (optional) at ``p``."""
    if len(row) <= max(a, b):
        sink.reject("follow row with too few columns")
        return
    rec: dict[str, Any] = {
        "platform": (row[p] if p is not None and p < len(row) and row[p] else None) or platform or "twitter",
        "follower_id": row[a].strip(), "followed_id": row[b].strip(),
    }
    for col in ("follower_id", "followed_id"):
        why = id_problem(rec["platform"], rec[col], account=True) if rec[col] else None
        if why:
            sink.reject(f"{col}: {why}")
            return
    sink.follow(rec)
