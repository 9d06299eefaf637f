"""PySpark's exception classes, with the same names, bases and text.

Errors from the engine arrive as these classes with Spark's error-class text
(`[UNRESOLVED_COLUMN.WITH_SUGGESTION] ...`), so `except AnalysisException`
works as it does with PySpark.
"""

import re


class PySparkException(Exception):
    """The base of every error PySpark raises."""

    def __init__(self, message=None, errorClass=None, messageParameters=None, **_ignored):
        self._errorClass = errorClass
        self._messageParameters = dict(messageParameters or {})
        if message is None and errorClass is not None:
            message = f"[{errorClass}] " + " ".join(
                f"{k}={v}" for k, v in self._messageParameters.items()
            )
        elif errorClass is not None and not str(message).startswith("["):
            message = f"[{errorClass}] {message}"
        self._message = "" if message is None else str(message)
        super().__init__(self._message)
        tagged = self._message.lstrip("\n")
        if errorClass is None and tagged.startswith("["):
            end = tagged.find("]")
            if end > 0:
                self._errorClass = tagged[1:end]

    def getErrorClass(self):
        return self._errorClass

    def getCondition(self):
        return self._errorClass

    def getMessageParameters(self):
        return self._messageParameters

    def getSqlState(self):
        found = re.search(r"SQLSTATE: (\w+)", self._message)
        return found.group(1) if found else None

    def getMessage(self):
        return self._message

    def __str__(self):
        return self._message


class AnalysisException(PySparkException):
    """A query that cannot be analyzed: an unknown column, view or function."""


class ParseException(AnalysisException):
    """SQL text that does not parse."""


class TempTableAlreadyExistsException(AnalysisException):
    """A temporary view that already exists."""


class IllegalArgumentException(PySparkException):
    """An argument the engine cannot accept."""


class NumberFormatException(IllegalArgumentException):
    """A string that does not cast to a number."""


class ArithmeticException(PySparkException):
    """Division by zero or overflow under ANSI rules."""


class ArrayIndexOutOfBoundsException(PySparkException):
    """An index past the end of an array."""


class DateTimeException(PySparkException):
    """A date or time that cannot be parsed or built."""


class SparkRuntimeException(PySparkException):
    """An error while a query runs."""


class SparkUpgradeException(PySparkException):
    """Behaviour that changed between Spark versions."""


class SparkNoSuchElementException(PySparkException):
    """A missing element."""


class QueryExecutionException(PySparkException):
    """A failure while executing a query."""


class PythonException(PySparkException):
    """An exception raised inside a Python function the engine called."""


class StreamingQueryException(PySparkException):
    """A failed streaming query."""


class UnknownException(PySparkException):
    """An engine error of no more specific class."""


class PySparkTypeError(PySparkException, TypeError):
    """A wrong argument type."""


class PySparkValueError(PySparkException, ValueError):
    """A wrong argument value."""


class PySparkAttributeError(PySparkException, AttributeError):
    """A missing attribute."""


class PySparkImportError(PySparkException, ImportError):
    """An optional package (pandas, pyarrow) that is not installed."""


class PySparkRuntimeError(PySparkException, RuntimeError):
    """A runtime error in the Python API."""


class PySparkNotImplementedError(PySparkException, NotImplementedError):
    """An API Kiln does not implement."""


class PySparkIndexError(PySparkException, IndexError):
    """An index out of range."""


class PySparkKeyError(PySparkException, KeyError):
    """A missing key."""


class PySparkAssertionError(PySparkException, AssertionError):
    """A failed assertion."""


__all__ = [name for name in dir() if name.endswith(("Exception", "Error"))]
