"""groundswell: how a hashtag movement is born, how it spreads and whom it reaches.

Python API::

    import groundswell
    store = groundswell.open("groundswell.duckdb")
    groundswell.ingest(store, ["tweets.jsonl"])
    store.sql("SELECT kind, count(*) FROM posts GROUP BY 1").to_pandas()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["GroundswellError", "__version__", "info", "ingest", "open"]

if TYPE_CHECKING:
    from groundswell.store.duck import Store


def open(path: str = "groundswell.duckdb", *, read_only: bool = False) -> Store:  # noqa: A001
    """Open (or create) a store; tables come back as Arrow from ``store.sql``/``store.table``."""
    from groundswell.store import open_store

    return open_store(path, read_only=read_only)


def ingest(store: Store, paths: Any, **kw: Any) -> Any:
    """Ingest files into a store (see :func:`groundswell.ingest.ingest`)."""
    from groundswell.ingest import ingest as _ingest

    return _ingest(store, [paths] if isinstance(paths, str) else paths, **kw)


def info(store: Store) -> dict[str, Any]:
    from groundswell.queries import info as _info

    return _info(store)


def __getattr__(name: str) -> Any:
    if name == "GroundswellError":
        from groundswell.errors import GroundswellError

        return GroundswellError
    raise AttributeError(name)
