"""DataFrame methods composed from others, as Spark composes them:
`na.fill` / `fillna`, `na.drop` / `dropna` (null and, in floating columns,
NaN count as missing), `describe` (count, mean, stddev, min, max as
strings) and `summary` (any of those, distinct counts and percentiles)."""

import re

from pyspark.errors import IllegalArgumentException, PySparkTypeError, PySparkValueError
from pyspark.sql import functions as F
from pyspark.sql.types import (
    BooleanType,
    DoubleType,
    FloatType,
    NumericType,
    StringType,
)


def _fields(df, subset, expected="list, str or tuple"):
    if subset is None:
        return list(df.schema.fields)
    if isinstance(subset, str):
        subset = [subset]
    if not isinstance(subset, (list, tuple)):
        raise PySparkTypeError(
            f"[NOT_EXPECTED_TYPE] Argument `subset` should be {expected}, got {type(subset).__name__}."
        )
    by_name = {f.name.lower(): f for f in df.schema.fields}
    fields = []
    for name in subset:
        field = by_name.get(name.lower())
        if field is None:
            df.select(name)  # raises Spark's UNRESOLVED_COLUMN
        fields.append(field)
    return fields


def _missing(field):
    column = F.col(f"`{field.name}`")
    if isinstance(field.dataType, (DoubleType, FloatType)):
        return column.isNull() | F.isnan(column)
    return column.isNull()


def _accepts(data_type, value):
    if isinstance(value, bool):
        return isinstance(data_type, BooleanType)
    if isinstance(value, (int, float)):
        return isinstance(data_type, NumericType)
    return isinstance(data_type, StringType)


def fillna(df, value, subset=None):
    """`df.fillna(value, subset)`: nulls (and NaN) in the columns whose type
    takes `value` become `value` cast to the column's type."""
    if not isinstance(value, (float, int, str, bool, dict)):
        raise PySparkTypeError(
            "[NOT_EXPECTED_TYPE] Argument `value` should be bool, dict, "
            f"float, int or str, got {type(value).__name__}."
        )
    if isinstance(value, dict):
        replacements = {}
        for name, v in value.items():
            if not isinstance(v, (float, int, str, bool)):
                raise PySparkTypeError(
                    "[NOT_EXPECTED_TYPE] Argument `value` should be bool, float, "
                    f"int or str, got {type(v).__name__}."
                )
            (field,) = _fields(df, [name])
            replacements[field.name] = v
    else:
        replacements = {
            f.name: value
            for f in _fields(df, subset, "list or tuple")
            if _accepts(f.dataType, value)
        }
    columns = []
    for field in df.schema.fields:
        column = F.col(f"`{field.name}`")
        if field.name in replacements:
            filler = F.lit(replacements[field.name]).cast(field.dataType)
            column = F.when(_missing(field), filler).otherwise(column)
        columns.append(column.alias(field.name))
    return df.select(*columns)


def dropna(df, how="any", thresh=None, subset=None):
    """`df.dropna(how, thresh, subset)`: keeps rows with at least `thresh`
    present (non-null, non-NaN) values among `subset`."""
    if how not in ("any", "all"):
        raise PySparkValueError(
            "[VALUE_NOT_ALLOWED] Value for `how` has to be amongst the following values: ['any', 'all']."
        )
    fields = _fields(df, subset)
    if thresh is None:
        thresh = len(fields) if how == "any" else 1
    if not fields:
        return df
    present = [F.when(_missing(f), 0).otherwise(1) for f in fields]
    total = present[0]
    for p in present[1:]:
        total = total + p
    return df.filter(total >= thresh)


def describe(df, *cols):
    """`df.describe(*cols)`: count, mean, stddev, min and max of numeric and
    string columns (all of them when none are named), as strings."""
    if len(cols) == 1 and isinstance(cols[0], list):
        cols = cols[0]
    if cols:
        fields = _fields(df, list(cols))
    else:
        fields = [f for f in df.schema.fields if isinstance(f.dataType, (NumericType, StringType))]
    stats = ["count", "mean", "stddev", "min", "max"]
    aggregates = []
    for field in fields:
        column = F.col(f"`{field.name}`")
        numeric = isinstance(field.dataType, NumericType)
        aggregates += [
            F.count(column).cast("string"),
            F.avg(column).cast("string") if numeric else F.lit(None).cast("string"),
            F.stddev(column).cast("string") if numeric else F.lit(None).cast("string"),
            F.min(column).cast("string"),
            F.max(column).cast("string"),
        ]
    values = list(df.agg(*aggregates).collect()[0]) if aggregates else []
    rows = [
        [stat] + [values[j * len(stats) + i] for j in range(len(fields))]
        for i, stat in enumerate(stats)
    ]
    schema = ", ".join(["summary string"] + [f"`{f.name}` string" for f in fields])
    return df.sparkSession.createDataFrame(rows, schema)


_SUMMARY_DEFAULT = ("count", "mean", "stddev", "min", "25%", "50%", "75%", "max")
_PERCENTILE = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)%$")


def _statistic(stat, column, numeric):
    """One summary cell: `stat` of `column`, as a string (null where Spark
    leaves it out: means and percentiles of strings)."""
    if stat == "count":
        value = F.count(column)
    elif stat == "count_distinct":
        value = F.count_distinct(column)
    elif stat == "approx_count_distinct":
        value = F.approx_count_distinct(column)
    elif stat == "min":
        value = F.min(column)
    elif stat == "max":
        value = F.max(column)
    elif not numeric:
        value = F.lit(None)
    elif stat == "mean":
        value = F.avg(column)
    elif stat == "stddev":
        value = F.stddev(column)
    else:
        value = F.percentile_approx(column, float(stat[:-1]) / 100.0, 10000)
    return value.cast("string")


def summary(df, *statistics):
    """`df.summary(*statistics)`: the named statistics (count, mean, stddev,
    min, quartiles, max when none are named) of numeric and string columns."""
    statistics = statistics or _SUMMARY_DEFAULT
    named = ("count", "count_distinct", "approx_count_distinct", "mean", "stddev", "min", "max")
    for stat in statistics:
        match = _PERCENTILE.match(stat) if isinstance(stat, str) else None
        if stat in named or (match and 0.0 <= float(match.group(1)) <= 100.0):
            continue
        raise IllegalArgumentException(
            f"[UNRECOGNIZED_STATISTIC] The statistic '{stat}' is not recognized. Valid statistics "
            "include `count`, `count_distinct`, `approx_count_distinct`, `mean`, `stddev`, `min`, "
            "`max`, and percentile values. Percentile must be a numeric value followed by '%', "
            "within the range 0% to 100%."
        )
    fields = [f for f in df.schema.fields if isinstance(f.dataType, (NumericType, StringType))]
    aggregates = [
        _statistic(stat, F.col(f"`{field.name}`"), isinstance(field.dataType, NumericType))
        for stat in statistics
        for field in fields
    ]
    values = list(df.agg(*aggregates).collect()[0]) if aggregates else []
    width = len(fields)
    rows = [
        [stat] + values[i * width : (i + 1) * width] for i, stat in enumerate(statistics)
    ]
    schema = ", ".join(["summary string"] + [f"`{f.name}` string" for f in fields])
    return df.sparkSession.createDataFrame(rows, schema)


class DataFrameNaFunctions:
    """`df.na`: the missing-value functions."""

    def __init__(self, df):
        self.df = df

    def fill(self, value, subset=None):
        return fillna(self.df, value, subset)

    def drop(self, how="any", thresh=None, subset=None):
        return dropna(self.df, how, thresh, subset)
