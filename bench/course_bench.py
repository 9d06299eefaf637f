"""The course module at full scale: notebooks 2-5 in Kiln and in PySpark.

Generates the course's full data once (cached in --data): the fhvhv trips of
2021-01 (11.9M rows) and green (2.3M rows) and yellow (39.6M rows) trips over
2020-01..2021-07, with the release `kiln datagen`. Then runs the code cells
of notebooks/01..05 through jupyter_client, each notebook in a fresh kernel as
a student would, notebook by notebook with the kernels taking turns, each
kernel in a working folder of its own that links to that data (the data-generation cells are skipped; notebook 1 only writes
the `zones/` folder notebook 5 reads and is not timed). Per notebook: wall
time from its first cell to its last (session start included), and the peak
resident memory of the kernel's process tree (for PySpark: the Python driver,
the JVM and its Python workers). After each notebook a cell prints its key
results; the harness checks both kernels print the same. Prints a Markdown
table and replaces the course section of docs/benchmarks.md.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
from jupyter_client.manager import start_new_kernel

sys.path.insert(0, str(Path(__file__).parent))
from kernel_bench import machine  # noqa: E402
from python_bench import run  # noqa: E402
from report import kernel_comparison, write_section  # noqa: E402

ROOT = Path(__file__).parent.parent
NOTEBOOKS = ["01-setup-check", "02-first-look-fhvhv", "03-taxi-schema", "04-spark-sql", "05-groupby-join"]
TIMED = NOTEBOOKS[1:]
FULL_ROWS = {"fhvhv": ("2021-01", 11_900_000), "green": ("2020-01..2021-07", 121_000),
             "yellow": ("2020-01..2021-07", 2_085_000)}

# PySpark's Python workers must be this environment's Python.
PREPARE = "import os, sys\nos.environ['PYSPARK_PYTHON'] = sys.executable"

# What each notebook produced, printed after it; both kernels must agree.
RESULTS = {
    "01-setup-check": "print(df.count())",
    "02-first-look-fhvhv": "print(df.count(), len([f for f in os.listdir('data/pq/fhvhv/2021/01/') "
                           "if f.endswith('.parquet')]))",
    "03-taxi-schema": "print(spark.read.parquet('data/pq/green/*/*').count(), "
                      "spark.read.parquet('data/pq/yellow/*/*').count())",
    "04-spark-sql": "r = spark.read.parquet('data/report/revenue/')\n"
                    "print(r.count(), round(r.agg({'revenue_monthly_total_amount': 'sum'}).first()[0], 2))",
    "05-groupby-join": "print(df_join.count(), spark.read.parquet('tmp/revenue-zones').count())",
}


def generate(kiln, data, scale):
    """Writes the data set (the full one at scale 1) into `data` unless it is there already."""
    done = data / ".complete"
    if done.exists():
        return
    for dataset, (months, rows) in FULL_ROWS.items():
        print(f"generating {dataset} ...", file=sys.stderr, flush=True)
        subprocess.run([kiln, "datagen", "taxi", "--root", str(data), "--datasets", dataset,
                        "--months", months, "--rows-per-month", str(max(1, round(rows * scale)))],
                       check=True)
    done.touch()


def cells(name):
    """The notebook's code cells, without the ones that generate data."""
    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code"
            and not c.source.lstrip().startswith(("!kiln datagen", "# How much data"))]


def prepare_work(data, work):
    """A working directory whose data/ holds the generated raw files, as a student's would."""
    (work / "data").mkdir(parents=True)
    (work / "data" / "raw").symlink_to(data / "raw")
    (work / "data" / "taxi_zone_lookup.csv").symlink_to(data / "taxi_zone_lookup.csv")


def run_notebook(kernel, name, work):
    """Runs one notebook in a fresh kernel in `work`; returns (seconds, peak bytes, results)."""
    km, kc = start_new_kernel(kernel_name=kernel, startup_timeout=120, cwd=str(work))
    pid = km.provisioner.process.pid
    try:
        run(kc, pid, PREPARE, timeout=60)
        seconds, peak = 0.0, 0
        for source in cells(name):
            elapsed, cell_peak, _ = run(kc, pid, source, timeout=7200)
            print(f"{name} on {kernel}: {elapsed:7.2f} s  {source.splitlines()[0][:60]}",
                  file=sys.stderr, flush=True)
            seconds += elapsed
            peak = max(peak, cell_peak)
        _, _, results = run(kc, pid, RESULTS[name], timeout=3600)
        return seconds, peak, results.strip()
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kiln", required=True, help="the release kiln binary (for datagen)")
    parser.add_argument("--data", default=str(Path.home() / ".cache/kiln/course"))
    parser.add_argument("--scale", type=float, default=1.0, help="a fraction of the full row counts (for trials)")
    parser.add_argument("--kernels", nargs="+", default=["kiln", "python3"])
    parser.add_argument("--write", default=str(ROOT / "docs/benchmarks.md"))
    args = parser.parse_args()

    data = Path(args.data) / f"scale-{args.scale:g}"
    generate(args.kiln, data, args.scale)
    # Notebook by notebook, each kernel in turn in a directory of its own:
    # the machine's speed drifts over minutes, and running one kernel's whole
    # course before the other's would put the drift into the ratio.
    works = {k: Path(tempfile.mkdtemp(prefix=f"kiln-course-{k}-")) for k in args.kernels}
    results = {k: {} for k in args.kernels}
    try:
        for kernel, work in works.items():
            prepare_work(data, work)
        for name in NOTEBOOKS:
            for kernel in args.kernels:
                results[kernel][name] = run_notebook(kernel, name, works[kernel])
    finally:
        for work in works.values():
            shutil.rmtree(work, ignore_errors=True)

    lines = kernel_comparison("notebook", [
        (name, {k: results[k][name] for k in args.kernels}) for name in TIMED
    ], args.kernels, decimals=1)
    totals = {k: sum(results[k][n][0] for n in TIMED) for k in args.kernels}
    peak = {k: max(results[k][n][1] for n in TIMED) for k in args.kernels}
    total_row = ["**notebooks 2-5**"] + [f"**{totals[k]:.1f} s**" for k in args.kernels]
    total_row += [f"{peak[k] / 2**20:.0f} MB" for k in args.kernels]
    if "kiln" in totals and "python3" in totals:
        total_row.append(f"**{totals['python3'] / totals['kiln']:.1f}x**")
    else:
        total_row.append("")
    total_row.append("")
    lines.append("| " + " | ".join(total_row) + " |")
    table = "\n".join(lines)
    print(table)
    rows = ", ".join(f"{d} {m} × {round(r * args.scale):,}/month" for d, (m, r) in FULL_ROWS.items())
    scale_option = f" --scale {args.scale:g}" if args.scale != 1 else ""
    body = (
        f"Measured with `scripts/bench course{scale_option}` on {machine()}.\n"
        f"The code cells of the course notebooks 2-5 (data generation skipped), each notebook in a "
        f"fresh kernel, the two kernels taking turns notebook by notebook, on the full course data "
        f"({rows}): Kiln (release) and ipykernel with PySpark 4 `local[*]` at its defaults, as the course runs it. "
        f"Time is the sum of the cells' "
        f"execute_request → idle (session start included); peak RSS is the kernel's whole process "
        f"tree. Target: Kiln 10x faster end to end.\n\n{table}\n"
    )
    write_section(Path(args.write), "course", "The course module at full scale (Kiln, PySpark)", body)


if __name__ == "__main__":
    main()
