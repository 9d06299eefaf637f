"""`pyspark.sql.column`."""

from _kiln_pyspark import Column

__all__ = ["Column"]
