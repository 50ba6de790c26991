"""Records (plain dicts keyed by the model's column names) to Arrow tables of the
model's schemas: what the store is handed to write.

It lives with the store, below ingest and live (which both call it), so the
store needs nothing from above it to write dicts (:meth:`Store.add_posts`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa

from groundswell import model
from groundswell.errors import RecordError

__all__ = ["bool_default", "records_to_table"]


def bool_default(name: str) -> bool | None:
    """What a record without this boolean field holds: false for ``is_reference``
    and ``deleted`` (a post is full and present unless said otherwise), else NULL."""
    return False if name in ("is_reference", "deleted") else None


def _column(f: pa.Field, recs: list[dict[str, Any]]) -> list[Any]:
    name = f.name
    if pa.types.is_list(f.type):
        return [r.get(name) or [] for r in recs]
    if f.type == pa.bool_():
        default = bool_default(name)
        return [default if r.get(name) is None else bool(r.get(name)) for r in recs]
    return [r.get(name) for r in recs]


_ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError)


def records_to_table(table: str, recs: list[dict[str, Any]],
                     on_bad: Callable[[dict[str, Any], str], None] | None = None) -> pa.Table:
    """Dict records -> an Arrow table of the model's schema for ``table``.

    A record with a value of the wrong type for its column is handed to
    ``on_bad`` (record, reason) and left out; the others are kept. Without
    ``on_bad`` it raises :class:`RecordError`.
    """
    schema = model.SCHEMAS[table]
    while True:
        arrays = []
        bad: dict[int, str] = {}
        for f in schema:
            try:
                arrays.append(pa.array(_column(f, recs), type=f.type))
            except _ARROW_ERRORS as e:
                if on_bad is None:
                    raise RecordError(f"column {f.name}: {type(e).__name__}") from None
                for i, r in enumerate(recs):
                    try:
                        pa.array(_column(f, [r]), type=f.type)
                    except _ARROW_ERRORS:
                        bad[i] = f"{table}.{f.name}: value of the wrong type"
                break
        if not bad:
            return pa.Table.from_arrays(arrays, schema=schema)
        assert on_bad is not None  # without it the first bad value raised
        for i, reason in bad.items():
            on_bad(recs[i], reason)
        recs = [r for i, r in enumerate(recs) if i not in bad]
