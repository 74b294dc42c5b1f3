"""Timing of the Hessian spectrum tools; writes benchmarks/results/spectra.md.

    .venv/bin/python benchmarks/spectra.py [--log2-widths 8,12] [--hutchinson-log2-widths 8,10]

Two-hidden-layer ReLU on the two-class MNIST images of the standard Fig. 9a protocol
(``GapProtocol``: 10 per class), default dtype (float32 unless WIDENETS_X64=1):

1. One Hessian-vector product (forward-over-reverse), and the certified top-20 eigenvalues of
   H (``solvers.top_eigenpairs``: ARPACK's implicitly restarted Lanczos with explicit
   residuals), with the products it took and how many values it resolved.
2. A 1000-probe Hutchinson estimate of Tr H^m, m = 1..4 (two products per probe); an empty
   ``--hutchinson-log2-widths`` skips it.
3. The growth exponent of each cost with width (log-log slope).

The machine may be shared: the load average is recorded beside the numbers.
"""

from __future__ import annotations

import argparse
import os
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


def _instance(width: int) -> tuple[experiments.Setup, dict, jax.Array]:
    """The standard protocol's first instance at ``width``: setup, parameters, probe key."""
    s = experiments.setup(width, 2, "relu", 2, PROTOCOL.per_class, PROTOCOL.seed)
    init, key = experiments.instance_keys(PROTOCOL.seed, width, 0)
    return s, s.net.sample(init), key


def lanczos_row(width: int) -> tuple[str, float, float]:
    s, params, key = _instance(width)
    x, y = solvers.training_set(s.net, s.x, s.y)
    size = solvers.num_params(params)
    v = jnp.ones(size, x.dtype)
    _timed(solvers._product, s.net, "H", params, x, y, v)  # compile
    hvp = min(_timed(solvers._product, s.net, "H", params, x, y, v) for _ in range(3))
    start = time.perf_counter()
    top, _ = solvers.top_eigenpairs(s.net, params, x, y, TOP, seed=key)
    run = time.perf_counter() - start
    basis_gb = top.krylov * size * 8 / 1e9  # ARPACK keeps its basis in float64
    share = 1 - top.products * hvp / run
    row = (f"| {width} | {size:,} | {hvp * 1e3:.1f} | {top.products} | {run:.1f} | "
           f"{share:.0%} | {basis_gb:.2f} | {int(top.resolved.sum())}/{TOP} | "
           f"{top.bounds.max():.1e} |")
    return row, hvp, run


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
    parser.add_argument("--log2-widths", default="8,12")
    parser.add_argument("--hutchinson-log2-widths", default="8,10")
    args = parser.parse_args()
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
             f"{jnp.result_type(float)} products), depth 2, 20 training points", "",
             "| n | P | one HVP (ms) | products | solve (s) | share not in HVPs | "
             "Krylov basis (GB) | resolved | largest bound |", "|" + "---|" * 9]
    hvps, runs = [], []
    for width in widths:
        row, hvp, run = lanczos_row(width)
        lines.append(row)
        hvps.append(hvp), runs.append(run)
        print(row, flush=True)
    lines += ["", f"Growth with width: HVP ~ {_slope(widths, hvps)}, "
              f"certified solve ~ {_slope(widths, runs)} (P ~ n^2 at depth 2)."]
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
    lines += [f"Load average at end: {os.getloadavg()[0]:.1f}."]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
