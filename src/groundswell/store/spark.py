"""The Spark engine: a store that is a directory of Parquet tables.

Layout of a Spark store (a local directory or any URI Spark can write, e.g. ``s3a://bucket/gs``)::

    DIR/posts/       part-*.parquet, range-partitioned by created_at (files of ~1M rows)
    DIR/accounts/    DIR/volumes/  DIR/deletions/  DIR/follows/  DIR/rejects/
    DIR/sources/     one row per ingested input (fingerprint, progress, outcome)
    DIR/meta/        key, value (schema_version, engine)

The tables have the schemas of :mod:`groundswell.model`; timestamps are
``TIMESTAMP_NTZ`` (UTC wall time), ids strings.

Ingest (:func:`groundswell.spark_ingest.ingest_spark`, above the store) runs the
*same* code as the DuckDB ingest on the executors and hands the tables to Spark
as Arrow; the store (:func:`merge_posts`, :func:`apply_deletions`) then merges the sightings
of a post across tasks with the store's merge rule (``store/duck.py``): in the
order the inputs were seen (files sorted, then line ranges), the first full
sighting first, then the others in order; the first non-missing value wins;
counts from the newest ``metrics_observed_at``; ``is_reference`` only if every
sighting was; a deletion is final. Re-ingesting a file already ingested whole
(same fingerprint) adds nothing; a new file is merged with what the store holds.

Querying (:class:`SparkStore`): ``store.sql(q)`` takes SQL in the DuckDB dialect,
transpiles it with sqlglot (``read="duckdb", write="spark"``), runs it and
returns Arrow. The tables and the views ``accounts_latest``, ``post_hashtags``
and ``post_links`` (the DuckDB store's own definitions, transpiled) are Spark
temporary views, so the analyses' engine-neutral SQL runs unchanged.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow as pa

from groundswell import model
from groundswell.errors import MissingExtra, StoreError, UsageError
from groundswell.store.engine import DEFAULT_SPARK_MASTER, Unsupported

TABLES = ("posts", "accounts", "volumes", "deletions", "follows", "rejects")
VIEWS = ("accounts_latest", "post_hashtags", "post_links")
SCHEMA_VERSION = "1"
SPLIT_BYTES = 128 * 1024 * 1024  # plain JSON-lines files above this are read in line ranges
ROWS_PER_FILE = 1_000_000
_KEYS = {
    "accounts": ("platform", "id", "observed_at"),
    "volumes": ("platform", "query", "start", "end"),
    "deletions": ("platform", "id"),
    "follows": ("platform", "follower_id", "followed_id"),
    "rejects": ("source_file", "source_line", "reason"),
}
_SOURCES_SCHEMA = pa.schema([("fingerprint", pa.string()), ("path", pa.string()), ("format", pa.string()),
                             ("lines_done", pa.int64()), ("bytes_done", pa.int64()), ("records", pa.int64()),
                             ("rejected", pa.int64()), ("complete", pa.bool_())])
_META_SCHEMA = pa.schema([("key", pa.string()), ("value", pa.string())])


def require_pyspark() -> None:
    """Raise :class:`MissingExtra` (naming ``pip install 'groundswell[spark]'``) without PySpark."""
    try:
        import pandas  # noqa: F401 - PySpark's Arrow UDFs need it
        import pyspark  # noqa: F401
    except ImportError:
        raise MissingExtra("--engine spark", "spark") from None


def is_uri(path: str) -> bool:
    """True for a URI with a scheme other than file: (s3a://, gs://, hdfs://, abfss://...)."""
    m = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://", path)
    return m is not None and m.group(1).lower() != "file"


def _local(path: str) -> str:
    return path[len("file://"):] if path.startswith("file://") else path


# -- the session -------------------------------------------------------------------------------

def session(master: str = DEFAULT_SPARK_MASTER, conf: dict[str, str] | None = None,
            app_name: str = "groundswell") -> Any:
    """A SparkSession set up for groundswell (UTC, TIMESTAMP_NTZ, quiet).

    Local masters (``local``, ``local[N]``, ``local[*]``) bind the driver to
    127.0.0.1, run Python workers on this interpreter, turn the web UI off and
    use few shuffle partitions; ``conf`` overrides any setting. An existing
    session is reused (its static settings then stay as they were).
    """
    require_pyspark()
    from pyspark.sql import SparkSession

    local = master.startswith("local")
    settings: dict[str, str] = {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.timestampType": "TIMESTAMP_NTZ",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.adaptive.enabled": "true",
    }
    if local:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        settings.update({
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.ui.enabled": "false",
            "spark.sql.shuffle.partitions": "8",
            "spark.driver.memory": "4g",
            # groundswell keeps no Spark tables: no spark-warehouse/ in the working directory
            "spark.sql.warehouse.dir": os.path.join(tempfile.gettempdir(), "groundswell-spark-warehouse"),
        })
    settings.update(conf or {})
    builder = SparkSession.builder.master(master).appName(app_name)
    for k, v in settings.items():
        builder = builder.config(k, v)
    try:
        spark = builder.getOrCreate()
    except Exception as e:  # noqa: BLE001 - the JVM did not start
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise StoreError(f"cannot start Spark ({first}); it needs Java 17 or newer on PATH "
                         "or JAVA_HOME (java -version)") from None
    spark.sparkContext.setLogLevel("ERROR")
    # PySpark logs every failed query at ERROR with its text; groundswell raises its own error
    logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    return spark


# -- types -------------------------------------------------------------------------------------

def spark_type(t: pa.DataType) -> Any:
    from pyspark.sql import types as T

    if t == pa.string():
        return T.StringType()
    if pa.types.is_timestamp(t):
        return T.TimestampNTZType()
    if t == pa.int64():
        return T.LongType()
    if t == pa.int32():
        return T.IntegerType()
    if t == pa.float64():
        return T.DoubleType()
    if t == pa.bool_():
        return T.BooleanType()
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return T.ArrayType(spark_type(t.value_type), True)
    if pa.types.is_dictionary(t):
        return spark_type(t.value_type)
    if t == pa.binary():
        return T.BinaryType()
    if pa.types.is_struct(t):
        return T.StructType([T.StructField(f.name, spark_type(f.type), True) for f in t])
    raise Unsupported("spark", f"the Arrow type {t} in groundswell tables")


def spark_schema(schema: pa.Schema) -> Any:
    from pyspark.sql import types as T

    return T.StructType([T.StructField(f.name, spark_type(f.type), True) for f in schema])


def _naive(table: pa.Table) -> pa.Table:
    """Spark's TIMESTAMP (with session zone UTC) comes back zoned: make it naive UTC like DuckDB."""
    cols, changed = [], False
    for f, col in zip(table.schema, table.columns):
        if pa.types.is_timestamp(f.type) and f.type.tz is not None:
            col = col.cast(pa.timestamp(f.type.unit))
            changed = True
        cols.append(col)
    return pa.Table.from_arrays(cols, names=table.column_names) if changed else table


# -- SQL: DuckDB dialect -> Spark --------------------------------------------------------------

_CACHE = re.compile(r"^\s*CACHE\s+TABLE\s+([A-Za-z_][A-Za-z0-9_]*)\s+AS\s+(.+?);?\s*$", re.S | re.I)
_UNCACHE = re.compile(r"^\s*UNCACHE\s+TABLE\s+(?:IF\s+EXISTS\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*;?\s*$", re.I)
_CREATE_TEMP = re.compile(r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?TEMP(?:ORARY)?\s+TABLE\s+([A-Za-z_][A-Za-z0-9_]*)"
                          r"\s+AS\s+(.+?);?\s*$", re.S | re.I)
_DROP_TABLE = re.compile(r"^\s*DROP\s+(?:TABLE|VIEW)\s+(?:IF\s+EXISTS\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*;?\s*$", re.I)
_CATALOG_VIEWS = {"tables": "_gs_information_schema_tables", "columns": "_gs_information_schema_columns"}


def transpile(query: str) -> tuple[str, set[str]]:
    """DuckDB-dialect SQL -> (Spark SQL, information_schema views it reads)."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(query, read="duckdb")
    except sqlglot.errors.ParseError as e:
        raise StoreError(f"cannot parse the query: {str(e).splitlines()[0]}") from None
    used: set[str] = set()

    def catalog(node: Any) -> Any:
        if isinstance(node, exp.Table) and (node.db or "").lower() == "information_schema":
            name = node.name.lower()
            if name not in _CATALOG_VIEWS:
                raise Unsupported("spark", f"information_schema.{name}", "only tables and columns")
            used.add(name)
            alias = node.args.get("alias")
            new = exp.to_table(_CATALOG_VIEWS[name])
            if alias is not None:
                new.set("alias", alias)
            return new
        return node

    tree = tree.transform(catalog)
    _lateral_explodes(tree)
    try:
        out = tree.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)
    except sqlglot.errors.UnsupportedError as e:
        raise Unsupported("spark", str(e).splitlines()[0]) from None
    return out, used


def _lateral_explodes(tree: Any) -> None:
    """``SELECT f(unnest(x))``: Spark allows no generator inside an expression, so the one
    ``unnest`` of such a projection list becomes ``LATERAL VIEW explode(x)`` (same rows:
    one per element, none for an empty list). Two unnests in one SELECT (DuckDB zips them)
    are left alone: Spark then reports them."""
    from sqlglot import exp

    for k, select in enumerate(list(tree.find_all(exp.Select))):
        found = []
        for proj in select.expressions:
            for node in proj.find_all(exp.Explode):
                if node.find_ancestor(exp.Select) is select:
                    found.append((proj, node))
        if len(found) != 1:
            continue
        proj, node = found[0]
        if node is proj or (isinstance(proj, exp.Alias) and proj.this is node):
            continue  # a plain projection: Spark's explode does the same
        col = f"_gs_u{k}"
        lateral = exp.Lateral(this=node.copy(), view=True, outer=False,
                              alias=exp.TableAlias(this=exp.to_identifier(f"_gs_l{k}"),
                                                   columns=[exp.to_identifier(col)]))
        node.replace(exp.column(col))
        select.append("laterals", lateral)


# -- the store ---------------------------------------------------------------------------------

class SparkStore:
    """A groundswell store on Spark: Parquet tables under ``path``, queried with DuckDB-dialect SQL.

    Offers the engine contract (:mod:`groundswell.store.engine`): ``engine``,
    ``sql``, ``table``, ``close``; and for intermediate results
    ``materialize``, ``drop``, ``register_arrow``, ``has_table``.
    """

    engine = "spark"

    def __init__(self, spark: Any, path: str, owns_session: bool = False) -> None:
        self.spark = spark
        self.path = path.rstrip("/")
        self.read_only = True
        self._owns = owns_session
        self._temps: dict[str, Any] = {}
        self._frames: dict[str, Any] = {}
        self._register()

    # -- setup ------------------------------------------------------------
    def _register(self) -> None:
        for name in TABLES:
            df = read_table(self.spark, self.path, name)
            df.createOrReplaceTempView(name)
            self._frames[name] = df
        for name, body in _view_bodies().items():
            self.spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW {name} AS {transpile(body)[0]}")
        self._frames["sources"] = read_table(self.spark, self.path, "sources", _SOURCES_SCHEMA)
        self._frames["sources"].createOrReplaceTempView("sources")
        self._frames["meta"] = read_table(self.spark, self.path, "meta", _META_SCHEMA)
        self._frames["meta"].createOrReplaceTempView("meta")

    # -- reading ----------------------------------------------------------
    def sql(self, query: str, params: list[Any] | None = None) -> pa.Table:
        """Run one DuckDB-dialect statement on Spark and return Arrow (see the module doc)."""
        m = _CACHE.match(query) or _CREATE_TEMP.match(query)
        if m:
            self.materialize(m.group(1), m.group(2))
            return pa.table({})
        m = _UNCACHE.match(query) or _DROP_TABLE.match(query)
        if m:
            self.drop(m.group(1))
            return pa.table({})
        return _naive(self._df(query, params).toArrow())

    def _df(self, query: str, params: list[Any] | None = None) -> Any:
        from pyspark.errors import PySparkException

        q, catalog = transpile(query)
        for name in catalog:
            self._catalog_view(name)
        try:
            return self.spark.sql(q, args=list(params)) if params else self.spark.sql(q)
        except PySparkException as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise StoreError(f"spark: {first}") from None

    def _catalog_view(self, name: str) -> None:
        names = [t.name for t in self.spark.catalog.listTables()]
        if name == "tables":
            t = pa.table({"table_catalog": pa.array(["spark"] * len(names), pa.string()),
                          "table_schema": pa.array(["main"] * len(names), pa.string()),
                          "table_name": pa.array(names, pa.string()),
                          "table_type": pa.array(["VIEW"] * len(names), pa.string())})
        else:
            rows: dict[str, list[Any]] = {"table_name": [], "column_name": [], "data_type": [],
                                          "ordinal_position": []}
            for n in names:
                if n.startswith("_gs_information_schema"):
                    continue
                for i, f in enumerate(self.spark.table(n).schema.fields, 1):
                    rows["table_name"].append(n)
                    rows["column_name"].append(f.name)
                    rows["data_type"].append(f.dataType.simpleString().upper())
                    rows["ordinal_position"].append(i)
            t = pa.table({k: pa.array(v, pa.int64() if k == "ordinal_position" else pa.string())
                          for k, v in rows.items()})
        self.spark.createDataFrame(t, schema=spark_schema(t.schema)).createOrReplaceTempView(_CATALOG_VIEWS[name])

    def table(self, name: str) -> pa.Table:
        if name not in TABLES + VIEWS + ("sources", "meta") and name not in self._temps:
            raise StoreError(f"no table {name!r}; tables: {', '.join(TABLES)}")
        return self.sql(f"SELECT * FROM {name}")

    def dataframe(self, name: str) -> Any:
        """A table or view as a Spark DataFrame (for work that should stay on the cluster)."""
        return self.spark.table(name)

    def has_table(self, name: str) -> bool:
        return any(t.name == name for t in self.spark.catalog.listTables())

    def meta(self, key: str) -> str | None:
        rows = self.sql("SELECT value FROM meta WHERE key = ?", [key]).to_pylist()
        return rows[0]["value"] if rows else None

    # -- intermediate results -------------------------------------------------
    def materialize(self, name: str, query: str) -> str:
        """Compute ``query`` once and keep it as the temporary view ``name`` (replacing one)."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise UsageError(f"bad temporary table name {name!r}")
        df = self._df(query).localCheckpoint(eager=True)  # cut the lineage: iterations stay cheap
        self.drop(name)
        df.createOrReplaceTempView(name)
        self._temps[name] = df
        return name

    def drop(self, name: str) -> None:
        df = self._temps.pop(name, None)
        if df is not None:
            df.unpersist()
        if name not in TABLES + VIEWS + ("sources", "meta"):
            self.spark.catalog.dropTempView(name)

    def register_arrow(self, name: str, table: pa.Table) -> str:
        """Make an Arrow table queryable as the temporary view ``name``."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise UsageError(f"bad temporary table name {name!r}")
        self.drop(name)
        df = self.spark.createDataFrame(table, schema=spark_schema(table.schema)).localCheckpoint(eager=True)
        df.createOrReplaceTempView(name)
        self._temps[name] = df
        return name

    # -- writing ----------------------------------------------------------
    def write_batch(self, *_a: Any, **_k: Any) -> None:
        raise Unsupported("spark", "writing single batches",
                          "ingest files with 'groundswell ingest --engine spark' (ingest_spark)")

    def close(self) -> None:
        for name in list(self._temps):
            self.drop(name)
        for name in TABLES + VIEWS + ("sources", "meta") + tuple(_CATALOG_VIEWS.values()):
            self.spark.catalog.dropTempView(name)
        if self._owns:
            self.spark.stop()
            self._owns = False

    def __enter__(self) -> SparkStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _view_bodies() -> dict[str, str]:
    """The DuckDB store's view definitions (one source of truth), as DuckDB-dialect SELECTs."""
    from groundswell.store import duck

    out = {}
    for stmt in duck._EXTRA_DDL:
        m = re.match(r"\s*CREATE OR REPLACE VIEW (\w+) AS\s+(.*)$", stmt, re.S)
        if m:
            out[m.group(1)] = m.group(2)
    missing = set(VIEWS) - set(out)
    if missing:
        raise StoreError(f"the DuckDB store defines no view {', '.join(sorted(missing))}")
    return out


def _fs(spark: Any, path: str) -> tuple[Any, Any]:
    jvm = spark.sparkContext._jvm
    p = jvm.org.apache.hadoop.fs.Path(path)
    return p.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), p


