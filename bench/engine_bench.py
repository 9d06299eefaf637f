"""Engine benchmark: the course's heavy steps on generated taxi data, run by
Kiln, by polars' lazy API and by PySpark local[*], side by side.

Each run is a separate process (PySpark's includes its session start);
wall time and the peak resident memory of the whole process tree are
measured. Prints a Markdown table and replaces the engine section of
docs/benchmarks.md.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).parent))
from kernel_bench import machine  # noqa: E402
from report import write_section  # noqa: E402

HERE = Path(__file__).parent
WORKLOADS = ["csv_to_parquet", "revenue_report", "hourly_zones", "global_sort"]


def measure(argv, env=None):
    """Runs argv; returns (seconds, peak RSS of the process tree in bytes, stdout)."""
    peak = 0
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    done = threading.Event()

    def watch():
        nonlocal peak
        root = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                procs = [root] + root.children(recursive=True)
                peak = max(peak, sum(p.memory_info().rss for p in procs if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    out, err = proc.communicate()
    elapsed = time.perf_counter() - start
    done.set()
    watcher.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[:3]} failed ({proc.returncode}):\n{err.decode()[-3000:]}")
    return elapsed, peak, out.decode()


def parquet_rows(path):
    import pyarrow.dataset as ds

    return ds.dataset(str(path), format="parquet").count_rows()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kiln", required=True, help="the kiln binary (release build)")
    parser.add_argument("--data", default=str(Path.home() / ".cache/kiln/bench-data"))
    parser.add_argument("--months", default="2020-01..2020-02")
    parser.add_argument("--rows-per-month", type=int, default=2_500_000)
    parser.add_argument("--engines", nargs="+", default=["kiln", "polars", "pyspark"])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--write", default=str(HERE.parent / "docs/benchmarks.md"))
    args = parser.parse_args()

    data = Path(args.data)
    stamp = data / f".generated-{args.months}-{args.rows_per_month}"
    if not stamp.exists():
        shutil.rmtree(data, ignore_errors=True)
        print(f"generating taxi data in {data} ...", file=sys.stderr, flush=True)
        subprocess.run(
            [args.kiln, "datagen", "taxi", "--root", str(data), "--months", args.months,
             "--rows-per-month", str(args.rows_per_month)],
            check=True,
        )
        stamp.touch()
    trip_rows = 2 * args.rows_per_month * len(list((data / "raw/green").glob("*/*")))

    commands = {
        "kiln": lambda name, out: [args.kiln, "workload", name, "--data", str(data), "--out", str(out)],
        "polars": lambda name, out: [sys.executable, str(HERE / "polars_workloads.py"), name, str(data), str(out)],
        "pyspark": lambda name, out: [sys.executable, str(HERE / "pyspark_workloads.py"), name, str(data), str(out)],
    }
    results = {}
    row_counts = {}
    outputs = data / "bench-out"
    for name in WORKLOADS:
        for engine in args.engines:
            times, peaks = [], []
            for _ in range(args.repeat):
                out = outputs / engine / name
                shutil.rmtree(out, ignore_errors=True)
                print(f"{name} on {engine} ...", file=sys.stderr, flush=True)
                elapsed, peak, _ = measure(commands[engine](name, out))
                times.append(elapsed)
                peaks.append(peak)
            results[(name, engine)] = (statistics.median(times), max(peaks))
            if name != "csv_to_parquet":
                row_counts[(name, engine)] = parquet_rows(outputs / engine / name)
        if name == "csv_to_parquet":
            # Every engine's later steps read the same Parquet: Kiln's.
            shutil.rmtree(data / "pq", ignore_errors=True)
            shutil.copytree(outputs / args.engines[0] / name / "pq", data / "pq")

    header = "| step | " + " | ".join(f"{e} time" for e in args.engines) + " | " + " | ".join(
        f"{e} peak RSS" for e in args.engines) + " | Kiln / polars | PySpark / Kiln | Kiln RSS / PySpark RSS | output rows |"
    lines = [header, "|---" * (2 * len(args.engines) + 5) + "|"]
    for name in WORKLOADS:
        row = [name]
        row += [f"{results[(name, e)][0]:.2f} s" for e in args.engines]
        row += [f"{results[(name, e)][1] / 2**20:.0f} MB" for e in args.engines]
        kiln = results.get((name, "kiln"))
        polars_ = results.get((name, "polars"))
        spark = results.get((name, "pyspark"))
        row.append(f"{kiln[0] / polars_[0]:.2f}x" if kiln and polars_ else "")
        row.append(f"{spark[0] / kiln[0]:.1f}x" if kiln and spark else "")
        row.append(f"{kiln[1] / spark[1]:.2f}" if kiln and spark else "")
        counts = {row_counts[(name, e)] for e in args.engines if (name, e) in row_counts}
        row.append("" if not counts else (f"{counts.pop():,} (all agree)" if len(counts) == 1 else "DIFFER: " + ", ".join(
            f"{e} {row_counts[(name, e)]:,}" for e in args.engines)))
        lines.append("| " + " | ".join(row) + " |")
    table = "\n".join(lines)
    print(table)
    command = " ".join(["scripts/bench engine"] + sys.argv[1:])
    body = (
        f"Measured with `{command}` on {machine()}.\n"
        f"Data: `kiln datagen taxi --months {args.months} --rows-per-month {args.rows_per_month}` "
        f"({trip_rows:,} green + yellow trip rows as CSV.gz). Each step is a fresh process; PySpark's time "
        f"includes starting its session; peak RSS is the whole process tree (driver + JVM for PySpark). "
        f"Targets: Kiln within 1.3x of polars; PySpark 10x slower than Kiln with 4x Kiln's memory.\n\n"
        f"{table}\n"
    )
    write_section(Path(args.write), "engine", "Engine: the course's heavy steps", body)


if __name__ == "__main__":
    main()
