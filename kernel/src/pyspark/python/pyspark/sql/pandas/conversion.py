"""DataFrame ↔ pandas and Arrow. The results are PySpark's default
(non-Arrow) conversion: `toPandas()` corrects each column's dtype from its
Spark type; `createDataFrame(pandas_df)` turns the frame into records and
infers the schema from their Python values. When pyarrow is importable,
`toArrow()` and `toPandas()` take the engine's columns through the Arrow C
stream interface instead of building Python rows (same result, far less
work); `spark.sql.execution.arrow.pyspark.enabled=false` turns that off."""

import datetime
import os

from pyspark.errors import PySparkImportError
from pyspark.sql.types import (
    ArrayType,
    BinaryType,
    BooleanType,
    DayTimeIntervalType,
    DoubleType,
    FloatType,
    IntegralType,
    MapType,
    NullType,
    StringType,
    StructType,
    TimestampNTZType,
    TimestampType,
)


def require_pandas():
    """pandas, or an error saying what to install and what works without it."""
    try:
        import pandas
    except ImportError:
        raise PySparkImportError(
            "[PACKAGE_NOT_INSTALLED] Pandas >= 2.2.0 must be installed; however, it was not found. "
            "Install it in the kernel's environment (`%pip install pandas`). Without it, "
            "collect(), show() and display(df) work, and spark.read.csv(path, header=True, "
            "inferSchema=True) infers a schema."
        ) from None
    return pandas


def require_pyarrow():
    try:
        import pyarrow
    except ImportError:
        raise PySparkImportError(
            "[PACKAGE_NOT_INSTALLED] PyArrow >= 15.0.0 must be installed; however, it was not found. "
            "Install it in the kernel's environment (`%pip install pyarrow`). Without it, "
            "collect(), show() and display(df) work."
        ) from None
    return pyarrow


def _pandas3(pd):
    return int(pd.__version__.split(".")[0]) >= 3


def _corrected(pd, series, data_type, nullable):
    import numpy as np

    unit = "us" if _pandas3(pd) else "ns"
    if isinstance(data_type, IntegralType):
        width = {"byte": np.int8, "short": np.int16, "integer": np.int32, "long": np.int64}
        exact = width[data_type.typeName()]
        if nullable and series.isnull().any():
            return series.astype(np.float64, copy=False)
        return series.astype(exact, copy=False)
    if isinstance(data_type, FloatType):
        return series.astype(np.float32, copy=False)
    if isinstance(data_type, DoubleType):
        return series.astype(np.float64, copy=False)
    if isinstance(data_type, BooleanType):
        if nullable and series.isnull().any():
            return series.astype(object, copy=False)
        return series.astype(bool, copy=False)
    if isinstance(data_type, (TimestampType, TimestampNTZType)):
        return series.astype(np.dtype(f"datetime64[{unit}]"), copy=False)
    if isinstance(data_type, DayTimeIntervalType):
        return series.astype(np.dtype(f"timedelta64[{unit}]"), copy=False)
    if isinstance(data_type, StringType) and _pandas3(pd):
        return series.astype(pd.StringDtype(na_value=np.nan), copy=False)
    return series


def arrow_enabled(session):
    """pyarrow, when it is importable and the session allows Arrow."""
    setting = session.conf.get("spark.sql.execution.arrow.pyspark.enabled", "true")
    if str(setting).lower() == "false":
        return None
    try:
        import pyarrow
    except ImportError:
        return None
    return pyarrow


def _local_zone():
    """The machine's zone name, which `datetime.fromtimestamp` (PySpark's
    row conversion) uses; None when it cannot be named."""
    name = os.environ.get("TZ", "").lstrip(":")
    if not name:
        target = os.path.realpath("/etc/localtime")
        marker = "/zoneinfo/"
        if marker in target:
            name = target.split(marker, 1)[1]
    return name or None


def _arrow_column(pd, column, data_type):
    """An Arrow column as the pandas series PySpark's row conversion builds
    (before the dtype correction): timestamps as naive local times."""
    if isinstance(data_type, TimestampType):
        zone = _local_zone()
        if zone is None:
            return pd.Series(
                [
                    None if v is None else datetime.datetime.fromtimestamp(v.timestamp())
                    for v in column.to_pylist()
                ],
                dtype=object,
            )
        aware = column.to_pandas()
        return aware.dt.tz_convert(zone).dt.tz_localize(None)
    return column.to_pandas()


def _arrow_ready(schema):
    """Flat columns whose Arrow form converts to PySpark's pandas values
    (bytes and nested values are built from rows)."""
    nested = (ArrayType, MapType, StructType, BinaryType, NullType)
    return all(not isinstance(f.dataType, nested) for f in schema.fields)


