"""Rust cells: how long the first Rust cell of a kernel takes (evcxr starts:
rust-analyzer loads, a first library builds) and how long the next ones
take, in the "Kiln (Rust)" kernel through jupyter_client.

For each of --kernels fresh kernels: the first cell (`let base = 40;`), then
--cells cells that each define and show a value. Each time runs from
execute_request to the reply. Prints a Markdown table and replaces the rust
section of docs/benchmarks.md.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

from jupyter_client.manager import start_new_kernel

sys.path.insert(0, str(Path(__file__).parent))
from kernel_bench import machine  # noqa: E402
from report import commit, write_section  # noqa: E402


def timed(kc, code, timeout=600):
    start = time.perf_counter()
    reply = kc.execute_interactive(code, timeout=timeout, output_hook=lambda msg: None)
    elapsed = time.perf_counter() - start
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"{code!r} failed: {reply['content']}")
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernels", type=int, default=3, help="fresh kernels (first cells measured)")
    parser.add_argument("--cells", type=int, default=10, help="cells after the first, per kernel")
    parser.add_argument("--write", default=str(Path(__file__).parent.parent / "docs/benchmarks.md"))
    args = parser.parse_args()

    first, statements, expressions, queries = [], [], [], []
    for _ in range(args.kernels):
        km, kc = start_new_kernel(kernel_name="kiln-rust", startup_timeout=60)
        try:
            first.append(timed(kc, "let base: u64 = 40;"))
            for i in range(args.cells):
                if i % 2 == 0:
                    statements.append(timed(kc, f"let value{i}: Vec<u64> = (0..{i + 10}).collect();"))
                else:
                    expressions.append(timed(kc, f"value{i - 1}.iter().sum::<u64>() + base"))
                queries.append(timed(kc, f'kiln::sql("SELECT id % 7 AS k FROM range({i + 1000})")?'
                                         f'.group_by(&["k"]).count()?.count()?'))
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)

    def row(name, times):
        return (f"| {name} | {statistics.median(times):.2f} s | {min(times):.2f} s | "
                f"{max(times):.2f} s | {len(times)} |")

    table = "\n".join([
        "| cell | median | min | max | cells |",
        "|---|---:|---:|---:|---:|",
        row("first Rust cell of a kernel (`let base: u64 = 40;`)", first),
        row("a later cell defining a variable", statements),
        row("a later cell showing a value", expressions),
        row("a later cell querying the session (`kiln::sql(..).group_by(..).count()`)", queries),
    ])
    print(table)
    body = (
        f"Commit {commit()}; {machine()}; release build. The \"Kiln (Rust)\" kernel through "
        f"jupyter_client, {args.kernels} fresh kernels; each time is execute_request to reply. "
        f"The first cell starts evcxr (rust-analyzer loads the cell crate, evcxr builds a first "
        f"library, Kiln installs its panic hook) before compiling the cell; every later cell is "
        f"one cargo build of the cell and a load of the library into the running child.\n\n{table}\n"
    )
    write_section(Path(args.write), "rust", "Rust cells (evcxr)", body)


if __name__ == "__main__":
    main()
