"""TPC-H benchmark: the 22 queries in Spark SQL on `kiln datagen tpch` data,
run by Kiln, PySpark local[*] and DuckDB, one process each, measured in one
run: each engine runs `--repeat` times (2 by default), the engines taking
turns, and each query's time is its best run, so neither the machine's drift
nor a first run's cold start lands on one engine alone. Per-query times are
taken inside each process (PySpark's session start is reported apart, with
each process's wall time and peak memory). Prints a
Markdown table and replaces the TPC-H section of docs/benchmarks.md.
"""

import argparse
import math
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from engine_bench import measure  # noqa: E402
from kernel_bench import machine  # noqa: E402
from report import write_section  # noqa: E402

HERE = Path(__file__).parent
ROOT = HERE.parent
QUERIES = ROOT / "engine" / "tests" / "tpch" / "queries.sql"


def parse(text):
    out = {}
    for line in text.splitlines():
        name, seconds, rows = line.split("\t")
        out[name] = (float(seconds), int(rows))
    return out


def run(argv):
    """Runs argv, returning (per-query results, wall seconds, peak RSS bytes)."""
    wall, peak, out = measure(argv)
    return parse(out), wall, peak


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kiln", required=True)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--data", default=str(Path.home() / ".cache" / "kiln" / "tpch-data"))
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    data = Path(args.data) / f"sf{args.scale:g}"
    if not (data / "lineitem").exists():
        subprocess.run([args.kiln, "datagen", "tpch", "--scale", str(args.scale), "--out", str(data)], check=True)
    python = sys.executable
    engines = {
        "Kiln": [args.kiln, "tpch", "--data", str(data), "--queries", str(QUERIES)],
        "PySpark": [python, str(HERE / "pyspark_tpch.py"), str(data), str(QUERIES)],
        "DuckDB": [python, str(HERE / "duckdb_tpch.py"), str(data), str(QUERIES)],
    }
    runs = {name: [] for name in engines}
    for turn in range(args.repeat):
        for name, argv in engines.items():
            print(f"running {name} ({turn + 1}/{args.repeat}) ...", flush=True)
            runs[name].append(run(argv))
    results = {
        name: (
            {q: min((r[0][q] for r in done), key=lambda t: t[0]) for q in done[0][0]},
            min(r[1] for r in done),
            max(r[2] for r in done),
        )
        for name, done in runs.items()
    }
    kiln, spark, duck = (results[n][0] for n in ("Kiln", "PySpark", "DuckDB"))
    lines = [
        f"TPC-H scale {args.scale:g}, the 22 queries of `engine/tests/tpch/queries.sql` "
        f"(Spark SQL; DuckDB runs the same text), each collected in full; each query's best of "
        f"{args.repeat} runs per engine, the engines taking turns. {machine()}.",
        "",
        "| query | Kiln s | PySpark s | DuckDB s | PySpark / Kiln | Kiln / DuckDB | rows |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for q in kiln:
        k, s, d = kiln[q][0], spark[q][0], duck[q][0]
        rows = kiln[q][1]
        agree = "" if rows == spark[q][1] == duck[q][1] else f" (PySpark {spark[q][1]}, DuckDB {duck[q][1]})"
        lines.append(f"| {q} | {k:.3f} | {s:.3f} | {d:.3f} | {s / k:.1f}x | {k / d:.1f}x | {rows}{agree} |")
    gk, gs, gd = (geomean([r[q][0] for q in kiln]) for r in (kiln, spark, duck))
    lines.append(f"| **geomean** | **{gk:.3f}** | **{gs:.3f}** | **{gd:.3f}** | **{gs / gk:.1f}x** | **{gk / gd:.1f}x** | |")
    lines += [
        "",
        "| engine | process wall s (start, load, 22 queries; best run) | peak RSS MB |",
        "|---|---:|---:|",
    ]
    for name, (_, wall, peak) in results.items():
        lines.append(f"| {name} | {wall:.1f} | {peak / 1e6:.0f} |")
    lines += [
        "",
        f"Targets: Kiln at least 5x faster than PySpark (geomean ratio {gs / gk:.1f}x) and within 2x of DuckDB (geomean ratio {gk / gd:.1f}x).",
    ]
    body = "\n".join(lines)
    print(body)
    write_section(ROOT / "docs" / "benchmarks.md", "tpch", "TPC-H (Kiln, PySpark, DuckDB)", body)


if __name__ == "__main__":
    main()
