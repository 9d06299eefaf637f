"""Runs TPC-H queries on PySpark local[*] over `kiln datagen tpch` Parquet;
prints `name<TAB>seconds<TAB>rows` per query, each collected in full."""

import os
import sys
import time

from pyspark.sql import SparkSession

TABLES = ["region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem"]


def main(data, queries):
    spark = SparkSession.builder.master("local[*]").config("spark.driver.memory", "8g").getOrCreate()
    spark.sparkContext.setLogLevel("OFF")
    for table in TABLES:
        spark.read.parquet(os.path.join(data, table)).createOrReplaceTempView(table)
    with open(queries) as f:
        text = f.read()
    for query in [q.strip() for q in text.split(";\n") if q.strip()]:
        name = query.splitlines()[0][3:].split()[0]
        start = time.perf_counter()
        rows = len(spark.sql(query).collect())
        print(f"{name}\t{time.perf_counter() - start:.4f}\t{rows}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
