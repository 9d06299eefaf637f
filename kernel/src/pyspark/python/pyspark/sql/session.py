"""`SparkSession`: the builder and the one active session, over the kernel's
engine session (shared with `%%sql` cells)."""

import re
import string
import uuid

import _kiln_pyspark

from pyspark.conf import SparkConf
from pyspark.errors import PySparkValueError


class RuntimeConfig:
    """`spark.conf`."""

    _missing = object()

    def __init__(self, session):
        self._session = session

    def set(self, key, value):
        self._session._conf_set(key, value)

    def get(self, key, default=_missing):
        value = self._session._conf_get(key)
        if value is not None:
            return value
        if default is RuntimeConfig._missing:
            from pyspark.errors import SparkNoSuchElementException

            raise SparkNoSuchElementException(
                f"[SQL_CONF_NOT_FOUND] The SQL config \"{key}\" cannot be found. Please verify that the config exists."
            )
        return default

    def unset(self, key):
        self._session._conf_unset(key)

    def getAll(self):
        return dict(self._session._conf_all())

    def isModifiable(self, key):
        return key.startswith("spark.sql.")


class Table:
    def __init__(self, name):
        self.name = name
        self.catalog = None
        self.namespace = []
        self.description = None
        self.tableType = "TEMPORARY"
        self.isTemporary = True

    def __repr__(self):
        return (
            f"Table(name='{self.name}', catalog=None, namespace=[], description=None, "
            f"tableType='TEMPORARY', isTemporary=True)"
        )


class Catalog:
    """`spark.catalog`: the session's temporary views."""

    def __init__(self, session):
        self._session = session

    def listTables(self, dbName=None, pattern=None):
        import fnmatch

        names = self._session._view_names()
        if pattern:
            names = [n for n in names if fnmatch.fnmatch(n, pattern)]
        return [Table(n) for n in names]

    def tableExists(self, tableName, dbName=None):
        return tableName.lower() in (n.lower() for n in self._session._view_names())

    def dropTempView(self, viewName):
        return self._session._drop_view(viewName)

    def dropGlobalTempView(self, viewName):
        return False

    def cacheTable(self, tableName):
        self._session.sql(f"CACHE TABLE {tableName}")

    def uncacheTable(self, tableName):
        self._session.sql(f"UNCACHE TABLE {tableName}")

    def currentDatabase(self):
        return "default"


