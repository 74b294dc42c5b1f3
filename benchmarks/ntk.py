"""Benchmark: the empirical NTK of the MLP, structured vs Jacobian contraction vs NTK-vector
products, against a jitted forward pass of the same inputs.

Run by hand: ``.venv/bin/python benchmarks/ntk.py [--widths 1024 4096] [--nt]``; writes
``benchmarks/results/ntk.md``. Each method runs in its own process (float32, depth 3,
64 inputs of dimension 16: 33.6M parameters at width 4096) so its peak resident memory is
its own; times are the best of three calls after the compiling one.

``--nt`` adds neural-tangents 0.6.5 on the same parameters and inputs (``nt_peer.py``, its
structured derivatives and its NTK-vector products in batches of 16), in a virtual
environment of its own (``--nt-venv``, default ``build/nt-venv``, built on first use with
``NT_PACKAGES``: the newest JAX it runs on is older than the suite's). neural-tangents is
installed without its declared dependencies TensorFlow and tf2jax, which only its
TensorFlow interop needs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results" / "ntk.md"
METHODS = ("forward", "structured", "jacobian", "vector_products")
NT_METHODS = ("nt_structured", "nt_vector_products")
NT_PACKAGES = ("jax==0.4.23", "jaxlib==0.4.23", "numpy==1.26.4", "scipy==1.11.4",
               "frozendict", "typing_extensions")
INPUTS, INPUT_DIM, DEPTH = 64, 16, 3
MEMORY_BYTES = 2**31
BEFORE = ("Before: the chunked Jacobian-product `ntk` this replaced took 49.9 s and 21.5 GB "
          "peak at width 4096 (jit, memory_bytes = 2^32, same inputs, this machine), and with "
          "its default memory_bytes about 72 min extrapolated for the 64 inputs. `memory_bytes` "
          "bounds what a kernel computation allocates besides its inputs and output (XLA's "
          "temporaries, checked in `tests/test_ntk.py`); the peak column is the whole process, "
          "with the parameters, Python and JAX's runtime.")


def _problem(width: int) -> tuple:
    """The network, its parameters and the inputs every method sees."""
    import jax

    from widenets_nb import Network

    net = Network(input_dim=INPUT_DIM, width=width, depth=DEPTH, activation="relu")
    return net, net.sample(jax.random.key(0)), jax.random.normal(jax.random.key(1),
                                                                (INPUTS, INPUT_DIM))


def _export(width: int, path: str) -> dict:
    """Runs in a child process: the parameters, inputs, f and the structured kernel as .npz
    (what ``nt_peer.py`` reads and is compared with)."""
    import jax

    from widenets_nb.ntk import ntk

    net, params, x = _problem(width)
    theta = jax.jit(lambda p, x: ntk(net, p, x, memory_bytes=MEMORY_BYTES))(params, x)
    np.savez(path, x=np.asarray(x), f=np.asarray(net.apply(params, x)),
             theta=np.asarray(theta).reshape(INPUTS, INPUTS),
             **{name: np.asarray(value) for name, value in params.items()})
    return {"path": path}


def _measure(method: str, width: int) -> dict:
    """Runs in a child process: compile time, best time of three, the kernel's checksum."""
    import jax

    from widenets_nb.ntk import empirical_ntk, ntk

    net, params, x = _problem(width)
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


def _child(method: str, width: int, command: list[str] | None = None) -> dict:
    """``_measure`` (or ``command``) in a fresh process (which reports its own peak
    resident memory)."""
    command = command or [sys.executable, __file__, "--child", method, str(width)]
    proc = subprocess.run(command, capture_output=True, text=True)
    if proc.returncode:
        errors = [line for line in proc.stderr.splitlines() if "Error" in line] or ["failed"]
        return {"method": method, "width": width, "error": errors[-1][:160]}
    return {"width": width} | json.loads(proc.stdout.strip().splitlines()[-1])


def nt_python(venv: Path) -> Path:
    """The interpreter of neural-tangents' environment, built on first use."""
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q"]
        subprocess.run(pip + ["--no-deps", "neural-tangents==0.6.5"], check=True)
        subprocess.run(pip + list(NT_PACKAGES), check=True)
    return python


