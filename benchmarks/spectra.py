"""Timing of the Hessian spectrum tools; writes benchmarks/results/spectra.md.

    .venv/bin/python benchmarks/spectra.py [--log2-widths 9,10] [--depths 1,2]
        [--inputs images,gram] [--blas-threads default,1] [--hutchinson-log2-widths 8,10]

ReLU networks on the two-class MNIST images of the standard Fig. 9a protocol
(``GapProtocol``: 10 per class), default dtype (float32 unless WIDENETS_X64=1):

1. One Hessian-vector product (forward-over-reverse), and the certified top-20 eigenvalues of
   H (``solvers.certified_top`` with ``top_eigenpairs``' defaults: ARPACK's implicitly
   restarted Lanczos with explicit residuals), with the products it took and how many values
   it resolved; on the 784-pixel images and on their 20-dimensional ``gram_inputs`` (the
   same law, fewer parameters; the instances differ, so values differ by sampling), with
   OpenBLAS (ARPACK's BLAS) on its default threads and on one. Each row runs in a fresh
   process; the wall and CPU time of the solve and the share of it spent outside the
   products (ARPACK's orthogonalization against its float64 basis of P-vectors) say where
   the time goes.
2. A 1000-probe Hutchinson estimate of Tr H^m, m = 1..4 (two products per probe); an empty
   ``--hutchinson-log2-widths`` skips it.

The machine may be shared: the load average is recorded beside the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from widenets_nb import config
from widenets_nb.spectra import experiments, solvers

PROTOCOL = experiments.GapProtocol.for_profile("standard")

OUT = Path(__file__).parent / "results" / "spectra.md"
TOP, PROBES = 20, 1000


def _timed(fn, *args) -> float:
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    return time.perf_counter() - start


def _instance(width: int, depth: int = 2, gram: bool = False
              ) -> tuple[experiments.Setup, dict, jax.Array]:
    """The standard protocol's first instance at ``width`` and ``depth`` (on
    ``gram_inputs`` when ``gram``): setup, parameters, probe key."""
    s = experiments.setup(width, depth, "relu", 2, PROTOCOL.per_class, PROTOCOL.seed, gram)
    init, key = experiments.instance_keys(PROTOCOL.seed, width, 0)
    return s, s.net.sample(init), key


def lanczos_row(width: int, depth: int, inputs: str) -> dict:
    """One certified top-``TOP`` solve of H (``top_eigenpairs``' defaults), the time inside
    the products timed apart from ARPACK's own work."""
    s, params, key = _instance(width, depth, inputs == "gram")
    x, y = solvers.training_set(s.net, s.x, s.y)
    size = solvers.num_params(params)
    v = jnp.ones(size, x.dtype)
    _timed(solvers._product, s.net, "H", params, x, y, v)  # compile
    hvp = min(_timed(solvers._product, s.net, "H", params, x, y, v) for _ in range(3))
    inside = 0.0

    def product(u: np.ndarray) -> np.ndarray:
        nonlocal inside
        begin = time.perf_counter()
        out = np.asarray(solvers._product(s.net, "H", params, x, y, u.astype(x.dtype)))
        inside += time.perf_counter() - begin
        return out

    start = np.asarray(jax.random.normal(key, (size,), x.dtype), dtype=np.float64)
    begin, cpu = time.perf_counter(), time.process_time()
    top, _ = solvers.certified_top(product, size, TOP, 2 * TOP + 20, start,
                                   solvers.default_tolerance(x.dtype))
    run, cpu = time.perf_counter() - begin, time.process_time() - cpu
    return {"P": size, "hvp": hvp, "products": top.products, "run": run, "cpu": cpu,
            "outside": 1 - inside / run, "basis_gb": top.krylov * size * 8 / 1e9,
            "resolved": int(top.resolved.sum()), "bound": float(top.bounds.max())}


def _row_in_child(width: int, depth: int, inputs: str, threads: str) -> dict:
    """``lanczos_row`` in a fresh process whose OpenBLAS (ARPACK's BLAS) runs ``threads``
    threads ("default": OpenBLAS's own choice); OpenBLAS reads this only at load time."""
    env = dict(os.environ)
    env.pop("OPENBLAS_NUM_THREADS", None)
    if threads != "default":
        env["OPENBLAS_NUM_THREADS"] = threads
    out = subprocess.run([sys.executable, __file__, "--row", str(width), str(depth), inputs],
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def hutchinson_row(width: int) -> tuple[str, float]:
    s, params, key = _instance(width)
    solvers.hutchinson_moments(s.net, params, s.x, s.y, probes=50, which=("H",))  # compile
    start = time.perf_counter()
    m = solvers.hutchinson_moments(s.net, params, s.x, s.y, probes=PROBES, which=("H",),
                                   seed=key)
    run = time.perf_counter() - start
    rel = m.stderr["H"] / np.abs(m.trace["H"])
    return (f"| {width} | {solvers.num_params(params):,} | {run:.1f} | "
            + " | ".join(f"{r:.1%}" for r in rel) + " |"), run


def _slope(widths: list[int], times: list[float]) -> str:
    if len(widths) < 2:
        return "(one width: no slope)"
    return f"n^{np.polyfit(np.log(widths), np.log(times), 1)[0]:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log2-widths", default="9,10")
    parser.add_argument("--depths", default="1,2")
    parser.add_argument("--inputs", default="images,gram")
    parser.add_argument("--blas-threads", default="default,1")
    parser.add_argument("--hutchinson-log2-widths", default="8,10")
    parser.add_argument("--row", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.row:
        width, depth, inputs = args.row
        print(json.dumps(lanczos_row(int(width), int(depth), inputs)))
        return
    low, high = (int(v) for v in args.log2_widths.split(","))
    widths = [2**k for k in range(low, high + 1)]
    hwidths = []
    if args.hutchinson_log2_widths:
        hlow, hhigh = (int(v) for v in args.hutchinson_log2_widths.split(","))
        hwidths = [2**k for k in range(hlow, hhigh + 1)]
    load = os.getloadavg()
    lines = ["# Hessian spectrum timings", "",
             f"Platform: {os.cpu_count()} CPUs, jax {jax.__version__} on "
             f"{jax.default_backend()}, dtype {jnp.result_type(float)}, x64={config.X64}. "
             f"Load average at start: {load[0]:.1f} (timings are noisy on a shared machine).",
             "", f"## Certified top-{TOP} eigenvalues of H (ARPACK eigsh, explicit residuals, "
             f"{jnp.result_type(float)} products), ReLU, 20 training points", "",
             "One process per row. *outside products*: the share of the solve's wall time "
             "spent in ARPACK itself (its orthogonalization against the float64 Krylov basis "
             "and its bookkeeping) rather than in Hessian-vector products.", "",
             "| depth | n | inputs | BLAS threads | P | one HVP (ms) | products | "
             "solve, wall (s) | solve, CPU (s) | outside products | Krylov basis (GB) | "
             "resolved | largest bound |", "|" + "---|" * 13]
    for depth in (int(d) for d in args.depths.split(",")):
        for width in widths:
            for inputs in args.inputs.split(","):
                for threads in args.blas_threads.split(","):
                    r = _row_in_child(width, depth, inputs, threads)
                    row = (f"| {depth} | {width} | {inputs} | {threads} | {r['P']:,} | "
                           f"{r['hvp'] * 1e3:.1f} | {r['products']} | {r['run']:.1f} | "
                           f"{r['cpu']:.1f} | {r['outside']:.0%} | {r['basis_gb']:.3f} | "
                           f"{r['resolved']}/{TOP} | {r['bound']:.1e} |")
                    lines.append(row)
                    print(row, flush=True)
    if hwidths:
        lines += ["", f"## {PROBES}-probe Hutchinson estimate of Tr H^m, m = 1..4 "
                  "(2 HVPs per probe)", "", "| n | P | time (s) | rel. SE m=1 | m=2 | m=3 | m=4 |",
                  "|---|---|---|---|---|---|---|"]
    htimes = []
    for width in hwidths:
        row, run = hutchinson_row(width)
        lines.append(row)
        htimes.append(run)
        print(row, flush=True)
    if hwidths:
        lines += ["", f"Growth with width: Hutchinson ~ {_slope(hwidths, htimes)}."]
    lines += ["", f"Load average at end: {os.getloadavg()[0]:.1f}."]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
