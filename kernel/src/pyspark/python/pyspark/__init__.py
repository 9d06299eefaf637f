"""Kiln's PySpark: the PySpark API on Kiln's embedded engine (no JVM)."""

from _kiln_pyspark import KILN_VERSION as _KILN_VERSION, SPARK_VERSION as _SPARK_VERSION

__version__ = f"{_SPARK_VERSION}+kiln.{_KILN_VERSION}"

from pyspark.conf import SparkConf  # noqa: E402
from pyspark.context import SparkContext  # noqa: E402
from pyspark.rdd import RDD  # noqa: E402
from pyspark.sql import Row  # noqa: E402
from pyspark.storagelevel import StorageLevel  # noqa: E402

__all__ = ["SparkConf", "SparkContext", "RDD", "Row", "StorageLevel"]
