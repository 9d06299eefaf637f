"""`pyspark.sql` on Kiln's engine."""

from _kiln_pyspark import Column, DataFrame, DataFrameReader, DataFrameWriter, GroupedData

from pyspark.sql.session import SparkSession
from pyspark.sql.types import Row
from pyspark.sql.window import Window, WindowSpec

__all__ = [
    "SparkSession",
    "DataFrame",
    "Column",
    "Row",
    "Window",
    "WindowSpec",
    "GroupedData",
    "DataFrameReader",
    "DataFrameWriter",
]