def _exists(spark: Any, path: str) -> bool:
    fs, p = _fs(spark, path)
    return bool(fs.exists(p))


def _delete(spark: Any, path: str) -> None:
    fs, p = _fs(spark, path)
    if fs.exists(p):
        fs.delete(p, True)


def _rename(spark: Any, src: str, dst: str) -> None:
    fs, p = _fs(spark, src)
    _, q = _fs(spark, dst)
    if not fs.rename(p, q):
        raise StoreError(f"cannot move {src} to {dst}")


def read_table(spark: Any, root: str, name: str, schema: pa.Schema | None = None) -> Any:
    """One table of a Spark store as a DataFrame, columns in the model's order (empty if absent)."""
    schema = schema or model.SCHEMAS[name]
    path = f"{root}/{name}"
    if _exists(spark, path):
        df = spark.read.parquet(path)
        return df.select(*[f"`{f.name}`" for f in schema])
    return spark.createDataFrame([], spark_schema(schema))


def open_spark_store(path: str, *, spark: Any = None, master: str = DEFAULT_SPARK_MASTER,
                     conf: dict[str, str] | None = None, create: bool = False) -> SparkStore:
    """Open the Spark store at ``path`` (a directory or URI written by :func:`ingest_spark`)."""
    require_pyspark()
    owns = spark is None
    if spark is None:
        spark = session(master, conf)
    root = path.rstrip("/")
    if not create and not _exists(spark, f"{root}/posts") and not _exists(spark, f"{root}/meta"):
        if owns:
            spark.stop()
        hint = (" (that is a DuckDB store file: drop --engine spark)" if os.path.isfile(_local(root))
                else f": run 'groundswell ingest FILES --engine spark --db {path}' first")
        raise StoreError(f"no Spark store at {path}{hint}")
    return SparkStore(spark, root, owns_session=owns)


