"""Options the CLI's commands share: ``--db FILE`` (:func:`add_db_option`) and
``--engine spark [--spark-master URL] [--spark-conf K=V]``.

``cli.py`` (ingest, info) and ``analysis/cli.py`` (analyze, network) call
:func:`register_engine_options` on their parsers and :func:`store_from_args`
to open the store; ``ingest`` with ``--engine spark`` calls
:func:`ingest_from_args`. Without PySpark every Spark path raises
:class:`~groundswell.errors.MissingExtra`, which the CLI prints as
``--engine spark needs an optional part: pip install 'groundswell[spark]'``
and exits 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from groundswell.errors import GroundswellError, UsageError
from groundswell.store.engine import DEFAULT_ENGINE, DEFAULT_SPARK_MASTER, ENGINES, check_engine, open_engine


def add_db_option(parser: argparse.ArgumentParser) -> None:
    """``--db FILE``: the store every command reads or writes (default ``groundswell.duckdb``)."""
    from groundswell.store.duck import DEFAULT_DB

    parser.add_argument("--db", default=DEFAULT_DB, metavar="FILE", help=f"the store file (default: {DEFAULT_DB})")


def _conf(value: str) -> tuple[str, str]:
    key, sep, val = value.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {value!r}")
    return key.strip(), val.strip()


def register_engine_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--engine``, ``--spark-master`` and ``--spark-conf`` to a command's parser."""
    parser.add_argument("--engine", choices=ENGINES, default=DEFAULT_ENGINE,
                        help="duckdb (default: the store is one file) or spark (the store is a "
                             "directory or URI of Parquet tables; needs groundswell[spark])")
    parser.add_argument("--spark-master", metavar="URL", default=None,
                        help=f"with --engine spark: local[N], spark://HOST:7077, k8s://... "
                             f"(default {DEFAULT_SPARK_MASTER})")
    parser.add_argument("--spark-conf", metavar="KEY=VALUE", type=_conf, action="append", default=None,
                        help="with --engine spark: a Spark setting (repeatable), e.g. "
                             "spark.executor.memory=8g")


def _spark_conf(args: argparse.Namespace) -> dict[str, str] | None:
    pairs = getattr(args, "spark_conf", None)
    return dict(pairs) if pairs else None


def store_from_args(args: argparse.Namespace, *, read_only: bool = True) -> Any:
    """Open ``args.db`` on ``args.engine`` (a context manager; closing stops a Spark session)."""
    kind = check_engine(getattr(args, "engine", DEFAULT_ENGINE) or DEFAULT_ENGINE)
    master, conf = getattr(args, "spark_master", None), _spark_conf(args)
    if kind == "duckdb" and (master is not None or conf):
        raise UsageError("--spark-master and --spark-conf go with --engine spark")
    return open_engine(kind, str(args.db), read_only=read_only, master=master, conf=conf)


def ingest_from_args(args: argparse.Namespace, on_file: Callable[[Any], None] | None = None) -> Any:
    """``groundswell ingest PATHS --engine spark --db DIR``: parallel ingest into a Spark store.

    Uses ``args.paths``, ``args.db``, ``args.format``, ``args.columns``, ``args.platform``,
    ``args.max_line_bytes``; returns an :class:`~groundswell.ingest.IngestSummary`.
    """
    from groundswell.spark_ingest import ingest_spark
    from groundswell.store.spark import require_pyspark, session

    require_pyspark()
    spark = session(getattr(args, "spark_master", None) or DEFAULT_SPARK_MASTER, _spark_conf(args))
    try:
        return ingest_spark(spark, list(args.paths), str(args.db), format=getattr(args, "format", None),
                            columns=getattr(args, "columns", None), platform=getattr(args, "platform", None),
                            max_line_bytes=getattr(args, "max_line_bytes", None), on_file=on_file)
    finally:
        spark.stop()


def run_guarded(fn: Callable[[], Any]) -> int:
    """Run ``fn``; a groundswell error becomes one line on stderr and its exit code (never 0)."""
    try:
        fn()
    except GroundswellError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code or 1
    return 0
