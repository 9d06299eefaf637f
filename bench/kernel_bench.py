"""Kernel benchmark: Kiln next to ipykernel, through jupyter_client.

Measures, for each kernelspec given:
  * start: launching the kernel process until its kernel_info_reply arrives
    (median of --starts launches);
  * round trip: execute_request of a trivial cell until status: idle
    (median and p99 over --cells cells);
  * idle memory: resident set size of the kernel process after start.

Prints a Markdown table and replaces the kernel section of docs/benchmarks.md.
"""

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import psutil
import zmq
from jupyter_client.manager import KernelManager

sys.path.insert(0, str(Path(__file__).parent))
from report import commit, write_section  # noqa: E402


def client_context():
    # libzmq retries a connect every 100 ms by default; the client connects
    # before the kernel has bound, so that interval would dominate the start time.
    ctx = zmq.Context()
    ctx.setsockopt(zmq.RECONNECT_IVL, 1)
    return ctx


def start_once(kernel_name):
    km = KernelManager(kernel_name=kernel_name)
    ctx = client_context()
    t0 = time.perf_counter()
    km.start_kernel()
    kc = km.client(context=ctx)
    kc.start_channels()
    msg_id = kc.kernel_info()
    while True:
        reply = kc.get_shell_msg(timeout=30)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    elapsed = time.perf_counter() - t0
    return km, kc, ctx, elapsed


def stop(km, kc, ctx):
    kc.stop_channels()
    km.shutdown_kernel(now=True)
    ctx.term()


def round_trip(kc, code):
    t0 = time.perf_counter()
    msg_id = kc.execute(code, silent=False, store_history=True)
    while True:
        msg = kc.get_iopub_msg(timeout=30)
        if (
            msg["parent_header"].get("msg_id") == msg_id
            and msg["msg_type"] == "status"
            and msg["content"]["execution_state"] == "idle"
        ):
            break
    elapsed = time.perf_counter() - t0
    kc.get_shell_msg(timeout=30)
    return elapsed


def bench(kernel_name, starts, cells):
    start_times = []
    for _ in range(starts):
        km, kc, ctx, elapsed = start_once(kernel_name)
        start_times.append(elapsed)
        stop(km, kc, ctx)

    km, kc, ctx, _ = start_once(kernel_name)
    try:
        # Let the kernel settle (ipykernel finishes importing in the background).
        for _ in range(5):
            round_trip(kc, "pass")
        time.sleep(1.0)
        pid = km.provisioner.process.pid
        rss_idle = psutil.Process(pid).memory_info().rss
        trips = [round_trip(kc, "pass") for _ in range(cells)]
        rss_after = psutil.Process(pid).memory_info().rss
    finally:
        stop(km, kc, ctx)
    trips.sort()
    return {
        "start_ms": statistics.median(start_times) * 1e3,
        "trip_median_ms": statistics.median(trips) * 1e3,
        "trip_p99_ms": trips[int(len(trips) * 0.99) - 1] * 1e3,
        "rss_idle_mb": rss_idle / 2**20,
        "rss_after_mb": rss_after / 2**20,
    }


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = psutil.virtual_memory().total / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GB RAM, Python {platform.python_version()}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernels", nargs="+", default=["kiln", "python3"])
    parser.add_argument("--starts", type=int, default=10)
    parser.add_argument("--cells", type=int, default=1000)
    parser.add_argument("--write", default=str(Path(__file__).parent.parent / "docs/benchmarks.md"))
    args = parser.parse_args()

    rows = []
    for name in args.kernels:
        print(f"benchmarking kernel {name!r} ...", file=sys.stderr, flush=True)
        rows.append((name, bench(name, args.starts, args.cells)))

    lines = [
        "| kernel | start → kernel_info_reply (median) | trivial cell round trip (median) | p99 | RSS idle | RSS after cells |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in rows:
        lines.append(
            f"| {name} | {r['start_ms']:.1f} ms | {r['trip_median_ms']:.2f} ms | {r['trip_p99_ms']:.2f} ms "
            f"| {r['rss_idle_mb']:.1f} MB | {r['rss_after_mb']:.1f} MB |"
        )
    table = "\n".join(lines)
    print(table)
    body = (
        f"Measured with `scripts/bench kernel` on {machine()}, commit {commit()}.\n"
        f"Start: median of {args.starts} launches through `jupyter_client` (process spawn included). "
        f"Round trip: `execute_request` of `pass` until `status: idle`, {args.cells} cells. "
        f"Targets for Kiln: start < 100 ms, round trip < 2 ms, idle RSS < 50 MB.\n\n"
        f"{table}\n"
    )
    write_section(Path(args.write), "kernel", "Kernel: start, round trip, memory", body)


if __name__ == "__main__":
    main()