def _nt_rows(width: int, python: Path, scratch: str) -> list[dict]:
    """neural-tangents' kernels on the parameters and inputs of ``_problem(width)``, each
    with its largest difference from the structured kernel."""
    data = f"{scratch}/problem{width}.npz"
    exported = _child("export", width, [sys.executable, __file__, "--export", str(width),
                                        data])
    if "error" in exported:
        return [exported]
    with np.load(data) as problem:
        reference = problem["theta"]
        params = sum(problem[k].size for k in problem.files if k not in ("x", "f", "theta"))
    rows = []
    for method in NT_METHODS:
        out = f"{scratch}/{method}{width}.npy"
        row = _child(method, width, [str(python), str(Path(__file__).with_name("nt_peer.py")),
                                     method, data, out])
        if "error" not in row:
            theta = np.load(out)
            row |= {"params": params, "checksum": float(np.abs(theta).sum()),
                    "max_diff": float(np.abs(theta - reference).max()),
                    "max_theta": float(np.abs(reference).max())}
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--widths", type=int, nargs="+", default=[1024, 4096])
    parser.add_argument("--nt", action="store_true", help="add neural-tangents' rows")
    parser.add_argument("--nt-venv", type=Path, default=ROOT / "build" / "nt-venv")
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "WIDTH"))
    parser.add_argument("--export", nargs=2, metavar=("WIDTH", "PATH"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_measure(args.child[0], int(args.child[1]))))
        return
    if args.export:
        print(json.dumps(_export(int(args.export[0]), args.export[1])))
        return
    python = nt_python(args.nt_venv) if args.nt else None
    load = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for width in args.widths:
            for row in [_child(method, width) for method in METHODS] + (
                    _nt_rows(width, python, scratch) if python else []):
                rows.append(row)
                print(row, flush=True)
    load = [max(a, b) for a, b in zip(load, os.getloadavg(), strict=True)]
    lines = [
        "# Empirical NTK: time and peak memory",
        "",
        f"`python benchmarks/ntk.py`: ReLU MLP, depth {DEPTH}, {INPUTS} inputs of dimension "
        f"{INPUT_DIM}, float32, memory_bytes = 2^{MEMORY_BYTES.bit_length() - 1}; one process "
        f"per row (peak = that process's maximum resident memory, Python and JAX included); "
        f"time = best of 3 after the compiling call. {platform.machine()}, {os.cpu_count()} "
        f"CPUs, {platform.python_version()}; load average (1/5/15 min, the larger of start "
        f"and end) {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}.",
        "",
        "| width | parameters | method | compile + first call (s) | time (s) | x forward | "
        "peak memory (GB) | sum abs Theta | max abs diff from structured |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['width']} | | {row['method']} | {row['error']} | | | | | |")
            continue
        forward = next(r["time_s"] for r in rows
                       if r["width"] == row["width"] and r["method"] == "forward")
        diff = (f"{row['max_diff']:.2g} (max abs Theta {row['max_theta']:.3g})"
                if "max_diff" in row else "")
        lines.append(f"| {row['width']} | {row['params']:,} | {row['method']} | "
                     f"{row['compile_s']:.2f} | {row['time_s']:.4f} | "
                     f"{row['time_s'] / forward:.1f} | {row['peak_gb']:.2f} | "
                     f"{row['checksum']:.6g} | {diff} |")
    lines += ["", BEFORE]
    versions = next((r["versions"] for r in rows if "versions" in r), None)
    if versions:
        lines += ["", "neural-tangents rows (`nt_*`, `benchmarks/nt_peer.py`, `--nt`): "
                  + ", ".join(f"{k} {v}" for k, v in versions.items())
                  + f" in their own environment, JAX {_jax_version()} for the others; the "
                  "same float32 parameters and inputs (the nt kernels' difference is from "
                  "widenets' structured kernel); structured derivatives unbatched, "
                  "NTK-vector products through `nt.batch` in batches of 16. x forward is "
                  "relative to widenets' jitted forward pass."]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    old = OUT.read_text() if OUT.exists() else ""
    kept = old[old.index("\n## "):] if "\n## " in old else ""  # sections.py's table
    OUT.write_text("\n".join(lines) + "\n" + kept)
    print(OUT)


def _jax_version() -> str:
    import jax

    return jax.__version__


if __name__ == "__main__":
    main()
