"""`pyspark.sql.udf`: Python UDFs. The function runs inside the engine's
partition workers (no separate Python worker, no pickling); what `udf()`
returns behaves as PySpark's wrapper does (`__name__`, `func`,
`returnType`, `evalType`, `asNondeterministic`). As Spark allows for a
deterministic function, it is called once per distinct argument tuple of a
partition; `asNondeterministic()` makes it run for every row."""

import functools

from _kiln_pyspark import UdfHandle

from pyspark.errors import PySparkTypeError
from pyspark.sql.types import DataType, StringType, _parse_datatype_string


class PythonEvalType:
    NON_UDF = 0
    SQL_BATCHED_UDF = 100
    SQL_ARROW_BATCHED_UDF = 101
    SQL_SCALAR_PANDAS_UDF = 200
    SQL_GROUPED_MAP_PANDAS_UDF = 201
    SQL_GROUPED_AGG_PANDAS_UDF = 202
    SQL_SCALAR_PANDAS_ITER_UDF = 204


class UserDefinedFunction:
    """A Python function with its declared return type."""

    def __init__(
        self,
        func,
        returnType=StringType(),
        name=None,
        evalType=PythonEvalType.SQL_BATCHED_UDF,
        deterministic=True,
    ):
        if not callable(func):
            raise PySparkTypeError(
                f"[NOT_EXPECTED_TYPE] Argument `func` should be callable, got {type(func).__name__}."
            )
        if not isinstance(returnType, (DataType, str)):
            raise PySparkTypeError(
                "[NOT_EXPECTED_TYPE] Argument `returnType` should be DataType or str, "
                f"got {type(returnType).__name__}."
            )
        self.func = func
        self._returnType = returnType
        self._returnType_placeholder = None
        self._name = name or getattr(func, "__name__", type(func).__name__)
        self.evalType = evalType
        self.deterministic = deterministic
        self._handle = None
        # A pandas UDF's per-batch caller (see pyspark.sql.pandas.functions).
        self._batch = None

    @property
    def returnType(self):
        if self._returnType_placeholder is None:
            if isinstance(self._returnType, DataType):
                self._returnType_placeholder = self._returnType
            else:
                self._returnType_placeholder = _parse_datatype_string(self._returnType)
        return self._returnType_placeholder

    def _native(self):
        if self._handle is None:
            if self._batch is not None:
                self._handle = UdfHandle(
                    self._batch, self._name, self.returnType, self.deterministic, columns=True
                )
            else:
                self._handle = UdfHandle(
                    self.func, self._name, self.returnType, self.deterministic
                )
        return self._handle

    def __call__(self, *cols):
        return self._native()(*cols)

    def asNondeterministic(self):
        """Called once per row: equal arguments are not folded into one call."""
        self.deterministic = False
        self._handle = None
        return self

    def _wrapped(self):
        assignments = tuple(
            a for a in functools.WRAPPER_ASSIGNMENTS if a != "__name__" and a != "__module__"
        )

        @functools.wraps(self.func, assigned=assignments)
        def wrapper(*args):
            return self(*args)

        wrapper.__name__ = self._name
        wrapper.__module__ = (
            self.func.__module__
            if hasattr(self.func, "__module__")
            else self.func.__class__.__module__
        )
        wrapper.func = self.func
        wrapper.returnType = self.returnType
        wrapper.evalType = self.evalType
        wrapper.deterministic = self.deterministic
        wrapper.asNondeterministic = functools.wraps(self.asNondeterministic)(
            lambda: self.asNondeterministic()._wrapped()
        )
        wrapper._unwrapped = self
        return wrapper


def _create_udf(f, returnType, evalType=PythonEvalType.SQL_BATCHED_UDF, name=None):
    return UserDefinedFunction(f, returnType, name=name, evalType=evalType)._wrapped()


class UDFRegistration:
    """`spark.udf`: functions callable by name in SQL text."""

    def __init__(self, session):
        self.sparkSession = session

    def register(self, name, f, returnType=None):
        unwrapped = getattr(f, "_unwrapped", f if isinstance(f, UserDefinedFunction) else None)
        if unwrapped is not None:
            if returnType is not None:
                raise PySparkTypeError(
                    "[CANNOT_SPECIFY_RETURN_TYPE_FOR_UDF] returnType can not be specified when "
                    f"`f` is a user-defined function, but got {returnType}."
                )
            source = UserDefinedFunction(
                unwrapped.func,
                unwrapped.returnType,
                name=name,
                evalType=unwrapped.evalType,
                deterministic=unwrapped.deterministic,
            )
            source._batch = unwrapped._batch
        else:
            source = UserDefinedFunction(
                f, StringType() if returnType is None else returnType, name=name
            )
        self.sparkSession._register_udf(name, source._native())
        return source._wrapped()
