"""Runs a .sql fixture through PySpark and writes what Spark prints for each
statement: the expected transcript the engine's SQL tests compare against.

    python engine/tests/sql/oracle.py engine/tests/sql/course.sql > engine/tests/sql/course.expected
"""
import re
import sys

from pyspark.sql import SparkSession


def statements(text):
    return [s.strip() for s in text.split(";\n") if s.strip()]


def main(path):
    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("OFF")
    with open(path) as f:
        text = f.read()
    for statement in statements(text):
        print(f"-- {statement.splitlines()[0]}")
        try:
            df = spark.sql(statement)
            print(df._jdf.showString(20, 20, False), end="")
        except Exception as e:  # noqa: BLE001 - the error class is the expected output
            cls = getattr(e, "getCondition", lambda: None)()
            # Errors raised while a job runs reach Python wrapped; the class leads the message.
            found = re.search(r"\[([A-Z_.]+)\]", str(e))
            cls = cls or (found.group(1) if found else type(e).__name__)
            print(f"error: {cls}")


if __name__ == "__main__":
    main(sys.argv[1])
