"""`pandas_udf`: a Python function over pandas Series, called once per batch
of up to 10,000 rows from the engine's partition workers (no Python worker
process, no serialization): the batch's columns arrive as Arrow arrays
through the C Data Interface and become Series; the result goes back
through Arrow with the declared type, as PySpark converts it (a NaN becomes
null, an int column can fill a double). Scalar
(`Series -> Series`) and scalar-iterator (`Iterator[Series] ->
Iterator[Series]`) UDFs are supported, chosen from the type hints or
`functionType` as in PySpark."""

import functools
import typing
from inspect import signature

from pyspark.errors import PySparkNotImplementedError, PySparkRuntimeError, PySparkTypeError
from pyspark.sql.pandas.conversion import require_pandas, require_pyarrow
from pyspark.sql.types import DataType, StructType, _parse_datatype_string
from pyspark.sql.udf import PythonEvalType, UserDefinedFunction


class PandasUDFType:
    """The pre-type-hint way of naming a pandas UDF's kind."""

    SCALAR = PythonEvalType.SQL_SCALAR_PANDAS_UDF
    SCALAR_ITER = PythonEvalType.SQL_SCALAR_PANDAS_ITER_UDF
    GROUPED_MAP = PythonEvalType.SQL_GROUPED_MAP_PANDAS_UDF
    GROUPED_AGG = PythonEvalType.SQL_GROUPED_AGG_PANDAS_UDF


def pandas_udf(f=None, returnType=None, functionType=None):
    """`@pandas_udf("double")`, `pandas_udf(fn, returnType)`,
    `@pandas_udf(returnType=..., functionType=...)`."""
    require_pandas()
    require_pyarrow()
    is_decorator = f is None or isinstance(f, (str, DataType))
    if is_decorator:
        return_type = f or returnType
        eval_type = functionType
        if eval_type is None and isinstance(returnType, int):
            eval_type = returnType
    else:
        return_type = returnType
        eval_type = functionType
    if return_type is None:
        raise PySparkTypeError("[CANNOT_BE_NONE] Argument `returnType` cannot be None.")
    if is_decorator:
        return functools.partial(_create, returnType=return_type, evalType=eval_type)
    return _create(f, returnType=return_type, evalType=eval_type)


def _create(f, returnType, evalType):
    if evalType is None:
        evalType = _infer_eval_type(f)
    if evalType not in (PandasUDFType.SCALAR, PandasUDFType.SCALAR_ITER):
        raise PySparkNotImplementedError(
            "[NOT_IMPLEMENTED] Kiln runs scalar and scalar-iterator pandas UDFs "
            "(Series -> Series, Iterator[Series] -> Iterator[Series]); grouped and "
            "map pandas UDFs are not supported yet."
        )
    if isinstance(returnType, str):
        returnType = _parse_datatype_string(returnType)
    if isinstance(returnType, StructType):
        raise PySparkNotImplementedError(
            "[NOT_IMPLEMENTED] Kiln's pandas UDFs return one column; a struct "
            "(pandas.DataFrame) result is not supported yet."
        )
    udf = UserDefinedFunction(f, returnType, evalType=evalType)
    udf._batch = _batch_function(f, returnType, evalType == PandasUDFType.SCALAR_ITER)
    return udf._wrapped()


def _infer_eval_type(f):
    """Scalar unless the hints say iterator-in, iterator-out, or a scalar
    result (a grouped aggregate)."""
    try:
        hints = typing.get_type_hints(f)
    except (NameError, TypeError):
        hints = {}
    parameters = list(signature(f).parameters.values())
    if not hints or not parameters:
        return PandasUDFType.SCALAR
    first = hints.get(parameters[0].name)
    if typing.get_origin(first) in (typing.Iterator, _abc_iterator()):
        return PandasUDFType.SCALAR_ITER
    result = hints.get("return")
    pd = require_pandas()
    if result is not None and result not in (pd.Series, pd.DataFrame):
        return PandasUDFType.GROUPED_AGG
    return PandasUDFType.SCALAR


def _abc_iterator():
    import collections.abc

    return collections.abc.Iterator


def _series(pd, pa, array):
    """An argument array as the Series PySpark's pandas UDFs receive:
    timestamps as naive times in the session's zone."""
    if pa.types.is_timestamp(array.type) and array.type.tz is not None:
        from pyspark.sql import SparkSession

        session = SparkSession._active
        zone = session.conf.get("spark.sql.session.timeZone", "UTC") if session else "UTC"
        return array.to_pandas().dt.tz_convert(zone).dt.tz_localize(None)
    return array.to_pandas()


def _batch_function(f, return_type, iterator):
    """What the engine calls per batch: pyarrow arrays of the arguments in,
    a pyarrow array of `return_type` out."""
    from pyspark.sql.pandas.types import to_arrow_type

    pd = require_pandas()
    pa = require_pyarrow()
    arrow_type = to_arrow_type(return_type)

    def call(*columns):
        length = len(columns[0]) if columns else 0
        series = [_series(pd, pa, array) for array in columns]
        if iterator:
            args = series[0] if len(series) == 1 else tuple(series)
            parts = list(f(iter([args])))
            result = pd.concat(parts, ignore_index=True) if parts else pd.Series([])
        else:
            result = f(*series)
        if not isinstance(result, pd.Series):
            raise PySparkTypeError(
                "[UDF_RETURN_TYPE] Return type of the user-defined function should be "
                f"pandas.Series, but is {type(result).__name__}."
            )
        if len(result) != length:
            raise PySparkRuntimeError(
                "[SCHEMA_MISMATCH_FOR_PANDAS_UDF] Result vector from pandas_udf was not the "
                f"required length: expected {length}, got {len(result)}."
            )
        return pa.Array.from_pandas(result, type=arrow_type)

    return call
