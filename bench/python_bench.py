"""Python-in-the-engine benchmark: Python and pandas UDFs, an RDD pipeline
and pandas round trips, run as notebook cells in the Kiln kernel and in
ipykernel with PySpark local[*].

Both kernels get the same cells through jupyter_client. Wall time is from
execute_request to idle; peak memory is the resident set of the kernel's
whole process tree (for PySpark: the Python driver, the JVM and its Python
workers), sampled every 20 ms. Each workload prints a checksum; the harness
checks both kernels print the same one. Prints a Markdown table and
replaces the python section of docs/benchmarks.md.
"""

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

import psutil
from jupyter_client.manager import start_new_kernel

sys.path.insert(0, str(Path(__file__).parent))
from kernel_bench import machine  # noqa: E402
from report import kernel_comparison, write_section  # noqa: E402

HERE = Path(__file__).parent

SETUP = """
import os, sys
os.environ["PYSPARK_PYTHON"] = sys.executable
from pyspark.sql import SparkSession, functions as F, types as T
spark = SparkSession.builder.master("local[*]").appName("bench").getOrCreate()
spark.range(10).count()
"""

# The course's UDF: parse a base number, format it by its remainder.
UDF = """
def crazy_stuff(base_num):
    num = int(base_num[1:])
    if num % 7 == 0:
        return f's/{{num:03x}}'
    elif num % 3 == 0:
        return f'a/{{num:03x}}'
    else:
        return f'e/{{num:03x}}'
crazy_stuff_udf = F.udf(crazy_stuff, returnType=T.StringType())
trips = spark.range({rows}).select(
    F.concat(F.lit('B0'), F.lpad((F.col('id') % 3000).cast('string'), 4, '0')).alias('dispatching_base_num'))
counts = trips.withColumn('base_id', crazy_stuff_udf(trips.dispatching_base_num)).groupBy('base_id').count()
print(sorted(counts.collect())[:3], counts.count())
"""

# The same function over inputs that are all distinct (no call can be shared).
UDF_DISTINCT = """
trips = spark.range({rows}).select(F.concat(F.lit('B'), F.col('id').cast('string')).alias('dispatching_base_num'))
ids = trips.withColumn('base_id', crazy_stuff_udf(trips.dispatching_base_num))
print(ids.agg(F.countDistinct('base_id'), F.max('base_id')).collect())
"""

# The course's RDD step: key by (hour, zone), sum amounts and counts.
RDD = """
rows = spark.range({rows}).select(
    (F.col('id') % 24).alias('hour'), (F.col('id') % 265).alias('zone'),
    ((F.col('id') % 97) * 0.5).alias('amount')).rdd
def prepare_for_grouping(row):
    return ((row.hour, row.zone), (row.amount, 1))
def calculate_revenue(left, right):
    return (left[0] + right[0], left[1] + right[1])
result = rows.map(prepare_for_grouping).reduceByKey(calculate_revenue).collect()
print(len(result), sorted(result)[:2])
"""

# A pandas UDF (Arrow on both sides: PySpark requires it, Kiln's converts
# results through it); integer-valued doubles keep the sum exact.
PANDAS_UDF = """
import pandas as pd
@F.pandas_udf('double')
def with_fee(amount: pd.Series) -> pd.Series:
    return amount * 2.0 + 1.0
print(spark.range({rows}).select(with_fee((F.col('id') % 97).cast('double')).alias('t')).agg(F.sum('t')).collect())
"""

# A result to pandas and back, each side with Arrow enabled.
PANDAS_ROUND_TRIP = """
spark.conf.set('spark.sql.execution.arrow.pyspark.enabled', 'true')
frame = spark.range({rows}).selectExpr('id', 'id / 2 AS amount', "concat('zone', id % 265) AS zone")
pdf = frame.toPandas()
back = spark.createDataFrame(pdf)
print(len(pdf), back.agg(F.sum('amount'), F.countDistinct('zone')).collect())
"""


