"""A micro-batch that keeps its posts as Arrow-ready columns, not dicts.

The follower's batches are :class:`~groundswell.ingest.BatchSink` batches
(same validation, merge rule, provenance and rejects as ``groundswell
ingest``); :class:`ColumnarBatch` changes only where the posts are kept until
the batch is written. ``BatchSink.tables`` turns a list of record dicts into
Arrow with one pass per column over every record (``records_to_table``);
that pass, and the record dicts and their hashtag/mention/url lists kept
alive until the batch is sealed, were about half of the follower's CPU
(the dicts outlive the young garbage-collector generations, so they make
full collections frequent and long). Here each post is appended to
per-column Python lists as it arrives -- scalars as they are, list fields
flattened into values and offsets -- and its record dict is dropped at once.

Same rows, by construction and by test (``tests/live/test_columns.py``):

* the format parser and ``BatchSink.post`` are unchanged: the columns are
  the mapping ``BatchSink.post`` stores posts in (:class:`PostColumns`);
  for a second sighting of a post in one batch, ``BatchSink.post`` reads the
  first back as a dict, merges the two with
  :func:`~groundswell.store.duck.merge_post`, and the result replaces the row;
* each column is converted with the rule of ``ingest.records_to_table``
  (lists: missing is empty; booleans: missing ``is_reference``/``deleted``
  is false, ``bool()`` otherwise);
* when anything does not fit the columns (a list field holding something
  other than a list, a value Arrow refuses), the batch's posts take the
  dict path of ``BatchSink.tables`` unchanged, so a bad record is rejected
  alone exactly as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from groundswell import model
from groundswell.ingest import BatchSink
from groundswell.store.records import bool_default

__all__ = ["ColumnarBatch", "PostColumns"]

_SCHEMA = model.SCHEMAS["posts"]
_LISTS = tuple(f.name for f in _SCHEMA if pa.types.is_list(f.type))
_SCALARS = tuple(f.name for f in _SCHEMA if not pa.types.is_list(f.type))
# booleans missing from a record: records_to_table's defaults
_BOOL_DEFAULTS = {f.name: bool_default(f.name) for f in _SCHEMA if f.type == pa.bool_()}
_ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError)

Key = tuple[str, str]


class PostColumns:
    """The posts of one batch as columns, behind the small mapping ``BatchSink`` uses.

    ``get``/``__setitem__`` by key (platform, id), ``items``/``values`` (as
    record dicts, for the dict path), ``len``, ``clear``. Scalar fields are
    one Python list each; a list field (hashtags, urls, ...) is its items
    flattened into one list plus offsets, so no per-post list stays alive.
    A post stored again under a key it already has (a merged sighting)
    replaces its row: the old row is marked dead and left out of :meth:`table`.
    """

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self._rows: dict[Key, int] = {}          # key -> row of its live version
        self._scalars: dict[str, list[Any]] = {name: [] for name in _SCALARS}
        self._values: dict[str, list[Any]] = {name: [] for name in _LISTS}   # flattened list items
        self._offsets: dict[str, list[int]] = {name: [0] for name in _LISTS}
        self._n = 0                               # rows appended, dead ones included
        self._dead: set[int] = set()
        self._odd: dict[Key, dict[str, Any]] = {}  # records with a list field that is not a list
        self._columns = [(name, self._scalars[name]) for name in _SCALARS]
        self._lists = [(name, self._values[name], self._offsets[name]) for name in _LISTS]

    # -- the mapping BatchSink.post uses ------------------------------------------------
    def get(self, key: Key, default: dict[str, Any] | None = None) -> dict[str, Any] | None:
        row = self._rows.get(key)
        if row is not None:
            return self._record(row)
        return self._odd.get(key, default)

    def __setitem__(self, key: Key, rec: dict[str, Any]) -> None:
        old = self._rows.pop(key, None)
        if old is not None:
            self._dead.add(old)
        self._odd.pop(key, None)
        get = rec.get
        lists = []
        for name, _values, _offsets in self._lists:
            v = get(name)
            if v is not None and type(v) is not list:
                self._odd[key] = rec  # kept as it is: converted by records_to_table
                return
            lists.append(v)
        for (_name, values, offsets), v in zip(self._lists, lists):
            if v:
                values += v
            offsets.append(len(values))
        for name, col in self._columns:
            col.append(get(name))
        self._rows[key] = self._n
        self._n += 1

    def __len__(self) -> int:
        return len(self._rows) + len(self._odd)

    def __bool__(self) -> bool:
        return bool(self._rows) or bool(self._odd)

    def items(self) -> Iterator[tuple[Key, dict[str, Any]]]:
        for key, row in self._rows.items():
            yield key, self._record(row)
        yield from self._odd.items()

    def values(self) -> Iterator[dict[str, Any]]:
        for _key, rec in self.items():
            yield rec

    def _record(self, row: int) -> dict[str, Any]:
        """Row ``row`` as a record dict (the values stored, list fields as lists)."""
        rec = {name: col[row] for name, col in self._columns}
        for name, values, offsets in self._lists:
            rec[name] = values[offsets[row]:offsets[row + 1]]
        return rec

    # -- to Arrow ---------------------------------------------------------------------
    def table(self) -> pa.Table | None:
        """The posts as an Arrow table of the model's schema; None when a value does not convert."""
        if self._odd:
            return None
        arrays = []
        try:
            for f in _SCHEMA:
                name = f.name
                if name in self._values:
                    arrays.append(pa.ListArray.from_arrays(pa.array(self._offsets[name], pa.int32()),
                                                           pa.array(self._values[name], pa.string())))
                elif name in _BOOL_DEFAULTS:
                    default = _BOOL_DEFAULTS[name]
                    arrays.append(pa.array([default if v is None else bool(v) for v in self._scalars[name]],
                                           pa.bool_()))
                else:
                    arrays.append(pa.array(self._scalars[name], f.type))
        except _ARROW_ERRORS:
            return None
        table = pa.Table.from_arrays(arrays, schema=_SCHEMA)
        if self._dead:
            dead = self._dead
            table = table.filter(pa.array([i not in dead for i in range(self._n)], pa.bool_()))
        return table


class ColumnarBatch(BatchSink):
    """A :class:`~groundswell.ingest.BatchSink` whose posts are kept in :class:`PostColumns`."""

    def __init__(self, source_file: str, fmt: str) -> None:
        super().__init__(source_file, fmt)
        self.posts: PostColumns = PostColumns()  # type: ignore[assignment]

    def tables(self) -> dict[str, pa.Table]:
        cols = self.posts
        posts = cols.table() if cols else None
        # posts from the columns, the rest (and posts that did not fit) as BatchSink makes them
        self.posts = {} if posts is not None else dict(cols.items())  # type: ignore[assignment]
        try:
            out = super().tables()
        finally:
            self.posts = cols
        if posts is not None:
            out = {"posts": posts, **out}
        return out