# -- writing (the Spark ingest, groundswell.spark_ingest, writes through these) ---------------

def _write_meta(spark: Any, root: str) -> None:
    """Write ``meta``, keeping what it held (the pseudonym key above all) and adding a key if none."""
    import secrets as _secrets

    rows: dict[str, str] = {}
    if _exists(spark, f"{root}/meta"):
        rows = {r["key"]: r["value"] for r in read_table(spark, root, "meta", _META_SCHEMA).toArrow().to_pylist()}
    rows.update({"schema_version": SCHEMA_VERSION, "engine": "spark"})
    rows.setdefault("privacy.secret", _secrets.token_bytes(32).hex())  # as the DuckDB ingest does
    _write_small(spark, root, "meta", pa.Table.from_pylist(
        [{"key": k, "value": v} for k, v in sorted(rows.items())], schema=_META_SCHEMA))


def _write_small(spark: Any, root: str, name: str, table: pa.Table) -> None:
    tmp = f"{root}/_next_{name}"
    spark.createDataFrame(table, schema=spark_schema(table.schema)).coalesce(1).write.mode("overwrite").parquet(tmp)
    _delete(spark, f"{root}/{name}")
    _rename(spark, tmp, f"{root}/{name}")


def merge_posts(df: Any) -> Any:
    """Merge sightings of posts (a DataFrame of posts with ``_seq``, the order seen) by the store's rule.

    Order of precedence per (platform, id): the first full (not ``is_reference``)
    sighting, then every other sighting in the order seen; each column takes the
    first non-missing value (NULL, or an empty list) in that order. Counts and
    ``metrics_observed_at``, as the DuckDB upsert folds them: a sighting observed strictly
    later than all before it takes over (keeping earlier values where it has none), any
    other only fills gaps; i.e. the first non-missing value with those record-setting
    sightings first, newest first, then the others in the order seen. ``is_reference``
    holds only if every sighting was a reference; ``deleted`` once any was, and when
    sightings of a deleted post meet, ``text`` and ``raw`` are cleared.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from groundswell.store.duck import COUNT_COLUMNS

    w = Window.partitionBy("platform", "id")
    full = F.min(F.when(~F.col("is_reference"), F.col("_seq"))).over(w)
    by_seen = F.when(F.col("_seq") == full, F.lit(-2)).otherwise(F.col("_seq"))
    # counts: a sighting observed strictly later than every earlier one replaces them; the others
    # only fill gaps, in the order seen. So: those record-setting sightings newest first, then the rest.
    t = F.col("metrics_observed_at")
    prev = F.max(t).over(w.orderBy("_seq").rowsBetween(Window.unboundedPreceding, -1))
    record = t.isNotNull() & (prev.isNull() | (t > prev))
    o = df.withColumn("_ord", by_seen).withColumn("_rec", record)
    by_metrics = F.row_number().over(w.orderBy(F.when(F.col("_rec"), 0).otherwise(1),
                                                F.when(F.col("_rec"), t).desc_nulls_last(), F.col("_seq")))
    o = o.withColumn("_mord", by_metrics)
    aggs = []
    deleted = F.bool_or("deleted")
    for name, typ, _doc in model.POST_FIELDS:
        if name in ("platform", "id"):
            continue
        c = F.col(name)
        if name == "is_reference":
            e = F.bool_and(c)
        elif name == "deleted":
            e = deleted
        elif name in COUNT_COLUMNS or name == "metrics_observed_at":
            e = F.min_by(c, F.when(c.isNotNull(), F.col("_mord")))
        elif pa.types.is_list(typ):
            e = F.coalesce(F.min_by(c, F.when(F.size(c) > 0, F.col("_ord"))), F.array().cast("array<string>"))
        else:
            e = F.min_by(c, F.when(c.isNotNull(), F.col("_ord")))
            if name in ("text", "raw"):  # cleared when sightings meet and one is deleted, as the upsert does
                e = F.when(deleted & (F.count(F.lit(1)) > 1), F.lit(None).cast("string")).otherwise(e)
        aggs.append(e.alias(name))
    return o.groupBy("platform", "id").agg(*aggs)


def apply_deletions(spark: Any, posts: Any, accounts: Any, deletions: Any) -> tuple[Any, Any]:
    """Make every recorded deletion complete, as :func:`groundswell.privacy.apply_deletions` does
    on DuckDB (same columns, same order of steps; its Python JSON surgery runs on the executors):

    1. a post in ``deletions`` loses the columns of ``embedded.POST_SCRUB`` (text, raw, handle,
       mentions, links, media, place, client) and is ``deleted``;
    2. a repost of a deleted post loses its text and raw;
    3. posts that quote, reply to or sit in the thread of a deleted post, and the accounts that
       wrote deleted posts, have embedded copies of deleted posts cut out of their ``raw``
       (``embedded.strip_embedded``, with the platform's deleted ids: these are collected on
       the driver, so deletions must number no more than a few million).
    """
    from pyspark.sql import functions as F

    from groundswell.embedded import POST_SCRUB

    d = deletions.select("platform", "id").distinct()
    p = posts.join(d.withColumn("_del", F.lit(True)), ["platform", "id"], "left")
    hit = F.col("_del").isNotNull()
    for c, v in POST_SCRUB.items():
        empty = F.array().cast("array<string>") if v == "[]" else F.lit(None).cast(
            "string" if c not in ("mentions", "mention_ids", "urls", "media") else "array<string>")
        p = p.withColumn(c, F.when(hit, empty).otherwise(F.col(c)))
    p = p.withColumn("deleted", F.col("deleted") | hit).drop("_del")
    rd = d.select("platform", F.col("id").alias("repost_of_id")).distinct().withColumn("_rdel", F.lit(True))
    p = p.join(rd, ["platform", "repost_of_id"], "left")
    for c in ("text", "raw"):
        p = p.withColumn(c, F.when(F.col("_rdel").isNotNull(), F.lit(None).cast("string")).otherwise(F.col(c)))
    p = p.drop("_rdel").select(*[f.name for f in model.SCHEMAS["posts"]])

    ids: dict[str, set[str]] = {}
    for r in d.collect():
        ids.setdefault(r["platform"], set()).add(r["id"])
    if not ids:
        return p, accounts
    dd = d.select(F.col("platform").alias("_dp"), F.col("id").alias("_did"))
    keys = None
    for col in ("quote_of_id", "reply_to_id", "conversation_id"):
        k = (p.join(dd, (p["platform"] == dd["_dp"]) & (p[col] == dd["_did"]))
              .where(F.col("raw").isNotNull() & (F.instr(F.col("raw"), F.col("_did")) > 0))
              .select("platform", "id"))
        keys = k if keys is None else keys.unionByName(k)
    p = _strip(p, keys.distinct(), ["platform", "id"], ids, model.SCHEMAS["posts"])  # type: ignore[union-attr]
    authors = (posts.join(d, ["platform", "id"]).where(F.col("author_id").isNotNull())
               .select("platform", F.col("author_id").alias("_aid"), F.col("id").alias("_did")))
    akeys = (accounts.join(authors, (accounts["platform"] == authors["platform"]) & (accounts["id"] == authors["_aid"]))
             .where(F.col("raw").isNotNull() & (F.instr(F.col("raw"), F.col("_did")) > 0))
             .select(accounts["platform"], accounts["id"], accounts["observed_at"]))
    a = _strip(accounts, akeys.distinct(), ["platform", "id", "observed_at"], ids, model.SCHEMAS["accounts"])
    return p, a


def _strip(df: Any, keys: Any, on: list[str], ids: dict[str, set[str]], schema: pa.Schema) -> Any:
    """Rows of ``df`` matching ``keys`` get embedded copies of deleted posts cut out of ``raw``."""
    from pyspark.sql import functions as F

    from groundswell.embedded import strip_embedded

    marked = df.join(keys.withColumn("_strip", F.lit(True)), on, "left")
    cols = [f.name for f in schema]
    rest = marked.where(F.col("_strip").isNull()).select(*cols)
    todo = marked.where(F.col("_strip").isNotNull()).select(*cols)
    plats = {k: frozenset(v) for k, v in ids.items()}

    def strip(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import orjson

        for b in batches:
            raws = b.column(b.schema.get_field_index("raw")).to_pylist()
            platforms = b.column(b.schema.get_field_index("platform")).to_pylist()
            out = []
            for raw, plat in zip(raws, platforms):
                if raw is not None:
                    try:
                        new, changed = strip_embedded(orjson.loads(raw), plats.get(plat, frozenset()))
                    except orjson.JSONDecodeError:
                        changed = False
                    if changed:
                        raw = orjson.dumps(new).decode()
                out.append(raw)
            i = b.schema.get_field_index("raw")
            yield b.set_column(i, "raw", pa.array(out, pa.string())) if hasattr(b, "set_column") else \
                pa.RecordBatch.from_arrays([pa.array(out, pa.string()) if j == i else b.column(j)
                                            for j in range(b.num_columns)], schema=b.schema)

    return rest.unionByName(todo.mapInArrow(strip, spark_schema(schema)))


def _first_seen(df: Any, keys: tuple[str, ...]) -> Any:
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    w = Window.partitionBy(*keys).orderBy("_seq", "source_line")
    return df.withColumn("_rn", F.row_number().over(w)).where("_rn = 1").drop("_rn")


def _merge_and_write(spark: Any, root: str, st: Any, posts_estimate: int) -> None:
    """Merge the staged tables with what the store holds and replace the store's tables."""
    from pyspark.sql import functions as F

    nxt = f"{root}/_next"
    _delete(spark, nxt)
    merged: dict[str, Any] = {}
    for name in TABLES:
        cols = [f.name for f in model.SCHEMAS[name]]
        new = st.where(F.col("_table") == name).select("_seq", *[F.col(f"{name}.`{c}`").alias(c) for c in cols])
        old = read_table(spark, root, name).withColumn("_seq", F.lit(-1).cast("long"))
        both = old.select("_seq", *cols).unionByName(new)
        if name == "posts":
            merged[name] = merge_posts(both)
        else:
            merged[name] = _first_seen(both, _KEYS[name]).drop("_seq")
    from pyspark import StorageLevel

    kept = [merged[n].persist(StorageLevel.MEMORY_AND_DISK) for n in ("posts", "deletions")]
    p, merged["accounts"] = apply_deletions(spark, merged["posts"], merged["accounts"], merged["deletions"])
    old_posts = read_table(spark, root, "posts").count() if _exists(spark, f"{root}/posts") else 0
    n = max(1, -(-(old_posts + posts_estimate) // ROWS_PER_FILE))
    p.repartitionByRange(n, "created_at", "id").sortWithinPartitions("created_at").write.parquet(f"{nxt}/posts")
    for name in TABLES[1:]:
        merged[name].select(*[f.name for f in model.SCHEMAS[name]]).coalesce(
            max(1, min(n, spark.sparkContext.defaultParallelism))).write.parquet(f"{nxt}/{name}")
    for df in kept:
        df.unpersist()
    for name in TABLES:
        _delete(spark, f"{root}/{name}")
        _rename(spark, f"{nxt}/{name}", f"{root}/{name}")
    _delete(spark, nxt)