def to_pandas(df):
    """`df.toPandas()`."""
    pd = require_pandas()
    if arrow_enabled(df.sparkSession) is not None and _arrow_ready(df.schema):
        table = df._arrow_table()
        series = []
        for column, field in zip(table.columns, df.schema.fields):
            values = _arrow_column(pd, column, field.dataType)
            values.name = field.name
            series.append(_corrected(pd, values, field.dataType, field.nullable))
        if not series:
            return pd.DataFrame(index=range(table.num_rows))
        return pd.concat(series, axis="columns")
    rows = df.collect()
    columns = df.columns
    if rows:
        frame = pd.DataFrame.from_records(rows, index=range(len(rows)), columns=columns)
    else:
        frame = pd.DataFrame(columns=columns)
    if len(frame.columns) == 0:
        return frame
    return pd.concat(
        [
            _corrected(pd, series, field.dataType, field.nullable)
            for (_, series), field in zip(frame.items(), df.schema.fields)
        ],
        axis="columns",
    )


def to_arrow(df):
    """`df.toArrow()`: a pyarrow Table, from the engine's columns."""
    pa = require_pyarrow()
    from pyspark.sql.pandas.types import to_arrow_schema

    schema = to_arrow_schema(df.schema)
    if _arrow_ready(df.schema):
        return df._arrow_table().cast(schema)
    rows = df.collect()
    columns = [[row[i] for row in rows] for i in range(len(schema))]
    return pa.Table.from_arrays(
        [pa.array(values, type=field.type) for values, field in zip(columns, schema)], schema=schema
    )


def is_pandas_frame(data):
    module = type(data).__module__ or ""
    return module.startswith("pandas") and hasattr(data, "to_records") and hasattr(data, "dtypes")


def arrow_table_of(frame):
    """(pyarrow Table, StructType) holding what the row conversion would
    build from `frame`, when every column maps directly: integers (as
    bigint), floats (as double, NaN kept), booleans, naive datetimes (local
    times, as `createDataFrame` reads them) and strings without missing
    values. None for anything else, which goes through Python rows."""
    import numpy as np

    from pyspark.sql.types import (
        BooleanType,
        DoubleType,
        LongType,
        StructField,
        StructType,
        TimestampType,
    )

    pd = require_pandas()
    pa = require_pyarrow()
    if len(frame) == 0 or len(frame.columns) == 0 or frame.columns.has_duplicates:
        return None
    if not all(isinstance(name, str) for name in frame.columns):
        return None
    fields, arrays = [], []
    for name, series in frame.items():
        dtype = series.dtype
        kind = getattr(dtype, "kind", None) if isinstance(dtype, np.dtype) else None
        if kind == "b":
            fields.append(StructField(name, BooleanType(), True))
            arrays.append(pa.array(series.to_numpy(), pa.bool_()))
        elif kind == "i" or (kind == "u" and dtype.itemsize < 8):
            fields.append(StructField(name, LongType(), True))
            arrays.append(pa.array(series.to_numpy().astype(np.int64), pa.int64()))
        elif kind == "f":
            fields.append(StructField(name, DoubleType(), True))
            arrays.append(pa.array(series.to_numpy().astype(np.float64), pa.float64()))
        elif kind == "M":
            zone = _local_zone()
            if zone is None:
                return None
            try:
                local = series.dt.tz_localize(zone, ambiguous="raise", nonexistent="raise")
            except Exception:  # noqa: BLE001 - DST gaps and folds go through rows
                return None
            utc = local.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]")
            fields.append(StructField(name, TimestampType(), True))
            arrays.append(pa.Array.from_pandas(utc, type=pa.timestamp("us")))
        elif pd.api.types.infer_dtype(series, skipna=False) == "string":
            fields.append(StructField(name, StringType(), True))
            arrays.append(pa.array(series.tolist(), pa.string()))
        else:
            return None
    return pa.Table.from_arrays(arrays, names=list(frame.columns)), StructType(fields)


def records_of(frame, schema):
    """The rows and column names `createDataFrame(frame)` builds from."""
    pd = require_pandas()
    if schema is None:
        schema = [str(x) if not isinstance(x, str) else x for x in frame.columns]
    frame = frame.copy(deep=False)
    for name, series in frame.items():
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            values = series.dt.tz_localize(None) if getattr(series.dt, "tz", None) else series
            frame[name] = pd.Series(
                [None if pd.isna(v) else v.to_pydatetime() for v in values], index=frame.index, dtype=object
            )
    return [r.tolist() for r in frame.to_records(index=False)], schema