class SparkSession(_kiln_pyspark.SparkSession):
    """The entry point: `SparkSession.builder.getOrCreate()`."""

    _active = None

    class Builder:
        def __init__(self):
            self._options = {}

        def config(self, key=None, value=None, conf=None, map=None):
            if conf is not None:
                for k, v in conf.getAll():
                    self._options[k] = v
            if map is not None:
                for k, v in map.items():
                    self._options[k] = v
            if key is not None:
                self._options[key] = value
            return self

        def master(self, master):
            return self.config("spark.master", master)

        def appName(self, name):
            return self.config("spark.app.name", name)

        def remote(self, url):
            return self.config("spark.remote", url)

        def enableHiveSupport(self):
            return self

        def getOrCreate(self):
            session = SparkSession._active
            if session is None:
                session = SparkSession()
                SparkSession._active = session
            for key, value in self._options.items():
                if key in ("spark.master", "spark.app.name"):
                    session._settings[key] = value
                    continue
                try:
                    session.conf.set(key, value)
                except Exception:
                    session._settings[key] = value
            return session

        def create(self):
            return self.getOrCreate()

    class _BuilderProperty:
        def __get__(self, instance, owner):
            return SparkSession.Builder()

    builder = _BuilderProperty()

    def __init__(self, *args, **kwargs):
        self._settings = {}

    @classmethod
    def getActiveSession(cls):
        return cls._active

    @classmethod
    def active(cls):
        if cls._active is None:
            return cls.builder.getOrCreate()
        return cls._active

    @property
    def version(self):
        import pyspark

        return pyspark.__version__

    @property
    def conf(self):
        return _SessionConf(self)

    @property
    def catalog(self):
        return Catalog(self)

    @property
    def udf(self):
        from pyspark.sql.udf import UDFRegistration

        return UDFRegistration(self)

    @property
    def sparkContext(self):
        from pyspark.context import SparkContext

        if SparkContext._active_spark_context is None or SparkContext._active_spark_context._session is not self:
            return SparkContext._of(self)
        return SparkContext._active_spark_context

    def createDataFrame(self, data, schema=None, samplingRatio=None, verifySchema=True):
        """Rows from a list, an RDD (its partitions kept) or a pandas DataFrame."""
        from pyspark.rdd import RDD
        from pyspark.sql.pandas.conversion import (
            arrow_enabled,
            arrow_table_of,
            is_pandas_frame,
            records_of,
        )

        if is_pandas_frame(data):
            if schema is None and arrow_enabled(self) is not None:
                converted = arrow_table_of(data)
                if converted is not None:
                    return self._create_from_arrow(*converted)
            data, schema = records_of(data, schema)
        if isinstance(data, RDD):
            partitions = data._partitions()
            rows = [row for partition in partitions for row in partition]
            sizes = [len(partition) for partition in partitions]
            return super().createDataFrame(rows, schema, samplingRatio, verifySchema, sizes)
        return super().createDataFrame(data, schema, samplingRatio, verifySchema)

    def sql(self, sqlQuery, args=None, **kwargs):
        """Runs a query; `args` binds `:name` / `?` parameters, keyword
        arguments fill `{name}` in the text as PySpark's formatter does (a
        DataFrame becomes a temporary view)."""
        if kwargs:
            sqlQuery = _SqlFormatter().format(sqlQuery, **kwargs)
        return super().sql(sqlQuery, args)

    def newSession(self):
        return self

    def stop(self):
        SparkSession._active = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def __repr__(self):
        return f"<pyspark.sql.session.SparkSession object at {hex(id(self))}>"

    def _repr_html_(self):
        """The session in a notebook: a card with the versions, master, app
        name and parallelism (Kiln has no job UI page yet)."""
        import html

        from _kiln_pyspark import KILN_VERSION, SPARK_VERSION

        context = self.sparkContext
        rows = [
            ("Kiln", KILN_VERSION),
            ("Spark API", SPARK_VERSION),
            ("Master", self.conf.get("spark.master", "local[*]")),
            ("App name", self.conf.get("spark.app.name", "pyspark-shell")),
            ("Parallelism", f"{context.defaultParallelism} partitions at a time"),
            ("Shuffle partitions", self.conf.get("spark.sql.shuffle.partitions", "200")),
            ("Time zone", self.conf.get("spark.sql.session.timeZone", "")),
        ]
        items = "".join(
            f"<dt>{html.escape(name)}</dt><dd><code>{html.escape(str(value))}</code></dd>"
            for name, value in rows
        )
        return (
            "<div class=\"kiln-session\" style=\"font-size:12px\">"
            "<p><b>SparkSession</b> · Kiln engine, in this kernel (no JVM)</p>"
            "<dl style=\"display:grid;grid-template-columns:max-content auto;gap:2px 12px;margin:0\">"
            f"{items}</dl><p style=\"color:var(--jp-ui-font-color2,#757575)\">"
            "Job progress shows in each cell; a job UI page is not available yet.</p></div>"
        )


class _SqlFormatter(string.Formatter):
    """`{name}` in `spark.sql` text: DataFrames as temporary views, plain
    column references as quoted identifiers, strings as string literals,
    anything else as its `str`."""

    def get_field(self, field_name, args, kwargs):
        value, key = super().get_field(field_name, args, kwargs)
        if isinstance(value, _kiln_pyspark.Column):
            reference = value._plain_reference
            if reference is None:
                raise PySparkValueError(
                    f"[VALUE_NOT_PLAIN_COLUMN_REFERENCE] Value `{value!r}` in `{field_name}` should "
                    "be a plain column reference such as `df.col` or `col('column')`."
                )
            return _SqlIdentifier(reference), key
        if isinstance(value, str):
            # A string is a SQL string literal, as PySpark's `lit(value).sql`.
            return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'", key
        return value, key

    def convert_field(self, value, conversion):
        if isinstance(value, _kiln_pyspark.DataFrame):
            name = f"_kiln_sql_{uuid.uuid4().hex}"
            value.createOrReplaceTempView(name)
            return name
        return super().convert_field(value, conversion)


class _SqlIdentifier(str):
    """A column reference as SQL text: each part of a dotted name quoted
    with backticks when it is not a plain identifier."""

    def __new__(cls, name):
        if "`" not in name:
            name = ".".join(
                part if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part) else f"`{part}`"
                for part in name.split(".")
            )
        return super().__new__(cls, name)


class _SessionConf(RuntimeConfig):
    """`spark.conf`, which also answers for `spark.master` and `spark.app.name`."""

    def get(self, key, default=RuntimeConfig._missing):
        if key in self._session._settings:
            return self._session._settings[key]
        if key == "spark.app.name":
            return "pyspark-shell" if default is RuntimeConfig._missing else default
        return super().get(key, default)


__all__ = ["SparkSession", "SparkConf"]
