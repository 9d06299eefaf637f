"""`pyspark.sql` on Kiln's engine."""

from _kiln_pyspark import Column, DataFrame, DataFrameReader, DataFrameWriter, GroupedData

from pyspark.sql.session import SparkSession
from pyspark.sql.types import Row

__all__ = [
    "SparkSession",
    "DataFrame",
    "Column",
    "Row",
    "GroupedData",
    "DataFrameReader",
    "DataFrameWriter",
]
