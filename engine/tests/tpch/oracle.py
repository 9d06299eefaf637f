"""Runs the TPC-H queries through PySpark over `kiln datagen tpch` Parquet
data and prints each answer as Spark shows it: the transcript the engine's
TPC-H test compares against.

    kiln datagen tpch --scale 0.1 --out /tmp/tpch
    python engine/tests/tpch/oracle.py /tmp/tpch > engine/tests/tpch/answers-sf0.1.txt
"""
import os
import re
import sys

from pyspark.sql import SparkSession

TABLES = ["region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem"]


def main(data):
    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("OFF")
    for table in TABLES:
        spark.read.parquet(os.path.join(data, table)).createOrReplaceTempView(table)
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "queries.sql")) as f:
        text = f.read()
    for query in [q.strip() for q in text.split(";\n") if q.strip()]:
        print(query.splitlines()[0])
        try:
            shown = spark.sql(query)._jdf.showString(100, 0, False)
            print(shown if shown.endswith("\n") else shown + "\n", end="")
        except Exception as e:  # noqa: BLE001 - the error class is the expected output
            found = re.search(r"\[([A-Z_.]+)\]", str(e))
            print(f"error: {found.group(1) if found else type(e).__name__}")


if __name__ == "__main__":
    main(sys.argv[1])
