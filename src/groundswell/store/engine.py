"""The engine contract: what every engine (DuckDB, Spark) offers the rest of groundswell.

An *engine* stores the normalized tables of :mod:`groundswell.model` and
computes over them. The surface is small on purpose (as ibis's
``BaseBackend``): analyses and commands use only

``engine``
    the engine's name, ``"duckdb"`` or ``"spark"``; also the SQL dialect the
    engine runs natively (queries are written in DuckDB's dialect and
    transpiled for the others).
``sql(query, params=None) -> pyarrow.Table``
    run one statement written in the DuckDB dialect (``?`` placeholders for
    ``params``) and return its result as Arrow.
``table(name) -> pyarrow.Table``
    a whole table or view.
``close()`` and the context-manager protocol.

The Spark store also offers the operations the analyses need for
intermediate results (``materialize``, ``drop``, ``register_arrow``,
``has_table``); what an engine cannot do raises :class:`Unsupported`
("spark does not support X") instead of failing deep inside.

:func:`open_engine` opens a store of either kind by name; the Spark one
needs the ``spark`` extra and says so (``pip install 'groundswell[spark]'``).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import pyarrow as pa

from groundswell.errors import UsageError

ENGINES = ("duckdb", "spark")
DEFAULT_ENGINE = "duckdb"
DEFAULT_SPARK_MASTER = "local[*]"


@runtime_checkable
class Engine(Protocol):
    """The surface every engine offers (see the module docstring)."""

    engine: str

    def sql(self, query: str, params: list[Any] | None = None) -> pa.Table: ...

    def table(self, name: str) -> pa.Table: ...

    def close(self) -> None: ...


class Unsupported(UsageError):
    """An engine was asked for something it cannot do."""

    def __init__(self, engine: str, what: str, hint: str = "") -> None:
        super().__init__(f"{engine} does not support {what}" + (f"; {hint}" if hint else ""))
        self.engine = engine
        self.what = what


def check_engine(kind: str) -> str:
    if kind not in ENGINES:
        raise UsageError(f"unknown engine {kind!r}; engines: {', '.join(ENGINES)}")
    return kind


def open_engine(kind: str, path: str, *, read_only: bool = True, create: bool = False,
                master: str | None = None, conf: dict[str, str] | None = None) -> Any:
    """Open the store at ``path`` on engine ``kind``.

    DuckDB: ``path`` is the store file (see :func:`groundswell.store.open_store`).
    Spark: ``path`` is the store directory (local path or a URI Spark can read,
    e.g. ``s3a://bucket/store``); ``master`` defaults to ``local[*]``; ``conf``
    adds Spark settings. Closing a Spark store opened here stops its session.
    """
    check_engine(kind)
    if kind == "duckdb":
        if master is not None or conf:
            raise UsageError("--spark-master and --spark-conf go with --engine spark")
        from groundswell.store.duck import open_store

        return open_store(path, read_only=read_only, create=create and not read_only)
    from groundswell.store.spark import open_spark_store

    return open_spark_store(path, master=master or DEFAULT_SPARK_MASTER, conf=conf, create=create)
