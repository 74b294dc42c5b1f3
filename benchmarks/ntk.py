"""Benchmark: the empirical NTK of the MLP, structured vs Jacobian contraction vs NTK-vector
products, against a jitted forward pass of the same inputs.

Run by hand: ``.venv/bin/python benchmarks/ntk.py [--widths 1024 4096]``; writes
``benchmarks/results/ntk.md``. Each method runs in its own process (float32, depth 3,
64 inputs of dimension 16: 33.6M parameters at width 4096) so its peak resident memory is
its own; times are the best of three calls after the compiling one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results" / "ntk.md"
METHODS = ("forward", "structured", "jacobian", "vector_products")
INPUTS, INPUT_DIM, DEPTH = 64, 16, 3
MEMORY_BYTES = 2**31
BEFORE = ("Before: the chunked Jacobian-product `ntk` this replaced took 49.9 s and 21.5 GB "
          "peak at width 4096 (jit, memory_bytes = 2^32, same inputs, this machine), and with "
          "its default memory_bytes about 72 min extrapolated for the 64 inputs. `memory_bytes` "
          "bounds what a kernel computation allocates besides its inputs and output (XLA's "
          "temporaries, checked in `tests/test_ntk.py`); the peak column is the whole process, "
          "with the parameters, Python and JAX's runtime.")


def _measure(method: str, width: int) -> dict:
    """Runs in a child process: compile time, best time of three, the kernel's checksum."""
    import jax

    from widenets_nb import Network
    from widenets_nb.ntk import empirical_ntk, ntk

    net = Network(input_dim=INPUT_DIM, width=width, depth=DEPTH, activation="relu")
    params = net.sample(jax.random.key(0))
    x = jax.random.normal(jax.random.key(1), (INPUTS, INPUT_DIM))
    fn = {
        "forward": jax.jit(lambda p, x: net.apply(p, x)),
        "structured": jax.jit(lambda p, x: ntk(net, p, x, memory_bytes=MEMORY_BYTES)),
        "jacobian": jax.jit(lambda p, x: empirical_ntk(net.apply, p, x, method="jacobian",
                                                       memory_bytes=MEMORY_BYTES)),
        "vector_products": jax.jit(lambda p, x: empirical_ntk(
            net.apply, p, x, method="vector_products", memory_bytes=MEMORY_BYTES)),
    }[method]
    start = time.perf_counter()
    out = jax.block_until_ready(fn(params, x))
    compile_s = time.perf_counter() - start
    times = []
    for _ in range(3):
        start = time.perf_counter()
        jax.block_until_ready(fn(params, x))
        times.append(time.perf_counter() - start)
    return {"method": method, "width": width, "params": net.num_params,
            "compile_s": compile_s, "time_s": min(times),
            "checksum": float(abs(out).sum()),
            "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}  # KiB


def _child(method: str, width: int) -> dict:
    """``_measure`` in a fresh process (which reports its own peak resident memory)."""
    proc = subprocess.run([sys.executable, __file__, "--child", method, str(width)],
                          capture_output=True, text=True)
    if proc.returncode:
        errors = [line for line in proc.stderr.splitlines() if "Error" in line] or ["failed"]
        return {"method": method, "width": width, "error": errors[-1][:160]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--widths", type=int, nargs="+", default=[1024, 4096])
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "WIDTH"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_measure(args.child[0], int(args.child[1]))))
        return
    rows = []
    for width in args.widths:
        for method in METHODS:
            row = _child(method, width)
            rows.append(row)
            print(row, flush=True)
    lines = [
        "# Empirical NTK: time and peak memory",
        "",
        f"`python benchmarks/ntk.py`: ReLU MLP, depth {DEPTH}, {INPUTS} inputs of dimension "
        f"{INPUT_DIM}, float32, memory_bytes = 2^{MEMORY_BYTES.bit_length() - 1}; one process "
        f"per row (peak = that process's maximum resident memory, Python and JAX included); "
        f"time = best of 3 after the compiling call. {platform.machine()}, {os.cpu_count()} "
        f"CPUs, {platform.python_version()}.",
        "",
        "| width | parameters | method | compile + first call (s) | time (s) | x forward | "
        "peak memory (GB) | sum abs Theta |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['width']} | | {row['method']} | {row['error']} | | | | |")
            continue
        forward = next(r["time_s"] for r in rows
                       if r["width"] == row["width"] and r["method"] == "forward")
        lines.append(f"| {row['width']} | {row['params']:,} | {row['method']} | "
                     f"{row['compile_s']:.2f} | {row['time_s']:.4f} | "
                     f"{row['time_s'] / forward:.1f} | {row['peak_gb']:.2f} | "
                     f"{row['checksum']:.6g} |")
    lines += ["", BEFORE]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n")
    print(OUT)


if __name__ == "__main__":
    main()
