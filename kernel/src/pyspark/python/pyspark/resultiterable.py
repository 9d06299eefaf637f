"""`pyspark.resultiterable`: the values of one key after `groupByKey`."""

from collections.abc import Iterable

__all__ = ["ResultIterable"]


class ResultIterable(Iterable):
    """A group's values: iterable any number of times, with a length."""

    def __init__(self, data):
        self.data = data
        self.index = 0
        self.maxindex = len(data)

    def __iter__(self):
        return iter(self.data)

    def __len__(self):
        return len(self.data)