def tree_rss(pid):
    try:
        root = psutil.Process(pid)
        procs = [root] + root.children(recursive=True)
        return sum(p.memory_info().rss for p in procs if p.is_running())
    except psutil.Error:
        return 0


def run(kc, pid, code, timeout):
    """Runs a cell; returns (seconds, peak tree RSS, stdout text)."""
    peak = tree_rss(pid)
    done = threading.Event()

    def watch():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(pid))
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    start = time.perf_counter()
    msg_id = kc.execute(code)
    out, error = [], None
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream" and content["name"] == "stdout":
            out.append(content["text"])
        elif kind == "error":
            error = f"{content['ename']}: {content['evalue']}"
        elif kind == "status" and content["execution_state"] == "idle":
            break
    elapsed = time.perf_counter() - start
    done.set()
    watcher.join()
    if error:
        raise RuntimeError(error)
    return elapsed, peak, "".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--udf-rows", type=int, default=10_000_000)
    parser.add_argument("--rdd-rows", type=int, default=2_000_000)
    parser.add_argument("--pandas-rows", type=int, default=3_000_000)
    parser.add_argument("--kernels", nargs="+", default=["kiln", "python3"])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--write", default=str(HERE.parent / "docs/benchmarks.md"))
    args = parser.parse_args()

    workloads = {
        f"Python UDF, {args.udf_rows:,} rows": UDF.format(rows=args.udf_rows),
        f"Python UDF, {args.udf_rows:,} distinct inputs": UDF_DISTINCT.format(rows=args.udf_rows),
        f"RDD map + reduceByKey, {args.rdd_rows:,} rows": RDD.format(rows=args.rdd_rows),
        f"pandas UDF, {args.udf_rows:,} rows": PANDAS_UDF.format(rows=args.udf_rows),
        f"toPandas + createDataFrame(pandas), {args.pandas_rows:,} rows": PANDAS_ROUND_TRIP.format(
            rows=args.pandas_rows
        ),
    }
    results, outputs = {}, {}
    for kernel in args.kernels:
        km, kc = start_new_kernel(kernel_name=kernel, startup_timeout=120)
        pid = km.provisioner.process.pid
        try:
            run(kc, pid, SETUP, timeout=300)
            for name, code in workloads.items():
                times, peaks = [], []
                for _ in range(args.repeat):
                    print(f"{name} on {kernel} ...", file=sys.stderr, flush=True)
                    elapsed, peak, text = run(kc, pid, code, timeout=3600)
                    times.append(elapsed)
                    peaks.append(peak)
                    outputs.setdefault(name, {})[kernel] = text.strip()
                results[(name, kernel)] = (statistics.median(times), max(peaks))
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)

    lines = kernel_comparison("workload", [
        (name, {k: (*results[(name, k)], outputs[name][k]) for k in args.kernels}) for name in workloads
    ], args.kernels)
    table = "\n".join(lines)
    print(table)
    command = " ".join(["scripts/bench python"] + sys.argv[1:])
    body = (
        f"Measured with `{command}` on {machine()}.\n"
        "Cells run through jupyter_client in the Kiln kernel and in ipykernel with PySpark local[*] "
        "(session already started); time is execute_request → idle, peak RSS is the kernel's whole "
        "process tree (for PySpark: driver, JVM and Python workers). The first UDF workload has 3,000 "
        "distinct inputs (like the course's base numbers); Kiln calls a deterministic UDF once per "
        "distinct argument tuple of a partition, as Spark's contract allows; the second has none "
        "repeated. The pandas workloads run with Arrow enabled in both (PySpark's pandas UDFs need "
        "it; `spark.sql.execution.arrow.pyspark.enabled=true` for the round trip). "
        "Target: Kiln faster than PySpark.\n\n"
        f"{table}\n"
    )
    write_section(Path(args.write), "python", "Python UDF and RDD (Kiln, PySpark)", body)


if __name__ == "__main__":
    main()
