"""`pyspark.sql.window`: `Window.partitionBy(...).orderBy(...).rowsBetween(...)`,
the spec `Column.over` applies a ranking, offset or aggregate function with."""

import sys

__all__ = ["Window", "WindowSpec"]

_JAVA_MIN_LONG = -(1 << 63)
_JAVA_MAX_LONG = (1 << 63) - 1
_PRECEDING_THRESHOLD = max(-sys.maxsize, _JAVA_MIN_LONG)
_FOLLOWING_THRESHOLD = min(sys.maxsize, _JAVA_MAX_LONG)


def _columns(cols):
    if len(cols) == 1 and isinstance(cols[0], (list, tuple)):
        return list(cols[0])
    return list(cols)


class WindowSpec:
    """Partitioning, ordering and frame; each method returns a new spec."""

    def __init__(self, partition=(), order=(), frame=None):
        self._partition = list(partition)
        self._order = list(order)
        self._frame = frame

    def partitionBy(self, *cols):
        return WindowSpec(_columns(cols), self._order, self._frame)

    def orderBy(self, *cols):
        return WindowSpec(self._partition, _columns(cols), self._frame)

    def rowsBetween(self, start, end):
        return WindowSpec(self._partition, self._order, ("rows",) + _bounds(start, end))

    def rangeBetween(self, start, end):
        return WindowSpec(self._partition, self._order, ("range",) + _bounds(start, end))

    def __repr__(self):
        return "<pyspark.sql.window.WindowSpec object>"


def _bounds(start, end):
    start = _JAVA_MIN_LONG if start <= _PRECEDING_THRESHOLD else int(start)
    end = _JAVA_MAX_LONG if end >= _FOLLOWING_THRESHOLD else int(end)
    return start, end


class Window:
    """Entry points for a WindowSpec."""

    unboundedPreceding = _JAVA_MIN_LONG
    unboundedFollowing = _JAVA_MAX_LONG
    currentRow = 0

    @staticmethod
    def partitionBy(*cols):
        return WindowSpec().partitionBy(*cols)

    @staticmethod
    def orderBy(*cols):
        return WindowSpec().orderBy(*cols)

    @staticmethod
    def rowsBetween(start, end):
        return WindowSpec().rowsBetween(start, end)

    @staticmethod
    def rangeBetween(start, end):
        return WindowSpec().rangeBetween(start, end)
