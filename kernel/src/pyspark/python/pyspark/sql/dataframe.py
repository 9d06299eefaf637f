"""`pyspark.sql.dataframe`."""

from _kiln_pyspark import DataFrame

__all__ = ["DataFrame"]
