"""The store: where normalized posts live.

The embedded default engine is DuckDB (:class:`~groundswell.store.duck.Store`,
one file, ``groundswell.duckdb`` unless ``--db`` says otherwise).
"""

from groundswell.store.duck import DEFAULT_DB, Store, open_store

__all__ = ["DEFAULT_DB", "Store", "open_store"]
