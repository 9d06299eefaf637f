"""Runs TPC-H queries on DuckDB over `kiln datagen tpch` Parquet; prints
`name<TAB>seconds<TAB>rows` per query, each fetched in full. The queries are
Kiln's Spark SQL text, which DuckDB reads as written."""

import os
import sys
import time

import duckdb

TABLES = ["region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem"]


def main(data, queries):
    con = duckdb.connect()
    for table in TABLES:
        path = os.path.join(data, table, "*.parquet")
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{path}')")
    with open(queries) as f:
        text = f.read()
    for query in [q.strip() for q in text.split(";\n") if q.strip()]:
        name = query.splitlines()[0][3:].split()[0]
        start = time.perf_counter()
        rows = len(con.execute(query).fetchall())
        print(f"{name}\t{time.perf_counter() - start:.4f}\t{rows}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
