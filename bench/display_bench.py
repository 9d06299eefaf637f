"""Rich output benchmark: what the notebook displays cost, through jupyter_client.

Measures, in one Kiln kernel, with requests sent as a notebook frontend sends
them (the cell's id in the metadata):
  * progress overhead: a 400-task group-by with the live progress display on
    and off, alternating, --runs times each; the display messages it sent
    and their rate;
  * a DataFrame as a cell's value (the HTML table of its first 20 rows) over
    a --rows-row Parquet file;
  * df.plot.bar of a group-by over the same file, and df.plot.scatter
    (a sample of 1000 points), SVG and PNG both drawn.

Prints a Markdown table and replaces the display section of docs/benchmarks.md.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from jupyter_client.manager import start_new_kernel

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
from conftest import run_notebook_cell  # noqa: E402
from kernel_bench import machine  # noqa: E402
from report import commit, write_section  # noqa: E402

JOB = ("spark.range(20_000_000, numPartitions=400)"
       ".groupBy((F.col('id') % 1000).alias('k')).count().collect(); None")


def notebook_cell(kc, code, timeout=600):
    """Runs code as a notebook cell; returns (seconds, [(msg_type, content)])."""
    t0 = time.perf_counter()
    _, outputs = run_notebook_cell(kc, code, timeout=timeout)
    elapsed = time.perf_counter() - t0
    errors = [c for t, c in outputs if t == "error"]
    if errors:
        raise RuntimeError(f"{code!r} failed: {errors[0]['evalue']}")
    return elapsed, outputs


def median_of(kc, code, runs):
    return statistics.median(notebook_cell(kc, code)[0] for _ in range(runs))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--write", default=str(Path(__file__).parent.parent / "docs/benchmarks.md"))
    args = parser.parse_args()

    km, kc = start_new_kernel(kernel_name="kiln")
    with tempfile.TemporaryDirectory() as scratch:
        try:
            notebook_cell(kc, "from pyspark.sql import SparkSession, functions as F\n"
                              "spark = SparkSession.builder.getOrCreate()")
            timings = {"true": [], "false": []}
            messages = []
            notebook_cell(kc, JOB)  # warm up
            for _ in range(args.runs):
                for enabled in ("true", "false"):
                    notebook_cell(kc, f"spark.conf.set('spark.kiln.progress.enabled', '{enabled}')")
                    elapsed, outputs = notebook_cell(kc, JOB)
                    timings[enabled].append(elapsed)
                    if enabled == "true":
                        shown = [t for t, _ in outputs if t in ("display_data", "update_display_data")]
                        messages.append((len(shown), elapsed))
            notebook_cell(kc, "spark.conf.set('spark.kiln.progress.enabled', 'false')")
            path = f"{scratch}/trips"
            notebook_cell(kc, f"spark.range({args.rows}).selectExpr('id', 'id % 24 AS hour', "
                              f"'(id * 7919) % 10000 / 100.0 AS distance')"
                              f".write.parquet({path!r})")
            notebook_cell(kc, f"trips = spark.read.parquet({path!r})")
            table = median_of(kc, "trips", args.runs)
            bar = median_of(kc, "trips.groupBy('hour').count().orderBy('hour').plot.bar(x='hour', y='count')",
                            args.runs)
            scatter = median_of(kc, "trips.plot.scatter(x='id', y='distance')", args.runs)
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)

    on, off = statistics.median(timings["true"]), statistics.median(timings["false"])
    rate = statistics.median(n / s for n, s in messages)
    lines = [
        "| what | median |",
        "|---|---:|",
        f"| 400-task group-by of 20M rows, progress display off | {off:.2f} s |",
        f"| the same, progress display on | {on:.2f} s ({(on / off - 1) * 100:+.1f}%) |",
        f"| progress display messages per second while it runs | {rate:.1f} |",
        f"| a DataFrame as a cell's value (HTML table, 20 of {args.rows / 1e6:.0f}M Parquet rows) | "
        f"{table * 1e3:.0f} ms |",
        f"| `df.plot.bar` of a group-by over the {args.rows / 1e6:.0f}M rows (SVG + PNG) | {bar * 1e3:.0f} ms |",
        f"| `df.plot.scatter` of the {args.rows / 1e6:.0f}M rows (a sample of 1000 points) | "
        f"{scatter * 1e3:.0f} ms |",
    ]
    result = "\n".join(lines)
    print(result)
    body = (
        f"Measured with `scripts/bench display` on {machine()}, commit {commit()}: one Kiln kernel "
        f"(release), cells sent as JupyterLab sends them, medians of {args.runs} runs; the progress "
        f"runs alternate on and off. Target: the progress display never slows a job (updates "
        f"throttled to about ten a second).\n\n{result}\n"
    )
    write_section(Path(args.write), "display", "Rich output: progress overhead, tables, charts", body)


if __name__ == "__main__":
    main()
